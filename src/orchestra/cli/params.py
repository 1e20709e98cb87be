"""Argument types the commands share, with the bounds the API puts on the same values, and
the references to suites and suite runs (`orchestra.domain.references`)."""

from __future__ import annotations

from typing import Any

import click

from orchestra.domain.records import MAX_NAME_LENGTH
from orchestra.domain.references import (
    SuiteRef,
    SuiteRunRef,
    parse_suite_ref,
    parse_suite_run_ref,
)
from orchestra.errors import UsageError


class Name(click.types.StringParamType):
    """The name of a data set or an environment: as long as the API takes (a usage error
    beyond, exit 2, naming the argument and the limit)."""

    name = "name"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = super().convert(value, param, ctx)
        if len(text) > MAX_NAME_LENGTH:
            self.fail(
                f"a name has at most {MAX_NAME_LENGTH} characters, not {len(text)}"
                f" ({text[:40]!r}...)",
                param,
                ctx,
            )
        return text


NAME = Name()


class SuiteReference(click.ParamType[SuiteRef]):
    """A suite: its id, `latest`, or `PROCESS[@VERSION][:CRITERION]`."""

    name = "suite"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> SuiteRef:
        if isinstance(value, SuiteRef):
            return value
        try:
            return parse_suite_ref(str(value))
        except UsageError as exc:
            self.fail(exc.message, param, ctx)


class SuiteRunReference(click.ParamType[SuiteRunRef]):
    """A suite run: its id, `latest`, or a suite's reference (its newest suite run)."""

    name = "suite_run"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> SuiteRunRef:
        if isinstance(value, SuiteRunRef):
            return value
        try:
            return parse_suite_run_ref(str(value))
        except UsageError as exc:
            self.fail(exc.message, param, ctx)


SUITE = SuiteReference()
SUITE_RUN = SuiteRunReference()
