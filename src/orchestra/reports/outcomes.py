"""What each BPMN element's colour on the report says: passed, failed or not covered.

A run *fails at* the element of its first failed or errored step (for a shared barrier, the
element the run did not reach: `StepReport.at`), and at those of its other steps that failed or
errored (a parallel branch's, in flight when the first failed). A run given up on (FAILED_STUCK)
with no such step fails at the first step its last lost lease had in flight: where it hung.
It *passes* an element when it passed and the element is on its path, or when it failed later:
the element comes before the one it failed at on its path and before any step that did not
pass (a parallel branch listed before the failing one may have been stopped short), or has a
step that passed (a parallel branch listed after it).
An element is failed if any run failed at it, passed if some run passed it, and otherwise not
covered: on no run's path, or only on paths of runs that stopped before it or never ran.
A run that failed inside an inlined call (at `CALL/<id>`) failed at the call activity `CALL`
too (and at every call it sits in), so the box keeps the state of what happened inside it.
Pure functions over the report model.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from orchestra.domain.generation.calls import SEPARATOR
from orchestra.domain.process import ProcessGraph
from orchestra.domain.statuses import StepStatus, TestRunStatus
from orchestra.reports.model import Documented, RunReport, TestRunReport


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_COVERED = "not-covered"


class ElementOutcome(Documented):
    element_id: str
    kind: str
    """"node" or "flow"."""
    passed: int = 0
    """Runs that went through the element without failing there."""
    failed: int = 0
    """Runs that failed at the element (for an inlined call activity: inside it)."""
    outcome: Outcome = Outcome.NOT_COVERED


@dataclass(frozen=True)
class Tally:
    """Runs counted per element: those that passed it, those that failed at it, and the first
    run (lowest id) that failed at it."""

    passed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    first_failed: dict[str, int] = field(default_factory=dict)


def tally(runs: Iterable[tuple[TestRunReport, int]], *, into: Tally | None = None) -> Tally:
    """The counts of runs given each with a weight: how many runs colour the diagram as it
    does (a run standing for its group, `store.watching.outcome_groups`); added to those of
    `into` when given."""
    counted = Tally() if into is None else into
    for run, weight in runs:
        for element in _passed_elements(run):
            counted.passed[element] = counted.passed.get(element, 0) + weight
        for element in _failed_elements(run):
            counted.failed[element] = counted.failed.get(element, 0) + weight
            first = counted.first_failed.get(element)
            counted.first_failed[element] = run.id if first is None else min(first, run.id)
    return counted


def element_outcomes(
    report: RunReport, graph: ProcessGraph | None = None
) -> dict[str, ElementOutcome]:
    """Every node and sequence flow of the report's process (or of `graph`: a called process
    as `calls.call_view` gives it), with its outcome, keyed by id."""
    graph = report.process.graph if graph is None else graph
    return tallied_outcomes(tally((run, 1) for run in report.test_runs), graph)


def tallied_outcomes(counted: Tally, graph: ProcessGraph) -> dict[str, ElementOutcome]:
    """Every node and sequence flow of `graph` with its outcome from the counts, keyed by id."""
    passed, failed = counted.passed, counted.failed
    kinds = [(node.id, "node") for node in graph.nodes] + [
        (flow.id, "flow") for flow in graph.flows
    ]
    return {
        element: ElementOutcome(
            element_id=element,
            kind=kind,
            passed=passed.get(element, 0),
            failed=failed.get(element, 0),
            outcome=_outcome(passed.get(element, 0), failed.get(element, 0)),
        )
        for element, kind in kinds
    }


def reached_elements(run: TestRunReport) -> set[str]:
    """The elements the run reached, as the colouring counts it: those it passed and those it
    failed at (its whole path when it passed; none when it never ran)."""
    return _passed_elements(run) | _failed_elements(run)


def run_elements(run: TestRunReport) -> tuple[list[str], list[str]]:
    """The elements (nodes and flows) the run passed and those it failed at, sorted: its share
    of the diagram's counts (`element_outcomes` sums them over the runs)."""
    return sorted(_passed_elements(run)), sorted(_failed_elements(run))


def failed_at(run: TestRunReport) -> str | None:
    """The element a failing run failed at, if its steps say which: for a shared barrier, the
    element the run did not reach (`StepReport.at`); for a run given up on (FAILED_STUCK)
    without a failed step, the first step its last lost lease had in flight (where it hung)."""
    if not run.is_failure:
        return None
    step = run.failing_step() or run.stuck_step()
    return None if step is None else step.element_id or step.at


def _failed_elements(run: TestRunReport) -> set[str]:
    """The element the run failed at, those of its other steps that failed or errored (on
    parallel branches in flight when the first failed), and the inlined calls each sits in
    (`A/B/x`: A, A/B)."""
    culprit = failed_at(run)
    if culprit is None:
        return set()
    culprits = {culprit} | {
        element
        for step in run.steps
        if step.status.run_ending is not None and (element := step.element_id or step.at)
    }
    return {
        SEPARATOR.join(parts[:end])
        for parts in (element.split(SEPARATOR) for element in culprits)
        for end in range(1, len(parts) + 1)
    }


def _passed_elements(run: TestRunReport) -> set[str]:
    if run.status is TestRunStatus.PASSED:
        return set(run.path)
    # the elements of steps that passed (a parallel branch listed after the failing one)
    passed = {s.element_id for s in run.steps if s.status is StepStatus.PASSED and s.element_id}
    culprit = failed_at(run)
    failed = _failed_elements(run)
    if culprit is None or culprit not in run.path:
        return passed - failed
    return (passed | _reached(run, culprit)) - failed


def _reached(run: TestRunReport, culprit: str) -> set[str]:
    """The elements of the path before the first whose step did not pass, or the culprit: the
    path lists parallel branches one after the other, so a branch listed before the failing
    one may hold steps a failure stopped it short of (and the join it never reached: a join
    whose branches all passed has its SKIPPED step for it, `assemble.stopped_joins`)."""
    pending: dict[str, deque[StepStatus]] = {}
    for step in run.steps:  # in position order: a looped element's steps as the path has them
        if step.element_id:
            pending.setdefault(step.element_id, deque()).append(step.status)
    reached: set[str] = set()
    for element in run.path:
        statuses = pending.get(element)
        if statuses:
            if statuses.popleft() is not StepStatus.PASSED:
                break
        elif element == culprit:
            break
        reached.add(element)
    return reached


def _outcome(passed: int, failed: int) -> Outcome:
    if failed:
        return Outcome.FAILED
    return Outcome.PASSED if passed else Outcome.NOT_COVERED


def outcome_counts(outcomes: dict[str, ElementOutcome]) -> dict[str, dict[str, int]]:
    """{"node": {"passed": n, "failed": n, "not-covered": n}, "flow": {...}}."""
    counts = {kind: {o.value: 0 for o in Outcome} for kind in ("node", "flow")}
    for item in outcomes.values():
        counts[item.kind][item.outcome.value] += 1
    return counts
