"""DELETE /suite-runs/ID: an ended suite run goes with all that is its own; one in progress is
refused (409) and stays."""

from __future__ import annotations

from orchestra.services import running
from orchestra.store.database import Database
from tests.integration.api.conftest import Client
from tests.integration.runtime.support import scenario, step, store_suite
from tests.support.suite_runs import finished_runs


async def test_delete_suite_run_answers_204_404_or_409(api: Client, db: Database) -> None:
    _, ids = await finished_runs(db, [0])
    suite = await store_suite(db, [scenario("a", [step(0, "a")])])
    in_progress = await running.start_suite_run(db, suite.id)

    assert (await api.request("DELETE", f"/suite-runs/{ids[0]}")).status == 204
    assert (await api.get(f"/suite-runs/{ids[0]}")).status == 404
    assert (await api.request("DELETE", f"/suite-runs/{ids[0]}")).status == 404
    refused = await api.request("DELETE", f"/suite-runs/{in_progress.id}")
    assert refused.status == 409
    assert "cancel it first" in refused.json()["message"]
    assert (await api.get(f"/suite-runs/{in_progress.id}")).status == 200
