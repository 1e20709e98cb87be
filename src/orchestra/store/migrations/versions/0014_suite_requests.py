"""Suite requests: the fingerprint each request for a suite, as given, was found to have.

A suite's fingerprint hashes its inputs as parsed (the bindings validated against the process,
so that comments and layout do not count), which costs `orchestra test` a parse of the binding
file on every call. A request's digest hashes the same inputs as given (the binding file's
text); once a request was parsed, its digest leads to the fingerprint without parsing again.
Rows only point at fingerprints: a suite deleted leaves its requests finding nothing.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"

UPGRADE = """
CREATE TABLE suite_request (
    digest       text PRIMARY KEY,
    fingerprint  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE suite_request;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
