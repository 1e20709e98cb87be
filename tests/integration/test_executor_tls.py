"""TLS against real HTTPS servers on 127.0.0.1 presenting certificates of a throwaway CA:
verification, extra trust, mutual TLS, the name verified, the version floor."""

from __future__ import annotations

import ssl
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from orchestra.binding.environment import EnvironmentSpec, load_environment, resolve_secrets
from orchestra.binding.executor import StepExecutor
from orchestra.domain.statuses import StepStatus
from orchestra.errors import ConfigurationError
from orchestra.protocols.base import ProtocolRequest, ProtocolResponse
from orchestra.protocols.http_client import HttpProtocol
from tests.integration.executor_sut import bound_step, context
from tests.support.certificates import KEY_PASSWORD, Pki, https_server, make_pki, server_context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def https_url(pki: Pki) -> AsyncIterator[str]:
    async with https_server(server_context(pki.server_cert, pki.server_key)) as url:
        yield url


@pytest.fixture
async def mutual_tls_url(pki: Pki) -> AsyncIterator[str]:
    """A server that asks every client for a certificate signed by the test CA."""
    tls = server_context(pki.server_cert, pki.server_key, client_ca=pki.ca)
    async with https_server(tls) as url:
        yield url


class Recording:
    """An HTTP protocol that remembers the requests it sent."""

    name = "http"

    def __init__(self) -> None:
        self.sent: list[ProtocolRequest] = []
        self._http = HttpProtocol()

    async def send(self, request: ProtocolRequest) -> ProtocolResponse:
        self.sent.append(request)
        return await self._http.send(request)

    async def aclose(self) -> None:
        await self._http.aclose()


def environment_file(directory: Path, text: str) -> Path:
    path = directory / "staging.yaml"
    path.write_text(textwrap.dedent(text))
    return path


async def fetch(
    spec: EnvironmentSpec | dict[str, Any], environ: dict[str, str] | None = None
) -> tuple[StepStatus, str | None]:
    if isinstance(spec, dict):
        spec = EnvironmentSpec.model_validate({"name": "tls", **spec})
    async with StepExecutor(spec, resolve_secrets(spec, environ or {})) as executor:
        outcome = await executor.execute(
            bound_step({"action": {"path": "/ok"}, "checks": [{"status": 200}]}), context()
        )
    return outcome.status, outcome.error


async def test_a_certificate_from_an_unknown_ca_is_an_error_naming_host_and_reason(
    https_url: str,
) -> None:
    status, error = await fetch({"services": {"api": {"base_url": https_url}}})

    assert status is StepStatus.ERROR
    host = https_url.removeprefix("https://")
    assert f"TLS handshake with {host} failed: certificate verify failed" in str(error)
    assert "unable to get local issuer certificate" in str(error)


async def test_verification_can_be_turned_off_for_the_environment(https_url: str) -> None:
    status, error = await fetch({"verify_tls": False, "services": {"api": {"base_url": https_url}}})
    assert status is StepStatus.PASSED, error


async def test_a_service_setting_wins_over_the_environment_default(https_url: str) -> None:
    status, error = await fetch(
        {"verify_tls": True, "services": {"api": {"base_url": https_url, "verify_tls": False}}}
    )
    assert status is StepStatus.PASSED, error


async def test_a_ca_file_makes_the_internal_ca_trusted(
    https_url: str, pki: Pki, tmp_path: Path
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "internal-ca.pem").write_bytes(pki.ca.read_bytes())
    path = environment_file(
        tmp_path,
        f"""\
        name: staging
        tls: {{ca_file: ./certs/internal-ca.pem}}
        services: {{api: {{base_url: "{https_url}"}}}}
        """,
    )

    status, error = await fetch(load_environment(path))

    assert status is StepStatus.PASSED, error


async def test_a_ca_that_did_not_sign_the_server_certificate_still_fails(
    https_url: str, pki: Pki
) -> None:
    tls = {"ca_pem": pki.stranger_ca.read_text()}
    status, error = await fetch({"tls": tls, "services": {"api": {"base_url": https_url}}})

    assert status is StepStatus.ERROR
    assert "certificate verify failed" in str(error)


async def test_a_server_requiring_a_client_certificate_refuses_a_client_without_one(
    mutual_tls_url: str, pki: Pki
) -> None:
    tls = {"ca_pem": pki.ca.read_text()}
    status, error = await fetch({"tls": tls, "services": {"api": {"base_url": mutual_tls_url}}})

    assert status is StepStatus.ERROR
    assert mutual_tls_url in str(error)
    assert "client certificate" in str(error)


async def test_a_client_certificate_and_its_key_file_pass_mutual_tls(
    mutual_tls_url: str, pki: Pki
) -> None:
    tls = {
        "ca_pem": pki.ca.read_text(),
        "client_cert_pem": pki.client_cert.read_text(),
        "client_key": "${CLIENT_KEY_FILE}",
    }
    environment = {"tls": tls, "services": {"api": {"base_url": mutual_tls_url}}}

    status, error = await fetch(environment, {"CLIENT_KEY_FILE": str(pki.client_key)})

    assert status is StepStatus.PASSED, error


async def test_an_encrypted_key_opens_with_its_password_from_the_environment(
    mutual_tls_url: str, pki: Pki
) -> None:
    tls = {
        "ca_pem": pki.ca.read_text(),
        "client_cert_pem": pki.client_cert.read_text(),
        "client_key": str(pki.client_key_encrypted),
        "client_key_password": "${KEY_PASSWORD}",
    }
    environment = {"tls": tls, "services": {"api": {"base_url": mutual_tls_url}}}

    status, error = await fetch(environment, {"KEY_PASSWORD": KEY_PASSWORD})

    assert status is StepStatus.PASSED, error


async def test_server_hostname_verifies_a_certificate_made_for_another_name(pki: Pki) -> None:
    tls = {"ca_pem": pki.ca.read_text()}
    async with https_server(server_context(pki.other_name_cert, pki.other_name_key)) as url:
        without = await fetch({"tls": tls, "services": {"api": {"base_url": url}}})
        named = {**tls, "server_hostname": "orders.internal"}
        with_name = await fetch({"services": {"api": {"base_url": url, "tls": named}}})

    assert without[0] is StepStatus.ERROR
    assert "not valid for '127.0.0.1'" in str(without[1])
    assert with_name[0] is StepStatus.PASSED, with_name[1]


async def test_min_version_refuses_a_server_that_offers_less(pki: Pki) -> None:
    old = server_context(pki.server_cert, pki.server_key)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    ca = pki.ca.read_text()
    async with https_server(old) as url:
        services = {"a": {"base_url": url}}
        floor_12 = await fetch({"tls": {"ca_pem": ca, "min_version": "1.2"}, "services": services})
        floor_13 = await fetch({"tls": {"ca_pem": ca, "min_version": 1.3}, "services": services})

    assert floor_12[0] is StepStatus.PASSED, floor_12[1]
    assert floor_13[0] is StepStatus.ERROR
    assert "TLS handshake with" in str(floor_13[1])


async def test_services_with_the_same_tls_share_one_ssl_context_across_steps(
    https_url: str, pki: Pki
) -> None:
    tls = {"ca_pem": pki.ca.read_text()}
    spec = EnvironmentSpec.model_validate({
        "name": "shared",
        "tls": tls,
        "services": {
            "a": {"base_url": https_url},
            "b": {"base_url": https_url},
            "c": {"base_url": https_url, "tls": {"server_hostname": "127.0.0.1"}},
            "loose": {"base_url": https_url, "verify_tls": False},
        },
    })  # fmt: skip
    recording = Recording()
    async with StepExecutor(spec, {}, protocols={"http": recording}) as executor:
        for service in ["a", "b", "c", "loose", "a"]:
            step = bound_step({"action": {"service": service, "path": "/ok"}})
            outcome = await executor.execute(step, context())
            assert outcome.status is StepStatus.PASSED, outcome.error

    contexts = [request.ssl_context for request in recording.sent]
    assert contexts[0] is contexts[1] is contexts[2] is contexts[4]
    assert contexts[3] is not contexts[0]
    assert recording.sent[2].server_hostname == "127.0.0.1"


async def test_an_absolute_url_elsewhere_is_verified_by_its_own_name_not_the_services(
    pki: Pki,
) -> None:
    tls = {"ca_pem": pki.ca.read_text(), "server_hostname": "orders.internal"}
    other_name = server_context(pki.other_name_cert, pki.other_name_key)
    async with (
        https_server(other_name) as service_url,
        https_server(server_context(pki.server_cert, pki.server_key)) as elsewhere,
    ):
        spec = EnvironmentSpec.model_validate(
            {"name": "e", "services": {"api": {"base_url": service_url, "tls": tls}}}
        )
        recording = Recording()
        async with StepExecutor(spec, {}, protocols={"http": recording}) as executor:
            outcomes = [
                await executor.execute(bound_step({"action": {"path": path}}), context())
                for path in ("/ok", f"{elsewhere}/ok", f"{service_url}/ok")
            ]

    assert [o.status for o in outcomes] == [StepStatus.PASSED] * 3, [o.error for o in outcomes]
    names = [request.server_hostname for request in recording.sent]
    assert names == ["orders.internal", None, "orders.internal"]


async def test_the_oauth2_token_is_fetched_with_the_services_trust_and_certificate(
    mutual_tls_url: str, pki: Pki
) -> None:
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"{mutual_tls_url}/token",
        "client_id": "orchestra",
        "client_secret": "${SECRET}",
    }
    tls = {
        "ca_pem": pki.ca.read_text(),
        "client_cert_pem": pki.client_cert.read_text(),
        "client_key": str(pki.client_key),
    }
    service = {"base_url": mutual_tls_url, "auth": auth, "tls": tls}

    status, error = await fetch({"services": {"api": service}}, {"SECRET": "a-client-secret"})

    assert status is StepStatus.PASSED, error


async def test_a_missing_key_file_is_a_configuration_error_naming_it_and_the_environment(
    pki: Pki, tmp_path: Path
) -> None:
    tls = {
        "client_cert_pem": pki.client_cert.read_text(),
        "client_key": str(tmp_path / "gone.key"),
    }
    spec = EnvironmentSpec.model_validate({
        "name": "staging", "services": {"api": {"base_url": "https://127.0.0.1:9", "tls": tls}}
    })  # fmt: skip

    with pytest.raises(ConfigurationError) as caught:
        StepExecutor(spec, {})

    message = caught.value.message
    assert "environment 'staging', service 'api'" in message
    assert f"{tmp_path / 'gone.key'}: cannot read the key file" in message


async def test_a_key_that_is_not_the_certificates_is_a_configuration_error(pki: Pki) -> None:
    tls = {
        "client_cert_pem": pki.client_cert.read_text(),
        "client_key": str(pki.server_key),
    }
    spec = EnvironmentSpec.model_validate({
        "name": "staging", "services": {"api": {"base_url": "https://127.0.0.1:9", "tls": tls}}
    })  # fmt: skip

    with pytest.raises(ConfigurationError, match="not a PEM private key matching client_cert"):
        StepExecutor(spec, {})


async def test_an_encrypted_key_without_its_password_is_refused_not_prompted_for(
    pki: Pki,
) -> None:
    tls = {
        "client_cert_pem": pki.client_cert.read_text(),
        "client_key": str(pki.client_key_encrypted),
    }
    spec = EnvironmentSpec.model_validate({
        "name": "staging", "services": {"api": {"base_url": "https://127.0.0.1:9", "tls": tls}}
    })  # fmt: skip

    with pytest.raises(ConfigurationError, match="wrong client_key_password"):
        StepExecutor(spec, {})


async def test_the_environments_own_oauth2_uses_the_environments_tls_not_a_services(
    https_url: str, mutual_tls_url: str, pki: Pki
) -> None:
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"{mutual_tls_url}/token",
        "client_id": "orchestra",
        "client_secret": "${SECRET}",
    }
    client = {"client_cert_pem": pki.client_cert.read_text(), "client_key": str(pki.client_key)}
    # the service shows a certificate the token endpoint refuses (made for a server)
    other = {"client_cert_pem": pki.server_cert.read_text(), "client_key": str(pki.server_key)}
    environment = {
        "auth": auth,
        "tls": {"ca_pem": pki.ca.read_text(), **client},
        "services": {"api": {"base_url": https_url, "tls": other}},
    }

    status, error = await fetch(environment, {"SECRET": "a-client-secret"})

    assert status is StepStatus.PASSED, error


async def _no_sleep(seconds: float) -> None:
    return None


async def send_retried(https_url: str, on: list[str]) -> tuple[Recording, str | None]:
    """A step against the untrusted server retrying `on`, and what its protocol sent."""
    spec = EnvironmentSpec.model_validate(
        {"name": "e", "services": {"api": {"base_url": https_url}}}
    )
    recording = Recording()
    retry = {"on": on, "attempts": 3, "delay": 0}
    async with StepExecutor(spec, {}, protocols={"http": recording}, sleep=_no_sleep) as executor:
        step = bound_step({"action": {"path": "/ok", "retry": retry}})
        outcome = await executor.execute(step, context())
    assert outcome.status is StepStatus.ERROR
    return recording, outcome.error


async def test_a_failed_handshake_is_not_sent_again_as_a_connection_failure(
    https_url: str,
) -> None:
    recording, error = await send_retried(https_url, ["connect", "timeout"])

    assert len(recording.sent) == 1
    host = https_url.removeprefix("https://")
    assert f"TLS handshake with {host} failed: certificate verify failed" in str(error)


async def test_a_failed_handshake_is_sent_again_when_retry_names_tls(https_url: str) -> None:
    recording, error = await send_retried(https_url, ["tls"])

    assert len(recording.sent) == 3
    assert "TLS handshake with" in str(error)
    assert str(error).endswith("(after 3 attempts)")
