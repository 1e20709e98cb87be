"""A suite's fingerprint, to reuse an identical suite; a test run's repeat index.

`orchestra test` generates a suite only when no suite with the same fingerprint exists: the
process version, the bindings' content, the processes inlined, the criterion and its
parameters (a hash of them, `services.generating.fingerprint`). Suites generated before this
migration have none and are never reused. `--repeat N` runs every scenario (and data row) N
times in one suite run: the repeat index joins the run's identity in the unique key. Existing
runs are repeat 0; adding a column with a constant default rewrites no rows. The downgrade
deletes the repeats beyond the first, which the old key cannot hold.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"

UPGRADE = """
ALTER TABLE scenario_suite ADD COLUMN fingerprint text;
CREATE INDEX scenario_suite_fingerprint_idx ON scenario_suite (fingerprint, id)
    WHERE fingerprint IS NOT NULL;
ALTER TABLE test_run ADD COLUMN repeat_index integer NOT NULL DEFAULT 0
    CHECK (repeat_index >= 0);
ALTER TABLE test_run DROP CONSTRAINT test_run_suite_run_id_scenario_id_data_row_index_key;
ALTER TABLE test_run ADD CONSTRAINT test_run_suite_run_id_scenario_id_data_row_index_key
    UNIQUE (suite_run_id, scenario_id, data_row_index, repeat_index);
"""

DOWNGRADE = """
DELETE FROM test_run WHERE repeat_index > 0;
ALTER TABLE test_run DROP CONSTRAINT test_run_suite_run_id_scenario_id_data_row_index_key;
ALTER TABLE test_run ADD CONSTRAINT test_run_suite_run_id_scenario_id_data_row_index_key
    UNIQUE (suite_run_id, scenario_id, data_row_index);
ALTER TABLE test_run DROP COLUMN repeat_index;
DROP INDEX scenario_suite_fingerprint_idx;
ALTER TABLE scenario_suite DROP COLUMN fingerprint;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
