"""`dataset import` and `env apply` against a real PostgreSQL: upsert by name, no secret stored."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestra.binding.factory import executor_factory
from orchestra.errors import BindingRefused, ConfigurationError
from orchestra.services.config import (
    apply_environment,
    import_data_set,
    list_data_sets,
    list_environments,
    show_environment,
)
from orchestra.store.database import Database

SECRET = "sup3r-s3cret-value"

ENVIRONMENT = """\
name: staging
auth: {type: bearer, token: "${ORDERS_TOKEN}"}
services:
  orders: {base_url: "http://127.0.0.1:9/api"}
secrets: {admin: "${ADMIN_PASSWORD}"}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


async def everything_stored(db: Database) -> str:
    """Every row of every table as text: what a secret must never be found in."""
    async with db.connection() as conn:
        cursor = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        tables = [row["table_name"] for row in await cursor.fetchall()]
        dumped = []
        for table in tables:
            rows = await conn.execute(f'SELECT t::text AS row FROM "{table}" t')
            dumped += [row["row"] for row in await rows.fetchall()]
    return "\n".join(dumped)


async def test_a_data_set_is_imported_and_replaced_by_name(db: Database, tmp_path: Path) -> None:
    first = await import_data_set(db, "customers", write(tmp_path, "a.csv", "name,amount\nann,5\n"))
    second = await import_data_set(
        db, "customers", write(tmp_path, "b.yaml", "- {name: bob, amount: 7}\n- {name: cy}\n")
    )

    assert first["id"] == second["id"]
    assert second == {"data_set": "customers", "id": first["id"], "rows": 2,
                      "columns": ["amount", "name"]}  # fmt: skip
    async with db.transaction() as uow:
        stored = await uow.config.data_set("customers")
    assert stored is not None
    assert stored.rows == ({"name": "bob", "amount": 7}, {"name": "cy"})
    assert await list_data_sets(db) == [second]  # the listing names the columns too


async def test_an_environment_is_stored_with_its_secrets_as_references_only(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_TOKEN", SECRET)
    monkeypatch.setenv("ADMIN_PASSWORD", SECRET + "-admin")

    result = await apply_environment(db, write(tmp_path, "staging.yaml", ENVIRONMENT))

    assert result["secret_refs"] == ["ADMIN_PASSWORD", "ORDERS_TOKEN"]
    stored = await everything_stored(db)
    assert "${ORDERS_TOKEN}" in stored
    assert SECRET not in stored


async def test_applying_an_environment_again_replaces_it(db: Database, tmp_path: Path) -> None:
    first = await apply_environment(db, write(tmp_path, "a.yaml", ENVIRONMENT))
    changed = ENVIRONMENT.replace("127.0.0.1:9/api", "127.0.0.1:10/v2")
    second = await apply_environment(db, write(tmp_path, "b.yaml", changed))

    assert first["id"] == second["id"]
    async with db.transaction() as uow:
        environments = await uow.config.environments()
    assert [e.configuration["services"]["orders"]["base_url"] for e in environments] == [
        "http://127.0.0.1:10/v2"
    ]


async def test_an_environment_with_a_secret_in_clear_is_refused_and_not_stored(
    db: Database, tmp_path: Path
) -> None:
    clear = ENVIRONMENT.replace('"${ORDERS_TOKEN}"', SECRET)

    with pytest.raises(BindingRefused, match="`token` is a secret"):
        await apply_environment(db, write(tmp_path, "clear.yaml", clear))

    assert SECRET not in await everything_stored(db)


async def test_a_stored_environment_builds_an_executor_with_resolved_secrets(
    db: Database, tmp_path: Path
) -> None:
    await apply_environment(db, write(tmp_path, "staging.yaml", ENVIRONMENT))
    async with db.transaction() as uow:
        stored = await uow.config.environment("staging")
    build = executor_factory({"ORDERS_TOKEN": SECRET, "ADMIN_PASSWORD": "x"})

    executor = await build(stored)
    await executor.aclose()
    with pytest.raises(ConfigurationError, match=r"\$\{ORDERS_TOKEN\} not set"):
        await executor_factory({"ADMIN_PASSWORD": "x"})(stored)


async def test_a_stored_base_url_that_does_not_fit_once_substituted_names_its_line_not_its_value(
    db: Database, tmp_path: Path
) -> None:
    text = """\
    name: staging
    services:
      orders: {base_url: "${ORDERS_URL}"}
      billing: {base_url: "https://${BILLING_HOST}:99999/v1"}
    """
    await apply_environment(db, write(tmp_path, "staging.yaml", text))
    async with db.transaction() as uow:
        stored = await uow.config.environment("staging")
    environ = {"ORDERS_URL": f"ftp://{SECRET}@orders", "BILLING_HOST": "billing-sekrit"}

    with pytest.raises(ConfigurationError) as caught:
        await executor_factory(environ)(stored)

    where = tmp_path / "staging.yaml"
    assert caught.value.message == (
        "environment 'staging', once its variables are substituted: "
        f"{where}:3: services.orders.base_url '${{ORDERS_URL}}': its value must start with"
        " http://, https:// (or the name of a plug-in protocol installed here);"
        f" {where}:4: services.billing.base_url"
        " 'https://${BILLING_HOST}:99999/v1': its value is not a valid URL:"
        " Port out of range 0-65535"
    )
    assert caught.value.__cause__ is None


async def test_secret_refs_are_the_secret_variables_and_variables_every_one_read(
    db: Database, tmp_path: Path
) -> None:
    text = """\
    name: local
    services:
      orders: {base_url: "${ORDERS_URL}", auth: {type: bearer, token: "${ORDERS_TOKEN}"}}
      partner: {base_url: "https://${secret:PARTNER_HOST}/api"}
    variables: {tenant: "${TENANT}"}
    """
    applied = await apply_environment(db, write(tmp_path, "local.yaml", text))
    shown = await show_environment(db, "local")
    listed = await list_environments(db)

    secret = ["ORDERS_TOKEN", "PARTNER_HOST"]
    every = ["ORDERS_TOKEN", "ORDERS_URL", "PARTNER_HOST", "TENANT"]
    assert applied["secret_refs"] == shown["secret_refs"] == listed[0]["secret_refs"] == secret
    assert applied["variables"] == shown["variables"] == listed[0]["variables"] == every


async def _row_version(db: Database, table: str, name: str) -> str:
    """The row's xmin: the transaction that last wrote it."""
    async with db.connection() as conn:
        cursor = await conn.execute(f"SELECT xmin::text AS x FROM {table} WHERE name = %s", [name])
        row = await cursor.fetchone()
    assert row is not None
    return str(row["x"])


async def test_applying_an_unchanged_environment_again_writes_nothing(
    db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "env.yaml", ENVIRONMENT)
    first = await apply_environment(db, path)
    written = await _row_version(db, "environment", "staging")

    again = await apply_environment(db, path)
    assert again == first
    assert await _row_version(db, "environment", "staging") == written

    changed = ENVIRONMENT.replace("127.0.0.1:9", "127.0.0.1:10")
    replaced = await apply_environment(db, write(tmp_path, "env.yaml", changed))
    assert replaced["id"] == first["id"]
    assert replaced["services"] == {"orders": "http://127.0.0.1:10/api"}
    assert await _row_version(db, "environment", "staging") != written


async def test_importing_an_unchanged_data_set_again_writes_nothing(
    db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "people.csv", "name,amount\nann,5\n")
    first = await import_data_set(db, "people", path)
    written = await _row_version(db, "test_data_set", "people")

    assert await import_data_set(db, "people", path) == first
    assert await _row_version(db, "test_data_set", "people") == written

    replaced = await import_data_set(db, "people", write(tmp_path, "people.csv", "name\nbo\n"))
    assert replaced["id"] == first["id"]
    assert await _row_version(db, "test_data_set", "people") != written
    async with db.transaction() as uow:
        stored = await uow.config.data_set("people")
    assert stored is not None
    assert stored.rows == ({"name": "bo"},)
