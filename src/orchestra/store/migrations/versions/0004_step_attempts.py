"""Requests per step result: how many requests a step made (retries and `eventually` polls).

The executor counts them (`StepOutcome.attempts`); until now the count was lost at the
checkpoint, so a report loaded from the database could not say a step was retried or polled.
Results stored before this migration read as one request. Adding a column with a constant
default rewrites no rows (PostgreSQL 11+).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"

UPGRADE = """
ALTER TABLE step_result ADD COLUMN attempts integer NOT NULL DEFAULT 1;
"""

DOWNGRADE = """
ALTER TABLE step_result DROP COLUMN attempts;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
