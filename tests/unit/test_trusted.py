"""`trusted` builds a model unvalidated, but never one missing a field, holding an unknown one or
holding them out of order, even under `python -O` (a model missing a field dumps without it,
silently)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import BaseModel

from orchestra.domain.trusted import trusted


class Pair(BaseModel):
    left: int
    right: str = "r"


def test_values_holding_every_field_build_the_model_as_they_are() -> None:
    pair = trusted(Pair, {"left": 1, "right": "x"})
    assert pair == Pair(left=1, right="x")
    assert pair.model_dump() == {"left": 1, "right": "x"}


def test_a_missing_field_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match=r"Pair: missing \['right'\], unknown \[\]"):
        trusted(Pair, {"left": 1})


def test_an_unknown_field_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match=r"Pair: missing \[\], unknown \['extra'\]"):
        trusted(Pair, {"left": 1, "right": "x", "extra": 2})


def test_fields_out_of_their_order_are_refused() -> None:
    # a model is dumped in the order of its values: a report's keys would move
    with pytest.raises(TypeError, match="Pair: fields given in the order"):
        trusted(Pair, {"right": "x", "left": 1})


def test_the_check_holds_under_python_optimised() -> None:
    code = (
        "from pydantic import BaseModel\n"
        "from orchestra.domain.trusted import trusted\n"
        "class Pair(BaseModel):\n"
        "    left: int\n"
        "    right: str\n"
        "try:\n"
        "    trusted(Pair, {'left': 1})\n"
        "except TypeError:\n"
        "    raise SystemExit(0)\n"
        "raise SystemExit('a missing field was let through')\n"
    )
    done = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_field_is_set_and_a_copy_with_an_update_leaves_the_others_so() -> None:
    first, second = (
        trusted(Pair, {"left": 1, "right": "x"}),
        trusted(Pair, {"left": 2, "right": "y"}),
    )
    copied = first.model_copy(update={"right": "z"})
    assert copied.right == "z"
    assert first.right == "x"
    assert first.model_fields_set == second.model_fields_set == {"left", "right"}
    assert copied.model_fields_set == {"left", "right"}
