"""`orchestra schema NAME`: the JSON Schema of a file people write, for editors and CI."""

from __future__ import annotations

import json

import click

from orchestra.cli.output import json_option

# The names are repeated here so that `--help` needs no import of the models.
_NAMES = ("bindings", "environment", "data-set", "project")


@click.command()
@click.argument("name", type=click.Choice(_NAMES), metavar="NAME")
@json_option
def schema(name: str, as_json: bool) -> None:
    """Print the JSON Schema of a bindings, environment, data-set or project file
    (`orchestra.yaml`).

    The schema is generated from the models that validate the files; for bindings it knows
    the actions of the protocol plug-ins installed here. Point an editor at it with a first
    line `# yaml-language-server: $schema=FILE` (save it with `> FILE`).
    """
    from orchestra.schemas import installed_action_models, schema_of

    models = installed_action_models() if name == "bindings" else None
    click.echo(json.dumps(schema_of(name, models), indent=2))
