"""Report fixtures built by hand: a suite run over the bundled example process.

`order_graph()` is the example's order.bpmn as the importer reads it (with its BPMNDI, or
without it to exercise the automatic layout).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from orchestra.bpmn.reader import read_bpmn
from orchestra.domain.execution import CheckResult
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import Coverage
from orchestra.domain.statuses import StepKind, StepStatus, SuiteRunStatus, TestRunStatus
from orchestra.examples.order import PROCESS_FILE, example_path
from orchestra.reports.model import (
    ProcessInfo,
    RunReport,
    StepReport,
    SuiteInfo,
    SuiteRunInfo,
    TestRunReport,
)


@cache
def _imported() -> ProcessGraph:
    model = read_bpmn(example_path(PROCESS_FILE).read_bytes(), source=PROCESS_FILE)
    assert model.errors == (), model.errors
    (graph,) = model.processes
    return graph


def order_graph(*, with_diagram: bool = True) -> ProcessGraph:
    graph = _imported()
    return graph if with_diagram else graph.model_copy(update={"diagram": None})


# -- a suite run over the example: two passes and the planted defect -------------------------

T0 = datetime(2026, 11, 28, 7, 0, 0, tzinfo=UTC)

PREFIX = (
    "StartEvent_OrderReceived",
    "Flow_ToCreateOrder",
    "Task_CreateOrder",
    "Flow_ToSplit",
    "Gateway_SplitFulfilment",
    "Flow_ToReserveStock",
    "Task_ReserveStock",
    "Flow_StockReserved",
    "Flow_ToChargePayment",
    "Task_ChargePayment",
    "Flow_PaymentCharged",
    "Gateway_JoinFulfilment",
    "Flow_ToPaymentMerge",
    "Gateway_PaymentMerge",
    "Flow_ToPaymentDecision",
    "Gateway_PaymentAccepted",
)
DECLINED = ("Flow_PaymentDeclined", "Gateway_CustomerRetries")
SHIPPED = ("Flow_PaymentAccepted", "Task_ShipOrder", "Flow_ToOrderShipped", "EndEvent_OrderShipped")
PATHS = {
    "retry then ship": PREFIX
    + DECLINED
    + (
        "Flow_Retry",
        "Task_RetryPayment",
        "Flow_PaymentRetried",
        "Gateway_PaymentMerge",
        "Flow_ToPaymentDecision",
        "Gateway_PaymentAccepted",
    )
    + SHIPPED,
    "address rejected, refund": (
        *PREFIX,
        "Flow_PaymentAccepted",
        "Task_ShipOrder",
        "BoundaryEvent_AddressRejected",
        "Flow_ToRefundPayment",
        "Task_RefundPayment",
        "Flow_ToOrderRefunded",
        "EndEvent_OrderRefunded",
    ),
    "declined, give up": PREFIX
    + DECLINED
    + (
        "Flow_GiveUp",
        "Task_CancelOrder",
        "Flow_ToOrderCancelled",
        "EndEvent_OrderCancelled",
    ),
}
STEP_NAMES = {
    "Task_CreateOrder": ("POST", "/orders", 201),
    "Task_ReserveStock": ("POST", "/orders/ord-1/reservation", 202),
    "Task_ChargePayment": ("POST", "/orders/ord-1/payment", 202),
    "Task_RetryPayment": ("POST", "/orders/ord-1/payment", 202),
    "Task_ShipOrder": ("POST", "/orders/ord-1/shipment", 202),
    "Task_RefundPayment": ("POST", "/orders/ord-1/refund", 202),
    "Task_CancelOrder": ("POST", "/orders/ord-1/cancel", 202),
}


def step(
    position: int, element: str, status: StepStatus = StepStatus.PASSED, **kw: Any
) -> StepReport:
    method, path, code = STEP_NAMES.get(element, ("GET", "/orders/ord-1", 200))
    checks = kw.pop(
        "checks", (CheckResult(name="status", passed=True, expected=code, actual=code),)
    )
    return StepReport(
        position=position,
        kind=kw.pop("kind", StepKind.ACTION),
        element_id=element,
        name=element.split("_", 1)[1],
        status=status,
        started_at=T0 + timedelta(seconds=position),
        duration_ms=12.5 * position,
        request={
            "method": method,
            "url": f"http://127.0.0.1:8765{path}",
            "headers": {"authorization": "***"},
        },
        response={"status": code, "body": {"id": "ord-1", "state": "CREATED"}},
        checks=checks,
        **kw,
    )


def make_run(
    run_id: int, scenario: str, status: TestRunStatus, steps: tuple[StepReport, ...], **kw: Any
) -> TestRunReport:
    return TestRunReport(
        id=run_id,
        scenario=scenario,
        data_row_index=0,
        status=status,
        queued_at=T0,
        started_at=T0 + timedelta(seconds=1),
        finished_at=T0 + timedelta(seconds=3 + run_id),
        path=PATHS.get(scenario, ()),
        steps=steps,
        **kw,
    )


def example_runs() -> tuple[TestRunReport, ...]:
    tasks = [e for e in PATHS["declined, give up"] if e.startswith("Task_")]
    defect = CheckResult(
        name="jsonpath $.reservation.state eq",
        passed=False,
        expected="RELEASED",
        actual="RESERVED",
        message="eventually, 30 polls in 3.0 s",
    )
    cancel_steps = (
        *tuple(step(n, e) for n, e in enumerate(tasks, 1)),
        step(
            len(tasks) + 1,
            "EndEvent_OrderCancelled",
            StepStatus.FAILED,
            kind=StepKind.ASSERTION,
            checks=(CheckResult(name="status", passed=True, expected=200, actual=200), defect),
            error="check jsonpath $.reservation.state eq failed",
            requests=30,
        ),
    )

    def passing(run_id: int, scenario: str) -> TestRunReport:
        elements = [e for e in PATHS[scenario] if e.startswith(("Task_", "EndEvent_"))]
        return make_run(
            run_id,
            scenario,
            TestRunStatus.PASSED,
            tuple(step(n, e) for n, e in enumerate(elements, 1)),
        )

    return (
        passing(1, "retry then ship"),
        passing(2, "address rejected, refund"),
        make_run(
            3,
            "declined, give up",
            TestRunStatus.FAILED,
            cancel_steps,
            error="step #5 EndEvent_OrderCancelled failed",
        ),
    )


def example_report(
    runs: tuple[TestRunReport, ...] | None = None,
    *,
    with_diagram: bool = True,
    graph: ProcessGraph | None = None,
) -> RunReport:
    """The example's suite run; over `graph` instead of the example's process when given."""
    graph = graph or order_graph(with_diagram=with_diagram)
    return RunReport(
        suite_run=SuiteRunInfo(
            id=7,
            status=SuiteRunStatus.FAILED,
            started_at=T0,
            finished_at=T0 + timedelta(seconds=9),
            environment="local",
            context_keys=("order_id",),
        ),
        process=ProcessInfo(key=graph.id, version=1, name=graph.name, graph=graph),
        suite=SuiteInfo(
            id=3,
            criterion="all-flows",
            coverage=Coverage(
                criterion="all-flows",
                flows_total=len(graph.flows),
                flows_covered=len(graph.flows),
                nodes_total=len(graph.nodes),
                nodes_covered=len(graph.nodes),
            ),
        ),
        test_runs=example_runs() if runs is None else runs,
        generated_at=T0 + timedelta(seconds=10),
    )
