"""Revision 0011: an environment's stored `secret_refs` are its secret variables only."""

from __future__ import annotations

import json

import psycopg

from orchestra.store import migrate

CONFIGURATION = {
    "name": "staging",
    "services": {
        "orders": {"base_url": "${ORDERS_URL}", "auth": {"type": "bearer", "token": "${TOKEN}"}},
        "partner": {"base_url": "https://${secret:PARTNER_HOST}/api"},
    },
    "headers": {"X-Key": "${TENANT_KEY}"},
    "variables": {"tenant": "${TENANT}"},
    "secrets": {"admin": "${ADMIN_PASSWORD}"},
    "applied_from": {"file": "staging.yaml", "lines": {}},
}
EVERY = ["ADMIN_PASSWORD", "ORDERS_URL", "PARTNER_HOST", "TENANT", "TENANT_KEY", "TOKEN"]
SECRET = ["ADMIN_PASSWORD", "PARTNER_HOST", "TENANT_KEY", "TOKEN"]


def _secret_refs(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT secret_refs FROM environment").fetchone()
    assert row is not None
    return list(row[0])


def _migrate(url: str, target: str) -> None:
    from alembic import command

    with migrate._connect(url) as conn:
        config = migrate._config(conn)
        if target == "head":
            command.upgrade(config, target)
        else:
            command.downgrade(config, target)
        conn.commit()


def test_the_upgrade_keeps_the_secret_variables_and_the_downgrade_every_one(
    database_url: str,
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO environment (name, configuration, secret_refs) VALUES (%s, %s, %s)",
            ("staging", json.dumps(CONFIGURATION), json.dumps(EVERY)),
        )

    _migrate(database_url, "0010")
    assert _secret_refs(database_url) == EVERY
    _migrate(database_url, "head")
    assert _secret_refs(database_url) == SECRET
