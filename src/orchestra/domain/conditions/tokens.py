"""The tokens of FEEL and JUEL/EL conditions: numbers, strings, names and operators."""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestra.domain.conditions.errors import NotUnderstood

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>\.\.|==|!=|<=|>=|&&|\|\||[=<>!().,\[\]\-])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "string", "name", "op", "end"
    text: str
    position: int


def tokenize(text: str, *, single_quotes: bool) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise NotUnderstood(f"unexpected {text[position]!r}", position)
        kind = match.lastgroup or "op"
        if kind == "string" and match.group().startswith("'") and not single_quotes:
            raise NotUnderstood("a string in single quotes", position)
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def string_value(token: Token) -> str:
    return re.sub(r"\\(.)", r"\1", token.text[1:-1])


def number_value(token: Token) -> int | float:
    return float(token.text) if "." in token.text else int(token.text)


class Cursor:
    """Reads a token list front to back."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0

    @property
    def peek(self) -> Token:
        return self._tokens[self._index]

    def ahead(self, offset: int) -> Token:
        """The token `offset` places after the next one (the end token past the end)."""
        return self._tokens[min(self._index + offset, len(self._tokens) - 1)]

    def next(self) -> Token:
        token = self._tokens[self._index]
        self._index = min(self._index + 1, len(self._tokens) - 1)
        return token

    def accept(self, *texts: str) -> Token | None:
        """The next token if it is one of `texts` (names compare case-sensitively)."""
        token = self.peek
        if token.kind in ("op", "name") and token.text in texts:
            return self.next()
        return None

    def expect(self, text: str) -> Token:
        token = self.accept(text)
        if token is None:
            raise self.unexpected(f"expected {text!r}")
        return token

    def unexpected(self, what: str = "unexpected") -> NotUnderstood:
        token = self.peek
        found = "the end" if token.kind == "end" else repr(token.text)
        return NotUnderstood(f"{what}, found {found}", token.position)
