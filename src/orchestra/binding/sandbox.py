"""Jinja's immutable sandbox as templates use it: strict undefined variables, and `*` and `**`
bounded so that a template cannot make a worker build a value of gigabytes.

Its own module so that Jinja is imported only when a template needs more than plain lookups
(`binding.templates`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Bindings may come from a BPMN file's extensionElements: a template must not be able to make
# a worker build a value of gigabytes (`'a' * 10**9`, `10 ** 10**8`).
MAX_SEQUENCE = 1_000_000  # items or characters a `*` may produce
MAX_POWER_BITS = 4_096  # bits of an integer `**` may produce


def _too_long(sequence: Any, times: Any) -> bool:
    if not isinstance(sequence, str | list | tuple) or not isinstance(times, int):
        return False
    return len(sequence) * max(times, 0) > MAX_SEQUENCE


def _too_big(base: Any, exponent: Any) -> bool:
    if not isinstance(base, int) or not isinstance(exponent, int) or abs(base) < 2:
        return False
    return exponent > 0 and abs(base).bit_length() * exponent > MAX_POWER_BITS


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*" and (_too_long(left, right) or _too_long(right, left)):
            raise SecurityError(f"a template repeats a value to more than {MAX_SEQUENCE:,} items")
        if operator == "**" and _too_big(left, right):
            raise SecurityError(f"a template raises a number beyond {MAX_POWER_BITS} bits")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # `data.items` means the key "items" of a data row, not dict.items.
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def new_sandbox(globals_: dict[str, Callable[[], Any]]) -> ImmutableSandboxedEnvironment:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.update(globals_)
    return env
