import pytest

from orchestra.domain.dependencies import (
    RunKey,
    resolve_run_dependencies,
    validate_dependencies,
)
from orchestra.domain.scenario import DependsOn, TestScenario
from orchestra.errors import DependencyCycle, InputRefused


def scenario(name: str, *deps: str, outcome: str = "PASSED") -> TestScenario:
    return TestScenario(
        name=name,
        position=0,
        path=(),
        depends_on=tuple(DependsOn(scenario=d, outcome=outcome) for d in deps),
    )


def test_a_cycle_is_refused_naming_every_scenario_in_it() -> None:
    with pytest.raises(DependencyCycle) as refused:
        validate_dependencies([scenario("a", "c"), scenario("b", "a"), scenario("c", "b")])
    assert set(refused.value.details["cycle"]) == {"a", "b", "c"}
    assert "->" in refused.value.message


def test_a_dependency_on_an_unknown_scenario_is_refused() -> None:
    with pytest.raises(InputRefused, match="'ghost'"):
        validate_dependencies([scenario("a", "ghost")])


def test_a_required_outcome_must_be_a_terminal_status() -> None:
    with pytest.raises(InputRefused, match="RUNNING"):
        validate_dependencies([scenario("a"), scenario("b", "a", outcome="RUNNING")])


def test_each_data_row_waits_for_the_same_row_of_its_dependency() -> None:
    edges = resolve_run_dependencies([scenario("create"), scenario("cancel", "create")], [0, 1])
    assert [(e.run, e.depends_on) for e in edges] == [
        (RunKey("cancel", 0), RunKey("create", 0)),
        (RunKey("cancel", 1), RunKey("create", 1)),
    ]
