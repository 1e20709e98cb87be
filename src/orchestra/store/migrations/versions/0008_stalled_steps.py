"""Stalled steps: a step result says when its request was sent again after the worker stalled.

A request whose timeout ran out while the worker could not run (a long pause of its process or
event loop) was not the SUT's doing; the worker sends it again with the same idempotency key.
`stalled_ms` is how long the worker stalled behind that timeout; NULL for a step sent once. A
nullable column with no default rewrites no rows.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"

UPGRADE = """
ALTER TABLE step_result ADD COLUMN stalled_ms double precision CHECK (stalled_ms > 0);
"""

DOWNGRADE = """
ALTER TABLE step_result DROP COLUMN stalled_ms;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
