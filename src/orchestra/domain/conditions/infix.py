"""FEEL and JUEL/EL conditions into the expression tree: one recursive-descent parser, two
vocabularies. Outside the subset (calls, arithmetic, functions but FEEL's `not()`) raises
NotUnderstood."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from orchestra.domain.conditions.errors import NotUnderstood
from orchestra.domain.conditions.tokens import (
    Cursor,
    Token,
    number_value,
    string_value,
    tokenize,
)
from orchestra.domain.conditions.tree import (
    And,
    Compare,
    Const,
    Expr,
    Literal,
    Not,
    Op,
    Operand,
    Or,
    Var,
    truthy,
)


@dataclass(frozen=True)
class Dialect:
    name: str
    or_words: tuple[str, ...]
    and_words: tuple[str, ...]
    not_words: tuple[str, ...]  # prefix negation
    operators: dict[str, Op]
    single_quotes: bool


FEEL = Dialect(
    name="feel",
    or_words=("or",),
    and_words=("and",),
    not_words=(),  # FEEL negates with the function not(...)
    operators={"=": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE},
    single_quotes=False,
)
JUEL = Dialect(
    name="juel",
    or_words=("||", "or"),
    and_words=("&&", "and"),
    not_words=("!", "not"),
    operators={
        "==": Op.EQ,
        "eq": Op.EQ,
        "!=": Op.NE,
        "ne": Op.NE,
        "<": Op.LT,
        "lt": Op.LT,
        "<=": Op.LE,
        "le": Op.LE,
        ">": Op.GT,
        "gt": Op.GT,
        ">=": Op.GE,
        "ge": Op.GE,
    },
    single_quotes=True,
)
# BPMN's XPath conditions over data objects, with getDataObject('x') read as x beforehand
XPATH = Dialect(
    name="xpath",
    or_words=("or",),
    and_words=("and",),
    not_words=(),
    operators={"=": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE},
    single_quotes=True,
)
_KEYWORDS = {"true": True, "false": False}


def parse_infix(text: str, dialect: Dialect) -> Expr:
    cursor = Cursor(tokenize(text, single_quotes=dialect.single_quotes))
    expr = _Parser(cursor, dialect).disjunction()
    if cursor.peek.kind != "end":
        raise cursor.unexpected()
    return expr


class _Parser:
    def __init__(self, cursor: Cursor, dialect: Dialect) -> None:
        self.cursor = cursor
        self.dialect = dialect

    def disjunction(self) -> Expr:
        items = [self.conjunction()]
        while self.cursor.accept(*self.dialect.or_words):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Expr:
        items = [self.unary()]
        while self.cursor.accept(*self.dialect.and_words):
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Expr:
        cursor = self.cursor
        if cursor.accept(*self.dialect.not_words):
            return Not(self.unary())
        if self.dialect is JUEL and cursor.accept("empty"):
            var = self.operand()
            if not isinstance(var, Var):
                raise NotUnderstood("`empty` of a constant", cursor.peek.position)
            return Or((Compare(Op.EQ, var, Const(None)), Compare(Op.EQ, var, Const(""))))
        if self.dialect in (FEEL, XPATH) and cursor.peek.text == "not":
            cursor.next()
            cursor.expect("(")
            inner = self.disjunction()
            cursor.expect(")")
            return Not(inner)
        if cursor.accept("("):
            inner = self.disjunction()
            cursor.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Expr:
        cursor = self.cursor
        left = self.operand()
        token = cursor.peek
        op = self.dialect.operators.get(token.text) if token.kind in ("op", "name") else None
        if op is not None:
            cursor.next()
            return _compare(op, left, self.operand())
        if self.dialect is FEEL and cursor.accept("between"):
            low = self.operand()
            cursor.expect("and")
            high = self.operand()
            return And((_compare(Op.GE, left, low), _compare(Op.LE, left, high)))
        if self.dialect is FEEL and cursor.accept("in"):
            return self.membership(left)
        if self.dialect is FEEL and cursor.accept("is"):
            cursor.expect("null")
            return _compare(Op.EQ, left, Const(None))
        if isinstance(left, Var):
            return truthy(left)
        if isinstance(left.value, bool):
            return Literal(left.value)
        raise NotUnderstood(f"{left.value!r} is not a condition", token.position)

    def membership(self, left: Operand) -> Expr:
        """FEEL `in`: a range `[1..10]`, `(1..10]`, `]1..10[`, or a list `["a", "b"]`."""
        cursor = self.cursor
        opening = cursor.accept("[", "(", "]")
        if opening is None:
            return _compare(Op.EQ, left, self.operand())
        first = self.operand()
        if cursor.accept(".."):
            last = self.operand()
            closing = cursor.accept("]", ")", "[")
            if closing is None:
                raise cursor.unexpected("expected the end of a range")
            low = Op.GE if opening.text == "[" else Op.GT
            high = Op.LE if closing.text == "]" else Op.LT
            return And((_compare(low, left, first), _compare(high, left, last)))
        items = [first]
        while cursor.accept(","):
            items.append(self.operand())
        cursor.expect("]" if opening.text == "[" else ")")
        compares = tuple(_compare(Op.EQ, left, item) for item in items)
        return compares[0] if len(compares) == 1 else Or(compares)

    def operand(self) -> Operand:
        cursor = self.cursor
        token = cursor.next()
        if token.kind == "number":
            return Const(number_value(token))
        if token.kind == "string":
            return Const(string_value(token))
        if token.text == "-" and cursor.peek.kind == "number":
            return Const(-number_value(cursor.next()))
        if token.kind == "name":
            return self.name(token)
        raise NotUnderstood(f"unexpected {token.text or 'end'!r}", token.position)

    def name(self, token: Token) -> Operand:
        if token.text in _KEYWORDS:
            return Const(_KEYWORDS[token.text])
        if token.text == "null":
            return Const(None)
        if self.dialect is FEEL and token.text == "date":
            temporal = self.temporal()
            if temporal is not None:
                return temporal
        path = [token.text]
        while self.cursor.accept("."):
            part = self.cursor.next()
            if part.kind != "name":
                raise NotUnderstood("a path needs a name after '.'", part.position)
            path.append(part.text)
        if self.cursor.peek.text in ("(", "["):
            raise NotUnderstood("a function or method call", self.cursor.peek.position)
        return Var(tuple(path))

    def temporal(self) -> Const | None:
        """FEEL's `date("2024-01-01")` or `date and time("2024-01-01T10:00:00")` after the
        name `date`; None when `date` is a variable's name."""
        cursor = self.cursor
        timed = cursor.peek.text == "and" and cursor.ahead(1).text == "time"
        if timed and cursor.ahead(2).text == "(":
            cursor.next()
            cursor.next()
        elif cursor.peek.text != "(":
            return None
        cursor.expect("(")
        token = cursor.next()
        if token.kind != "string":
            raise NotUnderstood("a date from anything but a string", token.position)
        cursor.expect(")")
        return Const(temporal_value(string_value(token), timed, token.position))


def temporal_value(text: str, timed: bool, position: int | None = None) -> date | datetime:
    """A FEEL date or date and time literal's value; one with a zone offset is read in UTC."""
    try:
        if not timed:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise NotUnderstood(f"{text!r} is not an ISO 8601 date", position) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _compare(op: Op, left: Operand, right: Operand) -> Compare:
    """Variables on the left: `1000 < amount` reads `amount > 1000`."""
    if isinstance(left, Const) and isinstance(right, Var):
        return Compare(op.mirrored(), right, left)
    return Compare(op, left, right)
