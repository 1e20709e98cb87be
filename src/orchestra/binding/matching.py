"""Which operation of an API description a task calls: a transparent word-overlap score.

An operation's words are those of its operationId, summary and description, the literal
segments of its path and its tags, plus the verbs its method usually stands for (POST: create,
add, register...). Words are compared by a crude stem (`loans`, `loan`; `borrowed`, `borrow`),
without the little words (a, the, of...). For a task named N, documented D:

    score = name + id / 2 + doc / 4
    name  the share of N's words the operation has
    id    the share of the operationId's words (else the path's) found in N or D
    doc   the share of D's words the operation has

The best operation wins; the scaffold's comment gives its score, the shared words and the
runner-up. A task sharing no word but verbs (create, get, update...) with any operation, or tied
between two operations, is left unmatched, saying why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from orchestra.binding.openapi import Operation

_STOP = frozenset(
    {"a", "an", "the", "of", "to", "for", "and", "or", "in", "on", "by", "with", "from", "is"}
    | {"are", "be", "its", "it", "this", "that", "as", "at", "into", "per", "their", "our"}
)
_METHOD_WORDS = {
    "POST": "create add new register submit post make place open start send",
    "GET": "get read fetch show list find look check view load query retrieve",
    "PUT": "update change set replace modify edit put",
    "PATCH": "update change set modify edit patch",
    "DELETE": "delete remove cancel drop close",
}
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def stem(word: str) -> str:
    """`loans` -> loan, `borrowed` -> borrow, `entries` -> entry, `create` -> creat."""
    word = word.lower()
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return _trim(word[: -len(suffix)] + replacement)
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        word = word[:-1]
    return _trim(word)


def _trim(word: str) -> str:
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def vocabulary(*texts: str | None) -> dict[str, str]:
    """Each word's stem -> the word as first written (lower case), for showing."""
    found: dict[str, str] = {}
    for text in texts:
        for part in _CAMEL.findall(text or ""):
            if part.lower() not in _STOP and len(part) > 1:
                found.setdefault(stem(part), part.lower())
    return found


def words(*texts: str | None) -> frozenset[str]:
    return frozenset(vocabulary(*texts))


def _all_verbs() -> frozenset[str]:
    return frozenset().union(*(words(verbs) for verbs in _METHOD_WORDS.values()))


def operation_words(operation: Operation) -> tuple[frozenset[str], frozenset[str]]:
    """(its own words, its method's verbs)."""
    segments = [s for s in operation.path.split("/") if s and not s.startswith("{")]
    own = words(operation.operation_id, operation.summary, *segments, *operation.tags)
    return own, words(_METHOD_WORDS.get(operation.method, ""))


@dataclass(frozen=True)
class Candidate:
    operation: Operation
    score: float
    name: tuple[str, ...]  # the name's words the operation has
    id: tuple[str, ...]  # the operationId's words the task has
    doc: tuple[str, ...]  # the documentation's words the operation has
    own: bool  # a word shared that is not a verb any method stands for

    def describe(self) -> str:
        parts = [f"name: {', '.join(self.name) or '-'}", f"id: {', '.join(self.id) or '-'}"]
        if self.doc:
            parts.append(f"doc: {', '.join(self.doc)}")
        return f"{self.operation.label} {self.score:.2f} ({'; '.join(parts)})"


@dataclass(frozen=True)
class Match:
    best: Candidate | None
    runner_up: Candidate | None
    why_not: str | None  # when `best` is None

    def comment(self) -> str:
        if self.best is None:
            return f"unmatched: {self.why_not}"
        text = f"matched {self.best.describe()}"
        if self.runner_up is not None:
            text += f"; runner-up {self.runner_up.describe()}"
        return text


def match(name: str, documentation: str | None, operations: Sequence[Operation]) -> Match:
    shown = vocabulary(name, documentation)
    named, documented = words(name), words(documentation) - words(name)
    if not named and not documented:
        return Match(None, None, f"{name!r} has no word to compare with the operations")
    ranked = sorted(
        (_candidate(named, documented, operation, shown) for operation in operations),
        key=lambda c: (-c.score, c.operation.label),
    )
    ranked = [c for c in ranked if c.own]
    if not ranked:
        task = ", ".join(sorted(shown.values()))
        return Match(None, None, f"no operation shares a word but verbs with it ({task})")
    best, runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    if runner_up is not None and round(runner_up.score, 6) == round(best.score, 6):
        tied = f"{best.describe()} and {runner_up.describe()}"
        return Match(None, runner_up, f"two operations fit as well: {tied}")
    return Match(best, runner_up, None)


def _candidate(
    named: frozenset[str], documented: frozenset[str], operation: Operation, shown: dict[str, str]
) -> Candidate:
    own, verbs = operation_words(operation)
    identity = words(operation.operation_id) or words(
        *[s for s in operation.path.split("/") if not s.startswith("{")]
    )
    name = named & (own | verbs)
    doc = documented & own
    ids = identity & (named | documented)
    score = (
        (len(name) / len(named) if named else 0.0)
        + (len(ids) / len(identity) if identity else 0.0) / 2
        + (len(doc) / len(documented) if documented else 0.0) / 4
    )
    shared_own = bool(((named | documented) & own) - _VERBS)
    return Candidate(
        operation,
        score,
        tuple(sorted(shown[word] for word in name)),
        tuple(sorted(shown[word] for word in ids)),
        tuple(sorted(shown[word] for word in doc)),
        shared_own,
    )


_VERBS = _all_verbs()
