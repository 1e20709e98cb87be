"""A request's row (the fingerprint its digest leads to, revision 0014) lives as long as the
suite it was found or generated for: deleting the suite, or its process, deletes it too."""

from __future__ import annotations

from pathlib import Path

import psycopg

from orchestra.services import generating
from orchestra.store.database import Database
from tests.integration.store.test_secret_refs_migration import _migrate
from tests.integration.test_generate_store import BINDINGS, _import


async def _requests(db: Database) -> int:
    async with db.pool.connection() as conn:
        cursor = await conn.execute("SELECT count(*) AS n FROM suite_request")
        row = await cursor.fetchone()
    assert row is not None
    return int(row["n"])


async def _suites_remembered(db: Database) -> list[int]:
    async with db.pool.connection() as conn:
        cursor = await conn.execute("SELECT suite_id FROM suite_request ORDER BY digest")
        return [row["suite_id"] for row in await cursor.fetchall()]


async def _generate_twice(db: Database, tmp_path: Path) -> int:
    """Two requests (the bindings written two ways) remembered for one suite: its id."""
    await _import(db)
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(BINDINGS)
    first, _ = await generating.generate_for_run(db, "p", bindings=bindings)
    bindings.write_text("# the shop's order bindings\n" + BINDINGS)
    again, _ = await generating.generate_for_run(db, "p", bindings=bindings)
    assert again["suite"] == first["suite"]
    return int(first["suite"])


async def test_deleting_a_suite_deletes_the_requests_that_led_to_it(
    db: Database, tmp_path: Path
) -> None:
    suite_id = await _generate_twice(db, tmp_path)
    assert await _requests(db) == 2
    async with db.pool.connection() as conn:
        await conn.execute("DELETE FROM scenario_suite WHERE id = %s", (suite_id,))
    assert await _requests(db) == 0


async def test_deleting_a_process_deletes_the_requests_for_its_suites(
    db: Database, tmp_path: Path
) -> None:
    await _generate_twice(db, tmp_path)
    async with db.pool.connection() as conn:
        await conn.execute("DELETE FROM process")
    assert await _requests(db) == 0


async def test_a_request_whose_suite_is_gone_generates_it_anew_and_is_remembered_again(
    db: Database, tmp_path: Path
) -> None:
    suite_id = await _generate_twice(db, tmp_path)
    async with db.pool.connection() as conn:
        await conn.execute("DELETE FROM scenario_suite WHERE id = %s", (suite_id,))
    again, _ = await generating.generate_for_run(db, "p", bindings=tmp_path / "bindings.yaml")
    assert again["reused"] is False
    assert await _suites_remembered(db) == [again["suite"]]


def test_the_upgrade_ties_each_request_to_the_newest_suite_of_its_fingerprint(
    database_url: str,
) -> None:
    _migrate(database_url, "0015")
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO process (key, name, version, source_xml, checksum, graph)"
            " VALUES ('p', 'p', 1, '<x/>', 'c', '{}')"
        )
        for fingerprint in ("f1", "f1", "f2"):
            conn.execute(
                "INSERT INTO scenario_suite (process_id, criterion, parameters, coverage,"
                " fingerprint) SELECT id, 'all-flows', '{}', '{}', %s FROM process",
                (fingerprint,),
            )
        conn.execute(
            "INSERT INTO suite_request (digest, fingerprint)"
            " VALUES ('d1', 'f1'), ('d2', 'f2'), ('d3', 'f1'), ('gone', 'f9')"
        )
    _migrate(database_url, "head")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT r.digest, s.fingerprint, s.id = (SELECT max(id) FROM scenario_suite"
            " WHERE fingerprint = r.fingerprint) FROM suite_request r"
            " JOIN scenario_suite s ON s.id = r.suite_id ORDER BY r.digest"
        ).fetchall()
    assert rows == [("d1", "f1", True), ("d2", "f2", True), ("d3", "f1", True)]
    _migrate(database_url, "0015")  # and back
    with psycopg.connect(database_url) as conn:
        count = conn.execute("SELECT count(*) FROM suite_request").fetchone()
    assert count == (3,)
