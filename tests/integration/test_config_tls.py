"""An environment with TLS options through PostgreSQL: applied from a file, stored without its
certificate files or any private key, and used by a worker's executor against mutual TLS."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestra.binding.factory import executor_factory
from orchestra.domain.statuses import StepStatus
from orchestra.errors import NotFound
from orchestra.services.config import apply_environment, show_environment
from orchestra.store.database import Database
from tests.integration.executor_sut import bound_step, context
from tests.integration.test_config_services import everything_stored
from tests.support.certificates import Pki, https_server, make_pki, server_context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def key_body(pki: Pki) -> str:
    """A line of the client key's base64: what must never be stored or shown."""
    return pki.client_key.read_text().splitlines()[1]


def staging(directory: Path, pki: Pki, base_url: str) -> Path:
    (directory / "certs").mkdir(parents=True)
    (directory / "certs" / "internal-ca.pem").write_bytes(pki.ca.read_bytes())
    (directory / "certs" / "orchestra.pem").write_bytes(pki.client_cert.read_bytes())
    path = directory / "staging.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        name: staging
        tls: {{ca_file: certs/internal-ca.pem}}
        services:
          orders:
            base_url: "{base_url}"
            tls:
              client_cert: certs/orchestra.pem
              client_key: "${{ORCHESTRA_CLIENT_KEY_FILE}}"
        """)
    )
    return path


async def test_a_stored_environment_reaches_a_mutual_tls_service_from_a_worker(
    db: Database, pki: Pki, tmp_path: Path
) -> None:
    tls = server_context(pki.server_cert, pki.server_key, client_ca=pki.ca)
    async with https_server(tls) as url:
        await apply_environment(db, staging(tmp_path / "repo", pki, url))
        async with db.transaction() as uow:
            stored = await uow.config.environment("staging")
        build = executor_factory({"ORCHESTRA_CLIENT_KEY_FILE": str(pki.client_key)})
        executor = await build(stored)
        try:
            outcome = await executor.execute(
                bound_step({"action": {"path": "/ok"}, "checks": [{"status": 200}]}), context()
            )
        finally:
            await executor.aclose()

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.response is not None
    assert outcome.response["json"]["client"] == "client"  # the server saw our certificate


async def test_the_store_holds_the_certificates_but_never_the_key(
    db: Database, pki: Pki, tmp_path: Path
) -> None:
    result = await apply_environment(db, staging(tmp_path, pki, "https://127.0.0.1:9"))

    stored = await everything_stored(db)
    assert "BEGIN CERTIFICATE" in stored
    assert "PRIVATE KEY" not in stored
    assert key_body(pki) not in stored
    assert result["secret_refs"] == []  # a key file's path is no secret: its password is
    assert result["variables"] == ["ORCHESTRA_CLIENT_KEY_FILE"]
    assert result["tls"]["orders"]["client_key"] == "${ORCHESTRA_CLIENT_KEY_FILE}"


async def test_show_names_the_certificates_by_fingerprint_and_the_key_by_reference(
    db: Database, pki: Pki, tmp_path: Path
) -> None:
    await apply_environment(db, staging(tmp_path, pki, "https://127.0.0.1:9"))

    shown = await show_environment(db, "staging")

    assert shown["tls"]["ca_file"] == "certs/internal-ca.pem"
    (ca,) = shown["tls"]["ca_certificates"]
    assert ca["subject"] == "CN=test-ca"
    orders = shown["services"]["orders"]["tls"]
    assert len(orders["client_certificate"][0]["sha256"]) == 64
    assert orders["client_key"] == "${ORCHESTRA_CLIENT_KEY_FILE}"
    assert "BEGIN" not in str(shown)
    with pytest.raises(NotFound, match="no environment 'nope'"):
        await show_environment(db, "nope")
