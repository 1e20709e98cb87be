"""Scenarios as generation produces them and as the runtime executes them. Pure data.

A scenario is one token game from a start event to an end event, flattened into an ordered list
of steps. Concurrency is encoded with branch labels:

* `branch == ""` is the scenario's main line.
* A parallel split `G` gives each of its outgoing branches a label `"<parent>/G#<n>"` (n from 1
  in the order of the split's outgoing flows; `<parent>` is the enclosing label, empty on the
  main line, so nested splits give `"/G#1/H#2"`).
* The steps of a parallel block are listed branch after branch, each branch's steps in order,
  and the block is closed by a BARRIER step on the enclosing branch whose `spec` is
  `{"gateway": <join id>, "branches": [<labels>]}`. A block whose branches never join (for
  example a non-interrupting boundary event's branch) is closed by the end of the scenario.
* The runtime runs the branches of a block concurrently and continues after the BARRIER when
  all of them have finished.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
    model_validator,
)

from orchestra.domain.process import Frozen
from orchestra.domain.statuses import StepKind


class PathCondition(Frozen):
    """A condition a scenario's choice at a gateway needs to hold (`holds`) or not to hold:
    kept with the scenario so a data row can be checked against its path without the model."""

    flow: str
    condition: str  # as written on the flow
    language: str | None = None
    holds: bool = True

    def describe(self) -> str:
        return self.condition if self.holds else f"not {self.condition}"


class Decision(Frozen):
    """A gateway (or event-based / boundary) choice taken on a scenario's path."""

    gateway: str
    flows: tuple[str, ...]  # the flow(s) taken: several for an inclusive split
    conditions: tuple[str | None, ...] = ()  # each flow's condition text, aligned with flows
    branch: str = ""
    # the values of the variables its conditions read that make this choice (solved jointly
    # with the scenario's other decisions); empty when it has none, and then not serialized
    data: dict[str, Any] = Field(default_factory=dict)
    # the conditions that choice needs (the taken flows', the siblings' an engine tries before
    # them, negated); empty when none is read, and then not serialized
    requires: tuple[PathCondition, ...] = ()

    @model_serializer(mode="wrap")
    def _without_empty_data(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        for key in ("data", "requires"):
            if not dumped.get(key):
                dumped.pop(key, None)
        return dumped


class ScenarioStep(Frozen):
    position: int
    kind: StepKind
    element_id: str | None  # the BPMN element it comes from
    name: str | None = None
    branch: str = ""
    spec: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)  # meta["exportAs"], meta["unbound"], ...


class DependsOn(Frozen):
    """`dependsOn` entry: this scenario waits for `scenario` to reach `outcome`."""

    scenario: str  # the other scenario's name within the same suite
    outcome: str = "PASSED"


class TestScenario(Frozen):
    __test__ = False

    name: str
    position: int
    path: tuple[str, ...]  # element ids (nodes and flows) in order of the token game
    branch_paths: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    decisions: tuple[Decision, ...] = ()
    steps: tuple[ScenarioStep, ...] = ()
    depends_on: tuple[DependsOn, ...] = ()
    # what runs once the scenario ends, after its tasks' undo actions: the bindings' `cleanup`
    # actions that apply to it, as step specs (plus `strict` and `name`); not serialized empty
    cleanup: tuple[dict[str, Any], ...] = ()

    @model_serializer(mode="wrap")
    def _without_empty_cleanup(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        if not dumped.get("cleanup"):
            dumped.pop("cleanup", None)
        return dumped

    @model_validator(mode="before")
    @classmethod
    def _without_derived_data(cls, value: Any) -> Any:
        """A dump carries `data`, worked out from the decisions: read back, it is left out."""
        if isinstance(value, dict) and "data" in value:
            return {key: item for key, item in value.items() if key != "data"}
        return value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def data(self) -> dict[str, Any]:
        """The scenario's data from its gateway conditions: what its decisions need, merged."""
        merged: dict[str, Any] = {}
        for decision in self.decisions:
            merged.update(decision.data)
        return merged

    @property
    def race(self) -> dict[str, Any] | None:
        """The race of concurrent branches to terminate end events this scenario expects one
        outcome of (the SUT decides which), as its terminate end's step says; None for most."""
        return next((step.meta["race"] for step in self.steps if "race" in step.meta), None)


class Coverage(Frozen):
    """What a suite covers of its process."""

    criterion: str
    flows_total: int
    flows_covered: int
    nodes_total: int
    nodes_covered: int
    uncovered: tuple[dict[str, str], ...] = ()  # {"element": id, "kind": ..., "reason": ...}


class GeneratedSuite(Frozen):
    process_key: str
    process_version: int
    criterion: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    scenarios: tuple[TestScenario, ...] = ()
    coverage: Coverage
