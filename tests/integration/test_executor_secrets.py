"""Secrets reach the SUT and nothing else: not results, errors, exports, saved values or logs."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator

import pytest

from orchestra.binding.environment import EnvironmentSpec, resolve_secrets
from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import StepOutcome
from orchestra.domain.statuses import StepStatus
from tests.integration.executor_sut import TOKEN, SutState, bound_step, context, running_sut

API_TOKEN = "api-tok-7f3a9c"
ADMIN_PASSWORD = "pa55-w0rd-q8"
CLIENT_SECRET = "s3cr3t-client"
ENVIRON = {"API_TOKEN": API_TOKEN, "ADMIN_PASSWORD": ADMIN_PASSWORD, "CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture
async def sut() -> AsyncIterator[SutState]:
    async with running_sut() as state:
        yield state


def env(sut: SutState, auth: dict[str, str]) -> EnvironmentSpec:
    return EnvironmentSpec.model_validate({
        "name": "secret", "auth": auth, "services": {"api": {"base_url": sut.base_url}},
        "secrets": {"admin": "${ADMIN_PASSWORD}"},
    })  # fmt: skip


def assert_clean(outcome: StepOutcome, *secrets: str) -> None:
    stored = outcome.model_dump_json()
    for secret in secrets:
        assert secret not in stored


LEAKY_STEP = {
    "action": {
        "method": "POST",
        "path": "/echo",
        "headers": {"X-Admin": "{{ secrets.admin }}"},
        "query": {"pw": "{{ secrets.admin }}"},
        "json": {"password": "{{ secrets.admin }}"},
    },
    "checks": [{"jsonpath": "$.json.password", "eq": "{{ secrets.admin }}x"}],
    "save": {"echoed": "$.json.password"},
    "exportAs": {"header": "{{ response.json.headers['X-Admin'] }}"},
}


async def test_secrets_used_everywhere_are_redacted_everywhere(
    sut: SutState, caplog: pytest.LogCaptureFixture
) -> None:
    spec = env(sut, {"type": "bearer", "token": "${API_TOKEN}"})
    caplog.set_level(logging.DEBUG)
    async with StepExecutor(spec, resolve_secrets(spec, ENVIRON)) as executor:
        failed = await executor.execute(bound_step(LEAKY_STEP), context())
        passing = LEAKY_STEP | {"checks": [{"status": 201}]}
        passed = await executor.execute(bound_step(passing), context())

    assert sut.seen[0]["headers"]["X-Admin"] == ADMIN_PASSWORD  # the SUT did get it
    assert sut.seen[0]["headers"]["Authorization"] == f"Bearer {API_TOKEN}"
    assert failed.status is StepStatus.FAILED
    assert failed.error is not None
    assert "expected '***x', got '***'" in failed.error
    assert passed.status is StepStatus.PASSED, passed.error
    assert passed.saved == {"echoed": "***"}
    assert passed.exports == {"header": "***"}
    assert passed.request is not None
    assert passed.request["headers"]["Authorization"] == "***"
    for outcome in (failed, passed):
        assert_clean(outcome, ADMIN_PASSWORD, API_TOKEN)
    assert ADMIN_PASSWORD not in caplog.text
    assert API_TOKEN not in caplog.text


async def test_basic_credentials_are_redacted_in_their_encoded_form(sut: SutState) -> None:
    spec = env(sut, {"type": "basic", "username": "ann", "password": "${ADMIN_PASSWORD}"})
    async with StepExecutor(spec, resolve_secrets(spec, ENVIRON)) as executor:
        outcome = await executor.execute(bound_step({"action": {"path": "/whoami"}}), context())

    encoded = base64.b64encode(f"ann:{ADMIN_PASSWORD}".encode()).decode()
    assert sut.seen[0]["headers"]["Authorization"] == f"Basic {encoded}"
    assert outcome.response is not None
    assert outcome.response["json"] == {"authorization": "Basic ***"}
    assert_clean(outcome, encoded, ADMIN_PASSWORD)


async def test_an_api_key_header_is_sent_and_masked(sut: SutState) -> None:
    spec = env(sut, {"type": "api_key", "header": "X-Key", "value": "${API_TOKEN}"})
    async with StepExecutor(spec, resolve_secrets(spec, ENVIRON)) as executor:
        outcome = await executor.execute(bound_step({"action": {"path": "/ok"}}), context())

    assert sut.seen[0]["headers"]["X-Key"] == API_TOKEN
    assert outcome.request is not None
    assert outcome.request["headers"]["X-Key"] == "***"


def oauth2(sut: SutState, secret_variable: str = "CLIENT_SECRET") -> dict[str, str]:
    return {
        "type": "oauth2_client_credentials",
        "token_url": f"{sut.base_url}/token",
        "client_id": "orchestra",
        "client_secret": f"${{{secret_variable}}}",
    }


async def test_an_oauth2_token_is_fetched_once_cached_and_redacted(sut: SutState) -> None:
    spec = env(sut, oauth2(sut))
    step = bound_step({"action": {"path": "/whoami"}})
    async with StepExecutor(spec, resolve_secrets(spec, ENVIRON)) as executor:
        outcomes = await asyncio.gather(*(executor.execute(step, context()) for _ in range(10)))

    assert sut.token_requests == 1
    assert {seen["headers"]["Authorization"] for seen in sut.seen} == {f"Bearer {TOKEN}"}
    assert {o.status for o in outcomes} == {StepStatus.PASSED}
    for outcome in outcomes:
        assert_clean(outcome, TOKEN, CLIENT_SECRET)


async def test_a_refused_oauth2_client_is_an_error_naming_the_token_endpoint(sut: SutState) -> None:
    spec = env(sut, oauth2(sut, "WRONG_SECRET"))
    secrets = resolve_secrets(spec, {**ENVIRON, "WRONG_SECRET": "nope-nope"})
    async with StepExecutor(spec, secrets) as executor:
        outcome = await executor.execute(bound_step({"action": {"path": "/whoami"}}), context())

    assert outcome.status is StepStatus.ERROR
    assert outcome.error == (
        f"step 1 (Task_A 'task_a'): OAuth2 token endpoint {sut.base_url}/token answered HTTP 401"
    )


async def test_a_secret_with_reserved_characters_is_redacted_in_every_encoding(
    sut: SutState,
) -> None:
    awkward = 'p@ss w/rd+"q\\z=='
    spec = EnvironmentSpec.model_validate({
        "name": "awkward", "services": {"api": {"base_url": sut.base_url}},
        "secrets": {"key": "${AWKWARD}"},
    })  # fmt: skip
    for where in ("query", "form", "json"):
        binding = {
            "action": {"method": "POST", "path": "/echo", where: {"pw": "{{ secrets.key }}"}}
        }
        async with StepExecutor(spec, resolve_secrets(spec, {"AWKWARD": awkward})) as executor:
            outcome = await executor.execute(bound_step(binding), context())
        stored = outcome.model_dump_json()
        for form in (awkward, "p%40ss", "p%40ss+w%2Frd", 'rd+\\"q', "rd%2B%22q"):
            assert form not in stored, (where, form)


def url_env(base_url: str) -> EnvironmentSpec:
    return EnvironmentSpec.model_validate({
        "name": "vars", "auth": {"type": "bearer", "token": "${API_TOKEN}"},
        "headers": {"X-Tenant-Key": "${TENANT_KEY}"},
        "services": {"api": {"base_url": base_url}},
    })  # fmt: skip


async def test_a_base_url_variable_is_shown_while_tokens_and_header_values_stay_masked(
    sut: SutState,
) -> None:
    spec = url_env("${API_URL}")
    environ = {"API_URL": sut.base_url, "API_TOKEN": API_TOKEN, "TENANT_KEY": "tenant-k-91"}
    async with StepExecutor(spec, resolve_secrets(spec, environ)) as executor:
        outcome = await executor.execute(bound_step({"action": {"path": "/echo"}}), context())

    assert outcome.request is not None
    assert outcome.request["url"] == f"{sut.base_url}/echo"
    assert outcome.response is not None
    assert outcome.response["url"] == f"{sut.base_url}/echo"
    assert outcome.request["headers"]["X-Tenant-Key"] == "***"
    assert_clean(outcome, API_TOKEN, "tenant-k-91")


async def test_a_base_url_declared_secret_is_masked(sut: SutState) -> None:
    spec = url_env("${secret:API_URL}")
    environ = {"API_URL": sut.base_url, "API_TOKEN": API_TOKEN, "TENANT_KEY": "tenant-k-91"}
    async with StepExecutor(spec, resolve_secrets(spec, environ)) as executor:
        outcome = await executor.execute(bound_step({"action": {"path": "/echo"}}), context())

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.request is not None
    assert outcome.request["url"] == "***/echo"
    assert_clean(outcome, sut.base_url, API_TOKEN)
