"""Retries of transient failures against a real server on 127.0.0.1: it answers 503 (or drops
the connection) a given number of times, then 201; each request is counted in the step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import StepOutcome
from orchestra.domain.statuses import StepStatus
from orchestra.protocols.http_client import HttpProtocol
from tests.integration.executor_sut import bound_step, context, environment
from tests.support.servers import served


@dataclass
class Flaky:
    """Fails the first `failures` requests of each path with 503 (and `retry_after`)."""

    failures: int = 2
    retry_after: str | None = None
    seen: list[str] = field(default_factory=list)
    base_url: str = ""


def _app(flaky: Flaky) -> web.Application:
    async def orders(request: web.Request) -> web.Response:
        flaky.seen.append(request.method)
        if len(flaky.seen) <= flaky.failures:
            headers = {"Retry-After": flaky.retry_after} if flaky.retry_after else {}
            return web.Response(text="<h1>503</h1>", status=503, headers=headers)
        return web.json_response({"id": "o-1"}, status=201)

    async def big(request: web.Request) -> web.Response:
        flaky.seen.append(request.method)
        return web.Response(text="x" * 1000)

    async def slow_once(request: web.Request) -> web.Response:
        flaky.seen.append(request.method)
        if len(flaky.seen) == 1:
            await asyncio.sleep(2)
        return web.json_response({"id": "o-1"}, status=201)

    app = web.Application()
    app.router.add_post("/orders", orders)
    app.router.add_post("/slow-once", slow_once)
    app.router.add_post("/big", big)
    return app


@pytest.fixture
async def flaky() -> AsyncIterator[Flaky]:
    state = Flaky()
    async with served(_app(state)) as base_url:
        state.base_url = base_url
        yield state


class Sleeps:
    """The executor's sleep: records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


CREATE: dict[str, Any] = {"method": "POST", "path": "/orders"}
RETRY = {"on": ["connect", 502, 503, 504], "attempts": 3, "backoff": "exponential",
         "jitter": True, "delay": 0.01}  # fmt: skip


async def execute(
    base_url: str, action: dict[str, Any], sleeps: Sleeps | None = None
) -> StepOutcome:
    binding = {"action": CREATE | action, "checks": [{"status": 201}]}
    options: dict[str, Any] = {"sleep": sleeps} if sleeps is not None else {}
    async with StepExecutor(environment(base_url), {}, **options) as executor:
        return await executor.execute(bound_step(binding), context())


async def test_a_503_twice_then_201_passes_after_three_requests(flaky: Flaky) -> None:
    outcome = await execute(flaky.base_url, {"retry": RETRY})

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.attempts == 3
    assert flaky.seen == ["POST", "POST", "POST"]
    assert outcome.response is not None
    assert outcome.response["status"] == 201


async def test_the_waits_double_and_jitter_keeps_each_between_half_and_all(flaky: Flaky) -> None:
    sleeps = Sleeps()
    policy = RETRY | {"delay": 1.0, "jitter": False}
    await execute(flaky.base_url, {"retry": policy, "timeout": 30}, sleeps)
    plain = sleeps.waits
    sleeps = Sleeps()
    flaky.seen.clear()
    await execute(flaky.base_url, {"retry": RETRY | {"delay": 1.0}, "timeout": 30}, sleeps)

    assert plain == [1.0, 2.0]
    assert 0.5 <= sleeps.waits[0] <= 1.0
    assert 1.0 <= sleeps.waits[1] <= 2.0


async def test_retry_after_is_honoured(flaky: Flaky) -> None:
    flaky.retry_after = "7"
    sleeps = Sleeps()
    outcome = await execute(flaky.base_url, {"retry": RETRY, "timeout": 30}, sleeps)

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert sleeps.waits == [7.0, 7.0]


async def test_a_retry_after_beyond_the_step_timeout_stops_the_retries(flaky: Flaky) -> None:
    flaky.retry_after = "120"
    sleeps = Sleeps()
    outcome = await execute(flaky.base_url, {"retry": RETRY, "timeout": 5}, sleeps)

    assert outcome.status is StepStatus.FAILED
    assert outcome.attempts == 1
    assert sleeps.waits == []
    assert outcome.error is not None
    assert outcome.error.endswith("status eq: expected 201, got 503")


async def test_attempts_used_up_leave_the_last_answer_to_the_checks(flaky: Flaky) -> None:
    flaky.failures = 10
    outcome = await execute(flaky.base_url, {"retry": RETRY})

    assert outcome.status is StepStatus.FAILED
    assert outcome.attempts == 3
    assert len(flaky.seen) == 3


async def test_a_status_not_listed_is_not_sent_again(flaky: Flaky) -> None:
    outcome = await execute(flaky.base_url, {"retry": RETRY | {"on": [502]}})

    assert outcome.status is StepStatus.FAILED
    assert outcome.attempts == 1


async def test_a_refused_connection_is_retried_when_connect_is_listed() -> None:
    state = Flaky()
    async with served(_app(state)) as base_url:
        pass  # the server is gone: its port refuses
    outcome = await execute(base_url, {"retry": RETRY})

    assert outcome.status is StepStatus.ERROR
    assert outcome.attempts == 3
    assert outcome.error is not None
    assert outcome.error.endswith("(after 3 attempts)")


async def test_a_failure_that_would_fail_again_is_not_retried(flaky: Flaky) -> None:
    small = HttpProtocol(max_response_bytes=100)
    binding = {"action": {"method": "POST", "path": "/big", "retry": RETRY}}
    async with StepExecutor(environment(flaky.base_url), {}, protocols={"http": small}) as ex:
        outcome = await ex.execute(bound_step(binding), context())

    assert outcome.status is StepStatus.ERROR
    assert outcome.attempts == 1
    assert flaky.seen == ["POST"]
    assert outcome.error is not None
    assert "larger than" in outcome.error


async def test_a_request_that_timed_out_is_sent_again_when_timeout_is_listed(
    flaky: Flaky,
) -> None:
    retry = RETRY | {"on": ["timeout"]}
    binding = {"action": {"method": "POST", "path": "/slow-once", "timeout": 0.3, "retry": retry},
               "checks": [{"status": 201}]}  # fmt: skip
    async with StepExecutor(environment(flaky.base_url), {}) as executor:
        outcome = await executor.execute(bound_step(binding), context())

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.attempts == 2
