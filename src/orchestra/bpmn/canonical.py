"""The canonical form of a process, and the checksum that decides its version."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from orchestra.domain.process import ProcessGraph

# Where an element sits in the file, and which tool version saved it, is not what the process
# is: reformatting the XML, editing another process of the same file or saving it again with a
# newer modeller changes neither the process nor its tests.
_NOT_CONTENT: Any = {
    "exporter": True,
    "nodes": {"__all__": {"line"}},
    "flows": {"__all__": {"line"}},
}


def canonical_json(graph: ProcessGraph) -> str:
    """The graph as compact JSON with sorted keys, without source positions or exporter."""
    payload = graph.model_dump(mode="json", exclude=_NOT_CONTENT)
    for node in payload["nodes"]:
        # Added after processes were stored: a node without details is written as before, so
        # re-importing an unchanged file without timers or refs finds its stored version.
        if not node["event_details"]:
            del node["event_details"]
        if node["compensation_handler"] is None:
            del node["compensation_handler"]
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum(graph: ProcessGraph) -> str:
    """sha256 of the canonical form: equal checksums mean the same process content."""
    return hashlib.sha256(canonical_json(graph).encode("utf-8")).hexdigest()
