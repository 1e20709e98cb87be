"""`test_run.status_changed`: the transaction that last set the run's status, so a suite run's
event stream reads the runs whose status changed since its last look instead of every run.

Every statement that changes a run's status sets it to `pg_current_xact_id()` (a new run gets
it by default); a look returns its own snapshot, and the next one reads the runs whose
`status_changed` that snapshot did not see (`test_run_changes`), through
`test_run_suite_run_idx` widened to (suite_run_id, status, status_changed): a status change
already writes a new entry in every index of the table (status is a key of this one), so the
marker adds no index and no write; a checkpoint, which leaves both columns alone, stays as it
was. Runs created before this have none: they are as old as any snapshot.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"

UPGRADE = """
ALTER TABLE test_run ADD COLUMN status_changed xid8;
ALTER TABLE test_run ALTER COLUMN status_changed SET DEFAULT pg_current_xact_id();
DROP INDEX test_run_suite_run_idx;
CREATE INDEX test_run_suite_run_idx ON test_run (suite_run_id, status, status_changed);
"""

DOWNGRADE = """
DROP INDEX test_run_suite_run_idx;
CREATE INDEX test_run_suite_run_idx ON test_run (suite_run_id, status);
ALTER TABLE test_run DROP COLUMN status_changed;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
