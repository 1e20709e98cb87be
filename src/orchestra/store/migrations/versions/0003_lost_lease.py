"""Lost leases: one row per claim of a test run that ended with its lease expiring.

A worker that crashed, hung or lost the database leaves its run RUNNING until the lease expires;
the worker that claims it again (or the reaper that gives up on it) records what the lost claim
held: who, its last heartbeat, when the lease ran out and the steps checkpointed by then, so a
report can say which step was in flight and was executed again.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"

UPGRADE = """
CREATE TABLE lost_lease (
    test_run_id  bigint NOT NULL REFERENCES test_run (id) ON DELETE CASCADE,
    -- the claim that lost it: the fencing token its steps were recorded with
    attempt      integer NOT NULL CHECK (attempt >= 1),
    worker       text NOT NULL,
    heartbeat_at timestamptz,
    expired_at   timestamptz NOT NULL,
    -- when another worker claimed the run again, or the reaper marked it FAILED_STUCK
    noticed_at   timestamptz NOT NULL DEFAULT now(),
    -- execution_context.done at that moment: step position -> status, checkpointed by then
    done         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(done) = 'object'),
    PRIMARY KEY (test_run_id, attempt)
);
"""

DOWNGRADE = """
DROP TABLE lost_lease;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
