"""`orchestra env apply` and `env show` with TLS options, as a user runs them from elsewhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from orchestra.examples.order import BINDINGS_FILE, PROCESS_FILE, example_path
from tests.e2e.conftest import clean_env, orchestra
from tests.support.certificates import Pki, make_pki

STAGING = """\
name: staging
tls:
  ca_file: ./certs/internal-ca.pem
  min_version: "1.2"
services:
  orders:
    base_url: https://orders.staging.example
    tls:
      client_cert: ./certs/orchestra.pem
      client_key: "${ORCHESTRA_CLIENT_KEY_FILE}"
      server_hostname: orders.internal
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def repo(tmp_path: Path, pki: Pki) -> Path:
    """A project folder: environments/staging.yaml naming ./certs beside it."""
    folder = tmp_path / "repo" / "environments"
    (folder / "certs").mkdir(parents=True)
    shutil.copy(pki.ca, folder / "certs" / "internal-ca.pem")
    shutil.copy(pki.client_cert, folder / "certs" / "orchestra.pem")
    (folder / "staging.yaml").write_text(STAGING)
    return folder


def test_env_apply_reads_certificates_beside_the_file_and_show_never_prints_the_key(
    repo: Path, pki: Pki, tmp_path: Path, database_url: str
) -> None:
    env = clean_env(
        ORCHESTRA_DATABASE_URL=database_url,
        ORCHESTRA_HOME=str(tmp_path / "home"),
        ORCHESTRA_CLIENT_KEY_FILE=str(pki.client_key),
    )
    key_line = pki.client_key.read_text().splitlines()[1]

    applied = orchestra("env", "apply", str(repo / "staging.yaml"), env=env)  # cwd: elsewhere
    shown = orchestra("env", "show", "staging", env=env)
    shown_json = orchestra("env", "show", "staging", "--json", env=env)

    assert applied.returncode == 0, applied.stderr
    assert "tls: trusts ./certs/internal-ca.pem (CN=test-ca)" in applied.stdout
    assert shown.returncode == 0, shown.stderr
    assert "key file ${ORCHESTRA_CLIENT_KEY_FILE}" in shown.stdout
    assert "verified as orders.internal" in shown.stdout
    document = json.loads(shown_json.stdout)
    assert document["tls"]["ca_certificates"][0]["subject"] == "CN=test-ca"
    assert document["services"]["orders"]["tls"]["client_key"] == "${ORCHESTRA_CLIENT_KEY_FILE}"
    for output in (applied, shown, shown_json):
        assert "PRIVATE KEY" not in output.stdout + output.stderr
        assert key_line not in output.stdout + output.stderr


def test_env_apply_with_a_missing_certificate_exits_1_naming_file_and_environment(
    repo: Path, tmp_path: Path, database_url: str
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_HOME=str(tmp_path / "home"))
    (repo / "certs" / "internal-ca.pem").unlink()

    refused = orchestra("env", "apply", str(repo / "staging.yaml"), "--json", env=env)

    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    (problem,) = json.loads(refused.stdout)["problems"]
    assert (problem["path"], problem["line"]) == ("tls.ca_file", 3)
    assert "environment 'staging': cannot read CA file" in problem["message"]
    assert str(repo / "certs" / "internal-ca.pem") in refused.stderr


def test_env_show_of_an_unknown_environment_exits_1(tmp_path: Path, database_url: str) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, ORCHESTRA_HOME=str(tmp_path / "home"))

    missing = orchestra("env", "show", "nope", env=env)

    assert missing.returncode == 1
    assert "error: no environment 'nope'" in missing.stderr


@pytest.mark.slow
def test_run_wait_with_an_unreadable_client_key_exits_2_before_starting(
    repo: Path, tmp_path: Path, database_url: str
) -> None:
    env = clean_env(
        ORCHESTRA_DATABASE_URL=database_url,
        ORCHESTRA_HOME=str(tmp_path / "home"),
        ORCHESTRA_CLIENT_KEY_FILE=str(tmp_path / "gone.key"),
    )
    steps = [
        ("import", str(example_path(PROCESS_FILE))),
        ("env", "apply", str(repo / "staging.yaml")),
        ("generate", "order_fulfilment", "--bindings", str(example_path(BINDINGS_FILE))),
    ]
    for args in steps:
        done = orchestra(*args, "--json", env=env)
        assert done.returncode == 0, done.stderr
    suite = json.loads(done.stdout)["suite"]

    ran = orchestra("run", str(suite), "--env", "staging", "--wait", "--json", env=env)

    assert ran.returncode == 2, ran.stderr
    error = json.loads(ran.stdout)
    assert error["error"] == "ConfigurationError"
    assert "environment 'staging', service 'orders'" in error["message"]
    assert f"{tmp_path / 'gone.key'}: cannot read the key file" in error["message"]
    status = orchestra("status", "--json", env=env)
    assert json.loads(status.stdout)["suite_runs"] == []  # no suite run was started
