"""Secrets out of everything the executor returns: each secret value becomes "***".

Applied to the request as sent, the response, error messages, saved values and exports, so
nothing stored or reported can hold a secret in clear. Credentials headers are masked whatever
their value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from yarl import URL

MASK = "***"
_NAMES_KEPT = 1024
_PLAIN = frozenset({int, float, bool, type(None)})  # no secret can hide in these
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)


def encoded_forms(secret: str) -> set[str]:
    """The secret as written, and as it appears once URL-encoded or JSON-escaped."""
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        URL.build(query={"k": secret}).raw_query_string[2:],  # as the HTTP client sends it
        URL.build(path=f"/{secret}").raw_path[1:],  # in a path, where it keeps : @ + = ...
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), headers: Iterable[str] = ()) -> None:
        self._secrets: set[str] = {value for value in secrets if value}
        self._headers = SENSITIVE_HEADERS | {name.lower() for name in headers}
        # the header names of a request or response, as written -> those masked whatever
        # their value, and their lower-case names: most share a few sets of names
        self._names: dict[tuple[str, ...], tuple[frozenset[str], frozenset[str]]] = {}
        self._pattern: re.Pattern[str] | None = None
        self._compile()

    def _compile(self) -> None:
        # Every form a secret takes on the wire (URL-encoded in a query or form, escaped in
        # JSON), longest first, so a secret containing another is masked whole.
        forms = {form for secret in self._secrets for form in encoded_forms(secret)}
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def add(self, secret: str) -> None:
        """A secret learnt at run time (an OAuth2 access token)."""
        if secret and secret not in self._secrets:
            self._secrets.add(secret)
            self._compile()

    @property
    def masks_values(self) -> bool:
        """Whether any secret value is known: without one, only headers are masked, by name."""
        return self._pattern is not None

    def text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def value(self, value: Any) -> Any:
        """Any JSON-like value with every secret masked in its strings (keys included).

        A value holding no secret comes back as the very same object, so callers can skip
        copying what did not change.
        """
        if self._pattern is None or type(value) in _PLAIN:
            return value
        if isinstance(value, str):
            return self._pattern.sub(MASK, value) if self._pattern.search(value) else value
        if isinstance(value, dict):
            changed = False
            masked = {}
            for key, item in value.items():
                new_key, new_item = self.value(key), self.value(item)
                changed = changed or new_key is not key or new_item is not item
                masked[new_key] = new_item
            return masked if changed else value
        if isinstance(value, list | tuple):
            items = [self.value(item) for item in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    def json_body(self, parsed: Any, raw: bytes) -> Any:
        """A parsed JSON body: walked only when its raw text may hold a secret."""
        if self._pattern is None:
            return parsed
        text = raw.decode("utf-8", "replace")
        if "\\" not in text and self._pattern.search(text) is None:
            return parsed  # no escape sequence could hide a secret from the raw search
        return self.value(parsed)

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        hidden = self._by_name(headers)[0]
        if hidden:
            masked = {key: MASK if key in hidden else value for key, value in headers.items()}
        else:
            masked = dict(headers)
        # One search over every value: a secret found in none of them is found in their join.
        if self._pattern is None or self._pattern.search("\n".join(masked.values())) is None:
            return masked
        return {
            key: MASK if key in hidden else self._pattern.sub(MASK, value)
            for key, value in headers.items()
        }

    def credentials(self, headers: dict[str, str]) -> frozenset[str]:
        """The lower-case names of the headers that carry a credential: by name (Authorization,
        an API key's header) or by value (one holding a secret)."""
        hidden, lower = self._by_name(headers)
        if self._pattern is None:
            return lower
        rest = {key: value for key, value in headers.items() if key not in hidden}
        # one search over the others' values: most requests carry no secret there
        if self._pattern.search("\n".join(rest.values())) is None:
            return lower
        found = {key for key, value in rest.items() if self._pattern.search(value)}
        return lower | {key.lower() for key in found}

    def _by_name(self, headers: dict[str, str]) -> tuple[frozenset[str], frozenset[str]]:
        """The names of the credentials headers, masked whatever their value, as written and
        in lower case (each set of names is looked at once)."""
        names = tuple(headers)
        found = self._names.get(names)
        if found is None:
            if len(self._names) >= _NAMES_KEPT:
                self._names.clear()
            hidden = frozenset(key for key in names if key.lower() in self._headers)
            found = self._names[names] = (hidden, frozenset(key.lower() for key in hidden))
        return found
