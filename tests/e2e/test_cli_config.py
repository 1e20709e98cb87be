"""`orchestra dataset import` and `orchestra env apply` as a user runs them; `orchestra test`
then takes the files they stored as stored."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from orchestra.services import config
from orchestra.store.database import Database
from tests.e2e.conftest import clean_env, orchestra


def test_dataset_import_and_env_apply_print_what_they_stored(
    tmp_path: Path, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_HOME=str(tmp_path / "home"))
    rows = tmp_path / "rows.csv"
    rows.write_text("customer,amount\nann,5\nbob,7\n")
    staging = tmp_path / "staging.yaml"
    staging.write_text(
        "name: staging\nauth: {type: bearer, token: '${TOKEN}'}\n"
        "services: {orders: {base_url: 'http://127.0.0.1:9'}}\n"
    )

    imported = orchestra("dataset", "import", "customers", str(rows), "--json", env=env)
    applied = orchestra("env", "apply", str(staging), env=env)

    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["rows"] == 2
    assert applied.returncode == 0, applied.stderr
    assert "environment staging" in applied.stdout
    assert "${TOKEN}" in applied.stdout
    listed = orchestra("env", "list", "--json", env=env)
    assert json.loads(listed.stdout) == {"environments": [
        {"environment": "staging", "id": 1, "services": {"orders": "http://127.0.0.1:9"},
         "secret_refs": ["TOKEN"], "variables": ["TOKEN"]}
    ]}  # fmt: skip


def test_an_invalid_environment_file_exits_1_naming_the_line(
    tmp_path: Path, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_HOME=str(tmp_path / "home"))
    staging = tmp_path / "staging.yaml"
    staging.write_text("name: staging\nservices:\n  orders: {base_url: ftp://x}\n")

    refused = orchestra("env", "apply", str(staging), "--json", env=env)

    assert refused.returncode == 1
    assert json.loads(refused.stdout)["problems"][0]["line"] == 3
    assert "staging.yaml:3: services.orders.base_url" in refused.stderr


def _row_version(database_url: str, table: str) -> tuple[object, ...]:
    """The row's xmin (which a rewrite changes) and its source digest."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT xmin::text, source_digest FROM {table}").fetchone()
    assert row is not None
    return tuple(row)


async def test_an_environment_file_applied_by_env_apply_is_taken_as_stored_by_test(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_HOME=str(tmp_path / "home"))
    staging = tmp_path / "staging.yaml"
    staging.write_text("name: staging\nservices: {orders: {base_url: 'http://127.0.0.1:9'}}\n")
    applied = orchestra("env", "apply", str(staging), env=env)
    assert applied.returncode == 0, applied.stderr
    before = _row_version(database_url, "environment")

    # what `orchestra test --env FILE` does with the file: not parsed, nor stored, again
    found = await config.environment_from_file(db, staging)

    assert found.name == "staging"
    assert _row_version(database_url, "environment") == before
    assert before[1] is not None


async def test_a_data_set_file_imported_by_dataset_import_is_taken_as_stored_by_test(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_HOME=str(tmp_path / "home"))
    rows = tmp_path / "people.csv"
    rows.write_text("name,amount\nann,5\n")
    imported = orchestra("dataset", "import", "people", str(rows), env=env)
    assert imported.returncode == 0, imported.stderr
    before = _row_version(database_url, "test_data_set")

    # what `orchestra test --data FILE` does with the file: not converted, nor stored, again
    found = await config.data_set_from_file(db, "people", rows)

    assert found.rows == ({"name": "ann", "amount": "5"},)
    assert _row_version(database_url, "test_data_set") == before
    assert before[1] is not None
