"""Which language a condition is written in, and its parse."""

from __future__ import annotations

import re

from orchestra.domain.conditions.errors import NotUnderstood
from orchestra.domain.conditions.infix import FEEL, JUEL, XPATH, parse_infix
from orchestra.domain.conditions.python_expr import parse_python
from orchestra.domain.conditions.tree import Expr

# language URIs and names as modelling tools write them, lower-cased
_NAMES = {
    "feel": "feel",
    "https://www.omg.org/spec/dmn/20191111/model/#feel": "feel",
    "http://www.omg.org/spec/feel/20140401": "feel",
    "juel": "juel",
    "el": "juel",
    "xpath": "xpath",
    "python": "python",
    "javascript": "javascript",
    "groovy": "groovy",
}


def language_of(text: str, language: str | None) -> str:
    """`feel`, `juel`, `python`, or the language's own name when Orchestra does not read it.

    The expression's `language` attribute (the importer falls back to the definitions'
    `expressionLanguage`) decides, then the text: `=` opens FEEL (Camunda 8), `${` or `#{` EL
    (Camunda 7, Flowable, Activiti), `getDataObject('x')` BPMN's XPath; anything else is read
    as Python (SpiffWorkflow). XPath, BPMN's default, names only the last: exporters leave it
    over conditions in the other languages."""
    stripped = text.strip()
    if language:
        key = language.strip().lower()
        named = _NAMES.get(key) or next(
            (v for k, v in _NAMES.items() if len(k) > 2 and k in key), key
        )  # a URI names its language inside it; "el" alone would match "mvel" and "model"
        if named != "xpath" or _DATA_OBJECT.search(stripped):
            return named  # XPath is BPMN's default: exporters leave it over FEEL or EL
    if _DATA_OBJECT.search(stripped):
        return "xpath"
    if stripped.startswith("="):
        return "feel"
    if _looks_like_el(stripped):
        return "juel"
    return "python"


# BPMN's own XPath function for a data object's value: bpmn:getDataObject('approved')
_DATA_OBJECT = re.compile(r"(?:\b\w+:)?getDataObject\(\s*'([A-Za-z_]\w*)'\s*\)")


def _looks_like_el(text: str) -> bool:
    return text.startswith(("${", "#{")) and text.endswith("}")


def parse_condition(text: str, language: str | None = None) -> Expr:
    """The expression tree of one condition; NotUnderstood when it is outside the subset."""
    stripped = text.strip()
    kind = language_of(stripped, language)
    if kind == "feel":
        return parse_infix(stripped.removeprefix("="), FEEL)
    if kind == "juel":
        if not _looks_like_el(stripped):
            raise NotUnderstood("an EL condition is written ${...}")
        return parse_infix(stripped[2:-1], JUEL)
    if kind == "xpath":
        return parse_infix(_DATA_OBJECT.sub(r"\1", stripped), XPATH)
    if kind == "python":
        return parse_python(stripped)
    raise NotUnderstood(f"the language {kind!r}")
