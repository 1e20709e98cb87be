"""`orchestra generate PROCESS[@VERSION]` and `orchestra suites show SUITE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from orchestra.cli.output import emit, json_option, with_database
from orchestra.cli.params import SUITE
from orchestra.domain.generation import (
    DEFAULT_LOOP_BOUND,
    DEFAULT_MAX_SCENARIOS,
    MAX_LOOP_BOUND,
    MAX_SCENARIOS,
    Criterion,
)
from orchestra.domain.records import StoredSuite
from orchestra.domain.references import SuiteRef
from orchestra.services import generating

if TYPE_CHECKING:
    from orchestra.store.database import Database


@click.command()
@click.argument("process_ref", metavar="PROCESS_KEY[@VERSION]")
@click.option(
    "--coverage",
    "criterion",
    type=click.Choice([c.value for c in Criterion]),
    default=Criterion.ALL_FLOWS.value,
    show_default=True,
    help="all-flows: fewest scenarios covering every flow; all-nodes; all-paths.",
)
@click.option(
    "--loop-bound",
    type=click.IntRange(0, MAX_LOOP_BOUND),
    default=DEFAULT_LOOP_BOUND,
    show_default=True,
    help="all-paths: times each loop may be taken.",
)
@click.option(
    "--max-scenarios",
    type=click.IntRange(1, MAX_SCENARIOS),
    default=DEFAULT_MAX_SCENARIOS,
    show_default=True,
    help="all-paths: stop with an error above this count.",
)
@click.option(
    "--bindings",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Binding file (YAML) to attach; bindings embedded in the BPMN are always attached.",
)
@click.option(
    "--data",
    "--data-values",
    "data_values",
    type=click.Choice(["solved", "boundary"]),
    default="solved",
    show_default=True,
    help="The data each scenario gets from its gateway conditions: solved (values that take "
    "its path), or boundary (each scenario also at both sides of each bound on its path).",
)
@click.option(
    "--data-set",
    metavar="FILE|NAME",
    help="Warn of each row of this data set (a file, or an imported one's name) that "
    "contradicts a scenario's path: its run would be SKIPPED.",
)
@json_option
def generate(
    process_ref: str,
    criterion: str,
    loop_bound: int,
    max_scenarios: int,
    bindings: Path | None,
    data_values: str,
    data_set: str | None,
    as_json: bool,
) -> None:
    """Generate and store the test suite of an imported process."""

    async def run(db: Database) -> dict[str, Any]:
        rows = None if data_set is None else await generating.data_set_rows(db, data_set)
        return await generating.generate(
            db,
            process_ref,
            criterion=Criterion(criterion),
            loop_bound=loop_bound,
            max_scenarios=max_scenarios,
            bindings=bindings,
            data_rows=rows,
            data_values=data_values,
        )

    result = with_database(run)
    emit(result, as_json=as_json, human=lambda out: _print_generated(out, result))


def _print_generated(out: Console, result: dict[str, Any]) -> None:
    cov = result["coverage"]
    process = result["process"]
    out.print(
        f"suite {result['suite']}: {process['key']}@{process['version']}, {result['criterion']}"
    )
    out.print(f"scenarios: {result['scenarios']}")
    out.print(f"flows:     {cov['flows_covered']} / {cov['flows_total']} covered")
    out.print(f"nodes:     {cov['nodes_covered']} / {cov['nodes_total']} covered")
    note = result["parameters"].get("note")
    if note:
        out.print(f"note:      {escape(note)}")
    for item in cov["uncovered"]:
        out.print(f"uncovered {item['kind']} {escape(item['element'])}: {escape(item['reason'])}")
    unbound = result["unbound"]
    if unbound:
        shown = ", ".join(unbound[:8]) + (
            f" and {len(unbound) - 8} more" if len(unbound) > 8 else ""
        )
        out.print(f"unbound:   {len(unbound)} without a binding yet: {escape(shown)}")
    for line in unset_variable_lines(result):
        out.print(f"[yellow]warning:[/] {escape(line)}")
    _print_conditions(out, result.get("conditions") or {})
    for line in row_conflict_lines(result):
        out.print(f"[yellow]warning:[/] {escape(line)}")


def row_conflict_lines(result: dict[str, Any]) -> list[str]:
    """One line per data row that contradicts a scenario's path (`generate`, `test`)."""
    from orchestra.domain.conditions.rows import RowConflict

    return [
        f"{RowConflict(**item).describe()}: its run is SKIPPED unless --force-rows"
        for item in result.get("row_conflicts", ())
    ]


def unset_variable_lines(result: dict[str, Any]) -> list[str]:
    """One line per variable a step reads before anything provides it (`generate`, `test`)."""
    from orchestra.binding.variables import UnsetRead

    return [UnsetRead(**read).describe() for read in result.get("unset_variables", ())]


def _print_conditions(out: Console, report: dict[str, Any]) -> None:
    """What reading the gateway conditions found: the user binds `flows: data` for these."""
    for item in report.get("not_understood", []):
        out.print(f"condition not understood on {escape(item['flow'])}: {escape(item['reason'])}")
    for item in report.get("infeasible", []):
        text = " and ".join(f"{c['condition']} ({c['flow']})" for c in item["conflicts"])
        verdict = "dropped" if item["dropped"] else "kept without data"
        out.print(f"infeasible {escape(item['scenario'])} ({verdict}): {escape(text)}")
    for item in report.get("loops", []):
        names = ", ".join(item["unknown"])
        out.print(f"loop at {escape(item['gateway'])}: its conditions are left out ({names})")


@click.group()
def suites() -> None:
    """Generated test suites."""


@suites.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List the generated suites, newest last."""
    found = with_database(generating.list_suites)
    payload = {"suites": [suite.model_dump(mode="json", exclude={"scenarios"}) for suite in found]}
    emit(payload, as_json=as_json, human=lambda out: _print_suites(out, found))


def _print_suites(out: Console, found: list[StoredSuite]) -> None:
    if not found:
        out.print("no suites yet: `orchestra generate PROCESS_KEY` makes one")
    for suite in found:
        cov = suite.coverage
        out.print(
            escape(
                f"{suite.id:>4}  {suite.process_key}@{suite.process_version}  {suite.criterion}  "
                f"flows {cov.flows_covered}/{cov.flows_total}  unbound {len(suite.unbound)}"
            )
        )


@suites.command()
@click.argument("suite_ref", metavar="SUITE", type=SUITE)
@json_option
def show(suite_ref: SuiteRef, as_json: bool) -> None:
    """List a suite's scenarios with their paths and steps. SUITE is an id, `latest`, or
    PROCESS[@VERSION][:CRITERION] (the newest such suite)."""

    async def look(db: Database) -> StoredSuite:
        from orchestra.services import references

        return await generating.show(db, await references.suite_id(db, suite_ref))

    suite = with_database(look)
    emit(suite.model_dump(mode="json"), as_json=as_json, human=lambda out: _print_suite(out, suite))


def _print_suite(out: Console, suite: StoredSuite) -> None:
    cov = suite.coverage
    out.print(
        f"suite {suite.id}: {suite.process_key}@{suite.process_version}, {suite.criterion}, "
        f"{len(suite.scenarios)} scenarios, flows {cov.flows_covered}/{cov.flows_total}, "
        f"nodes {cov.nodes_covered}/{cov.nodes_total}"
    )
    for stored in suite.scenarios:
        scenario = stored.scenario
        out.print(f"\n[bold]{escape(scenario.name)}[/]")
        out.print(f"  path: {escape(' '.join(scenario.path))}")
        for step in scenario.steps:
            where = f" [{step.branch}]" if step.branch else ""
            label = step.element_id or step.name or ""
            if step.element_id and step.name and step.name != step.element_id:
                label = f"{step.element_id} {step.name!r}"  # ids a modeller made say little
            line = f"{step.position:>3} {step.kind.value:<9} {label}{where}"
            out.print(f"  {escape(line)}")
