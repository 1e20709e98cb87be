"""The end of `orchestra test --junit`: the report of 200 runs x 5 steps, loaded and written.

`bench_test_command`'s project is run once (`orchestra test ... --junit`), then its suite run's
report is loaded from the database and rendered as JUnit XML in this process, as
`reporting.write_reports` does when every run passed: the first call (what the command pays)
and the median of `BENCH_REPORT_ROUNDS` more (default 7), wall and CPU, with the load and the
render apart. Compare trees by running it on each (the figures of one machine, one load).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.bench_test_command import project_under_test

ROUNDS = int(os.environ.get("BENCH_REPORT_ROUNDS", "7"))


async def _measure(url: str, folder: Path) -> dict[str, list[tuple[float, float]]]:
    from orchestra.reports import render
    from orchestra.services import reporting, testing  # noqa: F401  (the command's imports)
    from orchestra.store.database import Database, ServerInfo, connect_pool

    figures: dict[str, list[tuple[float, float]]] = {"write": [], "load": [], "render": []}
    async with connect_pool(url, max_size=2, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url, embedded=False))
        async with db.connection() as conn:
            cursor = await conn.execute("SELECT id, suite_id FROM suite_run ORDER BY id LIMIT 1")
            row = await cursor.fetchone()
        assert row is not None
        async with db.transaction() as uow:
            suite = await uow.suites.get(row["suite_id"])
        paths = {"junit": folder / "again.xml"}
        for _ in range(1 + ROUNDS):
            wall, cpu = time.perf_counter(), time.process_time()
            await reporting.write_reports(db, row["id"], paths, held=reporting.Held(suite=suite))
            figures["write"].append((time.perf_counter() - wall, time.process_time() - cpu))
        for _ in range(ROUNDS):
            wall, cpu = time.perf_counter(), time.process_time()
            report = await reporting.load_report(db, row["id"], held=reporting.Held(suite=suite))
            figures["load"].append((time.perf_counter() - wall, time.process_time() - cpu))
            wall, cpu = time.perf_counter(), time.process_time()
            render(report, "junit")
            figures["render"].append((time.perf_counter() - wall, time.process_time() - cpu))
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, project_under_test(Path(tmp)) as project:
        subprocess.run(project.test, env=project.env, check=True, stdout=subprocess.DEVNULL)
        figures = asyncio.run(_measure(project.url, Path(tmp)))
    _report(figures)


def _report(figures: dict[str, list[tuple[float, float]]]) -> None:
    wall, cpu = figures["write"][0]
    print(f"  write_reports(junit), first call: {wall * 1000:.1f} ms ({cpu * 1000:.1f} CPU)")
    later = {"write_reports": figures["write"][1:], "load": figures["load"]}
    for name, rounds in {**later, "render": figures["render"]}.items():
        wall = statistics.median(w for w, _ in rounds) * 1000
        cpu = statistics.median(c for _, c in rounds) * 1000
        print(f"  {name}, later calls (median of {len(rounds)}): {wall:.1f} ms ({cpu:.1f} CPU)")


if __name__ == "__main__":
    main()
