"""An undefined variable that no answer of the SUT can bring (`vars.X`, `suite.X`, `data.X`)
ends a polled step in ERROR at once; a field of the response not there yet is polled for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from orchestra.binding.executor import StepExecutor
from orchestra.domain.statuses import StepStatus
from tests.integration.executor_sut import bound_step, context, environment
from tests.support.servers import served

POLLED = {"eventually": {"timeout": 2, "interval": 0.01}}


@pytest.fixture
async def sut() -> AsyncIterator[tuple[str, list[web.Request]]]:
    seen: list[web.Request] = []

    async def order(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"state": "PENDING" if len(seen) < 3 else "DONE"})

    app = web.Application()
    app.router.add_get("/order", order)
    async with served(app) as base_url:
        yield base_url, seen


@pytest.fixture
async def executor(sut: tuple[str, list[web.Request]]) -> AsyncIterator[StepExecutor]:
    async with StepExecutor(environment(sut[0]), {}) as running:
        yield running


@pytest.mark.parametrize(
    ("check", "missing"),
    [
        ({"that": "{{ response.json.state == vars.wanted }}"}, "vars.wanted"),
        ({"that": "{{ suite.order_id == 1 }}"}, "suite.order_id"),
        ({"jsonpath": "$.state", "eq": "{{ vars.wanted }}"}, "vars.wanted"),
        ({"that": "{{ response.json.state == data.state }}"}, "data.state"),
    ],
)
async def test_an_undefined_variable_in_a_polled_step_is_an_error_after_one_poll(
    executor: StepExecutor,
    sut: tuple[str, list[web.Request]],
    check: dict[str, Any],
    missing: str,
) -> None:
    binding = {"action": {"path": "/order"}, "checks": [check], **POLLED}
    outcome = await executor.execute(bound_step(binding), context())

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert f"{missing} is undefined" in outcome.error
    assert "polls" not in outcome.error
    assert outcome.attempts == 1
    assert len(sut[1]) <= 1  # an expected value is rendered before the request is sent


async def test_a_response_field_not_there_yet_is_still_polled_for(
    executor: StepExecutor, sut: tuple[str, list[web.Request]]
) -> None:
    binding = {
        "action": {"path": "/order"},
        "checks": [{"that": "{{ response.json.state == 'DONE' and response.json.state }}"}],
        **POLLED,
    }
    outcome = await executor.execute(bound_step(binding), context(vars={"wanted": "DONE"}))

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.attempts == 3
