"""The schema holds every entity and field of the data model, with its invariants."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg.rows import TupleRow

from orchestra.store import migrate

# table -> {column: data_type as information_schema names it}
SEED_FIELDS: dict[str, dict[str, str]] = {
    "process": {
        "key": "text",
        "name": "text",
        "version": "integer",
        "source_xml": "text",
        "checksum": "text",
        "graph": "jsonb",
    },
    "scenario_suite": {
        "process_id": "bigint",
        "criterion": "USER-DEFINED",
        "parameters": "jsonb",
        "coverage": "jsonb",
    },
    "test_scenario": {
        "suite_id": "bigint",
        "name": "text",
        "position": "integer",
        "path": "jsonb",
        "depends_on": "jsonb",
    },
    "scenario_step": {
        "scenario_id": "bigint",
        "position": "integer",
        "kind": "USER-DEFINED",
        "element_id": "text",
        "branch": "text",
        "spec": "jsonb",
        "meta": "jsonb",
    },
    "test_data_set": {"name": "text", "rows": "jsonb"},
    "environment": {"name": "text", "configuration": "jsonb", "secret_refs": "jsonb"},
    "suite_run": {
        "suite_id": "bigint",
        "environment_id": "bigint",
        "data_set_id": "bigint",
        "status": "USER-DEFINED",
        "context": "jsonb",
        "summary": "jsonb",
        "created_at": "timestamp with time zone",
        "started_at": "timestamp with time zone",
        "finished_at": "timestamp with time zone",
    },
    "test_run": {
        "suite_run_id": "bigint",
        "scenario_id": "bigint",
        "data_row_index": "integer",
        "status": "USER-DEFINED",
        "execution_context": "jsonb",
        "locked_by": "text",
        "lock_until": "timestamp with time zone",
        "heartbeat_at": "timestamp with time zone",
        "attempt": "integer",
        "max_attempts": "integer",
        "created_at": "timestamp with time zone",
        "started_at": "timestamp with time zone",
        "finished_at": "timestamp with time zone",
        "error": "text",
    },
    "step_result": {
        "test_run_id": "bigint",
        "position": "integer",
        "attempt": "integer",
        "status": "USER-DEFINED",
        "started_at": "timestamp with time zone",
        "duration_ms": "double precision",
        "request": "jsonb",
        "response": "jsonb",
        "checks": "jsonb",
        "error": "text",
    },
}

ENUMS = {
    "step_kind": ["ACTION", "ASSERTION", "BARRIER"],
    "suite_run_status": ["IN_PROGRESS", "PASSED", "FAILED", "CANCELLED"],
    "test_run_status": [
        "PENDING",
        "QUEUED",
        "RUNNING",
        "PASSED",
        "FAILED",
        "ERROR",
        "SKIPPED",
        "CANCELLED",
        "FAILED_STUCK",
    ],
}


def test_migrations_take_an_empty_database_to_head_and_a_second_upgrade_changes_nothing(
    empty_database_url: str,
) -> None:
    assert migrate.status(empty_database_url).current is None
    first = migrate.upgrade(empty_database_url)
    assert first.is_current
    with psycopg.connect(empty_database_url) as conn:
        tables_before = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    second = migrate.upgrade(empty_database_url)
    assert second == first
    with psycopg.connect(empty_database_url) as conn:
        tables_after = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables_before == tables_after


@pytest.mark.parametrize("table", sorted(SEED_FIELDS))
def test_every_seed_field_exists_with_its_type(database_url: str, table: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
            (table,),
        ).fetchall()
    columns: dict[str, str] = {str(k): str(v) for k, v in rows}
    for column, data_type in SEED_FIELDS[table].items():
        assert columns.get(column) == data_type, f"{table}.{column}"


@pytest.mark.parametrize(("enum", "labels"), sorted(ENUMS.items()))
def test_statuses_are_database_enums_matching_the_domain(
    database_url: str, enum: str, labels: list[str]
) -> None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT enum_range(NULL::" + enum + ")::text[]").fetchone()
    assert row is not None
    assert row[0] == labels


def test_the_claim_query_is_served_by_partial_indexes(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'test_run'"
        ).fetchall()
    defs: dict[str, str] = {str(k): str(v) for k, v in rows}
    assert "WHERE (status = 'QUEUED'" in defs["test_run_queued_idx"]
    assert "WHERE (status = 'RUNNING'" in defs["test_run_lease_idx"]
    assert defs["test_run_suite_queued_idx"].endswith(
        "(suite_run_id, available_at, id) WHERE (status = 'QUEUED'::test_run_status)"
    )


def test_listing_suite_runs_by_suite_or_status_is_served_by_indexes(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'suite_run'"
        ).fetchall()
    defs: dict[str, str] = {str(k): str(v) for k, v in rows}
    assert defs["suite_run_suite_idx"].endswith("(suite_id, id)")
    assert defs["suite_run_status_idx"].endswith("(status, id)")


def test_the_status_reads_the_recorded_revision(database_url: str) -> None:
    head = migrate.status(database_url).head
    with psycopg.connect(database_url, autocommit=True) as conn:
        recorded = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert recorded == (head,)
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    behind = migrate.status(database_url)
    assert behind.current == "0001"
    assert not behind.is_current


def test_upgrading_a_schema_one_revision_behind_applies_that_migration(
    database_url: str,
) -> None:
    from alembic import command

    status = migrate.status(database_url)
    with migrate._connect(database_url) as conn:
        config = migrate._config(conn)
        command.downgrade(config, "-1")
        conn.commit()
    assert not migrate.status(database_url).is_current
    assert migrate.upgrade(database_url) == status


def test_an_upgrade_waiting_for_another_leaves_that_ones_concurrent_index_builds_unblocked(
    database_url: str,
) -> None:
    # A concurrent index build waits for every older transaction: had the waiting upgrade
    # waited for the lock inside one, the build and the wait would deadlock.
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("UPDATE alembic_version SET version_num = '0018'")
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate._LOCK_KEY,))
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(migrate.upgrade, database_url)
            while not _another_asked_for_a_lock(holder):
                assert not waiting.done(), waiting.result()
                time.sleep(0.01)
            holder.execute("CREATE INDEX CONCURRENTLY held_idx ON suite_run (created_at)")
            holder.execute("SELECT pg_advisory_unlock(%s)", (migrate._LOCK_KEY,))
            assert waiting.result(timeout=30).is_current


def _another_asked_for_a_lock(conn: psycopg.Connection[TupleRow]) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND query LIKE '%advisory_lock(%' AND pid <> pg_backend_pid()"
    ).fetchone()
    return row == (1,)
