"""Values that make a set of conditions hold, found with z3 (imported only when used).

Semantics, as FEEL, EL and Python agree on them for this subset: a null (absent) variable
equals only null; ordering a null, or values of different kinds, is false; `!=` is the
negation of `==`. Values are friendly and deterministic: present rather than null, numbers of
the smallest magnitude (1001 for `> 1000`, 0 when free), whole where possible, and strings
taken from the conditions' own constants, else "other". Dates are whole days (date and times
whole seconds) counted from the earliest date constant, so they are chosen nearest to it
(2024-01-02 for `> date("2024-01-01")`), and given as ISO 8601 text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from orchestra.domain.conditions.tree import (
    And,
    Compare,
    Const,
    Expr,
    Literal,
    Not,
    Op,
    Or,
    Value,
    Var,
    variables,
)
from orchestra.domain.conditions.types import Kind, infer_kinds, kind_of

OTHER = "other"


@dataclass(frozen=True)
class Goal:
    """One condition a scenario needs to hold (`holds`) or not to hold.

    `required` False: a preference dropped when it cannot be met together with the rest (an
    exclusive gateway's later siblings, which an engine evaluating in order never reaches)."""

    flow: str
    text: str
    expr: Expr
    holds: bool = True
    required: bool = True
    gateway: str = ""  # the gateway whose choice needs it
    source: str = ""  # the condition as written (`text` says "not ..." when negated)
    language: str | None = None


@dataclass(frozen=True)
class Infeasible:
    """The goals that cannot all hold, a minimal set as z3's unsat core gives it."""

    conflicts: tuple[Goal, ...]


def solve(goals: Sequence[Goal]) -> dict[str, Any] | Infeasible:
    """Variable values (nested along paths: `order.total` -> {"order": {"total": ...}}) that
    make every goal hold, or the goals that conflict."""
    return ConditionSolver([goal.expr for goal in goals]).solve(goals) if goals else {}


class ConditionSolver:
    """Solves goals over a fixed set of conditions (a process's), each encoded once: build one
    for many scenarios. Variable kinds are inferred from all of `exprs` together."""

    def __init__(self, exprs: Sequence[Expr]) -> None:
        self._encoder = _Encoder(list(exprs))

    def kind(self, var: Var) -> Kind | None:
        """The variable's kind as inferred from the conditions; None for one they do not read."""
        return self._encoder.kinds.get(var)

    def solve(self, goals: Sequence[Goal]) -> dict[str, Any] | Infeasible:
        if not goals:
            return {}
        encoder = self._encoder
        conflict = encoder.conflict(goals)
        if conflict is None:
            return encoder.friendly_values(goals)
        required = [goal for goal in goals if goal.required]
        if len(required) == len(goals):
            return Infeasible(conflict)
        conflict = encoder.conflict(required)
        return encoder.friendly_values(required) if conflict is None else Infeasible(conflict)


class _Encoder:
    def __init__(self, exprs: list[Expr]) -> None:
        import z3

        self.z3 = z3
        self.kinds = infer_kinds(exprs)
        self.strings = sorted(
            {c.value for e in exprs for c in _constants(e) if isinstance(c.value, str)}
        )
        constants = [c.value for e in exprs for c in _constants(e)]
        days = [v for v in constants if isinstance(v, date) and not isinstance(v, datetime)]
        moments = [v for v in constants if isinstance(v, datetime)]
        self.day: date = min(days, default=date(1970, 1, 1))
        self.moment: datetime = min(moments, default=datetime(1970, 1, 1))
        self.values: dict[Var, Any] = {}
        self.nulls: dict[Var, Any] = {}
        self._formulas: dict[tuple[Expr, bool], Any] = {}
        sorts = {
            Kind.BOOL: z3.Bool,
            Kind.INT: z3.Int,
            Kind.REAL: z3.Real,
            Kind.STR: z3.String,
            Kind.DATE: z3.Int,  # days from self.day
            Kind.DATETIME: z3.Int,  # seconds from self.moment
        }
        for index, (var, kind) in enumerate(self.kinds.items()):
            self.values[var] = sorts[kind](f"v{index}")
            self.nulls[var] = z3.Bool(f"n{index}")

    def goal(self, goal: Goal) -> Any:
        key = (goal.expr, goal.holds)
        formula = self._formulas.get(key)
        if formula is None:
            formula = self.expr(goal.expr)
            formula = self._formulas[key] = formula if goal.holds else self.z3.Not(formula)
        return formula

    def conflict(self, goals: Sequence[Goal]) -> tuple[Goal, ...] | None:
        solver = self.z3.Solver()
        labels = {}
        for index, goal in enumerate(goals):
            label = self.z3.Bool(f"goal{index}")
            labels[str(label)] = goal
            solver.assert_and_track(self.goal(goal), label)
        if solver.check() == self.z3.sat:
            return None
        core = {str(label) for label in solver.unsat_core()}
        return tuple(goal for name, goal in labels.items() if name in core)

    def friendly_values(self, goals: Sequence[Goal]) -> dict[str, Any]:
        z3 = self.z3
        optimize = z3.Optimize()
        for goal in goals:
            optimize.add(self.goal(goal))
        used = {var: self.kinds[var] for goal in goals for var in variables(goal.expr)}
        for var, kind in used.items():
            optimize.add_soft(z3.Not(self.nulls[var]), 100)
            value = self.values[var]
            if kind is Kind.STR:
                candidates = [*self.strings, _other(self.strings)]
                optimize.add_soft(z3.Or([value == z3.StringVal(s) for s in candidates]), 10)
            elif kind is Kind.REAL:
                optimize.add_soft(z3.IsInt(value), 10)
        for var, kind in used.items():
            if kind in (Kind.INT, Kind.REAL, Kind.DATE, Kind.DATETIME):
                value = self.values[var]
                optimize.minimize(z3.If(value >= 0, value, -value))
        if optimize.check() != z3.sat:  # the solver proved them satisfiable a moment ago
            raise RuntimeError("z3 could not optimize satisfiable conditions")
        return self._read(optimize.model(), used)

    def _read(self, model: Any, used: dict[Var, Kind]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for var, kind in used.items():
            is_null = self.z3.is_true(model.eval(self.nulls[var], model_completion=True))
            value = None if is_null else self._value(model, var, kind)
            _place(found, var.path, value)
        return found

    def _value(self, model: Any, var: Var, kind: Kind) -> Value:
        value = model.eval(self.values[var], model_completion=True)
        if kind is Kind.BOOL:
            return bool(self.z3.is_true(value))
        if kind is Kind.INT:
            return int(value.as_long())
        if kind is Kind.REAL:
            number = Fraction(value.as_fraction())
            return int(number) if number.denominator == 1 else float(number)
        if kind is Kind.DATE:
            return (self.day + timedelta(days=value.as_long())).isoformat()
        if kind is Kind.DATETIME:
            return (self.moment + timedelta(seconds=value.as_long())).isoformat()
        return _unescape(str(value.as_string()))

    def expr(self, expr: Expr) -> Any:
        z3 = self.z3
        if isinstance(expr, Literal):
            return z3.BoolVal(expr.value)
        if isinstance(expr, And):
            return z3.And([self.expr(item) for item in expr.items])
        if isinstance(expr, Or):
            return z3.Or([self.expr(item) for item in expr.items])
        if isinstance(expr, Not):
            return z3.Not(self.expr(expr.item))
        return self.compare(expr)

    def compare(self, compare: Compare) -> Any:
        z3 = self.z3
        if compare.op is Op.NE:
            return z3.Not(self.compare(Compare(Op.EQ, compare.left, compare.right)))
        left, right = compare.left, compare.right
        if isinstance(left, Const) and isinstance(right, Const):
            return z3.BoolVal(constant_holds(compare.op, left.value, right.value))
        if isinstance(left, Const):
            return self.compare(Compare(compare.op.mirrored(), right, left))
        assert isinstance(left, Var)
        if isinstance(right, Var):
            return self._between_vars(compare.op, left, right)
        return self._with_constant(compare.op, left, right.value)

    def _with_constant(self, op: Op, var: Var, value: Value) -> Any:
        z3 = self.z3
        null = self.nulls[var]
        if value is None:
            return null if op is Op.EQ else z3.BoolVal(False)
        if not _comparable(self.kinds[var], kind_of(value), op):
            return z3.BoolVal(False)
        return z3.And(z3.Not(null), _relation(op, self.values[var], self._constant(value)))

    def _constant(self, value: Value) -> Any:
        if isinstance(value, datetime):
            return self.z3.IntVal(int((value - self.moment).total_seconds()))
        if isinstance(value, date):
            return self.z3.IntVal((value - self.day).days)
        return _z3_constant(self.z3, value)

    def _between_vars(self, op: Op, left: Var, right: Var) -> Any:
        z3 = self.z3
        both_present = z3.And(z3.Not(self.nulls[left]), z3.Not(self.nulls[right]))
        if not _comparable(self.kinds[left], self.kinds[right], op):
            both_null = z3.And(self.nulls[left], self.nulls[right])
            return both_null if op is Op.EQ else z3.BoolVal(False)
        related = z3.And(both_present, _relation(op, self.values[left], self.values[right]))
        if op is Op.EQ:
            return z3.Or(z3.And(self.nulls[left], self.nulls[right]), related)
        return related


def constant_holds(op: Op, left: Value, right: Value) -> bool:
    """A comparison of two constants, with the semantics above."""
    if left is None or right is None:
        return (left is None and right is None) == (op is Op.EQ) if op in (Op.EQ, Op.NE) else False
    if not _comparable(kind_of(left), kind_of(right), op):
        return op is Op.NE
    operations = {
        Op.EQ: left == right,
        Op.NE: left != right,
        Op.LT: left < right,  # type: ignore[operator]
        Op.LE: left <= right,  # type: ignore[operator]
        Op.GT: left > right,  # type: ignore[operator]
        Op.GE: left >= right,  # type: ignore[operator]
    }
    return operations[op]


def _comparable(a: Kind | None, b: Kind | None, op: Op) -> bool:
    numbers = (Kind.INT, Kind.REAL)
    if a in numbers and b in numbers:
        return True
    if a != b:
        return False
    return op in (Op.EQ, Op.NE) or a is not Kind.BOOL


def _relation(op: Op, left: Any, right: Any) -> Any:
    if op is Op.EQ:
        return left == right
    if op is Op.LT:
        return left < right
    if op is Op.LE:
        return left <= right
    if op is Op.GT:
        return left > right
    return left >= right


def _z3_constant(z3: Any, value: Value) -> Any:
    if isinstance(value, bool):
        return z3.BoolVal(value)
    if isinstance(value, int):
        return z3.IntVal(value)
    if isinstance(value, float):
        return z3.RealVal(str(Fraction(value)))
    return z3.StringVal(value)


def _constants(expr: Expr) -> list[Const]:
    if isinstance(expr, Compare):
        return [side for side in (expr.left, expr.right) if isinstance(side, Const)]
    if isinstance(expr, And | Or):
        return [c for item in expr.items for c in _constants(item)]
    if isinstance(expr, Not):
        return _constants(expr.item)
    return []


def _other(strings: list[str]) -> str:
    candidate, index = OTHER, 1
    while candidate in strings:
        index += 1
        candidate = f"{OTHER}{index}"
    return candidate


def _place(found: dict[str, Any], path: tuple[str, ...], value: Value) -> None:
    here = found
    for part in path[:-1]:
        nested = here.get(part)
        if not isinstance(nested, dict):
            nested = here[part] = {}
        here = nested
    here[path[-1]] = value


_Z3_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")


def _unescape(text: str) -> str:
    """z3 writes a character outside printable ASCII as `\\u{XXXX}`: the character itself."""
    return _Z3_ESCAPE.sub(lambda found: chr(int(found.group(1), 16)), text)
