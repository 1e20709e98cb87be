"""The `orchestra` command. Each command parses its arguments and calls one service.

Errors are turned into exit codes here and only here: 0 success, 1 refused or failed,
2 usage or configuration error. A user's mistake never shows a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from orchestra import collector
from orchestra.cli import stopping
from orchestra.cli.lazy import LazyGroup
from orchestra.errors import NotFound, OrchestraError

# Each command is imported only when it is used: name -> ("module:attribute", summary). The
# summary is what `orchestra --help` lists; tests/unit/test_cli_registry.py keeps it in step.
COMMANDS: dict[str, tuple[str, str]] = {
    "bindings": (
        "orchestra.cli.bindings:bindings",
        "Binding files: what each element of a model does against the...",
    ),
    "cancel": (
        "orchestra.cli.run:cancel",
        "Cancel SUITE_RUN (an id, `latest`, or a suite's reference:...",
    ),
    "dataset": (
        "orchestra.cli.config:dataset",
        "Test data sets: a scenario runs once per row when a suite...",
    ),
    "db": ("orchestra.cli.db:db", "The PostgreSQL store: which server is used, and its schema."),
    "demo": (
        "orchestra.cli.demo:demo",
        "Import the example order process, generate a covering suite,...",
    ),
    "env": (
        "orchestra.cli.config:env",
        "Environments: where the SUT is, how to authenticate, which...",
    ),
    "generate": (
        "orchestra.cli.suites:generate",
        "Generate and store the test suite of an imported process.",
    ),
    "import": (
        "orchestra.cli.processes:import_command",
        "Import BPMN files; each process becomes a new version unless...",
    ),
    "processes": (
        "orchestra.cli.processes:processes",
        "The imported processes and their versions.",
    ),
    "protocols": (
        "orchestra.cli.protocols:protocols",
        "List the action protocols: built in (http) and plug-ins...",
    ),
    "prune": (
        "orchestra.cli.prune:prune",
        "Delete ended suite runs with their test runs, step results...",
    ),
    "report": (
        "orchestra.cli.report:report",
        "Write the report of SUITE_RUN (JUnit XML, JSON, or a...",
    ),
    "run": (
        "orchestra.cli.run:run",
        "Start a suite run of SUITE (an id, `latest`, or...",
    ),
    "schema": (
        "orchestra.cli.schema:schema",
        "Print the JSON Schema of a bindings, environment, data-set...",
    ),
    "serve": (
        "orchestra.cli.serve:serve",
        "Serve the REST API and the web UI until SIGINT or SIGTERM:...",
    ),
    "status": (
        "orchestra.cli.run:status",
        "Show how far SUITE_RUN is (an id, `latest`, or a suite's...",
    ),
    "suites": ("orchestra.cli.suites:suites", "Generated test suites."),
    "test": (
        "orchestra.cli.test:test",
        "Import MODELs, generate (or reuse) a suite, run it here and...",
    ),
    "worker": (
        "orchestra.cli.run:worker",
        "Execute queued runs until SIGTERM or SIGINT, then drain and...",
    ),
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="orchestra")
def cli() -> None:
    """Orchestra: BPMN processes in, durable end-to-end test suites out."""


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    collector.frozen_at_exit()
    with stopping.caught_from_start(args):  # a stop while the command starts is not lost
        _main(args)


def _main(args: list[str]) -> None:
    try:
        code = cli.main(args=args, prog_name="orchestra", standalone_mode=False)
    except click.exceptions.Abort:
        _print_error("Aborted.")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # a usage error: bad option, missing file, unknown command
        if "--json" in args:
            _print_json({"error": "UsageError", "message": exc.format_message()})
        exc.show()
        sys.exit(2)
    except OrchestraError as exc:
        hint = _not_found_hint(exc) if isinstance(exc, NotFound) else None
        if "--json" in args:
            _print_json(exc.to_json() | ({"hint": hint} if hint else {}))
        _print_error(exc.message, prefix="[bold red]error:[/] ")
        if hint:
            _print_error(hint)
        sys.exit(exc.exit_code)
    # click returns the code of a `click.exceptions.Exit` raised by a command
    sys.exit(code if isinstance(code, int) else 0)


# What only an error needs is imported when there is one: start-up stays light.
def _print_json(payload: object) -> None:
    import json

    click.echo(json.dumps(payload, indent=2, default=str))


def _not_found_hint(exc: NotFound) -> str:
    from orchestra.cli.output import not_found_hint

    return not_found_hint(exc)


def _print_error(message: str, *, prefix: str = "") -> None:
    from rich.markup import escape

    from orchestra.cli.output import console

    console(stderr=True).print(f"{prefix}{escape(message)}")
