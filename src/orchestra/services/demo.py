"""The demo: the whole product on the bundled order example, end to end.

It starts the example SUT on 127.0.0.1, imports the process, applies the environment and the
data set, generates an all-flows suite with the bindings, runs it on several workers, and writes
the three reports and the suite's coverage page. The example carries one deliberate defect, so
the demo shows a real failure next to the passes; it checks that it saw exactly what the
example should give.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestra.binding.factory import executor_factory
from orchestra.config import Settings
from orchestra.errors import OrchestraError, UsageError
from orchestra.examples.order import (
    BINDINGS_FILE,
    DATASET_FILE,
    EXPECTED,
    PROCESS_FILE,
    TOKEN_VARIABLE,
    environment_text,
    example_path,
)
from orchestra.examples.order.sut import run_example_sut
from orchestra.reports import ReportFormat
from orchestra.runtime.worker import WorkerOptions
from orchestra.services import config, generating, importing, reporting, running
from orchestra.services.failures import Failure, suite_run_failures
from orchestra.store.database import Database, open_database

DATA_SET = "order-demo"
Step = Callable[[str], None]


class DemoBroken(OrchestraError):
    """The demo ran but did not show what the example must give: something in Orchestra broke."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    server: str
    suite_id: int
    suite_run_id: int
    scenarios: int
    coverage: dict[str, Any]
    counts: dict[str, int]
    failures: list[Failure]
    seconds: float
    reports: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "suite": self.suite_id,
            "suite_run": self.suite_run_id,
            "scenarios": self.scenarios,
            "coverage": self.coverage,
            "counts": self.counts,
            "failures": [failure.to_json() for failure in self.failures],
            "seconds": round(self.seconds, 2),
            "reports": self.reports,
        }


async def run_demo(
    settings: Settings,
    out_dir: Path,
    *,
    workers: int = 3,
    concurrency: int = 4,
    say: Step = lambda _: None,
    on_progress: Callable[[running.Progress, float], None] | None = None,
) -> DemoResult:
    started = time.monotonic()
    try:
        await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    except OSError as exc:  # under a file, read-only, no permission: before anything starts
        raise UsageError(f"cannot write the demo's reports to {out_dir}: {exc.strerror}") from exc
    token = secrets.token_urlsafe(16)
    async with open_database(settings, max_size=2 + 3 * workers) as db:
        say(f"PostgreSQL: {'embedded' if db.server.embedded else 'external'} server ready")
        async with run_example_sut(token=token) as base_url:
            say(f"example SUT: order service listening on {base_url}")
            suite_id, environment, summary = await _prepare(db, out_dir, base_url, say)
            suite_run = await running.start_suite_run(
                db, suite_id, environment=environment, data_set=DATA_SET
            )
            say(f"suite run {suite_run.id}: {workers} workers × {concurrency} runs each")
            final, _ = await running.work_until_done(
                db,
                suite_run.id,
                executor_factory({TOKEN_VARIABLE: token}),
                workers=workers,
                options=WorkerOptions(concurrency=concurrency),
                on_progress=on_progress,
            )
        reports = {
            fmt.value: str(
                await reporting.write_report(
                    db, suite_run.id, fmt.value, out_dir / f"report{fmt.suffix}"
                )
            )
            for fmt in ReportFormat
        }
        coverage_page = out_dir / "coverage.html"  # the suite's coverage, before any outcome
        await reporting.write_suite_report(db, suite_id, coverage_page)
        reports["coverage"] = str(coverage_page)
        failures = await suite_run_failures(db, suite_run.id)
    result = DemoResult(
        server="embedded" if db.server.embedded else "external",
        suite_id=suite_id,
        suite_run_id=suite_run.id,
        scenarios=summary["scenarios"],
        coverage=summary["coverage"],
        counts={status.value: n for status, n in final.counts.items()},
        failures=failures,
        seconds=time.monotonic() - started,
        reports=reports,
    )
    _check(result)
    return result


async def _prepare(
    db: Database, out_dir: Path, base_url: str, say: Step
) -> tuple[int, str, dict[str, Any]]:
    process_file = example_path(PROCESS_FILE)
    source = await asyncio.to_thread(process_file.read_bytes)
    async with db.transaction() as uow:
        imported = await importing.import_bpmn(uow, source, source=str(process_file))
    process = imported.processes[0].stored
    say(f"imported {PROCESS_FILE}: process {process.key} version {process.version}")
    environment_file = out_dir / "environment.yaml"
    await asyncio.to_thread(
        environment_file.write_text, environment_text(base_url), encoding="utf-8"
    )
    environment = (await config.apply_environment(db, environment_file))["environment"]
    data = await config.import_data_set(db, DATA_SET, example_path(DATASET_FILE))
    say(f"environment {environment!r} and data set {DATA_SET!r} ({data['rows']} rows) applied")
    summary = await generating.generate(
        db, f"{process.key}@{process.version}", bindings=example_path(BINDINGS_FILE)
    )
    coverage = summary["coverage"]
    say(
        f"generated suite {summary['suite']}: {summary['scenarios']} scenarios (all-flows), "
        f"flows {coverage['flows_covered']}/{coverage['flows_total']}, "
        f"nodes {coverage['nodes_covered']}/{coverage['nodes_total']}"
    )
    return int(summary["suite"]), str(environment), summary


def _check(result: DemoResult) -> None:
    """The example must give exactly its expected outcome; anything else is a regression."""
    seen = {
        "scenarios": result.scenarios,
        "test_runs": sum(result.counts.values()),
        "passed": result.counts.get("PASSED", 0),
        "failed": result.counts.get("FAILED", 0),
        "flows": result.coverage["flows_covered"],
    }
    wanted = {key: EXPECTED[key] for key in seen}
    failed_at = {str(f.element_id) for f in result.failures}
    if seen != wanted or (result.failures and failed_at != {EXPECTED["failed_at"]}):
        raise DemoBroken(
            f"the demo ran but did not show what the example gives: expected {wanted}, "
            f"saw {seen}, failures at {sorted(failed_at)}",
            details={"result": result.to_json()},
        )
