"""Records of what happened before, which only listings and reports read: the versions of a
process, the first rows of data sets, the leases runs lost and the claims their workers released.

Kept apart from `records` so that running a suite does not build their classes: `orchestra
test` imports this module only when a report has a lost lease or a released claim to show."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from orchestra.domain.process import Frozen


class ProcessVersion(Frozen):
    """One stored version of a process, without its graph: what a list of versions shows."""

    id: int
    key: str
    version: int
    name: str | None
    checksum: str
    source_name: str | None = None
    imported_at: datetime


class DataSetHead(Frozen):
    """A data set's first rows and how many it has in all."""

    id: int
    name: str
    total: int
    head: tuple[dict[str, Any], ...]

    @property
    def columns(self) -> list[str]:
        """The columns of the first rows, in the order they first appear."""
        return list(dict.fromkeys(key for row in self.head for key in row))


class LostLease(Frozen):
    """A claim of a test run that ended with its lease expiring (its worker crashed, hung or
    lost the database), recorded when the run was claimed again or marked FAILED_STUCK."""

    test_run_id: int
    attempt: int  # the claim that lost it
    worker: str
    heartbeat_at: datetime | None = None
    expired_at: datetime
    noticed_at: datetime
    done: dict[str, str] = Field(default_factory=dict)  # position -> status, checkpointed by then


class ReleasedClaim(Frozen):
    """A claim of a test run that its worker released with a step possibly in flight (since
    0013): `unreachable`, stopped while the database was out of reach and released once it was
    back; `drained`, stopped mid-step as the worker shut down past its drain deadline."""

    test_run_id: int
    attempt: int  # the claim released
    worker: str
    why: Literal["unreachable", "drained"]
    released_at: datetime
    done: dict[str, str] = Field(default_factory=dict)  # position -> status, checkpointed by then
