"""The tasks of a suite that have no binding: what a suite run would execute blind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestra.domain.scenario import TestScenario


@dataclass(frozen=True, slots=True)
class UnboundTask:
    """A task no binding describes, with the scenarios whose runs would reach it."""

    element_id: str
    name: str | None
    scenarios: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "name": self.name, "scenarios": list(self.scenarios)}

    def label(self) -> str:
        """`Task_pay ("Pay order")`, or the id alone for a task without a name."""
        return f"{self.element_id} ({self.name!r})" if self.name else self.element_id


def unbound_tasks(scenarios: Iterable[TestScenario]) -> list[UnboundTask]:
    """Every unbound step's element once, in the order the scenarios first reach it."""
    found: dict[str, tuple[str | None, list[str]]] = {}
    for scenario in scenarios:
        for step in scenario.steps:
            if not step.meta.get("unbound"):
                continue
            element = step.element_id or f"step {step.position}"
            _, names = found.setdefault(element, (step.name, []))
            if scenario.name not in names:
                names.append(scenario.name)
    return [UnboundTask(e, name, tuple(names)) for e, (name, names) in found.items()]
