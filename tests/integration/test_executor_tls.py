"""TLS verification against a real HTTPS server on 127.0.0.1 with a self-signed certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from orchestra.binding.environment import EnvironmentSpec
from orchestra.binding.executor import StepExecutor
from orchestra.domain.statuses import StepStatus
from tests.integration.executor_sut import bound_step, context


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate and its key, made by openssl for this test."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate to serve HTTPS with")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def https_url(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(*certificate)

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"state": "OK"})

    app = web.Application()
    app.router.add_get("/ok", ok)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"https://{host}:{port}"
    finally:
        await runner.cleanup()


async def fetch(environment: dict[str, Any]) -> tuple[StepStatus, str | None]:
    spec = EnvironmentSpec.model_validate({"name": "tls", **environment})
    async with StepExecutor(spec, {}) as executor:
        outcome = await executor.execute(
            bound_step({"action": {"path": "/ok"}, "checks": [{"status": 200}]}), context()
        )
    return outcome.status, outcome.error


async def test_a_certificate_that_cannot_be_verified_is_an_error_naming_it(https_url: str) -> None:
    status, error = await fetch({"services": {"api": {"base_url": https_url}}})
    assert status is StepStatus.ERROR
    assert error is not None
    assert "certificate" in error.lower()


async def test_verification_can_be_turned_off_for_the_environment(https_url: str) -> None:
    status, error = await fetch({"verify_tls": False, "services": {"api": {"base_url": https_url}}})
    assert status is StepStatus.PASSED, error


async def test_a_service_setting_wins_over_the_environment_default(https_url: str) -> None:
    status, error = await fetch(
        {"verify_tls": True, "services": {"api": {"base_url": https_url, "verify_tls": False}}}
    )
    assert status is StepStatus.PASSED, error
