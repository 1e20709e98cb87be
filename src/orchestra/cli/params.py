"""Argument types the commands share, with the bounds the API puts on the same values."""

from __future__ import annotations

from typing import Any

import click

from orchestra.domain.records import MAX_NAME_LENGTH


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
