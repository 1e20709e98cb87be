"""`generate` on stored processes that throw errors and escalations: scenarios follow each
throw to what catches it, and the coverage says why a flow after an interrupting throw is not
taken."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestra.config import Settings
from orchestra.services import generating, importing
from orchestra.store.database import Database

FIXTURES = Path(__file__).parents[1] / "unit" / "generation" / "fixtures"

BINDINGS = """
defaults: {service: shop}
tasks:
  notify:
    action: {method: POST, path: /notifications}
    checks: [{status: 201}]
"""


async def _import(db: Database, name: str) -> None:
    async with db.transaction() as uow:
        await importing.import_bpmn(uow, (FIXTURES / name).read_bytes(), source=name)


async def test_errors_of_a_called_process_reach_the_call_activity_or_end_the_checkout(
    db: Database, tmp_path: Path
) -> None:
    await _import(db, "called_errors.bpmn")
    bindings = tmp_path / "bindings.yaml"
    bindings.write_text(BINDINGS)
    result = await generating.generate(db, "checkout", bindings=bindings)
    assert result["parameters"]["inlined_calls"] == ["payment"]
    assert result["coverage"]["flows_covered"] == result["coverage"]["flows_total"] == 4
    stored = await generating.show(db, result["suite"])
    ends = sorted(s.scenario.path[-1] for s in stored.scenarios)
    assert ends == ["done", "failed", "pay/broken"]
    failed = next(s.scenario for s in stored.scenarios if s.scenario.path[-1] == "failed")
    assert "pay/declined pay_declined" in " ".join(failed.path)
    notify = next(step for step in failed.steps if step.element_id == "notify")
    assert notify.spec["action"]["path"] == "/notifications"


async def test_cli_generate_counts_and_explains_the_flow_an_interrupting_escalation_cuts(
    db: Database, settings: Settings
) -> None:
    await _import(db, "escalations.bpmn")
    env = {
        "ORCHESTRA_DATABASE_URL": settings.database_url or "",
        "ORCHESTRA_HOME": str(settings.home),
    }
    done = _orchestra(["generate", "escalations"], env)
    assert done.returncode == 0, done.stderr
    assert "scenarios: 2" in done.stdout
    assert "flows:     12 / 13 covered" in done.stdout
    assert (
        "uncovered flow f_after_late: the escalation thrown at late is caught by too_late, "
        "which interrupts: the way on after the throw is never taken"
    ) in done.stdout


def _orchestra(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestra", *args],
        env={**os.environ, **env, "COLUMNS": "240"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
