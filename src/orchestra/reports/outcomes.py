"""What each BPMN element's colour on the report says: passed, failed or not covered.

A run *fails at* the element of its first failed or errored step (for a shared barrier, the
element the run did not reach: `StepReport.at`). It *passes* an element when it
passed and the element is on its path, or when it failed later: the element comes before the
one it failed at on its path, or has a step that passed (a parallel branch listed after it).
An element is failed if any run failed at it, passed if some run passed it, and otherwise not
covered: on no run's path, or only on paths of runs that stopped before it or never ran.
Pure functions over the report model.
"""

from __future__ import annotations

from enum import StrEnum

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
    """Runs that failed at the element."""
    outcome: Outcome = Outcome.NOT_COVERED


def element_outcomes(report: RunReport) -> dict[str, ElementOutcome]:
    """Every node and sequence flow of the report's process, with its outcome, keyed by id."""
    graph = report.process.graph
    passed: dict[str, int] = {}
    failed: dict[str, int] = {}
    for run in report.test_runs:
        for element in _passed_elements(run):
            passed[element] = passed.get(element, 0) + 1
        culprit = failed_at(run)
        if culprit is not None:
            failed[culprit] = failed.get(culprit, 0) + 1
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


def failed_at(run: TestRunReport) -> str | None:
    """The element a failing run failed at, if its steps say which: for a shared barrier, the
    element the run did not reach (`StepReport.at`)."""
    if not run.is_failure:
        return None
    step = run.failing_step()
    return None if step is None else step.element_id or step.at


def _passed_elements(run: TestRunReport) -> set[str]:
    if run.status is TestRunStatus.PASSED:
        return set(run.path)
    # the elements of steps that passed (a parallel branch listed after the failing one)
    passed = {s.element_id for s in run.steps if s.status is StepStatus.PASSED and s.element_id}
    culprit = failed_at(run)
    if culprit is None or culprit not in run.path:
        return passed - {culprit}
    return (passed | set(run.path[: run.path.index(culprit)])) - {culprit}


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
