"""Variables read before anything can have set them: a static look at a bound suite.

A step's templates may read `vars.X`, which an earlier step of the same run saves (`save:`),
and `suite.X`, which a step exports (`exportAs:`) in a scenario this one depends on, or
earlier in this one. A read that nothing before it on the scenario's path provides is an
ERROR when the step runs; `unset_reads` finds them when the suite is generated.

"Before" follows the runtime: steps of the same branch (or of an enclosing one) that come
first, and the branches of a parallel block once its BARRIER has joined them; a step of a
sibling branch still running is not before. A read guarded by `default` or `is defined` is
not counted. A task's `undo` runs once the scenario ends: it may read what the task itself
saved too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from orchestra.binding.templates import path_lookups
from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind

_CHECKED = ("vars", "suite")


@dataclass(frozen=True, slots=True)
class UnsetRead:
    """`variable` (`vars.order_id`) read in `field` (`action.path`) of a step where nothing
    before it provides it."""

    scenario: str
    step: int
    element_id: str | None
    name: str | None
    field: str
    variable: str

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "step": self.step,
            "element_id": self.element_id,
            "name": self.name,
            "field": self.field,
            "variable": self.variable,
        }

    def describe(self) -> str:
        """One line for a person: where, what, and why it is not there."""
        element = self.element_id or "step"
        named = f" ({self.name})" if self.name else ""
        why = (
            "no earlier step on its path saves it"
            if self.variable.startswith("vars.")
            else "no scenario it depends on exports it, nor an earlier step"
        )
        return (
            f"{self.scenario}, step {self.step} {element}{named}: {self.field} reads"
            f" {self.variable}, but {why}"
        )


def unset_reads(scenarios: Sequence[TestScenario]) -> list[UnsetRead]:
    """Every read of `vars.X` or `suite.X` nothing provides, scenario by scenario."""
    by_name = {scenario.name: scenario for scenario in scenarios}
    found: list[UnsetRead] = []
    for scenario in scenarios:
        exported = _exported_by_dependencies(scenario, by_name)
        found += _scenario_reads(scenario, exported)
    return found


def _exported_by_dependencies(scenario: TestScenario, by_name: dict[str, TestScenario]) -> set[str]:
    names: set[str] = set()
    seen: set[str] = set()
    waiting = [dep.scenario for dep in scenario.depends_on]
    while waiting:
        name = waiting.pop()
        other = by_name.get(name)
        if name in seen or other is None:
            continue
        seen.add(name)
        for step in other.steps:
            names.update(step.meta.get("exportAs") or {})
        waiting += [dep.scenario for dep in other.depends_on]
    return names


def _scenario_reads(scenario: TestScenario, exported: set[str]) -> list[UnsetRead]:
    # What each branch may read at this point of the scenario: (saved, exported).
    known: dict[str, tuple[set[str], set[str]]] = {"": (set(), set(exported))}
    found: list[UnsetRead] = []
    for step in scenario.steps:
        saved, suite = _known_on(known, step.branch)
        if step.kind is StepKind.BARRIER:
            for label in step.spec.get("branches") or ():
                joined = known.get(label)
                if joined is not None:
                    saved |= joined[0]
                    suite |= joined[1]
            continue
        provided = {"vars": saved, "suite": suite}
        found += _unset_in(scenario, step, _templates(step), provided)
        saved.update(step.spec.get("save") or {})
        suite.update(step.meta.get("exportAs") or {})
        # its undo runs once the scenario ends: it may read what the task itself saved
        undo = _strings(step.spec.get("undo") or {}, "undo")
        found += _unset_in(scenario, step, undo, provided)
    return _once(found)


def _unset_in(
    scenario: TestScenario,
    step: ScenarioStep,
    templates: Iterator[tuple[str, str]],
    provided: dict[str, set[str]],
) -> list[UnsetRead]:
    return [
        _unset(scenario, step, field, f"{namespace}.{key}")
        for field, source in templates
        for namespace, key in _reads(source)
        if key not in provided[namespace]
    ]


def _known_on(
    known: dict[str, tuple[set[str], set[str]]], branch: str
) -> tuple[set[str], set[str]]:
    """A branch starts with what its enclosing branch had when it forked."""
    if branch not in known:
        parent = branch.rpartition("/")[0]
        saved, suite = _known_on(known, parent)
        known[branch] = (set(saved), set(suite))
    return known[branch]


def _unset(scenario: TestScenario, step: ScenarioStep, field: str, variable: str) -> UnsetRead:
    return UnsetRead(scenario.name, step.position, step.element_id, step.name, field, variable)


def _once(found: list[UnsetRead]) -> list[UnsetRead]:
    return list(dict.fromkeys(found))


def _templates(step: ScenarioStep) -> Iterator[tuple[str, str]]:
    """(field, template text) of every templated string of the step's spec (its undo apart)
    and exports."""
    spec = {key: value for key, value in step.spec.items() if key not in ("data", "undo")}
    yield from _strings(spec, "")
    for name, text in (step.meta.get("exportAs") or {}).items():
        yield from _strings(text, f"exportAs.{name}")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index + 1}]")


@lru_cache(maxsize=4096)
def _reads(source: str) -> tuple[tuple[str, str], ...]:
    """(namespace, key) of each unguarded `vars.X` / `suite.X` the template reads: a template
    of plain lookups guards none; any other is read by Jinja's parser."""
    paths = path_lookups(source)
    if paths is None:
        from orchestra.binding.guarded_reads import unguarded_reads

        return unguarded_reads(source, _CHECKED)
    found = [(str(p[0]), str(p[1])) for p in paths if len(p) > 1 and _keyed(p)]
    return tuple(dict.fromkeys(found))


def _keyed(path: list[str | int]) -> bool:
    """`vars.X`, `suite['X']`: a key of a namespace checked."""
    return path[0] in _CHECKED and isinstance(path[1], str)
