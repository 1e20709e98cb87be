"""`orchestra dataset import` and `orchestra env apply` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

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
