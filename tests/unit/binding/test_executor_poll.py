"""`eventually.poll`: a command sent once, then another request polled until the checks hold."""

from __future__ import annotations

from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.executor import StepExecutor
from orchestra.domain.statuses import StepStatus
from orchestra.protocols.base import ProtocolRequest, ProtocolResponse
from tests.unit.binding.test_executor_double import CTX, ScriptedProtocol, ok, step

ENV = EnvironmentSpec.model_validate({"name": "e", "services": {"s": {"base_url": "http://x"}}})
RESEND = CTX.model_copy(update={"resending": 1})


async def _instant(seconds: float) -> None:
    return None


def shop(command_status: int = 202) -> ScriptedProtocol:
    """POST /orders/1/payment answers `command_status`; GET /orders/1 is PENDING twice, then
    PAID."""
    reads = iter(["PENDING", "PENDING"])

    def answer(request: ProtocolRequest) -> ProtocolResponse:
        if request.method == "POST":
            taken = ok({"state": "PENDING"}, status=command_status)
            taken.headers["Location"] = "/orders/1"
            return taken
        return ok({"id": 1, "state": next(reads, "PAID")})

    return ScriptedProtocol(answer)


def pay(**extra: object) -> dict[str, object]:
    action: dict[str, object] = {"method": "POST", "path": "/orders/1/payment", **extra}
    return {
        "action": action,
        "checks": [{"status": 200}, {"jsonpath": "$.state", "eq": "PAID"}],
        "eventually": {"timeout": 10, "interval": 0.1, "poll": {"path": "/orders/1"}},
        "save": {"state": "$.state"},
    }


async def test_the_command_is_sent_once_and_the_poll_repeated_until_the_checks_hold() -> None:
    protocol = shop()
    executor = StepExecutor(ENV, {}, protocols={"http": protocol}, sleep=_instant)

    outcome = await executor.execute(step(pay()), CTX)

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert [(r.method, r.url) for r in protocol.sent] == [
        ("POST", "http://x/orders/1/payment"),
        *[("GET", "http://x/orders/1")] * 3,
    ]
    assert outcome.attempts == 4  # the command and three polls
    assert outcome.saved == {"state": "PAID"}  # the checks and `save` read the last poll
    assert outcome.response is not None
    assert outcome.response["status"] == 200
    assert outcome.request is not None
    assert outcome.request["method"] == "GET"
    assert outcome.command is not None
    assert outcome.command["request"]["method"] == "POST"
    assert outcome.command["response"]["status"] == 202
    assert next((c.name, c.passed, c.actual) for c in outcome.checks) == (
        "command status",
        True,
        202,
    )


async def test_only_the_command_carries_the_idempotency_key() -> None:
    protocol = shop()
    executor = StepExecutor(ENV, {}, protocols={"http": protocol}, sleep=_instant)

    await executor.execute(step(pay()), CTX)

    command, *polls = protocol.sent
    assert "Idempotency-Key" in command.headers
    assert all("Idempotency-Key" not in poll.headers for poll in polls)  # a poll reads


async def test_a_command_the_sut_refuses_fails_the_step_naming_its_answer_and_polls_nothing() -> (
    None
):
    protocol = shop(command_status=409)
    executor = StepExecutor(ENV, {}, protocols={"http": protocol}, sleep=_instant)

    outcome = await executor.execute(step(pay()), CTX)

    assert outcome.status is StepStatus.FAILED
    assert outcome.error == (
        "step 1 (T): command POST http://x/orders/1/payment answered 409, expected 2xx; not polled"
    )
    assert len(protocol.sent) == 1
    assert [(c.name, c.passed, c.expected, c.actual) for c in outcome.checks] == [
        ("command status", False, "2xx", 409)
    ]
    assert outcome.saved == {}


async def test_a_re_sent_command_may_answer_a_replay_status_and_the_step_still_passes() -> None:
    executor = StepExecutor(ENV, {}, protocols={"http": shop(409)}, sleep=_instant)
    replayed = step(pay(replay={"status": [409]}))

    again = await executor.execute(replayed, RESEND)

    assert again.status is StepStatus.PASSED, again.error
    assert again.resent_after == 1
    other = await StepExecutor(ENV, {}, protocols={"http": shop(410)}, sleep=_instant).execute(
        replayed, RESEND
    )
    assert other.error is not None
    assert "answered 410, expected 2xx or, on a re-send, [409]; not polled" in other.error
    taken = again.checks[0]
    assert (taken.name, taken.passed, taken.actual) == ("command status", True, 409)
    assert taken.message is not None
    assert "re-send" in taken.message


async def test_a_replay_status_does_not_pass_a_first_send() -> None:
    executor = StepExecutor(ENV, {}, protocols={"http": shop(409)}, sleep=_instant)

    first = await executor.execute(step(pay(replay={"status": [409]})), CTX)

    assert first.status is StepStatus.FAILED


async def test_the_polls_templates_read_the_commands_answer() -> None:
    protocol = shop()
    executor = StepExecutor(ENV, {}, protocols={"http": protocol}, sleep=_instant)
    binding = pay()
    binding["eventually"] = {
        "timeout": 10,
        "interval": 0.1,
        "poll": {"path": "{{ response.headers['Location'] }}"},
    }

    outcome = await executor.execute(step(binding), CTX)

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert protocol.sent[-1].url == "http://x/orders/1"


async def test_a_poll_still_failing_when_the_time_is_up_fails_with_the_last_polls_checks() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    protocol = ScriptedProtocol(lambda request: ok({"state": "PENDING"}, status=202))
    executor = StepExecutor(
        ENV, {}, protocols={"http": protocol}, sleep=sleep, clock=lambda: now[0]
    )
    binding = pay()
    binding["eventually"] = {"timeout": 1, "interval": 0.25, "poll": {"path": "/orders/1"}}

    outcome = await executor.execute(step(binding), CTX)

    assert outcome.status is StepStatus.FAILED
    assert outcome.error is not None
    assert "status eq: expected 200, got 202" in outcome.error
    assert "(still failing: 5 polls in 1 s)" in outcome.error
    assert [r.method for r in protocol.sent].count("POST") == 1
