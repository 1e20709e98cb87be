from __future__ import annotations

import pytest

from orchestra.binding.attach import attach_bindings
from orchestra.binding.loader import load_bindings
from orchestra.binding.model import StepSpec
from orchestra.domain.scenario import Coverage, Decision, GeneratedSuite, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind
from orchestra.errors import BindingRefused, DependencyCycle
from orchestra.protocols.http import HttpAction
from tests.unit.binding.graphs import order_process

BINDINGS = """\
defaults: {service: orders, timeout: 5, headers: {X-Suite: demo}}
tasks:
  Create order:
    action: {method: POST, path: /orders, json: {amount: "{{ data.amount }}"}}
    checks: [{status: 201}]
    save: {order_id: $.id}
    exportAs: {lastOrder: $.id}
  Task_Approve:
    action: {path: "/orders/{{ vars.order_id }}", timeout: 2}
    checks: [{jsonpath: $.state, eq: APPROVED}]
    eventually: {timeout: 10, interval: 0.5}
flows:
  Flow_yes: {data: {amount: 50, approved: true}}
  Flow_no: {data: {amount: 5000}}
events:
  End_Ok: {checks: [{that: "{{ vars.order_id is defined }}"}]}
"""


def step(position: int, kind: StepKind, element: str | None, **extra: object) -> ScenarioStep:
    return ScenarioStep.model_validate(
        {"position": position, "kind": kind, "element_id": element, **extra}
    )


def elements(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def scenario(
    name: str, path: tuple[str, ...], flow: str, tasks: list[str], end: str
) -> TestScenario:
    steps = [step(i, StepKind.ACTION, task) for i, task in enumerate(tasks)]
    steps.append(step(len(tasks), StepKind.ASSERTION, end))
    return TestScenario(
        name=name,
        position=0,
        path=path,
        decisions=(Decision(gateway="Gw", flows=(flow,)),),
        steps=tuple(steps),
    )


def suite(*scenarios: TestScenario) -> GeneratedSuite:
    coverage = Coverage(criterion="all-flows", flows_total=8, flows_covered=8, nodes_total=9,
                        nodes_covered=9)  # fmt: skip
    return GeneratedSuite(process_key="Order", process_version=1, criterion="all-flows",
                          scenarios=scenarios, coverage=coverage)  # fmt: skip


YES = scenario(
    "approved",
    elements("Start F1 Task_Create F2 Gw Flow_yes Task_Approve F5 Task_NotifyOk F7 End_Ok"),
    "Flow_yes",
    ["Task_Create", "Task_Approve", "Task_NotifyOk"],
    "End_Ok",
)
NO = scenario(
    "rejected",
    elements("Start F1 Task_Create F2 Gw Flow_no Task_Reject F6 Task_NotifyKo F8 End_Rejected"),
    "Flow_no",
    ["Task_Create", "Task_Reject", "Task_NotifyKo"],
    "End_Rejected",
)


def attached() -> tuple[GeneratedSuite, list[str]]:
    return attach_bindings(suite(YES, NO), load_bindings(BINDINGS, order_process()))


def test_bound_steps_carry_a_complete_spec_with_the_file_defaults() -> None:
    result, _ = attached()
    create = result.scenarios[0].steps[0]

    spec = StepSpec.model_validate(create.spec)

    assert isinstance(spec.action, HttpAction)
    assert (spec.action.method, spec.action.path, spec.action.service) == (
        "POST",
        "/orders",
        "orders",
    )
    assert spec.action.timeout == 5
    assert spec.action.headers == {"X-Suite": "demo"}
    assert [check.name for check in spec.checks] == ["status eq"]
    assert spec.save == {"order_id": "$.id"}
    assert create.meta == {"exportAs": {"lastOrder": "$.id"}}


def test_a_steps_own_settings_win_over_the_defaults() -> None:
    result, _ = attached()
    approve = StepSpec.model_validate(result.scenarios[0].steps[1].spec)

    assert approve.action is not None
    assert approve.action.timeout == 2
    assert approve.eventually is not None
    assert approve.eventually.interval == 0.5


def test_each_scenario_carries_the_data_of_its_branch() -> None:
    result, _ = attached()
    approved, rejected = result.scenarios

    assert approved.steps[0].spec["data"] == {"amount": 50, "approved": True}
    assert rejected.steps[0].spec["data"] == {"amount": 5000}


def test_unbound_tasks_are_listed_once_and_marked() -> None:
    result, unbound = attached()

    assert unbound == ["Task_NotifyOk", "Task_Reject", "Task_NotifyKo"]
    notify = result.scenarios[0].steps[2]
    assert notify.meta["unbound"] is True
    assert "action" not in notify.spec


def test_end_events_get_their_final_checks_and_unbound_ones_stay_empty() -> None:
    result, _ = attached()

    end_ok = StepSpec.model_validate(result.scenarios[0].steps[3].spec)
    end_rejected = result.scenarios[1].steps[3]
    assert end_ok.action is None
    assert [c.kind for c in end_ok.checks] == ["that"]
    assert end_rejected.spec == {"data": {"amount": 5000}}
    assert "unbound" not in end_rejected.meta


def test_barriers_are_left_alone() -> None:
    barrier = step(5, StepKind.BARRIER, "Join", spec={"gateway": "Join", "branches": ["/P#1"]})
    with_barrier = YES.model_copy(update={"steps": (*YES.steps, barrier)})

    result, _ = attach_bindings(suite(with_barrier), load_bindings(BINDINGS, order_process()))

    assert result.scenarios[0].steps[-1] == barrier


def test_in_a_loop_a_task_sees_the_data_of_the_flow_taken_next() -> None:
    bindings = load_bindings("""\
tasks:
  Review: {action: {method: POST, path: /review, json: {ok: "{{ data.ok }}"}}}
flows:
  Flow_retry: {data: {ok: false}}
  Flow_done: {data: {ok: true}}
""")
    path = ("Start", "F1", "Review", "F2", "Gw", "Flow_retry", "Review", "F2", "Gw", "Flow_done",
            "End")  # fmt: skip
    looped = TestScenario(
        name="loop once",
        position=0,
        path=path,
        steps=(step(0, StepKind.ACTION, "Review"), step(1, StepKind.ACTION, "Review")),
    )

    result, _ = attach_bindings(suite(looped), bindings)

    first, second = result.scenarios[0].steps
    assert first.spec["data"] == {"ok": False}
    assert second.spec["data"] == {"ok": True}


def test_attaching_leaves_the_input_suite_unchanged() -> None:
    original = suite(YES, NO)

    attach_bindings(original, load_bindings(BINDINGS, order_process()))

    assert original.scenarios[0].steps[0].spec == {}


def test_an_action_step_of_an_event_finds_its_binding_under_events() -> None:
    bindings = load_bindings("events:\n  Msg_Paid: {checks: [{that: '{{ vars.paid }}'}]}\n")
    waiting = TestScenario(
        name="paid",
        position=0,
        path=elements("Start Msg_Paid End"),
        steps=(step(0, StepKind.ACTION, "Msg_Paid", meta={"unbound": True, "type": "x"}),),
    )

    result, unbound = attach_bindings(suite(waiting), bindings)

    assert unbound == []
    assert result.scenarios[0].steps[0].meta == {"type": "x"}
    assert result.scenarios[0].steps[0].spec["checks"][0]["kind"] == "that"


def test_scenario_rules_make_the_scenarios_reaching_one_element_wait_for_others() -> None:
    rules = (
        BINDINGS
        + """\
scenarios:
  - reaching: Task_Reject
    dependsOn: [{reaching: Flow_yes}]
"""
    )
    result, _ = attach_bindings(suite(YES, NO), load_bindings(rules, order_process()))
    approved, rejected = result.scenarios
    assert approved.depends_on == ()
    assert [(d.scenario, d.outcome) for d in rejected.depends_on] == [("approved", "PASSED")]


def test_scenarios_a_rule_matches_do_not_wait_for_each_other() -> None:
    # reject after create: the two rejecting scenarios create too, yet wait only for the other
    rules = (
        BINDINGS + "scenarios:\n  - {reaching: Task_Reject, dependsOn: [{reaching: Task_Create}]}\n"
    )
    again = NO.model_copy(update={"name": "rejected again", "position": 2})
    result, _ = attach_bindings(suite(YES, NO, again), load_bindings(rules, order_process()))
    waits = {s.name: [d.scenario for d in s.depends_on] for s in result.scenarios}
    assert waits == {"approved": [], "rejected": ["approved"], "rejected again": ["approved"]}


def test_scenario_rules_that_loop_are_refused_naming_the_cycle() -> None:
    rules = (
        BINDINGS
        + """\
scenarios:
  - {reaching: Task_Reject, dependsOn: [{reaching: Task_Approve}]}
  - {reaching: Task_Approve, dependsOn: [{reaching: Task_Reject, outcome: FAILED}]}
"""
    )
    with pytest.raises(DependencyCycle, match="approved"):
        attach_bindings(suite(YES, NO), load_bindings(rules, order_process()))


def test_a_scenario_rule_naming_an_unknown_element_is_refused_with_its_yaml_path() -> None:
    rules = (
        BINDINGS
        + """\
scenarios:
  - {reaching: Task_Nowhere, dependsOn: [{reaching: Task_Approve}]}
"""
    )
    with pytest.raises(BindingRefused, match=r":18: scenarios\[0\]\.reaching: unknown element"):
        load_bindings(rules, order_process())


CLEANUP = """\
defaults: {service: orders, timeout: 5}
tasks:
  Task_Create:
    action: {method: POST, path: /orders}
    save: {order_id: $.id}
    undo:
      action: {method: DELETE, path: "/orders/{{ vars.order_id }}"}
      checks: [{status: 204}]
      strict: true
cleanup:
  - name: reset
    action: {method: POST, path: /reset}
  - reaching: "no"
    action: {method: POST, path: /refunds/reset, service: payments}
"""


def test_an_undo_goes_into_its_tasks_spec_with_the_defaults_and_strict() -> None:
    result, _ = attach_bindings(suite(YES, NO), load_bindings(CLEANUP, order_process()))

    undo = result.scenarios[0].steps[0].spec["undo"]
    action = undo["action"]
    assert (action["method"], action["path"]) == ("DELETE", "/orders/{{ vars.order_id }}")
    assert (action["service"], action["timeout"]) == ("orders", 5.0)  # the file's defaults
    assert undo["checks"] == [{"kind": "status", "op": "eq", "expected": 204}]
    assert undo["strict"] is True
    assert "undo" not in result.scenarios[0].steps[1].spec  # Task_Approve has none
    StepSpec.model_validate({k: v for k, v in undo.items() if k != "strict"})


def test_cleanup_actions_go_to_every_scenario_or_to_those_reaching_their_element() -> None:
    result, _ = attach_bindings(suite(YES, NO), load_bindings(CLEANUP, order_process()))

    yes, no = result.scenarios
    assert [c["name"] for c in yes.cleanup] == ["reset"]
    assert [c["name"] for c in no.cleanup] == ["reset", "cleanup 2"]  # `no`: Flow_no's name
    assert no.cleanup[1]["action"]["service"] == "payments"
    assert no.cleanup[0]["strict"] is False
    assert "cleanup" not in yes.model_copy(update={"cleanup": ()}).model_dump()


def test_a_cleanup_reaching_an_unknown_element_is_refused_naming_it() -> None:
    text = "cleanup:\n  - reaching: Task_Nowhere\n    action: {path: /reset}\n"

    with pytest.raises(BindingRefused, match=r"cleanup\[0\]\.reaching.*Task_Nowhere"):
        load_bindings(text, order_process())
