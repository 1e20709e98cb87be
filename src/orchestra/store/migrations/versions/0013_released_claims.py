"""Released claims: one row per claim of a test run that its worker released with a step
possibly in flight, so the step the next claim sends again is recorded as a re-send.

A worker that loses the database mid-step stops the run and, once the database is back,
releases it to the queue without losing an attempt (`release_orphans`); a worker stopping past
its drain deadline releases the runs it cut short likewise (`release_run` with no context).
Neither lease is lost, so `lost_lease` holds nothing, yet the step in flight may have reached the
SUT. `done` is what the claim had checkpointed by its release, as in `lost_lease`; `why` says
which of the two released it.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"

UPGRADE = """
CREATE TABLE released_claim (
    test_run_id  bigint NOT NULL REFERENCES test_run (id) ON DELETE CASCADE,
    attempt      integer NOT NULL CHECK (attempt >= 1),  -- the claim released
    worker       text NOT NULL,
    why          text NOT NULL CHECK (why IN ('unreachable', 'drained')),
    released_at  timestamptz NOT NULL DEFAULT now(),
    done         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(done) = 'object'),
    PRIMARY KEY (test_run_id, attempt)
);
"""

DOWNGRADE = """
DROP TABLE released_claim;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
