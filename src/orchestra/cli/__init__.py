"""The `orchestra` command. Each command parses its arguments and calls one service.

Errors are turned into exit codes here and only here: 0 success, 1 refused or failed,
2 usage or configuration error. A user's mistake never shows a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click
from rich.markup import escape

from orchestra.cli import (
    config,
    db,
    demo,
    processes,
    protocols,
    prune,
    report,
    run,
    schema,
    serve,
    suites,
    test,
)
from orchestra.cli.output import console, not_found_hint
from orchestra.errors import NotFound, OrchestraError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="orchestra")
def cli() -> None:
    """Orchestra: BPMN processes in, durable end-to-end test suites out."""


cli.add_command(test.test)
cli.add_command(db.db)
cli.add_command(processes.import_command)
cli.add_command(processes.processes)
cli.add_command(suites.generate)
cli.add_command(suites.suites)
cli.add_command(config.dataset)
cli.add_command(config.env)
cli.add_command(run.run)
cli.add_command(run.worker)
cli.add_command(run.status)
cli.add_command(run.cancel)
cli.add_command(prune.prune)
cli.add_command(report.report)
cli.add_command(demo.demo)
cli.add_command(serve.serve)
cli.add_command(protocols.protocols)
cli.add_command(schema.schema)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=args, prog_name="orchestra", standalone_mode=False)
    except click.exceptions.Abort:
        console(stderr=True).print("Aborted.")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # a usage error: bad option, missing file, unknown command
        if "--json" in args:
            payload = {"error": "UsageError", "message": exc.format_message()}
            click.echo(json.dumps(payload, indent=2))
        exc.show()
        sys.exit(2)
    except OrchestraError as exc:
        hint = not_found_hint(exc) if isinstance(exc, NotFound) else None
        if "--json" in args:
            payload = exc.to_json() | ({"hint": hint} if hint else {})
            click.echo(json.dumps(payload, indent=2, default=str))
        console(stderr=True).print(f"[bold red]error:[/] {escape(exc.message)}")
        if hint:
            console(stderr=True).print(escape(hint))
        sys.exit(exc.exit_code)
    # click returns the code of a `click.exceptions.Exit` raised by a command
    sys.exit(code if isinstance(code, int) else 0)
