"""Indexes for listing suite runs newest first, by suite or by status (`list_suite_runs`).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"

# (suite_id, id) also serves the foreign key's check when a suite is deleted.
UPGRADE = """
CREATE INDEX suite_run_suite_idx ON suite_run (suite_id, id);
CREATE INDEX suite_run_status_idx ON suite_run (status, id);
"""

DOWNGRADE = """
DROP INDEX suite_run_status_idx, suite_run_suite_idx;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
