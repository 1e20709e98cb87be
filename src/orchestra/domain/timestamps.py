"""Timestamps as Orchestra writes them everywhere (CLI, API, reports): RFC 3339 in UTC, `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime, *, timespec: str = "auto") -> str:
    """`2026-12-07T10:18:53.123456Z`; a naive datetime is taken as UTC (PostgreSQL's
    `timestamptz` always comes with its offset)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def rfc3339_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)
