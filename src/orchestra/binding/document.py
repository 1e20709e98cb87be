"""A binding file as written, validated: the bindings of tasks, events and flows, defaults,
scenario rules, barriers and cleanup actions; and `spec_from_binding`, which makes a task's
binding, with the file's defaults, the `StepSpec` (`orchestra.binding.model`) its step holds.

Users' reference: docs/bindings.md (every key, tested); its JSON Schema is generated from
these models (`orchestra.schemas`).

A binding file (YAML) maps BPMN elements to what they do against the SUT:

    defaults: {service: orders, timeout: 10}
    tasks:                                  # keyed by task id, or by a unique task name
      Task_CreateOrder:
        action: {method: POST, path: /orders, json: {amount: "{{ data.amount }}"}}
        checks:
          - status: 201
          - jsonpath: $.state
            eq: CREATED
        save: {order_id: $.id}              # into the run's vars
        exportAs: {lastOrder: $.id}         # into SuiteRun.context
      Task_CancelBooking:                   # in a transaction: its action cancels it, so
        action: {method: POST, path: /bookings/cancel}  # generation leaves the transaction
        cancelsTransaction: true            # through its cancel boundary event after it
      Task_WaitShipped:
        action: {path: "/orders/{{ vars.order_id }}"}
        checks: [{jsonpath: $.state, eq: SHIPPED}]
        eventually: {timeout: 30, interval: 0.5}   # interval >= 0.01 s, timeout <= a week
    flows:                                  # data that makes the SUT take a gateway's flow
      Flow_big: {data: {amount: 5000}}
    events:                                 # end events: final checks (action optional)
      End_Shipped: {checks: [{that: "{{ vars.order_id is defined }}"}]}
    scenarios:                              # dependsOn between generated scenarios
      - reaching: Task_CancelOrder          # every scenario whose path goes through this...
        dependsOn:                          # ...waits for every other scenario through that
                                            # (not for those through this one too)
          - {reaching: Task_CreateOrder, outcome: PASSED}
    barriers:                               # shared by several scenarios of a suite run
      - name: orders-created                # required, unique in the file, no '@'
        before: Task_CancelOrder            # a task or event (id or unique name); or `after:`
        parties: 2                          # optional: default, every scenario it lands in
        timeout: 60                         # seconds from the first arrival; default 300

A barrier lands in every generated scenario with a step of its element (the first, if a loop
repeats it) as a BARRIER step on the main line, spec `{"name", "parties", "timeout"}`, just
before or after that step; the runs of one suite run (and one data row) wait there until
`parties` of them have arrived, parked without holding a worker, and a run still waiting at the
timeout FAILS naming the barrier. An element on a parallel branch moves the barrier to the edge
of the outermost block holding it (before the block, or after its join): the runtime meets
shared barriers on the main line only. `generate` refuses a barrier that lands in no scenario
or needs more parties than can meet there (scenarios it lands in, less those kept apart by
`dependsOn`); see `orchestra.binding.barriers` and docs/barriers.md.

A suite run reads its steps' specs, never these models: they are kept apart from
`orchestra.binding.model` so that running a suite does not build their classes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from orchestra.binding.model import (
    Action,
    Check,
    Eventually,
    RequiredAction,
    StepSpec,
    check_jsonpath,
    is_template,
)
from orchestra.domain.process import Frozen
from orchestra.protocols.base import ActionSpec, Headers, layered
from orchestra.protocols.retry import RetryPolicy


def _valid_extractor(value: str) -> str:
    if value.startswith("$"):
        check_jsonpath(value)
    elif not is_template(value):
        raise ValueError(f"{value!r} is neither a JSONPath ($...) nor a template ({{{{ ... }}}})")
    return value


class CleanupAction(Frozen):
    """An action run once the scenario ends, whatever its outcome: a task's `undo`, or one of
    the file's `cleanup` actions. Its failure is reported apart and changes the run's verdict
    only when `strict`."""

    action: RequiredAction
    checks: tuple[Check, ...] = ()
    eventually: Eventually | None = None
    strict: bool = False


class ScenarioCleanup(CleanupAction):
    """A cleanup action of every scenario (or of those whose path reaches `reaching`)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    reaching: str | None = Field(default=None, min_length=1)


class StepBinding(Frozen):
    """A task's (or an end event's) binding as written in the file."""

    action: Action = None
    checks: tuple[Check, ...] = ()
    eventually: Eventually | None = None
    save: dict[str, str] = Field(default_factory=dict)
    export_as: dict[str, str] = Field(default_factory=dict, alias="exportAs")
    # a task's: its action cancels the transaction the task lies in (docs/semantics.md)
    cancels_transaction: bool = Field(default=False, alias="cancelsTransaction", strict=True)
    undo: CleanupAction | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("save", "export_as")
    @classmethod
    def _extractors(cls, value: dict[str, str]) -> dict[str, str]:
        for extractor in value.values():
            _valid_extractor(extractor)
        return value


class FlowBinding(Frozen):
    data: dict[str, Any] = Field(default_factory=dict)


class Defaults(Frozen):
    service: str | None = None
    headers: Headers = Field(default_factory=dict)
    timeout: float | None = Field(default=None, gt=0)
    retries: int | None = Field(default=None, ge=0, le=10)
    retry: RetryPolicy | None = None  # for every action that gives neither retry nor retries
    eventually: Eventually | None = None

    @model_validator(mode="after")
    def _one_retry_form(self) -> Defaults:
        if self.retry is not None and self.retries is not None:
            raise ValueError("give `retry` or `retries`, not both (`retry` says more)")
        return self

    @field_validator("eventually")
    @classmethod
    def _no_poll(cls, value: Eventually | None) -> Eventually | None:
        if value is not None and value.poll is not None:
            raise ValueError("`poll` is one step's: give it in the step's `eventually`")
        return value


class ScenarioDependency(Frozen):
    reaching: str = Field(min_length=1)  # an element id or unique name on the awaited paths
    outcome: Literal["PASSED", "FAILED", "ERROR", "SKIPPED", "CANCELLED", "FAILED_STUCK"] = "PASSED"


class ScenarioRule(Frozen):
    """The scenarios whose path reaches `reaching` wait for those that reach each dependency."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    reaching: str = Field(min_length=1)
    depends_on: tuple[ScenarioDependency, ...] = Field(alias="dependsOn", min_length=1)


DEFAULT_BARRIER_TIMEOUT = 300.0  # seconds
MAX_BARRIER_TIMEOUT = 7 * 24 * 3600.0


class BarrierRule(Frozen):
    """A barrier shared by every scenario that reaches an element, placed before or after it."""

    name: str = Field(min_length=1, max_length=200)
    before: str | None = Field(default=None, min_length=1)
    after: str | None = Field(default=None, min_length=1)
    parties: int | None = Field(default=None, ge=1, strict=True)  # None: every scenario reached
    # seconds from the first party's arrival; at most a week (PostgreSQL adds it to now())
    timeout: float = Field(
        default=DEFAULT_BARRIER_TIMEOUT, gt=0, le=MAX_BARRIER_TIMEOUT, allow_inf_nan=False
    )

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a barrier's name cannot be blank")
        if "@" in value:  # the runtime names a data row's barrier `<name>@row<i>`
            raise ValueError(f"a barrier's name cannot contain '@' (found {value!r})")
        return value

    @model_validator(mode="after")
    def _one_anchor(self) -> BarrierRule:
        if (self.before is None) == (self.after is None):
            raise ValueError("a barrier names exactly one of `before` and `after`")
        return self

    @property
    def side(self) -> Literal["before", "after"]:
        return "before" if self.before is not None else "after"

    @property
    def element(self) -> str:
        return self.before if self.before is not None else str(self.after)

    def spec(self, parties: int) -> dict[str, Any]:
        """What the BARRIER step's `spec` holds: what the runtime meets the runs at."""
        return {"name": self.name, "parties": parties, "timeout": self.timeout}


class Bindings(Frozen):
    """A whole binding file; keys are element ids once resolved against a process graph."""

    version: Literal[1] = 1
    defaults: Defaults = Field(default_factory=Defaults)
    tasks: dict[str, StepBinding] = Field(default_factory=dict)
    events: dict[str, StepBinding] = Field(default_factory=dict)
    flows: dict[str, FlowBinding] = Field(default_factory=dict)
    scenarios: tuple[ScenarioRule, ...] = ()
    barriers: tuple[BarrierRule, ...] = ()
    cleanup: tuple[ScenarioCleanup, ...] = ()


def cleanup_spec(
    cleanup: CleanupAction, defaults: Defaults, *, name: str | None = None
) -> dict[str, Any]:
    """What a cleanup action becomes: a step spec with the file's defaults, and `strict`
    (and its `name`, for the reports) beside it."""
    binding = StepBinding(
        action=cleanup.action, checks=cleanup.checks, eventually=cleanup.eventually
    )
    spec = spec_from_binding(binding, defaults, {}).to_json()
    del spec["data"]
    spec["strict"] = cleanup.strict
    if name is not None:
        spec["name"] = name
    return spec


def spec_from_binding(binding: StepBinding, defaults: Defaults, data: dict[str, Any]) -> StepSpec:
    """The binding with the file's defaults applied: what the executor needs and nothing else.
    An `eventually.poll` gets them too, and goes to the command's service unless it names one."""
    action = binding.action
    if action is not None:
        action = _with_defaults(action, defaults, defaults.service)
    eventually = binding.eventually or (defaults.eventually if action else None)
    if eventually is not None and eventually.poll is not None:
        service = action.service if action is not None else defaults.service
        poll = _with_defaults(eventually.poll, defaults, service)
        eventually = eventually.model_copy(update={"poll": poll})
    return StepSpec(
        action=action,
        checks=binding.checks,
        eventually=eventually,
        save=binding.save,
        data=data,
    )


def _with_defaults(action: ActionSpec, defaults: Defaults, service: str | None) -> ActionSpec:
    updates: dict[str, Any] = {}
    if "headers" in type(action).model_fields:  # a protocol with headers gets the defaults'
        updates["headers"] = layered(defaults.headers, getattr(action, "headers", {}))
    if action.service is None and service is not None:
        updates["service"] = service
    if action.timeout is None and defaults.timeout is not None:
        updates["timeout"] = defaults.timeout
    own_retry = {"retries", "retry"} & action.model_fields_set
    if not own_retry and defaults.retry is not None:
        updates["retry"] = defaults.retry
    elif not own_retry and defaults.retries is not None:
        updates["retries"] = defaults.retries
    return action.model_copy(update=updates)
