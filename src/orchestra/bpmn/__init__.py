"""BPMN 2.0 XML -> the domain process graph. The only package of Orchestra that touches XML.

read_bpmn(data, source=..., limits=Limits())  -> ImportedModel (processes + problems),
                                                 or BpmnRefused for hostile/malformed input
checksum(graph)                               -> the content hash that decides versions
"""

from orchestra.bpmn.canonical import canonical_json, checksum
from orchestra.bpmn.reader import read_bpmn
from orchestra.bpmn.safe_xml import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Limits

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "Limits",
    "canonical_json",
    "checksum",
    "read_bpmn",
]
