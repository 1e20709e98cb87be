"""A suite or a suite run is named by its id, `latest`, or its process: parsed without I/O."""

from __future__ import annotations

import pytest

from orchestra.domain.generation import Criterion
from orchestra.domain.references import (
    CRITERIA,
    SuiteRef,
    SuiteRunRef,
    parse_suite_ref,
    parse_suite_run_ref,
)
from orchestra.errors import UsageError


def test_the_criteria_a_reference_takes_are_the_generators() -> None:
    assert tuple(c.value for c in Criterion) == CRITERIA


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", SuiteRef(text="42", id=42)),
        (" 7 ", SuiteRef(text="7", id=7)),
        ("latest", SuiteRef(text="latest", latest=True)),
        ("order", SuiteRef(text="order", process="order")),
        ("order@3", SuiteRef(text="order@3", process="order", version=3)),
        (
            "order:all-paths",
            SuiteRef(text="order:all-paths", process="order", criterion="all-paths"),
        ),
        (
            "order@2:all-nodes",
            SuiteRef(text="order@2:all-nodes", process="order", version=2, criterion="all-nodes"),
        ),
        ("latest@1", SuiteRef(text="latest@1", process="latest", version=1)),
    ],
)
def test_a_suite_is_an_id_latest_or_process_version_and_criterion(
    text: str, expected: SuiteRef
) -> None:
    assert parse_suite_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("order:everything", "the criterion after ':' is one of all-flows, all-nodes, all-paths"),
        ("order@v2", "is not a suite: an id, `latest`, or PROCESS[@VERSION][:CRITERION]"),
        ("@2", "is not a suite"),
        ("", "is not a suite"),
        ("0", "ids and versions start at 1"),
        ("order@0", "ids and versions start at 1"),
    ],
)
def test_a_malformed_suite_reference_is_a_usage_error_naming_it(text: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_suite_ref(text)

    assert says in refused.value.message
    assert refused.value.details == {"reference": text}


def test_a_suite_run_is_an_id_latest_or_the_newest_run_of_a_suite() -> None:
    assert parse_suite_run_ref("12") == SuiteRunRef(text="12", id=12)
    assert parse_suite_run_ref("latest") == SuiteRunRef(text="latest", latest=True)
    assert parse_suite_run_ref("order:all-flows") == SuiteRunRef(
        text="order:all-flows",
        suite=SuiteRef(text="order:all-flows", process="order", criterion="all-flows"),
    )


def test_a_reference_says_in_words_what_it_looks_for() -> None:
    assert parse_suite_ref("order@2:all-flows").describe() == (
        "the newest suite with all-flows of process 'order', version 2"
    )
    assert parse_suite_run_ref("order").describe() == (
        "the newest suite run of the newest suite of process 'order', its newest version"
    )
    assert parse_suite_run_ref("latest").describe() == "the newest suite run"
