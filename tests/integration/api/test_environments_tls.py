"""`POST /environments` with TLS options: a request body has no folder to read files from."""

from __future__ import annotations

import json

import pytest

from tests.integration.api.conftest import Client
from tests.support.certificates import Pki, make_pki

YAML = {"Content-Type": "application/yaml"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def test_a_certificate_file_name_in_a_request_is_refused_asking_for_its_text(
    api: Client,
) -> None:
    text = "name: api\ntls: {ca_file: /etc/ssl/internal-ca.pem}\nservices: {a: {base_url: https://a}}\n"

    reply = await api.post("/environments", data=text, headers=YAML)

    assert reply.status == 422
    (problem,) = reply.json()["problems"]
    assert (problem["path"], problem["line"]) == ("tls.ca_file", 2)
    assert "give ca_pem" in problem["message"]


async def test_certificates_given_as_pem_text_are_stored(api: Client, pki: Pki) -> None:
    tls = {"ca_pem": pki.ca.read_text()}
    body = {"name": "api", "tls": tls, "services": {"a": {"base_url": "https://a"}}}

    reply = await api.post("/environments", data=json.dumps(body), headers=YAML)

    assert reply.status == 201, reply.body
    assert reply.json()["environment"] == "api"
