"""Re-sent steps: a step result says when its request was a re-send after a lost lease.

A step the lost claim had in flight may have reached the SUT; the next claim sends it again with
the same idempotency key. `resent_after` is the claim (`attempt`) that lost the lease, so a
report can say which results answer a re-send; NULL for a first send. A nullable column with no
default rewrites no rows.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"

UPGRADE = """
ALTER TABLE step_result ADD COLUMN resent_after integer CHECK (resent_after >= 1);
"""

DOWNGRADE = """
ALTER TABLE step_result DROP COLUMN resent_after;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
