"""Why a condition is outside the subset Orchestra reads."""

from __future__ import annotations


class NotUnderstood(ValueError):
    """The expression uses something outside the supported subset (a call, arithmetic, a
    script); `reason` says what, `position` where (a character offset, when known)."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        super().__init__(reason if position is None else f"{reason} at character {position}")
        self.reason = reason
        self.position = position
