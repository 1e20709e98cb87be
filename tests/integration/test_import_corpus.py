"""The whole corpus through the import service into PostgreSQL, twice."""

from __future__ import annotations

import pytest

from orchestra.errors import BpmnRefused
from orchestra.services import importing
from orchestra.store.database import Database
from tests.corpus import (
    CORPUS_FILES,
    CORPUS_PROCESSES,
    CORPUS_REFUSED,
    CORPUS_STORED_VERSIONS,
    corpus_dir,
    corpus_files,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(corpus_dir() is None, reason="the BPMN corpus is not here"),
]


async def import_corpus(db: Database) -> tuple[int, set[str], int]:
    """Import every corpus file on its own; return (processes imported, refused files, new)."""
    root = corpus_dir()
    assert root is not None
    processes, created, refused = 0, 0, set()
    for path in corpus_files():
        name = str(path.relative_to(root))
        try:
            async with db.transaction() as uow:
                outcome = await importing.import_bpmn(uow, path.read_bytes(), source=name)
        except BpmnRefused:
            refused.add(name)
            continue
        processes += len(outcome.processes)
        created += sum(item.created for item in outcome.processes)
    return processes, refused, created


async def count_rows(db: Database) -> int:
    async with db.connection() as conn:
        cursor = await conn.execute("SELECT count(*) AS n FROM process")
        row = await cursor.fetchone()
    assert row is not None
    return int(row["n"])


async def test_the_corpus_imports_with_exact_counts_and_again_adds_nothing(db: Database) -> None:
    assert len(corpus_files()) == CORPUS_FILES
    processes, refused, created = await import_corpus(db)
    assert refused == CORPUS_REFUSED
    assert processes == CORPUS_PROCESSES
    # Tools reuse process ids (`Process_1`...): same key, other content = another version.
    assert created == await count_rows(db) == CORPUS_STORED_VERSIONS
    assert await import_corpus(db) == (CORPUS_PROCESSES, CORPUS_REFUSED, 0)
    assert await count_rows(db) == CORPUS_STORED_VERSIONS
