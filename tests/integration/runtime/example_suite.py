"""The bundled order example (`orchestra demo`'s) as a suite run of many data rows, for the
chaos tests: imported, its environment applied with the SUT's URL, generated with its bindings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestra.binding.datasets import load_dataset
from orchestra.domain.records import SuiteRun
from orchestra.examples.order import (
    BINDINGS_FILE,
    DATASET_FILE,
    PROCESS_FILE,
    environment_text,
    example_path,
)
from orchestra.services import config, generating, importing, running
from orchestra.store.database import Database

DATA_SET = "chaos-customers"


def example_rows(count: int) -> list[dict[str, Any]]:
    """`count` rows made from the example's own, each customer named apart."""
    rows = load_dataset(example_path(DATASET_FILE))
    return [
        {**rows[i % len(rows)], "customer": f"{rows[i % len(rows)]['customer']} {i}"}
        for i in range(count)
    ]


async def start_example_suite(
    db: Database, base_url: str, rows: int, folder: Path, *, max_attempts: int
) -> tuple[SuiteRun, int]:
    """A suite run of the example's all-flows suite over `rows` data rows against the SUT at
    `base_url`; with the number of scenarios."""
    source = example_path(PROCESS_FILE).read_bytes()
    async with db.transaction() as uow:
        imported = await importing.import_bpmn(uow, source, source=PROCESS_FILE)
    process = imported.processes[0].stored
    environment_file = folder / "environment.yaml"
    environment_file.write_text(environment_text(base_url), encoding="utf-8")
    environment = (await config.apply_environment(db, environment_file))["environment"]
    async with db.transaction() as uow:
        await uow.config.upsert_data_set(DATA_SET, example_rows(rows))
    summary = await generating.generate(
        db, f"{process.key}@{process.version}", bindings=example_path(BINDINGS_FILE)
    )
    suite_run = await running.start_suite_run(
        db,
        int(summary["suite"]),
        environment=str(environment),
        data_set=DATA_SET,
        max_attempts=max_attempts,
    )
    return suite_run, int(summary["scenarios"])
