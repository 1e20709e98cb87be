"""A hash index on `process.source_xml`: an import finds the processes stored from the same
file text (`get_by_source`) by it, where it read (and decompressed) every stored model's text.
A hash index holds the text's hash only, so models of any size are indexed.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    op.execute("CREATE INDEX process_source_xml_idx ON process USING hash (source_xml)")


def downgrade() -> None:
    op.execute("DROP INDEX process_source_xml_idx")
