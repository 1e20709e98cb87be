"""Suite requests live as long as their suite: each row names the suite it was found or
generated for, and goes with it (ON DELETE CASCADE), with its process too.

A request still finds the newest suite of its fingerprint (`suite_by_request`); the suite it
names only ends the row. Rows from before this revision name the newest suite of their
fingerprint; those whose fingerprint no suite has any more (a suite deleted) are deleted.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"

UPGRADE = """
ALTER TABLE suite_request
    ADD COLUMN suite_id bigint REFERENCES scenario_suite (id) ON DELETE CASCADE;
UPDATE suite_request r SET suite_id = s.id
FROM (SELECT fingerprint, max(id) AS id FROM scenario_suite
      WHERE fingerprint IS NOT NULL GROUP BY fingerprint) s
WHERE s.fingerprint = r.fingerprint;
DELETE FROM suite_request WHERE suite_id IS NULL;
ALTER TABLE suite_request ALTER COLUMN suite_id SET NOT NULL;
CREATE INDEX suite_request_suite_idx ON suite_request (suite_id);
"""

DOWNGRADE = """
DROP INDEX suite_request_suite_idx;
ALTER TABLE suite_request DROP COLUMN suite_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
