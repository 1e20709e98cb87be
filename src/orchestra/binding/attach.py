"""Bindings onto a generated suite: each ACTION/ASSERTION step gets its complete spec.

A bound step's `spec` gets `StepSpec.to_json()` (action, checks, eventually, save, data) and
its `meta["exportAs"]` the binding's exports; an unbound ACTION step keeps `meta["unbound"] =
True` and its element id is reported. Steps are matched to bindings by element id, then by step
name (load the bindings with the process graph to resolve names to ids; flows match by id only).
ACTION steps look in `tasks` then `events` (generation makes ACTION steps of message and timer
events too), ASSERTION steps in `events` then `tasks`.

Condition data: the scenario's `data` (solved from its gateway conditions) goes on every
non-BARRIER step as `spec["given"]`; the executor lays the data row over it.

Branch data: the `data` of every bound flow on a scenario's path reaches its steps in
`spec["data"]`. Later flows win, except that the flows still ahead of a step win over those
behind it (nearest first): in a loop, the task before a gateway sees the data of the flow that
gateway takes next, not of an earlier pass. The executor lays `spec["data"]` over the data row.

Cleanup: a task's `undo` goes into its step's `spec["undo"]` (a step spec with `strict`), and
the file's `cleanup` actions that apply to a scenario (all, or those whose `reaching` is on its
path) into `TestScenario.cleanup`; the runtime runs both once the scenario ends.

Shared barriers (`barriers:`): each lands as a BARRIER step in the scenarios that reach its
element, and the steps are renumbered; see `orchestra.binding.barriers`. A barrier that lands
nowhere, or needs more parties than the scenarios it lands in, is refused (BindingRefused).
"""

from __future__ import annotations

from typing import Any

from orchestra.binding.barriers import place_barriers
from orchestra.binding.document import Bindings, StepBinding, cleanup_spec, spec_from_binding
from orchestra.domain.dependencies import validate_dependencies
from orchestra.domain.scenario import DependsOn, GeneratedSuite, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind


def attach_bindings(suite: GeneratedSuite, bindings: Bindings) -> tuple[GeneratedSuite, list[str]]:
    unbound: dict[str, None] = {}  # ordered set
    scenarios = []
    for scenario in suite.scenarios:
        steps = _attach_scenario(scenario, bindings, unbound)
        depends_on = _depends_on(scenario, suite.scenarios, bindings)
        update = {"steps": steps, "depends_on": depends_on, "cleanup": _cleanup(scenario, bindings)}
        scenarios.append(scenario.model_copy(update=update))
    # a cycle is refused now, naming it, not at run time
    dependencies = validate_dependencies(scenarios)
    placed = place_barriers(scenarios, bindings.barriers, dependencies)
    return suite.model_copy(update={"scenarios": placed}), list(unbound)


def _depends_on(
    scenario: TestScenario, every: tuple[TestScenario, ...], bindings: Bindings
) -> tuple[DependsOn, ...]:
    """`scenarios:` rules: this scenario waits for the others whose path reaches an element,
    but not for its peers, those the same rule matches too (two scenarios that both create and
    cancel an order would otherwise wait for each other)."""
    found: dict[str, DependsOn] = {dep.scenario: dep for dep in scenario.depends_on}
    for rule in bindings.scenarios:
        if rule.reaching not in scenario.path:
            continue
        others = [o for o in every if o.name != scenario.name and rule.reaching not in o.path]
        for dep in rule.depends_on:
            for other in others:
                if dep.reaching in other.path:
                    found.setdefault(
                        other.name, DependsOn(scenario=other.name, outcome=dep.outcome)
                    )
    return tuple(found.values())


def _attach_scenario(
    scenario: TestScenario, bindings: Bindings, unbound: dict[str, None]
) -> tuple[ScenarioStep, ...]:
    branch_data = _BranchData(scenario, bindings)
    seen: dict[tuple[str, str | None], int] = {}
    steps = []
    for step in scenario.steps:
        if step.kind is StepKind.BARRIER:
            steps.append(step)
            continue
        occurrence = seen.get((step.branch, step.element_id), 0)
        seen[(step.branch, step.element_id)] = occurrence + 1
        data = branch_data.for_step(step, occurrence)
        step = _given(step, scenario)
        first, second = (
            (bindings.tasks, bindings.events)
            if step.kind is StepKind.ACTION
            else (bindings.events, bindings.tasks)
        )
        binding = _binding_of(step, first) or _binding_of(step, second)
        if binding is not None:
            steps.append(_bound(step, binding, bindings, data))
        elif step.kind is StepKind.ACTION:
            unbound[step.element_id or f"step {step.position}"] = None
            steps.append(step.model_copy(update={"meta": {**step.meta, "unbound": True}}))
        else:
            spec = {**step.spec, "data": data} if data else step.spec
            steps.append(step.model_copy(update={"spec": spec}))
    return tuple(steps)


def _cleanup(scenario: TestScenario, bindings: Bindings) -> tuple[dict[str, Any], ...]:
    """The `cleanup` actions of the scenario: those for every scenario and those whose
    `reaching` element is on its path (or on one of its branches)."""
    on_path = set(scenario.path).union(*scenario.branch_paths.values())
    return tuple(
        cleanup_spec(action, bindings.defaults, name=action.name or f"cleanup {i + 1}")
        for i, action in enumerate(bindings.cleanup)
        if action.reaching is None or action.reaching in on_path
    )


def _given(step: ScenarioStep, scenario: TestScenario) -> ScenarioStep:
    """The scenario's data from its gateway conditions, on every step that may render it."""
    given = scenario.data
    return step.model_copy(update={"spec": {**step.spec, "given": given}}) if given else step


def _binding_of(step: ScenarioStep, section: dict[str, StepBinding]) -> StepBinding | None:
    if step.element_id is not None and step.element_id in section:
        return section[step.element_id]
    if step.name is not None:
        return section.get(step.name)
    return None


def _bound(
    step: ScenarioStep, binding: StepBinding, bindings: Bindings, data: dict[str, Any]
) -> ScenarioStep:
    spec = {**step.spec, **spec_from_binding(binding, bindings.defaults, data).to_json()}
    if binding.undo is not None:
        spec["undo"] = cleanup_spec(binding.undo, bindings.defaults)
    meta = {key: value for key, value in step.meta.items() if key != "unbound"}
    if binding.export_as:
        meta["exportAs"] = dict(binding.export_as)
    return step.model_copy(update={"spec": spec, "meta": meta})


class _BranchData:
    """The bound flows of a scenario's path (and of each parallel branch's path)."""

    def __init__(self, scenario: TestScenario, bindings: Bindings) -> None:
        self._scenario = scenario
        self._flows = {key: flow.data for key, flow in bindings.flows.items() if flow.data}
        self._base = self._merge(self._all_flows())

    def _all_flows(self) -> list[str]:
        ordered = [e for e in self._scenario.path if e in self._flows]
        for branch_path in self._scenario.branch_paths.values():
            ordered += [e for e in branch_path if e in self._flows and e not in ordered]
        for decision in self._scenario.decisions:
            ordered += [f for f in decision.flows if f in self._flows and f not in ordered]
        return ordered

    def _merge(self, flows: list[str]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for flow in flows:
            merged.update(self._flows[flow])
        return merged

    def for_step(self, step: ScenarioStep, occurrence: int) -> dict[str, Any]:
        if not self._flows:
            return {}
        sequence = self._scenario.branch_paths.get(step.branch, ()) if step.branch else ()
        if step.element_id not in sequence:
            sequence = self._scenario.path
        positions = [i for i, element in enumerate(sequence) if element == step.element_id]
        if occurrence >= len(positions):
            return dict(self._base)
        ahead = [e for e in sequence[positions[occurrence] + 1 :] if e in self._flows]
        return {**self._base, **self._merge(list(reversed(ahead)))}
