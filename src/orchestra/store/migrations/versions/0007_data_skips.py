"""Data skips: a test run SKIPPED because its data row contradicts its scenario's path.

Such a run never started and is not a failure: a suite run whose other runs all passed passes
(`close_if_done`), and a run waiting on it is skipped the same way. `error` says why. A column
with a constant default rewrites no rows.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"

UPGRADE = """
ALTER TABLE test_run ADD COLUMN skipped_by_data boolean NOT NULL DEFAULT false;
ALTER TABLE test_run ADD CONSTRAINT test_run_skipped_by_data_check
    CHECK (NOT skipped_by_data OR status = 'SKIPPED');
"""

DOWNGRADE = """
ALTER TABLE test_run DROP COLUMN skipped_by_data;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
