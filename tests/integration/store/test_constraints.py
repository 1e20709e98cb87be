"""PostgreSQL refuses data that breaks the model's invariants."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def insert_process(conn: Conn, key: str, version: int) -> int:
    row = conn.execute(
        "INSERT INTO process (key, version, source_xml, checksum, graph)"
        " VALUES (%s, %s, '<x/>', %s, %s) RETURNING id",
        (key, version, f"sum-{key}-{version}", Jsonb({"id": key})),
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def insert_suite_run(conn: Conn) -> tuple[int, int]:
    process_id = insert_process(conn, "p", 1)
    suite = conn.execute(
        "INSERT INTO scenario_suite (process_id, criterion) VALUES (%s, 'all-flows') RETURNING id",
        (process_id,),
    ).fetchone()
    assert suite is not None
    scenario = conn.execute(
        "INSERT INTO test_scenario (suite_id, name, position) VALUES (%s, 's', 0) RETURNING id",
        (suite[0],),
    ).fetchone()
    run = conn.execute(
        "INSERT INTO suite_run (suite_id) VALUES (%s) RETURNING id", (suite[0],)
    ).fetchone()
    assert scenario is not None
    assert run is not None
    return int(str(run[0])), int(str(scenario[0]))


def test_a_process_key_and_version_are_unique(conn: Conn) -> None:
    insert_process(conn, "order", 1)
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO process (key, version, source_xml, checksum, graph)"
            " VALUES ('order', 1, '<x/>', 'other', '{}')"
        )


def test_an_unknown_test_run_status_is_rejected(
    conn: Conn,
) -> None:
    suite_run_id, scenario_id = insert_suite_run(conn)
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        conn.execute(
            "INSERT INTO test_run (suite_run_id, scenario_id, status) VALUES (%s, %s, 'DONE')",
            (suite_run_id, scenario_id),
        )


def test_an_unknown_suite_run_status_is_rejected(
    conn: Conn,
) -> None:
    suite_run_id, _ = insert_suite_run(conn)
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        conn.execute("UPDATE suite_run SET status = 'MAYBE' WHERE id = %s", (suite_run_id,))


def test_a_step_of_an_unknown_kind_is_rejected(
    conn: Conn,
) -> None:
    _, scenario_id = insert_suite_run(conn)
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        conn.execute(
            "INSERT INTO scenario_step (scenario_id, position, kind) VALUES (%s, 0, 'SLEEP')",
            (scenario_id,),
        )


def test_a_test_run_needs_an_existing_suite_run(
    conn: Conn,
) -> None:
    _, scenario_id = insert_suite_run(conn)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(
            "INSERT INTO test_run (suite_run_id, scenario_id) VALUES (999999, %s)", (scenario_id,)
        )


def test_a_running_test_run_must_hold_a_lease(conn: Conn) -> None:
    suite_run_id, scenario_id = insert_suite_run(conn)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO test_run (suite_run_id, scenario_id, status) VALUES (%s, %s, 'RUNNING')",
            (suite_run_id, scenario_id),
        )


def test_a_finished_suite_run_has_a_finish_time(
    conn: Conn,
) -> None:
    suite_run_id, _ = insert_suite_run(conn)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE suite_run SET status = 'PASSED' WHERE id = %s", (suite_run_id,))


def test_a_step_result_is_recorded_once_per_run_and_position(
    conn: Conn,
) -> None:
    suite_run_id, scenario_id = insert_suite_run(conn)
    row = conn.execute(
        "INSERT INTO test_run (suite_run_id, scenario_id) VALUES (%s, %s) RETURNING id",
        (suite_run_id, scenario_id),
    ).fetchone()
    assert row is not None
    insert = (
        "INSERT INTO step_result (test_run_id, position, attempt, status, started_at, duration_ms)"
        " VALUES (%s, 0, %s, 'PASSED', now(), 1)"
    )
    conn.execute(insert, (row[0], 1))
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(insert, (row[0], 2))


def test_deleting_a_suite_run_deletes_its_test_runs(
    conn: Conn,
) -> None:
    suite_run_id, scenario_id = insert_suite_run(conn)
    conn.execute(
        "INSERT INTO test_run (suite_run_id, scenario_id) VALUES (%s, %s)",
        (suite_run_id, scenario_id),
    )
    conn.execute("DELETE FROM suite_run WHERE id = %s", (suite_run_id,))
    left = conn.execute("SELECT count(*) FROM test_run").fetchone()
    assert left == (0,)
