"""Retries of transient failures: which answers are sent again, and how long to wait first.

    retry: {on: [connect, 502, 503, 504], attempts: 3, backoff: exponential, jitter: true}

`on` lists what is transient: `connect` (no answer: refused, reset, DNS; not what would fail
the same way again, such as an invalid URL), `tls` (the TLS handshake failed: apart, as an
untrusted certificate or another host's name fails again), `timeout` (no answer in the
request's time) and HTTP statuses. `attempts` counts every request, the first
included. The wait before attempt n+1 is `delay` (constant) or `delay * 2**(n-1)`
(exponential), at most `max_delay`; with `jitter` a random part of it (between half and all)
so many runs failing together do not come back together. A `Retry-After` the answer carries
(seconds or an HTTP date) replaces the computed wait. The executor stops retrying when a wait
would pass the step's `eventually` deadline or, without one, is longer than the request's
timeout, and judges the last answer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Transient = Literal["connect", "tls", "timeout"] | int
TRANSIENT_WORDS = ("connect", "tls", "timeout")
MAX_ATTEMPTS = 10


class RetryPolicy(BaseModel):
    """An action's `retry`: which failures are sent again, how often, how far apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    on: tuple[Transient, ...] = Field(default=("connect", 502, 503, 504), min_length=1)
    attempts: int = Field(default=3, ge=1, le=MAX_ATTEMPTS)
    backoff: Literal["exponential", "constant"] = "exponential"
    delay: float = Field(default=0.5, ge=0, le=3600)  # seconds before the second attempt
    max_delay: float = Field(default=30.0, ge=0, le=3600)
    jitter: bool = True

    @field_validator("on", mode="before")
    @classmethod
    def _transient(cls, value: Any) -> Any:
        for item in value if isinstance(value, list | tuple) else ():
            if isinstance(item, bool) or (item not in TRANSIENT_WORDS and not _is_status(item)):
                raise ValueError(
                    f"{item!r} is neither connect, tls, timeout nor an HTTP status (100-599)"
                )
        return value

    def retries_status(self, status: int) -> bool:
        return status in self.on

    def retries_failure(self, *, timeout: bool, transient: bool = True, tls: bool = False) -> bool:
        """Whether a request that got no answer is sent again: `timeout` when none came in
        time, `tls` when its TLS handshake failed, `connect` when sending again may get one."""
        if timeout:
            return "timeout" in self.on
        if tls:
            return "tls" in self.on
        return transient and "connect" in self.on

    def wait(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `attempt`-th request (1 for the first) failed."""
        wait = self.delay * (2 ** (attempt - 1) if self.backoff == "exponential" else 1)
        wait = min(wait, self.max_delay)
        if self.jitter:
            wait *= (rng or random).uniform(0.5, 1.0)
        return wait


def _is_status(item: Any) -> bool:
    return isinstance(item, int) and 100 <= item <= 599


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The seconds a `Retry-After` header asks for (a number or an HTTP date), if any."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


def legacy_policy(retries: int) -> RetryPolicy | None:
    """`retries: N`, the older form: transport errors only, 0.1 s doubling up to 2 s."""
    if retries <= 0:
        return None
    return RetryPolicy(
        on=("connect", "timeout"), attempts=retries + 1, delay=0.1, max_delay=2.0, jitter=False
    )
