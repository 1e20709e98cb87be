"""How much one BPMN file may weigh and how deep its elements may nest.

Apart from the parser (`orchestra.bpmn.safe_xml`) so that reading a file within the limits
imports no XML library.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_DEPTH = 200


@dataclass(frozen=True, slots=True)
class Limits:
    """How much a single BPMN file may weigh and how deep its elements may nest."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
