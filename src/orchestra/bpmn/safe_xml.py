"""Hardened XML parsing: the one door through which untrusted BPMN bytes enter Orchestra.

Every file is treated as hostile. The parser never loads a DTD, never resolves an entity and
never touches the network; a document declaring a DOCTYPE or an ENTITY is refused outright,
before libxml2 sees it, so an XXE or billion-laughs payload costs a regex scan of the prolog.
Size and nesting depth are bounded. A malformed document is refused with libxml2's line and
column, never a traceback.
"""

from __future__ import annotations

import re

from lxml import etree

from orchestra.bpmn.vocabulary import line_of
from orchestra.domain.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Limits
from orchestra.errors import BpmnRefused

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "Limits", "hardened_parser", "parse_xml"]

# What may precede the root element: an XML declaration, processing instructions, comments.
_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_DECLARATION = re.compile(rb"\s*<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_TRAILING_POSITION = re.compile(r"(, line \d+, column \d+)?( \(<string>, line \d+\))?$")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def parse_xml(data: bytes, *, source: str, limits: Limits | None = None) -> etree._Element:
    """Parse untrusted XML into an element tree, or raise BpmnRefused saying why not."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise BpmnRefused(
            f"{source}: the file is {len(data)} bytes, above the limit of {limits.max_bytes}",
            details={"file": source, "code": "too-large"},
        )
    _refuse_declarations(data, source)
    root = _parse(data, source)
    _refuse_doctype_after_parse(root, source)
    _refuse_deep_nesting(root, source, limits.max_depth)
    return root


def hardened_parser() -> etree.XMLParser:
    """A parser that loads no DTD, resolves no entity, touches no network and drops comments
    and processing instructions. A fresh one per document: its error log is per instance and
    not thread-safe."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _refuse_declarations(data: bytes, source: str) -> None:
    """Refuse a DOCTYPE (and any markup declaration) in the prolog, before parsing at all."""
    position = next((len(bom) for bom in _BOMS if data.startswith(bom)), 0)
    while match := _PROLOG_ITEM.match(data, position):
        if match.end() == position:
            break
        position = match.end()
    if declaration := _DECLARATION.match(data, position):
        _refuse_dtd(source, declaration.group(1).decode("ascii").upper())


def _refuse_dtd(source: str, what: str) -> None:
    raise BpmnRefused(
        f"{source}: {what} declarations are not accepted (a DTD or entity could read local "
        "files, reach the network or expand without bound); remove the <!DOCTYPE ...> block",
        details={"file": source, "code": "doctype-refused"},
    )


def _parse(data: bytes, source: str) -> etree._Element:
    try:
        return etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, None)
        reason = _TRAILING_POSITION.sub("", exc.msg or "not well-formed")
        code = "malformed-xml"
        if "Excessive depth" in reason:
            reason = "elements nest too deeply (refusing a document built to exhaust the parser)"
            code = "too-deep"
        where = f"line {line}" + (f", column {column}" if column else "")
        raise BpmnRefused(
            f"{source}: malformed XML at {where}: {reason}",
            details={"file": source, "code": code, "line": line, "column": column},
        ) from exc
    except ValueError as exc:  # e.g. an encoding lxml cannot decode
        raise BpmnRefused(
            f"{source}: unreadable XML: {exc}", details={"file": source, "code": "malformed-xml"}
        ) from exc


def _refuse_doctype_after_parse(root: etree._Element, source: str) -> None:
    """Belt and braces for encodings the prolog scan cannot read (UTF-16 and the like)."""
    docinfo = root.getroottree().docinfo
    if (
        getattr(docinfo, "doctype", "")
        or docinfo.internalDTD is not None
        or docinfo.externalDTD is not None
    ):
        _refuse_dtd(source, "DOCTYPE")


def _refuse_deep_nesting(root: etree._Element, source: str, max_depth: int) -> None:
    depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        if depth > max_depth:
            raise BpmnRefused(
                f"{source}: elements nest deeper than {max_depth} levels "
                f"(line {line_of(element)}); refusing a document built to exhaust the parser",
                details={"file": source, "code": "too-deep", "line": line_of(element)},
            )
