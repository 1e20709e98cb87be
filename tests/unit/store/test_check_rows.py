"""A step's check results as its checkpoint row holds them: what pydantic's JSON dump gives."""

from __future__ import annotations

import math
from typing import Any

import pytest

from orchestra.domain.execution import CheckResult
from orchestra.store.runs import _check_row

CHECKS: list[CheckResult] = [
    CheckResult(name="status eq", passed=True, expected=200, actual=200),
    CheckResult(name="jsonpath $.s eq", passed=False, expected="PAID", actual=None, found=False),
    CheckResult(name="flag", passed=True, expected=True, actual=True, message=None),
    CheckResult(name="latency", passed=False, expected=1.5, actual=math.inf, message="slow"),
    CheckResult(name="list", passed=True, expected=[1, (2, 3)], actual={"a": (1,)}),
]


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_a_check_row_is_the_checks_json_dump(check: CheckResult) -> None:
    row: dict[str, Any] = _check_row(check)

    assert row == check.model_dump(mode="json")
