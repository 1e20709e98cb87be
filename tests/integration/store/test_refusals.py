"""Values PostgreSQL cannot store leave a unit of work as ValueRefused, naming what was refused;
the transaction rolls back; repositories used outside one (the worker) keep the driver's error.
A deadlock with a concurrent transaction is a Conflict, not a lost server."""

from __future__ import annotations

import asyncio
import random
import string
import time

import psycopg
import pytest

from orchestra.errors import Conflict, InputRefused, StoreError, ValueRefused
from orchestra.services import running
from orchestra.store.database import Database
from orchestra.store.runs import RunRepository
from tests.integration.runtime.support import scenario, step, store_suite

SERVICES = {"services": {"orders": {"base_url": "http://127.0.0.1:9"}}}


async def test_a_nul_character_in_text_is_refused_naming_the_parameter_and_statement(
    db: Database,
) -> None:
    with pytest.raises(ValueRefused) as refused:
        async with db.transaction() as uow:
            await uow.config.upsert_environment("a\x00b", SERVICES, [])

    assert isinstance(refused.value, InputRefused)
    assert refused.value.message.startswith(
        "PostgreSQL refused `name` (a NUL character) in upsert_environment: "
    )
    assert "NUL" in refused.value.message.split(": ", 1)[1]
    assert refused.value.details == {"parameters": ["name"], "statement": "upsert_environment"}
    assert isinstance(refused.value.__cause__, psycopg.DataError)


async def test_nan_in_json_is_refused_naming_the_parameter(db: Database) -> None:
    with pytest.raises(ValueRefused) as refused:
        async with db.transaction() as uow:
            await uow.config.upsert_data_set("rows", [{"amount": float("nan")}])

    message = refused.value.message
    assert message.startswith("PostgreSQL refused `rows` (nan, which JSON cannot hold)")
    assert "invalid input syntax for type json" in message
    assert refused.value.details["sqlstate"] == "22P02"


async def test_a_number_out_of_range_for_bigint_is_refused_naming_the_parameter(
    db: Database,
) -> None:
    with pytest.raises(ValueRefused) as refused:
        await running.list_suite_runs(db, suite_id=2**70)

    assert f"`suite_id` ({2**70}, a large number) in list_suite_runs" in refused.value.message
    assert "bigint out of range" in refused.value.message
    assert refused.value.details["sqlstate"] == "22003"


async def test_a_key_too_long_for_its_index_is_refused_not_taken_for_a_lost_server(
    db: Database,
) -> None:
    noise = "".join(random.Random(7).choices(string.ascii_letters, k=9000))  # incompressible

    with pytest.raises(ValueRefused, match="upsert_data_set: index row") as refused:
        async with db.transaction() as uow:
            await uow.config.upsert_data_set(noise, [{"a": 1}])

    assert refused.value.details["sqlstate"] == "54000"


async def test_a_refused_value_rolls_back_the_whole_unit_of_work(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.config.upsert_environment("kept", SERVICES, [])

    async def three_writes_the_last_refused() -> None:
        async with db.transaction() as uow:
            await uow.config.upsert_environment("kept", {"services": {}}, ["NEW"])
            await uow.config.upsert_data_set("lost", [{"n": 1}])
            await uow.config.upsert_data_set("bad", [{"n": float("inf")}])

    with pytest.raises(ValueRefused):
        await three_writes_the_last_refused()

    async with db.transaction() as uow:
        kept = await uow.config.environment("kept")
        assert [d.name for d in await uow.config.data_sets()] == []
    assert kept is not None
    assert (kept.configuration, list(kept.secret_refs)) == (SERVICES, [])


async def test_a_refused_step_spec_names_the_step_statement(db: Database) -> None:
    with pytest.raises(
        ValueRefused, match=r"`spec` \(inf, which JSON cannot hold\) in insert_step"
    ):
        await store_suite(db, [scenario("s", [step(0, "a", timeout=float("inf"))])])


async def test_repositories_outside_a_unit_of_work_keep_the_drivers_error_for_the_worker(
    db: Database,
) -> None:
    async with db.pool.connection() as conn:
        with pytest.raises(psycopg.DataError):
            await RunRepository(conn).page(suite_id=2**70)


async def test_a_deadlock_with_a_concurrent_transaction_is_a_conflict_not_a_lost_server(
    db: Database,
) -> None:
    both_hold_one = asyncio.Barrier(2)

    async def lock(first: int, then: int) -> None:
        async with db.transaction() as uow:
            await uow.conn.execute("SELECT pg_advisory_xact_lock(%s)", (first,))
            await both_hold_one.wait()
            await uow.conn.execute("SELECT pg_advisory_xact_lock(%s)", (then,))

    outcomes = await asyncio.gather(lock(1, 2), lock(2, 1), return_exceptions=True)

    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 1, outcomes  # PostgreSQL rolled one back; the other went on
    assert "deadlock detected" in str(conflicts[0])
    assert "try again" in str(conflicts[0])
    assert None in outcomes


async def test_no_connection_within_the_timeout_asked_is_a_store_error_that_soon(
    db: Database,
) -> None:
    held = [await db.pool.getconn() for _ in range(db.pool.max_size)]  # the pool is empty
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="PostgreSQL is unreachable"):
            async with db.connection(wait_seconds=0.2):
                pass  # pragma: no cover - no connection comes
        waited = time.monotonic() - started
    finally:
        for conn in held:
            await db.pool.putconn(conn)

    assert waited < 5
