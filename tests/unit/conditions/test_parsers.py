"""FEEL, JUEL/EL and Python conditions read into one expression tree."""

from __future__ import annotations

import pytest

from orchestra.domain.conditions import (
    And,
    Compare,
    Const,
    Literal,
    Not,
    NotUnderstood,
    Op,
    Or,
    Var,
    language_of,
    parse_condition,
)

AMOUNT = Var(("amount",))
COUNTRY = Var(("country",))
BIG_DE = And((Compare(Op.GT, AMOUNT, Const(1000)), Compare(Op.EQ, COUNTRY, Const("DE"))))


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("= amount > 1000", None, "feel"),
        ("${amount > 1000}", None, "juel"),
        ("#{amount > 1000}", None, "juel"),
        ("amount > 1000", None, "python"),
        ("amount > 1000", "https://www.omg.org/spec/FEEL/20140401", "feel"),
        ("${amount > 1000}", "http://www.w3.org/1999/XPath", "juel"),
        ("amount > 1000", "python", "python"),
        ("return true", "groovy", "groovy"),
    ],
)
def test_the_language_comes_from_the_attribute_then_the_prefix(
    text: str, language: str | None, expected: str
) -> None:
    assert language_of(text, language) == expected


def test_the_same_condition_reads_the_same_in_every_language() -> None:
    assert parse_condition('= amount > 1000 and country = "DE"') == BIG_DE
    assert parse_condition('${amount > 1000 && country == "DE"}') == BIG_DE
    assert parse_condition("${amount gt 1000 and country eq 'DE'}") == BIG_DE
    assert parse_condition("amount > 1000 and country == 'DE'") == BIG_DE


def test_feel_reads_ranges_lists_between_null_and_not() -> None:
    x = Var(("x",))
    assert parse_condition("= x in [1..10)") == And(
        (Compare(Op.GE, x, Const(1)), Compare(Op.LT, x, Const(10)))
    )
    assert parse_condition("= x in ]1..10]") == And(
        (Compare(Op.GT, x, Const(1)), Compare(Op.LE, x, Const(10)))
    )
    assert parse_condition('= x in ["a", "b"]') == Or(
        (Compare(Op.EQ, x, Const("a")), Compare(Op.EQ, x, Const("b")))
    )
    assert parse_condition("= x between -5 and 5.5") == And(
        (Compare(Op.GE, x, Const(-5)), Compare(Op.LE, x, Const(5.5)))
    )
    assert parse_condition("= not(x is null)") == Not(Compare(Op.EQ, x, Const(None)))
    assert parse_condition("= x = null") == Compare(Op.EQ, x, Const(None))
    assert parse_condition("= order.total >= 10") == Compare(
        Op.GE, Var(("order", "total")), Const(10)
    )
    assert parse_condition("= approved") == Compare(Op.EQ, Var(("approved",)), Const(True))
    assert parse_condition("= 1000 < amount") == Compare(Op.GT, AMOUNT, Const(1000))


def test_juel_reads_words_symbols_empty_and_negation() -> None:
    name = Var(("name",))
    assert parse_condition("${empty name}") == Or(
        (Compare(Op.EQ, name, Const(None)), Compare(Op.EQ, name, Const("")))
    )
    assert parse_condition("${!(amount le 5) || not vip}") == Or(
        (
            Not(Compare(Op.LE, AMOUNT, Const(5))),
            Not(Compare(Op.EQ, Var(("vip",)), Const(True))),
        )
    )
    assert parse_condition("${amount ne 3 && amount != null}") == And(
        (Compare(Op.NE, AMOUNT, Const(3)), Compare(Op.NE, AMOUNT, Const(None)))
    )
    assert parse_condition("${true}") == Literal(True)


def test_python_reads_in_is_none_attributes_and_items() -> None:
    assert parse_condition("amount > 500 and not vip") == And(
        (Compare(Op.GT, AMOUNT, Const(500)), Not(Compare(Op.EQ, Var(("vip",)), Const(True))))
    )
    assert parse_condition("order['total'] is not None") == Compare(
        Op.NE, Var(("order", "total")), Const(None)
    )
    assert parse_condition("country not in ('DE', 'FR')") == Not(
        Or((Compare(Op.EQ, COUNTRY, Const("DE")), Compare(Op.EQ, COUNTRY, Const("FR"))))
    )
    assert parse_condition("0 < amount <= 10") == And(
        (Compare(Op.GT, AMOUNT, Const(0)), Compare(Op.LE, AMOUNT, Const(10)))
    )


@pytest.mark.parametrize(
    "text",
    [
        "= count(items) > 2",
        "= amount + 1 > 2",
        "${order.getTotal() > 5}",
        "${amount > }",
        "${a['b'] == 1}",
        "amount.total() > 1",
        "amount + 1 > 2",
        "amount >",
        "= 'single' = x",
        "return true",
    ],
)
def test_what_is_outside_the_subset_is_not_understood(text: str) -> None:
    with pytest.raises(NotUnderstood):
        parse_condition(text, "groovy" if text.startswith("return") else None)


def test_bpmn_xpath_reads_data_objects_and_xpath_over_el_is_el() -> None:
    xpath = "http://www.w3.org/TR/XPath"
    assert language_of("${approved}", xpath) == "juel"
    assert parse_condition("not(bpmn:getDataObject('approved'))", xpath) == Not(
        Compare(Op.EQ, Var(("approved",)), Const(True))
    )
    assert parse_condition("bpmn:getDataObject('clarified') = 'yes'") == Compare(
        Op.EQ, Var(("clarified",)), Const("yes")
    )


def test_a_language_uri_is_not_taken_for_el_by_the_letters_el_in_it() -> None:
    assert language_of("a == 1", "http://www.mvel.org/2.0") == "http://www.mvel.org/2.0"
    with pytest.raises(NotUnderstood):
        parse_condition("a == 1", "http://www.mvel.org/2.0")
