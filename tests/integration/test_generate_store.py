"""`generate` stores a suite with its scenarios and steps; `suites show` gives it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestra.config import Settings
from orchestra.domain.generation import Criterion
from orchestra.domain.process import NodeCategory
from orchestra.domain.statuses import StepKind
from orchestra.errors import BindingRefused, GenerationLimit, NotFound
from orchestra.services import generating
from orchestra.store.database import Database
from tests.unit.generation.models import model, node

ORDER = model(
    "s>x1",
    "x1>accept",
    "x1>reject",
    "accept>p1",
    "p1>deliver",
    "p1>bill",
    "deliver>p2",
    "bill>p2",
    "p2>e1",
    "reject>e2",
)


async def _import(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.processes.add_version(ORDER, checksum="c1", source_xml="<x/>", source_name=None)


async def test_generate_stores_the_suite_that_show_returns(db: Database) -> None:
    await _import(db)
    result = await generating.generate(db, "p")
    stored = await generating.show(db, result["suite"])
    assert result["scenarios"] == 2
    assert result["coverage"]["flows_covered"] == result["coverage"]["flows_total"] == 10
    assert [s.scenario.name for s in stored.scenarios] == result["scenario_names"]
    first = stored.scenarios[0].scenario
    assert [step.kind for step in first.steps].count(StepKind.BARRIER) == 1
    assert {step.element_id for step in first.steps if step.meta.get("unbound")} == {
        "accept",
        "deliver",
        "bill",
    }
    assert set(stored.unbound) == {"accept", "deliver", "bill", "reject"}


BINDINGS = """
defaults: {service: shop}
tasks:
  accept:
    action: {method: POST, path: /orders}
    checks: [{status: 201}]
"""


async def test_a_binding_file_fills_the_steps_it_binds_and_the_rest_stay_unbound(
    db: Database, tmp_path: Path
) -> None:
    await _import(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(BINDINGS)
    result = await generating.generate(db, "p", bindings=bindings)
    stored = await generating.show(db, result["suite"])
    accept = stored.scenarios[0].scenario.steps[0]
    assert (accept.element_id, accept.spec["action"]["path"]) == ("accept", "/orders")
    assert "unbound" not in accept.meta
    assert result["unbound"] == ["deliver", "bill", "reject"]
    assert list(stored.unbound) == sorted(result["unbound"])


async def test_generating_twice_gives_identical_scenarios(db: Database) -> None:
    await _import(db)
    first = await generating.show(db, (await generating.generate(db, "p@1"))["suite"])
    second = await generating.show(db, (await generating.generate(db, "p@1"))["suite"])
    assert [s.scenario for s in first.scenarios] == [s.scenario for s in second.scenarios]


async def test_an_unknown_process_version_is_not_found(db: Database) -> None:
    await _import(db)
    with pytest.raises(NotFound, match="no process 'p@7'"):
        await generating.generate(db, "p@7")


async def test_all_paths_above_the_cap_stores_nothing_and_says_how_far_it_got(db: Database) -> None:
    await _import(db)
    with pytest.raises(GenerationLimit, match="stopped at 2 scenarios"):
        await generating.generate(db, "p", criterion=Criterion.ALL_PATHS, max_scenarios=1)
    async with db.transaction() as uow:
        assert await uow.suites.list() == []


async def test_a_call_activity_inlines_the_newest_imported_called_process(db: Database) -> None:
    call = node(
        "c", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="bill"
    )
    caller = model("s>c", "c>e", extra=(call,)).model_copy(update={"id": "caller"})
    billing = model("s>x1", "x1>charge", "x1>invoice", "charge>e", "invoice>e")
    async with db.transaction() as uow:
        await uow.processes.add_version(caller, checksum="c", source_xml="<x/>", source_name=None)
        for checksum, graph in (("b1", billing), ("b2", billing)):
            renamed = graph.model_copy(update={"id": "bill", "name": checksum})
            await uow.processes.add_version(
                renamed, checksum=checksum, source_xml="<x/>", source_name=None
            )
    result = await generating.generate(db, "caller")
    assert result["scenarios"] == 2
    assert result["parameters"]["inlined_calls"] == ["bill"]
    assert result["unbound"] == ["c/charge", "c/invoice"]


async def _import_caller_and_billing(db: Database) -> None:
    call = node(
        "c", category=NodeCategory.CALL_ACTIVITY, type="callActivity", called_element="bill"
    )
    caller = model("s>c", "c>e", extra=(call,)).model_copy(update={"id": "caller"})
    billing = model(
        "s>x1", "x1>charge", "x1>invoice", "charge>e", "invoice>e",
        extra=(node("invoice", name="Send invoice"),),
    ).model_copy(update={"id": "bill"})  # fmt: skip
    async with db.transaction() as uow:
        for graph in (caller, billing):
            await uow.processes.add_version(
                graph, checksum=graph.id, source_xml="<x/>", source_name=None
            )


CALLED_BINDINGS = """\
defaults: {service: shop}
tasks:
  c/charge: {action: {method: POST, path: /charges}}
  Send invoice: {action: {method: POST, path: /invoices}}
"""


async def test_a_called_process_inlined_with_a_binding_file_has_its_tasks_bound(
    db: Database, tmp_path: Path
) -> None:
    await _import_caller_and_billing(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(CALLED_BINDINGS)
    result = await generating.generate(db, "caller", bindings=bindings)
    assert result["parameters"]["inlined_calls"] == ["bill"]
    assert result["unbound"] == []
    stored = await generating.show(db, result["suite"])
    bound = {
        step.element_id: step.spec["action"]["path"]
        for scenario in stored.scenarios
        for step in scenario.scenario.steps
        if step.kind is StepKind.ACTION
    }
    assert bound == {"c/charge": "/charges", "c/invoice": "/invoices"}


async def test_a_called_process_task_named_by_its_own_id_is_refused_naming_the_call(
    db: Database, tmp_path: Path
) -> None:
    await _import_caller_and_billing(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(CALLED_BINDINGS.replace("c/charge:", "charge:"))
    with pytest.raises(
        BindingRefused, match=r"'charge' is a task of a called process: .* c/charge"
    ):
        await generating.generate(db, "caller", bindings=bindings)
    async with db.transaction() as uow:
        assert await uow.suites.list() == []


async def test_cli_generate_then_show_as_json(db: Database, settings: Settings) -> None:
    await _import(db)
    env = {
        "ORCHESTRA_DATABASE_URL": settings.database_url or "",
        "ORCHESTRA_HOME": str(settings.home),
    }
    generated = _cli(["generate", "p", "--coverage", "all-nodes", "--json"], env)
    shown = _cli(["suites", "show", str(generated["suite"]), "--json"], env)
    listed = _cli(["suites", "list", "--json"], env)
    assert generated["criterion"] == "all-nodes"
    assert [s["scenario"]["name"] for s in shown["scenarios"]] == generated["scenario_names"]
    suites = [(s["id"], s["criterion"]) for s in listed["suites"]]
    assert suites == [(generated["suite"], "all-nodes")]


async def test_cli_prints_counts_and_steps_and_refuses_above_the_cap(
    db: Database, settings: Settings
) -> None:
    await _import(db)
    env = {
        "ORCHESTRA_DATABASE_URL": settings.database_url or "",
        "ORCHESTRA_HOME": str(settings.home),
    }
    generated = _run(["generate", "p"], env)
    assert generated.returncode == 0, generated.stderr
    assert "scenarios: 2" in generated.stdout
    assert "flows:     10 / 10 covered" in generated.stdout
    shown = _run(["suites", "show", "1"], env)
    assert "BARRIER   p2" in shown.stdout
    capped = _run(["generate", "p", "--coverage", "all-paths", "--max-scenarios", "1"], env)
    assert capped.returncode == 1
    assert "stopped at 2 scenarios" in capped.stderr
    missing = _run(["suites", "show", "99", "--json"], env)
    assert (missing.returncode, json.loads(missing.stdout)["error"]) == (1, "NotFound")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestra", *args],
        env={**os.environ, **env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _cli(args: list[str], env: dict[str, str]) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "orchestra", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_a_suite_generated_in_the_parser_process_is_stored_as_one_generated_in_a_thread(
    db: Database, tmp_path: Path
) -> None:
    from orchestra.api.parsers import ParserProcess

    await _import_caller_and_billing(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(CALLED_BINDINGS)
    parsers = ParserProcess(in_process_from=0)  # every graph, however small, in the process
    try:
        apart = await generating.generate(db, "caller", bindings=bindings, offload=parsers.run)
        assert parsers.started
    finally:
        parsers.close()
    here = await generating.generate(db, "caller", bindings=bindings)
    assert {**apart, "suite": here["suite"]} == here
    stored_apart = await generating.show(db, apart["suite"])
    stored_here = await generating.show(db, here["suite"])
    assert [s.scenario for s in stored_apart.scenarios] == [
        s.scenario for s in stored_here.scenarios
    ]
    assert stored_apart.fingerprint == stored_here.fingerprint


async def test_a_suite_reused_in_the_parser_process_is_the_stored_one(db: Database) -> None:
    from orchestra.api.parsers import ParserProcess

    await _import(db)
    parsers = ParserProcess(in_process_from=0)
    try:
        first, _ = await generating.generate_for_run(db, "p", offload=parsers.run)
        again, suite = await generating.generate_for_run(db, "p", offload=parsers.run)
    finally:
        parsers.close()
    assert (first["reused"], again["reused"]) == (False, True)
    assert again["suite"] == suite.id == first["suite"]


async def test_a_refusal_in_the_parser_process_comes_back_with_its_details(db: Database) -> None:
    from orchestra.api.parsers import ParserProcess

    await _import(db)
    parsers = ParserProcess(in_process_from=0)
    try:
        with pytest.raises(GenerationLimit, match="stopped at 2 scenarios") as refused:
            await generating.generate(
                db, "p", criterion=Criterion.ALL_PATHS, max_scenarios=1, offload=parsers.run
            )
    finally:
        parsers.close()
    with pytest.raises(GenerationLimit) as here:
        await generating.generate(db, "p", criterion=Criterion.ALL_PATHS, max_scenarios=1)
    assert refused.value.to_json() == here.value.to_json()
    async with db.transaction() as uow:
        assert await uow.suites.list() == []


def _refuse_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, a request whose bindings would be parsed again fails the test."""

    def parsed(*_: Any) -> Any:
        raise AssertionError("the bindings were parsed again")

    monkeypatch.setattr(generating, "request_fingerprint", parsed)
    monkeypatch.setattr(generating, "generated_rows", parsed)


async def test_a_request_seen_before_reuses_its_suite_without_parsing_its_bindings(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _import(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(BINDINGS)
    first, _ = await generating.generate_for_run(db, "p", bindings=bindings)
    _refuse_to_parse(monkeypatch)
    again, suite = await generating.generate_for_run(db, "p", bindings=str(bindings))
    assert (first["reused"], again["reused"]) == (False, True)
    assert again["suite"] == suite.id == first["suite"]
    assert again["scenario_names"] == first["scenario_names"]


async def test_bindings_rewritten_with_the_same_meaning_reuse_the_suite_then_unparsed(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _import(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(BINDINGS)
    first, _ = await generating.generate_for_run(db, "p", bindings=bindings)
    bindings.write_text("# the shop's order bindings\n" + BINDINGS)
    parsed, _ = await generating.generate_for_run(db, "p", bindings=bindings)
    _refuse_to_parse(monkeypatch)
    unparsed, _ = await generating.generate_for_run(db, "p", bindings=bindings)
    assert (parsed["reused"], unparsed["reused"]) == (True, True)
    assert parsed["suite"] == unparsed["suite"] == first["suite"]


async def test_bindings_changed_in_meaning_generate_a_new_suite(
    db: Database, tmp_path: Path
) -> None:
    await _import(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(BINDINGS)
    first, _ = await generating.generate_for_run(db, "p", bindings=bindings)
    bindings.write_text(BINDINGS.replace("/orders", "/orders/new"))
    changed, suite = await generating.generate_for_run(db, "p", bindings=bindings)
    assert changed["reused"] is False
    assert changed["suite"] != first["suite"]
    accept = suite.scenarios[0].scenario.steps[0]
    assert accept.spec["action"]["path"] == "/orders/new"


async def test_a_request_seen_before_reuses_the_newest_suite_of_its_fingerprint(
    db: Database, tmp_path: Path
) -> None:
    await _import(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(BINDINGS)
    await generating.generate_for_run(db, "p", bindings=bindings)
    newer = await generating.generate(db, "p", bindings=bindings)  # an identical suite added
    again, _ = await generating.generate_for_run(db, "p", bindings=bindings)
    assert again["reused"] is True
    assert again["suite"] == newer["suite"]
