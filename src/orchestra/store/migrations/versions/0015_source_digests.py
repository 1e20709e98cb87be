"""Source digests: what file content an environment or a data set was last stored from.

`orchestra test` applies its environment file and imports its data set file on every call,
parsing the YAML and converting the rows again though neither changed. A digest of the file
as given (for an environment, with where it was read from, which its stored configuration
names; the certificates it names are compared with the PEM text it keeps) lets an unchanged
file be found without that. NULL: stored otherwise (an upload, a file before this revision).

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"

UPGRADE = """
ALTER TABLE environment ADD COLUMN source_digest text;
ALTER TABLE test_data_set ADD COLUMN source_digest text;
"""

DOWNGRADE = """
ALTER TABLE test_data_set DROP COLUMN source_digest;
ALTER TABLE environment DROP COLUMN source_digest;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
