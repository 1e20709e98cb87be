"""Data rows checked against scenarios' paths: a row whose values would turn the SUT away from
the gateway choices a scenario makes contradicts it (its run is SKIPPED unless forced).

The values checked are those a run's templates see: the scenario's data from its conditions,
the row merged over it, the bindings' flow data over both (`orchestra.domain.merging`). Only a
conflict the row causes counts: without the row, the scenario's own data satisfies its path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestra.domain.conditions.errors import NotUnderstood
from orchestra.domain.merging import deep_merge
from orchestra.domain.scenario import PathCondition, TestScenario
from orchestra.domain.statuses import StepKind

if TYPE_CHECKING:
    from orchestra.domain.conditions.tree import Expr


@dataclass(frozen=True, slots=True)
class RowConflict:
    """Data row `row` makes the condition of `flow` (as a scenario needs it: `condition`,
    "not ..." when it must not hold) come out the other way, with `values`."""

    scenario: str
    row: int
    flow: str
    condition: str
    values: dict[str, Any]

    def describe(self) -> str:
        shown = ", ".join(
            f"{name} = {json.dumps(v, default=str)}" for name, v in self.values.items()
        )
        return (
            f"data row {self.row} contradicts the path of {self.scenario}: "
            f"{self.condition} ({self.flow}) is false with {shown}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "row": self.row,
            "flow": self.flow,
            "condition": self.condition,
            "values": self.values,
        }


class RowChecker:
    """Checks rows against scenarios; each condition is parsed once."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, str | None], Expr | None] = {}

    def conflict(
        self, scenario: TestScenario, row_index: int, row: Mapping[str, Any]
    ) -> RowConflict | None:
        requires = [required for d in scenario.decisions for required in d.requires]
        if not requires or not row:
            return None
        # the parsers and the evaluator only for a scenario that takes a conditioned flow
        from orchestra.domain.conditions.evaluate import holds, value_of
        from orchestra.domain.conditions.tree import variables

        bound = bound_data(scenario)
        alone = deep_merge(scenario.data, bound)
        values = deep_merge(deep_merge(scenario.data, row), bound)
        for required in requires:
            expr = self._expr(required)
            if expr is None or holds(expr, values) == required.holds:
                continue
            if holds(expr, alone) != required.holds:
                continue  # not the row's doing: the path needs `flows: data` of its own
            read = {var.name: value_of(var, values) for var in variables(expr)}
            return RowConflict(scenario.name, row_index, required.flow, required.describe(), read)
        return None

    def _expr(self, required: PathCondition) -> Expr | None:
        key = (required.condition, required.language)
        if key not in self._parsed:
            from orchestra.domain.conditions.language import parse_condition

            try:
                self._parsed[key] = parse_condition(required.condition, required.language)
            except NotUnderstood:  # read when the suite was generated: an older Orchestra's
                self._parsed[key] = None
        return self._parsed[key]


def bound_data(scenario: TestScenario) -> dict[str, Any]:
    """The `data` of the bindings' flows on the scenario's path, as its steps hold it."""
    merged: dict[str, Any] = {}
    for step in scenario.steps:
        if step.kind is not StepKind.BARRIER and step.spec.get("data"):
            merged = deep_merge(merged, step.spec["data"])
    return merged
