"""`{{ secrets.NAME }}` reads the environment's `secrets` entries and nothing else."""

from __future__ import annotations

from orchestra.binding.environment import EnvironmentSpec, resolve_secrets
from orchestra.binding.executor import StepExecutor
from orchestra.domain.statuses import StepStatus
from tests.unit.binding.test_executor_double import CTX, ScriptedProtocol, ok, step

ENVIRON = {"ORDERS_URL": "http://orders.internal", "API_TOKEN": "tok-81f2", "ADMIN": "pw-5e1c"}


def environment(secrets: dict[str, str]) -> EnvironmentSpec:
    return EnvironmentSpec.model_validate({
        "name": "staging", "auth": {"type": "bearer", "token": "${API_TOKEN}"},
        "services": {"orders": {"base_url": "${ORDERS_URL}"}}, "secrets": secrets,
    })  # fmt: skip


async def send_header(template: str, secrets: dict[str, str]) -> tuple[ScriptedProtocol, str]:
    """The step's outcome sending `X-Secret: template`, and the protocol that got it."""
    protocol = ScriptedProtocol(lambda request: ok({}))
    spec = environment(secrets)
    executor = StepExecutor(spec, resolve_secrets(spec, ENVIRON), protocols={"http": protocol})
    outcome = await executor.execute(
        step({"action": {"path": "/", "headers": {"X-Secret": template}}}), CTX
    )
    assert outcome.status is not StepStatus.PASSED or outcome.error is None
    return protocol, outcome.model_dump_json() if outcome.error is None else outcome.error


async def test_a_secrets_entry_is_sent_and_masked_in_the_result() -> None:
    protocol, recorded = await send_header("{{ secrets.admin }}", {"admin": "${ADMIN}"})

    assert protocol.sent[0].headers["X-Secret"] == "pw-5e1c"
    assert "pw-5e1c" not in recorded


async def test_a_plain_variable_is_no_secret_an_undefined_one_naming_it() -> None:
    protocol, error = await send_header("{{ secrets.ORDERS_URL }}", {"admin": "${ADMIN}"})

    assert protocol.sent == []
    assert "secrets.ORDERS_URL is undefined" in error
    assert "orders.internal" not in error


async def test_a_variable_named_instead_of_its_secrets_entry_is_undefined() -> None:
    protocol, error = await send_header("{{ secrets.ADMIN }}", {"admin": "${ADMIN}"})

    assert protocol.sent == []
    assert "secrets.ADMIN is undefined" in error


async def test_a_secrets_entry_named_like_a_variable_does_not_change_that_variable() -> None:
    protocol, _ = await send_header("{{ secrets.API_TOKEN }}", {"API_TOKEN": "${ADMIN}"})

    assert protocol.sent[0].headers["Authorization"] == "Bearer tok-81f2"
    assert protocol.sent[0].headers["X-Secret"] == "pw-5e1c"
