"""Where the shared BPMN corpus lives: `ORCHESTRA_BPMN_CORPUS`, else `shared/corpus/bpmn-miwg`
in a parent of the repository (worktrees sit a level or two below it)."""

from __future__ import annotations

import os
from pathlib import Path

# The exact outcome over the corpus; a change here is a behaviour change to explain.
CORPUS_FILES = 369
CORPUS_REFUSED = {
    "IBM Process Designer 8.0.1/A.3.0-export.bpmn",  # xmlns:Process with a space in its URI
    "IBM Process Designer 8.0.1/A.3.0-roundtrip.bpmn",  # idem
}
CORPUS_PROCESSES = 680  # in the 367 files that import
CORPUS_STORED_VERSIONS = 611  # rows after importing the corpus once into an empty database


def corpus_dir() -> Path | None:
    configured = os.environ.get("ORCHESTRA_BPMN_CORPUS")
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "corpus" / "bpmn-miwg"
        if candidate.is_dir():
            return candidate
    return None


def corpus_files() -> list[Path]:
    root = corpus_dir()
    return sorted(root.glob("*/*.bpmn")) if root is not None else []
