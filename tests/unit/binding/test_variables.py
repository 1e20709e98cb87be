"""Reads of `vars.X` and `suite.X` that nothing before them provides, found statically."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from orchestra.binding.variables import unset_reads
from orchestra.domain.scenario import DependsOn, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind


def _step(
    position: int,
    element: str,
    *,
    branch: str = "",
    exports: dict[str, str] | None = None,
    **spec: Any,
) -> ScenarioStep:
    meta = {"exportAs": exports} if exports else {}
    return ScenarioStep(
        position=position,
        kind=StepKind.ACTION,
        element_id=element,
        name=element.title(),
        branch=branch,
        spec=spec,
        meta=meta,
    )


def _scenario(name: str, *steps: ScenarioStep, depends_on: tuple[str, ...] = ()) -> TestScenario:
    return TestScenario(
        name=name,
        position=0,
        path=(),
        steps=steps,
        depends_on=tuple(DependsOn(scenario=d) for d in depends_on),
    )


def _read(path: str) -> dict[str, Any]:
    return {"action": {"path": path}}


def _variables(*scenarios: TestScenario) -> list[tuple[str, int, str, str]]:
    return [(r.scenario, r.step, r.field, r.variable) for r in unset_reads(scenarios)]


def test_a_var_no_earlier_step_saves_is_named_with_scenario_step_and_field() -> None:
    scenario = _scenario(
        "S01",
        _step(0, "create", action={"method": "POST", "path": "/orders"}),
        _step(1, "pay", **_read("/orders/{{ vars.order_id }}/pay")),
    )
    assert _variables(scenario) == [("S01", 1, "action.path", "vars.order_id")]
    (read,) = unset_reads([scenario])
    assert read.describe() == (
        "S01, step 1 pay (Pay): action.path reads vars.order_id, but no earlier step on its"
        " path saves it"
    )


def test_a_var_saved_by_an_earlier_step_is_fine_but_not_one_saved_later() -> None:
    scenario = _scenario(
        "S01",
        _step(0, "create", save={"order_id": "$.id"}),
        _step(1, "read", **_read("/orders/{{ vars.order_id }}/{{ vars['item'] }}")),
        _step(2, "add", save={"item": "$.item"}),
    )
    assert _variables(scenario) == [("S01", 1, "action.path", "vars.item")]


def test_checks_save_and_export_templates_are_read_too() -> None:
    scenario = _scenario(
        "S01",
        _step(
            0,
            "read",
            checks=[{"status": 200}, {"that": "{{ response.json.total == vars.total }}"}],
            save={"x": "{{ vars.y }}"},
            exports={"order": "{{ suite.order.id }}"},
        ),
    )
    assert _variables(scenario) == [
        ("S01", 0, "checks[2].that", "vars.total"),
        ("S01", 0, "save.x", "vars.y"),
        ("S01", 0, "exportAs.order", "suite.order"),
    ]


@pytest.mark.parametrize(
    "template",
    [
        "{{ vars.order_id | default('none') }}",
        "{% if vars.order_id is defined %}{{ vars.order_id }}{% endif %}",
        "{{ vars.get('order_id') }}",
        "{{ data.order_id }}{{ steps.create.status }}",
    ],
)
def test_a_guarded_read_or_another_namespace_is_not_reported(template: str) -> None:
    assert _variables(_scenario("S01", _step(0, "read", **_read(template)))) == []


def test_a_sibling_branch_saves_nothing_before_the_join_but_does_after_it() -> None:
    scenario = _scenario(
        "S01",
        _step(0, "create", save={"order_id": "$.id"}),
        _step(1, "ship", branch="/G#1", save={"parcel": "$.id"}),
        _step(2, "bill", branch="/G#2", **_read("/o/{{ vars.order_id }}/{{ vars.parcel }}")),
        ScenarioStep(
            position=3,
            kind=StepKind.BARRIER,
            element_id="join",
            spec={"gateway": "join", "branches": ["/G#1", "/G#2"]},
        ),
        _step(4, "close", **_read("/parcels/{{ vars.parcel }}")),
    )
    assert _variables(scenario) == [("S01", 2, "action.path", "vars.parcel")]


def test_suite_values_come_from_dependencies_at_any_depth_or_earlier_steps() -> None:
    create = _scenario("create", _step(0, "create", exports={"order_id": "$.id"}))
    middle = _scenario("middle", _step(0, "noop"), depends_on=("create",))
    cancel = _scenario(
        "cancel",
        _step(0, "cancel", **_read("/orders/{{ suite.order_id }}"), exports={"c": "$.id"}),
        _step(1, "check", **_read("/c/{{ suite.c }}/{{ suite.other }}")),
        depends_on=("middle",),
    )
    alone = _scenario("alone", _step(0, "cancel", **_read("/orders/{{ suite.order_id }}")))

    assert _variables(create, middle, cancel, alone) == [
        ("cancel", 1, "action.path", "suite.other"),
        ("alone", 0, "action.path", "suite.order_id"),
    ]
    messages = [read.describe() for read in unset_reads([alone])]
    assert messages[0].endswith("no scenario it depends on exports it, nor an earlier step")


def test_a_template_that_does_not_parse_reports_nothing_here() -> None:
    assert _variables(_scenario("S01", _step(0, "read", **_read("{{ vars.a ")))) == []


@pytest.mark.parametrize(
    "template",
    [
        "/orders/{{ vars.order_id }}/{{ suite.customer['id'] }}",
        "{{ vars }}{{ vars[0] }}{{ suite.a.b }}{{ data.x }}",
        "{{ vars['a b'] }} and {{ vars[\"c\"].d }}",
        "{{ vars.x | default(1) }} {{ suite.y }}",
        "{% if vars.x is defined %}{{ vars.x }}{% endif %}{{ vars.z }}",
    ],
)
def test_a_template_s_reads_are_found_alike_with_or_without_jinja(template: str) -> None:
    from orchestra.binding.guarded_reads import unguarded_reads
    from orchestra.binding.variables import _reads

    assert _reads(template) == unguarded_reads(template, ("vars", "suite"))


def test_reads_of_path_templates_are_found_without_importing_jinja() -> None:
    code = (
        "import sys\n"
        "from orchestra.binding.variables import _reads\n"
        "assert _reads('/orders/{{ vars.id }}') == (('vars', 'id'),)\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_undo_may_read_what_its_own_task_saved_but_not_what_nothing_saves() -> None:
    undo = {"action": {"method": "DELETE", "path": "/orders/{{ vars.order_id }}/{{ vars.nope }}"}}
    scenario = _scenario("S01", _step(0, "create", save={"order_id": "$.id"}, undo=undo))

    assert _variables(scenario) == [("S01", 0, "undo.action.path", "vars.nope")]
