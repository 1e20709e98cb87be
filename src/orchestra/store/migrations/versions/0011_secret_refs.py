"""Secret references: `environment.secret_refs` holds the secret variables only.

It held every variable the environment reads at run time, a plain base URL's too, and the API,
the CLI and the web page showed them all as the secrets. It is computed again for every stored
environment by the rule of this revision (kept here, as the code's may change): the variables
written `${secret:NAME}` anywhere, and those referenced where credentials go (any `auth`, any
`headers`, `secrets`, a TLS key's password). The downgrade puts every variable back.

Revision ID: 0011
Revises: 0010
"""

import json
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"

_REFERENCE = re.compile(r"\$\{(?:secret:)?([A-Za-z_][A-Za-z0-9_]*)\}")
_DECLARED = re.compile(r"\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}")


def _every(configuration: dict[str, Any]) -> list[str]:
    written = {key: value for key, value in configuration.items() if key != "applied_from"}
    return sorted(set(_REFERENCE.findall(json.dumps(written))))


def _secret(configuration: dict[str, Any]) -> list[str]:
    def key_password(block: dict[str, Any]) -> Any:
        return (block.get("tls") or {}).get("client_key_password")

    places = [configuration.get(key) for key in ("auth", "headers", "secrets")]
    places.append(key_password(configuration))
    for service in (configuration.get("services") or {}).values():
        places += [service.get("auth"), service.get("headers"), key_password(service)]
    written = {key: value for key, value in configuration.items() if key != "applied_from"}
    declared = _DECLARED.findall(json.dumps(written))
    return sorted({*_REFERENCE.findall(json.dumps(places)), *declared})


def _recompute(refs: Callable[[dict[str, Any]], list[str]]) -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.text("SELECT id, configuration FROM environment")).mappings():
        conn.execute(
            sa.text("UPDATE environment SET secret_refs = CAST(:refs AS jsonb) WHERE id = :id"),
            {"id": row["id"], "refs": json.dumps(refs(row["configuration"]))},
        )


def upgrade() -> None:
    _recompute(_secret)


def downgrade() -> None:
    _recompute(_every)
