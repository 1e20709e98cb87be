"""Import benchmark: the whole BPMN corpus, parse + validate alone, then parse + validate + store.

Stores into a throwaway embedded PostgreSQL in a temporary directory (started before the clock
runs, stopped after), one transaction per file as `orchestra import` does. Target on a 2-core
machine: the whole corpus imported in under 10 s. `python -m bench bench_import`
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from pathlib import Path

from tests.corpus import corpus_dir, corpus_files

from orchestra.bpmn import read_bpmn
from orchestra.errors import BpmnRefused
from orchestra.services import importing
from orchestra.store import pgdata
from orchestra.store.database import Database, ServerInfo, connect_pool
from orchestra.store.embedded import embedded_database_url

TARGET_SECONDS = 10.0


def main() -> None:
    root = corpus_dir()
    if root is None:
        print("no corpus found (set ORCHESTRA_BPMN_CORPUS)")
        return
    files = [(str(path.relative_to(root)), path.read_bytes()) for path in corpus_files()]
    megabytes = sum(len(data) for _, data in files) / 1e6
    print(f"corpus: {len(files)} files, {megabytes:.1f} MB ({root})")
    _report("parse + validate", len(files), megabytes, _time_parsing(files))
    home = Path(tempfile.mkdtemp(prefix="orchestra-bench-"))
    try:
        url = embedded_database_url(home)
        first, again = asyncio.run(_time_storing(url, files))
    finally:
        _stop_embedded(home / "pgdata")
        shutil.rmtree(home, ignore_errors=True)
    _report("parse + validate + store", len(files), megabytes, first)
    _report("re-import, nothing new", len(files), megabytes, again)
    verdict = "within" if first < TARGET_SECONDS else "ABOVE"
    print(f"whole corpus imported in {first:.2f} s: {verdict} the {TARGET_SECONDS:.0f} s target")


def _time_parsing(files: list[tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    for name, data in files:
        with contextlib.suppress(BpmnRefused):
            read_bpmn(data, source=name)
    return time.perf_counter() - started


async def _time_storing(url: str, files: list[tuple[str, bytes]]) -> tuple[float, float]:
    async with connect_pool(url, max_size=2, upgrade=True) as pool:
        db = Database(pool, ServerInfo(url=url, embedded=True))
        first = await _import_all(db, files)
        again = await _import_all(db, files)
    return first, again


async def _import_all(db: Database, files: list[tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    for name, data in files:
        try:
            async with db.transaction() as uow:
                await importing.import_bpmn(uow, data, source=name)
        except BpmnRefused:
            continue
    return time.perf_counter() - started


def _report(label: str, files: int, megabytes: float, seconds: float) -> None:
    print(
        f"{label:<26} {seconds:6.2f} s  {files / seconds:8.1f} files/s  "
        f"{megabytes / seconds:6.2f} MB/s"
    )


def _stop_embedded(data: Path) -> None:
    pgdata.stop_postmaster(data)
