"""Messages that say what happened, against a real HTTP server on 127.0.0.1: a status check is
judged whatever the body, a JSONPath matching nothing says so, a failed `that` tells what it
read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import StepOutcome
from orchestra.domain.statuses import StepStatus
from tests.integration.executor_sut import SutState, bound_step, context, environment, running_sut


@pytest.fixture
async def sut() -> AsyncIterator[SutState]:
    async with running_sut() as state:
        yield state


@pytest.fixture
async def executor(sut: SutState) -> AsyncIterator[StepExecutor]:
    async with StepExecutor(environment(sut.base_url), {}) as running:
        yield running


async def run(executor: StepExecutor, binding: dict[str, Any], **ctx: Any) -> StepOutcome:
    return await executor.execute(bound_step(binding), context(**ctx))


CREATE = {"method": "POST", "path": "/html-404"}


async def test_an_html_404_where_json_was_expected_fails_the_status_check_and_shows_the_page(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": CREATE, "checks": [{"status": 201}, {"jsonpath": "$.state", "eq": "CREATED"}],
    })  # fmt: skip

    assert outcome.status is StepStatus.FAILED
    assert outcome.error is not None
    assert "status eq: expected 201, got 404" in outcome.error
    status, state = outcome.checks
    assert (status.passed, status.expected, status.actual) == (False, 201, 404)
    assert not state.passed
    assert state.message is not None
    assert "not judged: response body is not valid JSON (text/html" in state.message
    assert outcome.response is not None
    assert "<h1>404 Not Found</h1>" in outcome.response["body"]


async def test_without_a_status_check_the_default_one_fails_the_html_404(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {"action": CREATE, "checks": [{"jsonpath": "$.id"}]})

    assert outcome.status is StepStatus.FAILED
    assert outcome.error is not None
    assert "HTTP 404 (no status check given: expected < 400)" in outcome.error
    assert [c.passed for c in outcome.checks] == [False, False]


async def test_a_body_that_cannot_be_judged_while_the_status_holds_is_an_error_keeping_its_checks(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/html"}, "checks": [{"status": 200}, {"jsonpath": "$.id"}],
    })  # fmt: skip

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert "check jsonpath $.id exists: response body is not valid JSON" in outcome.error
    assert [c.passed for c in outcome.checks] == [True, False]


async def test_a_jsonpath_matching_nothing_says_no_match_not_null(executor: StepExecutor) -> None:
    outcome = await run(executor, {
        "action": {"path": "/ok"}, "checks": [{"jsonpath": "$.missing", "eq": None}],
    })  # fmt: skip

    assert outcome.status is StepStatus.FAILED
    (_, check) = outcome.checks
    assert (check.found, check.actual) == (False, None)
    assert outcome.error is not None
    assert outcome.error.endswith("jsonpath $.missing eq: expected None, got no match")


async def test_a_failing_that_check_tells_the_values_it_read(executor: StepExecutor) -> None:
    outcome = await run(
        executor,
        {"action": {"path": "/ok"},
         "checks": [{"that": "{{ vars.total > 10 and response.json.state == 'DONE' }}"}]},
        vars={"total": 3},
    )  # fmt: skip

    assert outcome.status is StepStatus.FAILED
    check = outcome.checks[-1]
    assert check.message == (
        "that {{ vars.total > 10 and response.json.state == 'DONE' }}: expected true, got False;"
        " it read vars.total = 3, response.json.state = 'CREATED'"
    )
