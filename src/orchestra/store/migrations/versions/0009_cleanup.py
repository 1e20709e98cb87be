"""Cleanup: the undo and cleanup actions a scenario runs once it ends, recorded apart.

A step result belongs to the run's main steps (`phase = 'main'`) or to its cleanup (`phase =
'cleanup'`: the undo actions of the tasks it ran, then the scenario's cleanup actions, numbered
from 0 in the order they run), so the unique key is (run, phase, position). A scenario keeps
its cleanup actions (`test_scenario.cleanup`: the specs, in the order written). A cancelled run
that had started still owes its cleanup (`test_run.cleanup_pending`): a worker claims it for
that alone. Columns with constant defaults rewrite no rows.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"

UPGRADE = """
ALTER TABLE step_result
    ADD COLUMN phase text NOT NULL DEFAULT 'main' CHECK (phase IN ('main', 'cleanup'));
ALTER TABLE step_result DROP CONSTRAINT step_result_test_run_id_position_key;
ALTER TABLE step_result ADD CONSTRAINT step_result_test_run_id_phase_position_key
    UNIQUE (test_run_id, phase, position);
ALTER TABLE test_scenario
    ADD COLUMN cleanup jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(cleanup) = 'array');
ALTER TABLE test_run ADD COLUMN cleanup_pending boolean NOT NULL DEFAULT false;
-- Serves the claim of cancelled runs whose cleanup is still owed.
CREATE INDEX test_run_cleanup_idx ON test_run (lock_until NULLS FIRST)
    WHERE status = 'CANCELLED' AND cleanup_pending;
"""

DOWNGRADE = """
DROP INDEX test_run_cleanup_idx;
ALTER TABLE test_run DROP COLUMN cleanup_pending;
ALTER TABLE test_scenario DROP COLUMN cleanup;
DELETE FROM step_result WHERE phase = 'cleanup';
ALTER TABLE step_result DROP CONSTRAINT step_result_test_run_id_phase_position_key;
ALTER TABLE step_result DROP COLUMN phase;
ALTER TABLE step_result ADD CONSTRAINT step_result_test_run_id_position_key
    UNIQUE (test_run_id, position);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
