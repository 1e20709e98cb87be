"""Step commands: a step result keeps the command an `eventually.poll` step sent once.

A step whose `eventually` has a `poll` sends its action (the command) once, then polls another
request until its checks hold; `request` and `response` are the last poll's, which the checks
read, and `command` holds the command's `{"request", "response"}`. NULL for every other step.
A nullable column with no default rewrites no rows.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"

UPGRADE = """
ALTER TABLE step_result ADD COLUMN command jsonb;
"""

DOWNGRADE = """
ALTER TABLE step_result DROP COLUMN command;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
