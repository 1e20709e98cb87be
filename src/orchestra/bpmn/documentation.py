"""The `<documentation>` of each element of a BPMN file: what its author wrote about it.

Not part of the process graph (prose does not change what a test does, nor a version's
checksum); read from the stored source when a scaffold matches tasks to an API's operations.
"""

from __future__ import annotations

from orchestra.bpmn.safe_xml import parse_xml
from orchestra.bpmn.vocabulary import local_name


def documentation_by_id(data: bytes, *, source: str) -> dict[str, str]:
    """Element id -> its documentation's text (several joined), for elements that have one."""
    root = parse_xml(data, source=source)
    found: dict[str, str] = {}
    for element in root.iter():
        if not isinstance(element.tag, str) or local_name(element.tag) != "documentation":
            continue
        parent = element.getparent()
        owner = parent.get("id") if parent is not None else None
        text = " ".join("".join(str(part) for part in element.itertext()).split())
        if owner and text:
            found[owner] = f"{found[owner]} {text}" if owner in found else text
    return found
