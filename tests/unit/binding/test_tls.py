"""TLS options in environment files: what is read when applied, what is refused, how a
service's options sit over the environment's, and one SSLContext per configuration."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestra.binding.environment import (
    EnvironmentSpec,
    load_environment,
    parse_environment,
    resolve_secrets,
    resolved_environment,
)
from orchestra.binding.tls import Tls, TlsContexts, merged
from orchestra.binding.yamlsource import Source
from orchestra.errors import BindingRefused, ConfigurationError
from tests.support.certificates import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def certs(tmp_path: Path, pki: Pki) -> Path:
    """An environment folder with certs/internal-ca.pem and certs/orchestra.pem beside it."""
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "internal-ca.pem").write_bytes(pki.ca.read_bytes())
    (tmp_path / "certs" / "orchestra.pem").write_bytes(pki.client_cert.read_bytes())
    return tmp_path


STAGING = """\
name: staging
tls:
  ca_file: ./certs/internal-ca.pem
  min_version: 1.2
services:
  orders:
    base_url: https://orders.staging.example
    tls:
      client_cert: certs/orchestra.pem
      client_key: "${ORCHESTRA_CLIENT_KEY_FILE}"
      server_hostname: orders.internal
  billing: {base_url: "https://billing.staging.example"}
"""


def write(directory: Path, text: str, name: str = "staging.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def test_certificates_are_read_relative_to_the_environment_file_and_kept_as_pem(
    certs: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    spec = load_environment(write(certs, STAGING))

    assert spec.tls is not None
    assert spec.tls.ca_file == "./certs/internal-ca.pem"
    assert spec.tls.ca_pem == pki.ca.read_text()
    assert spec.tls.min_version == "1.2"
    orders = spec.services["orders"].tls
    assert orders is not None
    assert orders.client_cert_pem == pki.client_cert.read_text()
    assert orders.client_key == "${ORCHESTRA_CLIENT_KEY_FILE}"
    assert spec.references() == ["ORCHESTRA_CLIENT_KEY_FILE"]


def test_a_stored_environment_needs_no_certificate_files(certs: Path) -> None:
    spec = load_environment(write(certs, STAGING))
    stored = spec.model_dump(mode="json")
    for path in (certs / "certs").iterdir():
        path.unlink()

    again = EnvironmentSpec.model_validate(stored)
    secrets = resolve_secrets(again, {"ORCHESTRA_CLIENT_KEY_FILE": "/keys/orchestra.key"})
    usable = resolved_environment(again, secrets)

    assert again == spec
    assert usable.services["orders"].tls is not None
    assert usable.services["orders"].tls.client_key == "/keys/orchestra.key"


def test_a_plain_key_path_is_taken_from_the_environment_files_folder(certs: Path) -> None:
    text = STAGING.replace('"${ORCHESTRA_CLIENT_KEY_FILE}"', "keys/orchestra.key")
    spec = load_environment(write(certs, text))

    orders = spec.services["orders"].tls
    assert orders is not None
    assert orders.client_key == str(certs / "keys" / "orchestra.key")


def test_a_missing_ca_file_is_refused_naming_the_file_the_environment_and_the_line(
    tmp_path: Path,
) -> None:
    with pytest.raises(BindingRefused) as caught:
        load_environment(write(tmp_path, STAGING))

    message = caught.value.message
    assert "staging.yaml:3: tls.ca_file: environment 'staging': cannot read CA file" in message
    assert f"{tmp_path / 'certs' / 'internal-ca.pem'}: No such file or directory" in message
    assert "services.orders.tls.client_cert" in message  # every problem, not the first one
    assert caught.value.exit_code == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hello\n", "holds no PEM certificate"),
        (b"\x30\x82\x01\x0a\xff\xfe", "is not PEM text (binary DER?"),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "is not a valid PEM certificate bundle (no start line",
        ),
    ],
)
def test_a_file_that_is_not_a_pem_certificate_is_refused_naming_it(
    certs: Path, content: bytes, expected: str
) -> None:
    (certs / "certs" / "internal-ca.pem").write_bytes(content)

    with pytest.raises(BindingRefused) as caught:
        load_environment(write(certs, STAGING))

    assert f"{certs / 'certs' / 'internal-ca.pem'} {expected}" in caught.value.message


def test_a_certificate_file_holding_a_private_key_is_refused_and_the_key_not_stored(
    certs: Path, pki: Pki
) -> None:
    bundle = pki.client_cert.read_text() + pki.client_key.read_text()
    (certs / "certs" / "orchestra.pem").write_text(bundle)

    with pytest.raises(BindingRefused) as caught:
        load_environment(write(certs, STAGING))

    assert "services.orders.tls.client_cert" in caught.value.message
    assert "holds a private key, which Orchestra never stores" in caught.value.message
    assert "BEGIN" not in caught.value.message


def test_a_key_written_inline_is_refused(certs: Path, pki: Pki) -> None:
    inline = pki.client_key.read_text().replace("\n", "\\n")
    text = STAGING.replace('"${ORCHESTRA_CLIENT_KEY_FILE}"', f'"{inline}"')

    with pytest.raises(BindingRefused) as caught:
        load_environment(write(certs, text))

    assert ":10: services.orders.tls.client_key: a key given inline is refused" in (
        caught.value.message
    )
    assert pki.client_key.read_text().splitlines()[1] not in str(caught.value.to_json())


def test_a_client_certificate_without_its_key_is_refused(certs: Path) -> None:
    text = STAGING.replace('      client_key: "${ORCHESTRA_CLIENT_KEY_FILE}"\n', "")

    with pytest.raises(BindingRefused, match="client_cert needs client_key"):
        load_environment(write(certs, text))


@pytest.mark.parametrize("password", ["hunter2", "hunter2${", "${not a name}"])
def test_a_key_password_written_in_clear_is_refused(certs: Path, password: str) -> None:
    text = STAGING.replace(
        "server_hostname:", f"client_key_password: '{password}'\n      server_hostname:"
    )

    with pytest.raises(BindingRefused, match="`client_key_password` is a secret"):
        load_environment(write(certs, text))


def test_an_unknown_version_is_refused(certs: Path) -> None:
    with pytest.raises(BindingRefused, match=r"tls\.min_version"):
        load_environment(write(certs, STAGING.replace("min_version: 1.2", "min_version: 1.1")))


def test_a_text_without_a_folder_gives_pem_text_rather_than_file_names(pki: Pki) -> None:
    with pytest.raises(BindingRefused, match="cannot be read from a text without a directory"):
        parse_environment(Source("<request body>", STAGING))

    inline = {"name": "api", "tls": {"ca_pem": pki.ca.read_text()}, "services": {}}
    spec = EnvironmentSpec.model_validate(inline)
    assert spec.tls is not None
    assert spec.tls.ca_pem == pki.ca.read_text()


def test_a_service_overrides_the_environments_options_field_by_field(pki: Pki) -> None:
    ca = pki.ca.read_text()
    environment = Tls(ca_pem=ca, min_version="1.3", server_hostname="api.internal")
    service = Tls(server_hostname="orders.internal")

    both = merged(environment, service)

    assert both == Tls(ca_pem=ca, min_version="1.3", server_hostname="orders.internal")
    assert merged(environment, None) is environment
    assert merged(None, service) is service
    assert merged(None, None) is None


def test_a_service_certificate_brings_its_own_key_and_password(pki: Pki) -> None:
    cert = pki.client_cert.read_text()
    environment = Tls(client_cert_pem=cert, client_key="/a.key", client_key_password="${A}")
    service = Tls(client_cert_pem=cert, client_key="/b.key")

    both = merged(environment, service)

    assert both is not None
    assert (both.client_key, both.client_key_password) == ("/b.key", None)


def test_one_ssl_context_is_built_per_distinct_configuration(pki: Pki) -> None:
    contexts = TlsContexts("staging")
    trust = Tls(ca_pem=pki.ca.read_text())
    named = Tls(ca_pem=pki.ca.read_text(), server_hostname="orders.internal")

    first = contexts.context(trust, verify=True, service="a")

    assert contexts.context(named, verify=True, service="b") is first  # a name is per request
    assert contexts.context(trust, verify=False, service="c") is not first
    assert contexts.connection(named, verify=True, service="b").server_hostname == (
        "orders.internal"
    )
    assert contexts.connection(None, verify=True, service="d").ssl_context is None
    assert len(contexts) == 2


def test_a_key_variable_holding_the_key_itself_is_a_configuration_error_not_showing_it(
    certs: Path, pki: Pki
) -> None:
    spec = load_environment(write(certs, STAGING))
    key = pki.client_key.read_text()

    with pytest.raises(ConfigurationError) as caught:
        resolved_environment(spec, resolve_secrets(spec, {"ORCHESTRA_CLIENT_KEY_FILE": key}))

    message = caught.value.message
    assert "environment 'staging', once its variables are substituted" in message
    assert (
        "staging.yaml:10: services.orders.tls.client_key '${ORCHESTRA_CLIENT_KEY_FILE}':"
        " a key given inline is refused"
    ) in message
    assert key.splitlines()[1] not in message
    assert caught.value.__cause__ is None


def test_a_missing_ca_file_is_named_in_full_when_the_environment_file_was_named_relatively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    write(envs, STAGING)
    monkeypatch.chdir(tmp_path)

    with pytest.raises(BindingRefused) as caught:
        load_environment(Path("envs") / "staging.yaml")

    assert caught.value.message.startswith(
        "envs/staging.yaml:3: tls.ca_file: environment 'staging': cannot read CA file "
        f"{envs / 'certs' / 'internal-ca.pem'}: No such file or directory"
    )
