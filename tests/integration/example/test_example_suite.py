"""The bundled example end to end without the runtime: import, generate all-flows, bind, and
execute every scenario's steps in order against the example SUT."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from orchestra.binding.attach import attach_bindings
from orchestra.binding.datasets import load_dataset
from orchestra.binding.environment import load_environment, resolve_secrets
from orchestra.binding.executor import StepExecutor, step_view
from orchestra.binding.loader import load_bindings
from orchestra.bpmn.reader import read_bpmn
from orchestra.domain.execution import RunIdentity, StepContext
from orchestra.domain.generation import generate_suite
from orchestra.domain.statuses import StepKind, StepStatus
from orchestra.examples.order import (
    BINDINGS_FILE,
    DATASET_FILE,
    ENVIRONMENT_FILE,
    EXPECTED,
    PROCESS_FILE,
    example_path,
)
from orchestra.examples.order.service import OrderService
from orchestra.examples.order.sut import run_example_sut


async def _run_scenario(
    executor: Any, scenario: Any, row: dict[str, Any], ids: tuple[int, int]
) -> str:
    view = step_view
    saved: dict[str, Any] = {}
    steps: dict[str, Any] = {}
    for step in scenario.steps:
        if step.kind is StepKind.BARRIER:
            continue
        identity = RunIdentity(
            suite_run_id=1,
            test_run_id=ids[0],
            scenario=scenario.name,
            attempt=1,
            data_row_index=ids[1],
        )
        ctx = StepContext(run=identity, data=row, vars=dict(saved), steps=dict(steps))
        outcome = await executor.execute(step, ctx)
        saved.update(outcome.saved)
        steps[step.element_id] = view(outcome)
        if outcome.status is not StepStatus.PASSED:
            return f"{outcome.status.value} at {step.element_id}"
    return "PASSED"


@pytest.mark.slow
async def test_the_example_passes_everywhere_but_the_planted_defect() -> None:
    model = read_bpmn(example_path(PROCESS_FILE).read_bytes(), source=PROCESS_FILE)
    assert model.errors == ()
    graph = model.processes[0]
    suite = generate_suite(graph, process_key=graph.id, process_version=1)
    assert (suite.coverage.flows_covered, suite.coverage.flows_total) == (17, EXPECTED["flows"])
    bindings = load_bindings(example_path(BINDINGS_FILE), graph)
    suite, unbound = attach_bindings(suite, bindings)
    assert unbound == []
    rows = load_dataset(example_path(DATASET_FILE))
    environment = load_environment(example_path(ENVIRONMENT_FILE))
    service = OrderService(delay_s=(0.01, 0.05))
    async with run_example_sut(service=service, token="demo") as url:
        variables = {"ORCHESTRA_EXAMPLE_URL": url, "ORCHESTRA_EXAMPLE_TOKEN": "demo"}
        secrets = resolve_secrets(environment, variables)
        async with StepExecutor(environment, secrets) as executor:
            outcomes: Counter[str] = Counter()
            for index, row in enumerate(rows):
                for n, scenario in enumerate(suite.scenarios):
                    outcomes[await _run_scenario(executor, scenario, row, (n, index))] += 1
    assert len(suite.scenarios) == EXPECTED["scenarios"]
    assert len(rows) == EXPECTED["data_rows"]
    assert outcomes == {
        "PASSED": EXPECTED["passed"],
        f"FAILED at {EXPECTED['failed_at']}": EXPECTED["failed"],
    }
