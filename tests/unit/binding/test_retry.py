"""The retry policy as a binding writes it: validated where it is written, applied by default."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from orchestra.binding.document import spec_from_binding
from orchestra.binding.loader import parse_bindings
from orchestra.binding.model import StepSpec
from orchestra.binding.yamlsource import Source
from orchestra.errors import BindingRefused
from orchestra.protocols.retry import RetryPolicy, legacy_policy, retry_after


def bindings(text: str) -> StepSpec:
    parsed = parse_bindings(Source("b.yaml", text))
    return spec_from_binding(parsed.tasks["T"], parsed.defaults, {})


def test_the_default_policy_retries_connect_and_gateway_statuses_three_times() -> None:
    policy = RetryPolicy()

    assert (policy.on, policy.attempts, policy.backoff) == (
        ("connect", 502, 503, 504),
        3,
        "exponential",
    )
    assert policy.retries_status(503)
    assert not policy.retries_status(500)
    assert policy.retries_failure(timeout=False)
    assert not policy.retries_failure(timeout=True)
    assert not policy.retries_failure(timeout=False, transient=False)  # an invalid URL
    assert not policy.retries_failure(timeout=False, tls=True)  # a failed TLS handshake


def test_a_failed_tls_handshake_is_retried_only_when_on_names_tls() -> None:
    assert RetryPolicy(on=("tls",)).retries_failure(timeout=False, tls=True)
    assert not RetryPolicy(on=("tls",)).retries_failure(timeout=False)
    assert not RetryPolicy(on=("connect", "timeout")).retries_failure(timeout=False, tls=True)


def test_waits_grow_up_to_max_delay_and_jitter_stays_between_half_and_all() -> None:
    policy = RetryPolicy(delay=1, max_delay=3, jitter=False)
    jittered = RetryPolicy(delay=1, jitter=True)
    rng = random.Random(7)

    assert [policy.wait(n) for n in (1, 2, 3, 4)] == [1, 2, 3, 3]
    assert RetryPolicy(delay=1, backoff="constant", jitter=False).wait(4) == 1
    assert all(0.5 * 2 ** (n - 1) <= jittered.wait(n, rng) <= 2 ** (n - 1) for n in (1, 2, 3))


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)

    assert retry_after({"Retry-After": "12"}) == 12.0
    assert retry_after({"retry-after": "Mon, 07 Dec 2026 10:00:30 GMT"}, now) == 30.0
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after({}) is None


def test_the_older_retries_form_is_a_policy_for_transport_errors() -> None:
    policy = legacy_policy(2)

    assert policy is not None
    assert (policy.on, policy.attempts, policy.jitter) == (("connect", "timeout"), 3, False)
    assert legacy_policy(0) is None


def test_an_action_retry_is_validated_and_defaults_reach_actions_without_their_own() -> None:
    spec = bindings(
        "defaults: {retry: {on: [503], attempts: 4}}\ntasks:\n  T: {action: {path: /a}}\n"
    )
    own = bindings(
        "defaults: {retry: {on: [503], attempts: 4}}\n"
        "tasks:\n  T: {action: {path: /a, retries: 1}}\n"
    )

    assert spec.action is not None
    assert spec.action.retry == RetryPolicy(on=(503,), attempts=4)
    assert own.action is not None
    assert own.action.retry is None
    assert own.action.retry_policy() == legacy_policy(1)


@pytest.mark.parametrize(
    ("action", "why"),
    [
        ("{path: /a, retry: {on: [999]}}", "on: 999 is neither connect, tls, timeout nor an"),
        ("{path: /a, retry: {on: [reset]}}", "retry.on: 'reset' is neither connect, tls, time"),
        ("{path: /a, retry: {attempts: 0}}", "greater than or equal to 1"),
        ("{path: /a, retry: {tries: 3}}", "tasks.T.action.retry.tries"),
        ("{path: /a, retries: 2, retry: {attempts: 3}}", "give `retry` or `retries`, not both"),
    ],
)
def test_a_retry_that_cannot_be_followed_is_refused_naming_it(action: str, why: str) -> None:
    with pytest.raises(BindingRefused) as caught:
        bindings(f"tasks:\n  T: {{action: {action}}}\n")

    assert why in caught.value.message
