"""A suite run is refused when a scenario it would run reaches an unbound task."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestra.domain.records import StoredScenario, StoredSuite
from orchestra.domain.scenario import Coverage, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind
from orchestra.errors import UnboundTasks
from orchestra.services.running import refuse_unbound
from orchestra.store.runs import RunSelection


def _scenario(name: str, *unbound: tuple[str, str | None]) -> StoredScenario:
    steps = [
        ScenarioStep(
            position=i,
            kind=StepKind.ACTION,
            element_id=element,
            name=label,
            meta={"unbound": True},
        )
        for i, (element, label) in enumerate(unbound)
    ]
    bound = ScenarioStep(position=len(steps), kind=StepKind.ACTION, element_id="Task_Bound")
    scenario = TestScenario(name=name, position=0, path=(), steps=(*steps, bound))
    return StoredScenario(id=hash(name) % 1000, scenario=scenario)


def _suite(*scenarios: StoredScenario) -> StoredSuite:
    coverage = Coverage(
        criterion="all-flows", flows_total=0, flows_covered=0, nodes_total=0, nodes_covered=0
    )
    return StoredSuite(
        id=7,
        process_id=1,
        process_key="p",
        process_version=1,
        criterion="all-flows",
        coverage=coverage,
        created_at=datetime.now(UTC),
        scenarios=scenarios,
    )


SUITE = _suite(
    _scenario("S01", ("Task_Pay", "Pay order"), ("Task_Ship", None)),
    _scenario("S02", ("Task_Pay", "Pay order")),
    _scenario("S03"),
)


def test_each_unbound_task_is_named_once_with_the_scenarios_reaching_it() -> None:
    with pytest.raises(UnboundTasks) as refused:
        refuse_unbound(SUITE)

    assert refused.value.message == (
        "suite 7: 2 tasks have no binding, and runs would end in ERROR there:"
        " Task_Pay ('Pay order'), Task_Ship"
    )
    assert refused.value.details["unbound"] == [
        {"element_id": "Task_Pay", "name": "Pay order", "scenarios": ["S01", "S02"]},
        {"element_id": "Task_Ship", "name": None, "scenarios": ["S01"]},
    ]
    assert refused.value.exit_code == 2
    assert refused.value.http_status == 422


def test_only_the_scenarios_selected_count() -> None:
    refuse_unbound(SUITE, RunSelection(scenarios=frozenset({"S03"})))
    with pytest.raises(UnboundTasks, match="1 task has no binding"):
        refuse_unbound(SUITE, RunSelection(scenarios=frozenset({"S02", "S03"})))


def test_advice_ends_the_message_and_keeps_the_details() -> None:
    with pytest.raises(UnboundTasks) as refused:
        refuse_unbound(SUITE)
    advised = refused.value.advised("give --allow-unbound")
    assert advised.message.endswith("Task_Ship; give --allow-unbound")
    assert advised.details == refused.value.details
