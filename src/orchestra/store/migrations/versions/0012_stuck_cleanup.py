"""Stuck runs clean up too: a FAILED_STUCK run whose scenario has undo or cleanup actions owes
them (`test_run.cleanup_pending`), claimed once for that alone like a cancelled run's.

The partial index that serves the claim of owed cleanups (and the reaper's look for a stuck
run's cleanup whose lease expired) covers both statuses.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"

UPGRADE = """
DROP INDEX test_run_cleanup_idx;
CREATE INDEX test_run_cleanup_idx ON test_run (lock_until NULLS FIRST)
    WHERE status IN ('CANCELLED', 'FAILED_STUCK') AND cleanup_pending;
"""

DOWNGRADE = """
UPDATE test_run SET cleanup_pending = false WHERE status = 'FAILED_STUCK';
DROP INDEX test_run_cleanup_idx;
CREATE INDEX test_run_cleanup_idx ON test_run (lock_until NULLS FIRST)
    WHERE status = 'CANCELLED' AND cleanup_pending;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
