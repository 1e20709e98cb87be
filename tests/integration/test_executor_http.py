"""The executor against a real HTTP server on 127.0.0.1: checks, polling, errors, exports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.executor import StepExecutor
from orchestra.binding.requests import idempotency_key
from orchestra.domain.execution import StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
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


async def test_a_step_whose_checks_hold_passes_with_request_and_response(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/ok"},
        "checks": [{"status": 200}, {"jsonpath": "$.state", "eq": "CREATED"},
                   {"header": "X-Request-Id", "eq": "r-1"}, {"latency_ms": 2000}],
    })  # fmt: skip

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert [c.passed for c in outcome.checks] == [True, True, True, True]
    assert outcome.request is not None
    assert outcome.request["method"] == "GET"
    assert outcome.response is not None
    assert outcome.response["json"]["state"] == "CREATED"


async def test_a_check_that_does_not_hold_fails_the_step_with_expected_and_actual(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/ok"}, "checks": [{"jsonpath": "$.state", "eq": "SHIPPED"}]
    })  # fmt: skip

    assert outcome.status is StepStatus.FAILED
    default_status, check = outcome.checks
    assert default_status.passed
    assert (check.expected, check.actual) == ("SHIPPED", "CREATED")
    assert outcome.error == (
        "step 1 (Task_A 'task_a'): jsonpath $.state eq: expected 'SHIPPED', got 'CREATED'"
    )


async def test_a_json_body_is_rendered_from_data_vars_and_suite(
    sut: SutState, executor: StepExecutor
) -> None:
    outcome = await run(
        executor,
        {
            "action": {
                "method": "POST",
                "path": "/echo",
                "json": {
                    "amount": "{{ data.amount }}",
                    "order": "{{ vars.order_id }}",
                    "customer": "{{ suite.customer }}",
                },
                "query": {"tag": ["a", "b"], "run": "{{ run.test_run_id }}"},
            },
            "checks": [{"status": 201}, {"jsonpath": "$.json.amount", "eq": 5000}],
        },
        data={"amount": 5000},
        vars={"order_id": "o-9"},
        suite={"customer": "c-1"},
    )

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.response is not None
    echoed = outcome.response["json"]
    assert echoed["json"] == {"amount": 5000, "order": "o-9", "customer": "c-1"}
    assert echoed["query"] == {"tag": "a", "run": "22"}
    assert sut.seen[-1]["path"] == "/echo?tag=a&tag=b&run=22"
    assert echoed["headers"]["Content-Type"] == "application/json"


async def test_branch_data_in_the_spec_wins_over_the_data_row(executor: StepExecutor) -> None:
    step = bound_step(
        {"action": {"method": "POST", "path": "/echo", "json": {"amount": "{{ data.amount }}",
                                                                "who": "{{ data.who }}"}}},
        data={"amount": 5000},
    )  # fmt: skip

    outcome = await executor.execute(step, context(data={"amount": 1, "who": "ann"}))

    assert outcome.response is not None
    assert outcome.response["json"]["json"] == {"amount": 5000, "who": "ann"}


async def test_save_and_export_take_values_from_the_response(executor: StepExecutor) -> None:
    outcome = await run(executor, {
        "action": {"path": "/ok"},
        "save": {"order_id": "$.id", "items": "$.items[*]"},
        "exportAs": {"lastOrder": "order-{{ response.json.id }}", "requestId":
                     "{{ response.headers['X-Request-ID'] }}"},
    })  # fmt: skip

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.saved == {"order_id": 42, "items": [1, 2, 3]}
    assert outcome.exports == {"lastOrder": "order-42", "requestId": "r-1"}


async def test_a_value_to_save_that_is_not_in_the_response_fails_the_step(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {"action": {"path": "/ok"}, "save": {"ref": "$.reference"}})

    assert outcome.status is StepStatus.FAILED
    assert (
        outcome.error
        == "step 1 (Task_A 'task_a'): save ref: $.reference matched nothing in the response"
    )


async def test_eventually_polls_until_the_checks_hold(
    sut: SutState, executor: StepExecutor
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/ready/order-1", "query": {"after": 3}},
        "checks": [{"jsonpath": "$.state", "eq": "DONE"}],
        "eventually": {"timeout": 5, "interval": 0.01},
    })  # fmt: skip

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.attempts == 3
    assert sut.polls["order-1"] == 3


async def test_eventually_gives_up_when_time_runs_out(executor: StepExecutor) -> None:
    outcome = await run(executor, {
        "action": {"path": "/ready/order-2", "query": {"after": 1000}},
        "checks": [{"jsonpath": "$.state", "eq": "DONE"}],
        "eventually": {"timeout": 0.2, "interval": 0.05},
    })  # fmt: skip

    assert outcome.status is StepStatus.FAILED
    assert outcome.checks[-1].actual == "PENDING"
    assert outcome.error is not None
    assert "expected 'DONE', got 'PENDING' (still failing: " in outcome.error
    assert 2 <= outcome.attempts <= 6


async def test_all_polls_of_a_step_send_the_same_idempotency_key(
    sut: SutState, executor: StepExecutor
) -> None:
    step = bound_step({
        "action": {"path": "/ready/order-3", "query": {"after": 2}},
        "checks": [{"jsonpath": "$.state", "eq": "DONE"}],
        "eventually": {"timeout": 5, "interval": 0.01},
    })  # fmt: skip
    ctx = context()

    await executor.execute(step, ctx)
    await executor.execute(
        step, ctx.model_copy(update={"run": ctx.run.model_copy(update={"attempt": 2})})
    )

    keys = {seen["headers"]["Idempotency-Key"] for seen in sut.seen}
    assert keys == {idempotency_key(ctx.run, step)}
    assert len(sut.seen) == 3


async def test_different_steps_and_runs_send_different_keys(
    sut: SutState, executor: StepExecutor
) -> None:
    ctx = context()
    other_run = ctx.model_copy(update={"run": ctx.run.model_copy(update={"test_run_id": 23})})
    first = bound_step({"action": {"path": "/ok"}}, position=1)
    second = bound_step({"action": {"path": "/ok"}}, position=2)
    branch = bound_step({"action": {"path": "/ok"}}, position=1, branch="/P#1")

    for step, step_ctx in ((first, ctx), (second, ctx), (first, other_run), (branch, ctx)):
        await executor.execute(step, step_ctx)

    assert len({seen["headers"]["Idempotency-Key"] for seen in sut.seen}) == 4


async def test_every_request_carries_a_w3c_traceparent_of_its_test_run(
    sut: SutState, executor: StepExecutor
) -> None:
    await run(executor, {"action": {"path": "/ok"}})
    await run(executor, {"action": {"path": "/ok"}})

    parents = [seen["headers"]["traceparent"].split("-") for seen in sut.seen]
    assert all(
        len(p) == 4 and p[0] == "00" and len(p[1]) == 32 and len(p[2]) == 16 for p in parents
    )
    assert parents[0][1] == parents[1][1]
    assert parents[0][2] != parents[1][2]


async def test_headers_an_action_sets_itself_in_any_case_are_sent_as_written_every_time(
    executor: StepExecutor,
) -> None:
    own = {
        "content-type": "application/vnd.orders+json",
        "IDEMPOTENCY-KEY": "mine-1",
        "TraceParent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    }
    step = bound_step({"action": {"method": "POST", "path": "/echo", "headers": own, "json": {}}})

    for _ in range(2):  # the second request reuses what the first one worked out
        outcome = await executor.execute(step, context())

        assert outcome.request is not None
        sent = outcome.request["headers"]
        assert {k: v for k, v in sent.items() if k.lower() in {n.lower() for n in own}} == own


async def test_a_timeout_is_an_error_naming_the_request(executor: StepExecutor) -> None:
    outcome = await run(
        executor, {"action": {"path": "/slow", "query": {"delay": 2}, "timeout": 0.1}}
    )

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert outcome.error.startswith("step 1 (Task_A 'task_a'): GET http://127.0.0.1:")
    assert outcome.error.endswith("/slow?delay=2: no response within 0.1 s")


async def test_a_refused_connection_is_an_error_after_the_retries() -> None:
    async with running_sut() as sut:
        base_url = sut.base_url  # the server is gone after this block: its port refuses
    async with StepExecutor(environment(base_url), {}, sleep=_no_sleep) as executor:
        outcome = await run(executor, {"action": {"path": "/ok", "retries": 2}})

    assert outcome.status is StepStatus.ERROR
    assert outcome.attempts == 3
    assert outcome.error is not None
    assert "cannot connect" in outcome.error
    assert outcome.error.endswith("(after 3 attempts)")


async def _no_sleep(seconds: float) -> None:
    return None


async def test_polling_waits_through_refused_connections_then_errors() -> None:
    async with running_sut() as sut:
        base_url = sut.base_url
    async with StepExecutor(environment(base_url), {}) as executor:
        outcome = await run(executor, {
            "action": {"path": "/ok"}, "eventually": {"timeout": 0.2, "interval": 0.05}
        })  # fmt: skip

    assert outcome.status is StepStatus.ERROR
    assert outcome.attempts >= 3
    assert outcome.error is not None
    assert "cannot connect" in outcome.error
    assert "polls in 0.2 s)" in outcome.error


async def test_a_5xx_without_a_status_check_fails_the_step(executor: StepExecutor) -> None:
    outcome = await run(executor, {"action": {"path": "/status/503"}})

    assert outcome.status is StepStatus.FAILED
    assert (
        outcome.error
        == "step 1 (Task_A 'task_a'): HTTP 503 (no status check given: expected < 400)"
    )


async def test_an_explicit_status_check_replaces_the_default(executor: StepExecutor) -> None:
    outcome = await run(executor, {"action": {"path": "/status/404"}, "checks": [{"status": 404}]})

    assert outcome.status is StepStatus.PASSED
    assert [c.name for c in outcome.checks] == ["status eq"]


async def test_invalid_json_where_json_is_expected_is_an_error(executor: StepExecutor) -> None:
    outcome = await run(
        executor, {"action": {"path": "/bad-json"}, "checks": [{"jsonpath": "$.a"}]}
    )

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert (
        "check jsonpath $.a exists: response body is not valid JSON (application/json"
        in outcome.error
    )
    assert outcome.response is not None
    assert outcome.response["body"] == "{not json"


async def test_redirects_are_followed_unless_the_action_says_not_to(executor: StepExecutor) -> None:
    followed = await run(executor, {"action": {"path": "/redirect"}, "checks": [{"status": 200}]})
    kept = await run(executor, {
        "action": {"path": "/redirect", "follow_redirects": False},
        "checks": [{"status": 302}, {"header": "Location", "eq": "/ok"}],
    })  # fmt: skip

    assert followed.status is StepStatus.PASSED
    assert followed.response is not None
    assert followed.response["url"].endswith("/ok")
    assert kept.status is StepStatus.PASSED, kept.error


async def test_a_redirect_loop_is_an_error(executor: StepExecutor) -> None:
    outcome = await run(executor, {"action": {"path": "/loop"}})

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert outcome.error.endswith("/loop: more than 10 redirects")


async def test_a_missing_template_variable_is_an_error_naming_it_and_the_step(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {"action": {"path": "/orders/{{ vars.order_id }}"}})

    assert outcome.status is StepStatus.ERROR
    assert outcome.error == (
        "step 1 (Task_A 'task_a'): action.path: template '/orders/{{ vars.order_id }}': "
        "vars.order_id is undefined"
    )
    assert outcome.request is None


async def test_a_header_rendered_with_a_line_break_is_an_error_naming_the_request(
    executor: StepExecutor,
) -> None:
    binding = {"action": {"path": "/echo", "headers": {"X-Note": "{{ data.note }}"}}}

    outcome = await run(executor, binding, data={"note": "one\r\nX-Injected: yes"})

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert outcome.error.startswith("step 1 (Task_A 'task_a'): GET http://127.0.0.1:")
    assert "/echo: cannot send it: " in outcome.error
    assert "internal error" not in outcome.error


async def test_an_unbound_task_is_an_error_naming_it(executor: StepExecutor) -> None:
    step = ScenarioStep(position=4, kind=StepKind.ACTION, element_id="Task_Pay", name="Pay",
                        meta={"unbound": True})  # fmt: skip

    outcome = await executor.execute(step, context())

    assert outcome.status is StepStatus.ERROR
    assert outcome.error == (
        "step 4 (Task_Pay 'Pay'): Task_Pay has no binding (add it under `tasks:` in the binding "
        "file)"
    )


async def test_an_end_event_without_binding_passes_and_final_checks_read_the_run(
    executor: StepExecutor,
) -> None:
    bare = ScenarioStep(position=9, kind=StepKind.ASSERTION, element_id="End")
    checked = bound_step({"checks": [{"that": "{{ vars.order_id == 'o-1' }}"}]},
                         kind=StepKind.ASSERTION, element="End")  # fmt: skip

    assert (await executor.execute(bare, context())).status is StepStatus.PASSED
    passing = await executor.execute(checked, context(vars={"order_id": "o-1"}))
    failing = await executor.execute(checked, context(vars={"order_id": "o-2"}))
    assert passing.status is StepStatus.PASSED
    assert failing.status is StepStatus.FAILED


async def test_a_response_body_is_truncated_in_the_outcome(sut: SutState) -> None:
    async with StepExecutor(environment(sut.base_url), {}, body_limit=1024) as executor:
        outcome = await run(executor, {"action": {"path": "/big"}, "checks": [{"status": 200}]})

    assert outcome.response is not None
    assert len(outcome.response["body"]) == 1024
    assert outcome.response["truncated"] is True
    assert outcome.response["size"] == 200_000


async def test_an_unknown_service_is_an_error_listing_the_known_ones(sut: SutState) -> None:
    service = {"base_url": sut.base_url}
    env = EnvironmentSpec.model_validate({"name": "two", "services": {"a": service, "b": service}})
    async with StepExecutor(env, {}) as executor:
        unknown = await run(executor, {"action": {"service": "c", "path": "/ok"}})
        unnamed = await run(executor, {"action": {"path": "/ok"}})

    assert (
        unknown.error
        == "step 1 (Task_A 'task_a'): environment 'two' has no service 'c' (it has a, b)"
    )
    assert unnamed.error is not None
    assert "names no service" in unnamed.error


async def test_one_executor_serves_many_concurrent_steps(
    sut: SutState, executor: StepExecutor
) -> None:
    import asyncio

    steps = [bound_step({"action": {"path": "/ok"}, "checks": [{"status": 200}]}, position=i)
             for i in range(50)]  # fmt: skip

    outcomes = await asyncio.gather(*(executor.execute(step, context()) for step in steps))

    assert {o.status for o in outcomes} == {StepStatus.PASSED}
    assert len({seen["headers"]["Idempotency-Key"] for seen in sut.seen}) == 50


async def test_a_command_with_a_poll_is_sent_once_then_the_poll_repeated_until_the_checks_hold(
    sut: SutState, executor: StepExecutor
) -> None:
    outcome = await run(executor, {
        "action": {"method": "POST", "path": "/echo", "query": {"status": 202}, "json": {"a": 1}},
        "checks": [{"status": 200}, {"jsonpath": "$.state", "eq": "DONE"}],
        "eventually": {"timeout": 10, "interval": 0.01, "poll": {"path": "/ready/cmd?after=3"}},
        "save": {"polls": "$.polls"},
    })  # fmt: skip

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert [(seen["method"], seen["path"]) for seen in sut.seen] == [
        ("POST", "/echo?status=202"),
        *[("GET", "/ready/cmd?after=3")] * 3,
    ]
    assert "Idempotency-Key" in sut.seen[0]["headers"]
    assert all("Idempotency-Key" not in seen["headers"] for seen in sut.seen[1:])
    assert (outcome.attempts, outcome.saved) == (4, {"polls": 3})
    assert outcome.command is not None
    assert outcome.command["response"]["status"] == 202
    assert outcome.command["response"]["json"]["json"] == {"a": 1}
    assert outcome.response is not None
    assert outcome.response["json"] == {"state": "DONE", "polls": 3}
