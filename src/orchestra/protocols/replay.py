"""Replays: how a SUT may answer a request sent again with the same idempotency key.

    replay: {status: [200, 201]}

A step executed again after its worker lost the lease (a crash, a stall past the lease) is a
re-send: the SUT may already have acted on the first request. The IETF Idempotency-Key draft
asks it to answer the same key with the original response; a SUT that answers a replay
otherwise (200 instead of the original 201, 409 for "already done") is accepted through the
action's `replay.status`, which holds only when the step is a re-send: a first send is judged
by its checks alone.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ReplayPolicy(BaseModel):
    """An action's `replay`: the statuses also accepted when the step is a re-send."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: tuple[int, ...] = Field(min_length=1)

    @field_validator("status", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> Any:
        for item in value if isinstance(value, list | tuple) else ():
            if isinstance(item, bool) or not isinstance(item, int) or not 100 <= item <= 599:
                raise ValueError(f"{item!r} is not an HTTP status (100-599)")
        return value

    def accepts(self, status: int) -> bool:
        return status in self.status
