"""`test_run_suite_queued_idx`: one suite run's queued runs, oldest available first, so the
claim of one suite run (`orchestra test`, `run --wait`) walks its own runs in order whatever
the others have queued, with one plan for every suite run (a prepared statement's generic plan).

Built concurrently (outside a transaction: writes to test_run go on while it is built), each
statement on its own. A build that failed leaves an invalid index behind, dropped before the
next attempt builds it again.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS test_run_suite_queued_idx")
        op.execute(
            "CREATE INDEX CONCURRENTLY test_run_suite_queued_idx"
            " ON test_run (suite_run_id, available_at, id) WHERE status = 'QUEUED'"
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS test_run_suite_queued_idx")
