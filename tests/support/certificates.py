"""A throwaway PKI for TLS tests, made by the `openssl` command: a CA, server and client
certificates it signed, and HTTPS servers on 127.0.0.1 that present them.

`cryptography` is not among our dependencies and `openssl` is on every machine that builds
Python's `ssl`, so the certificates come from the command line (EC keys: fast to make).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from tests.support.servers import served

KEY_PASSWORD = "s3cret-pass"


@dataclass(frozen=True)
class Pki:
    ca: Path  # the test CA's certificate
    server_cert: Path  # for 127.0.0.1 (IP SAN), signed by the CA
    server_key: Path
    other_name_cert: Path  # for orders.internal only, signed by the CA
    other_name_key: Path
    client_cert: Path  # for mutual TLS, signed by the CA
    client_key: Path
    client_key_encrypted: Path  # the same key, encrypted with KEY_PASSWORD
    stranger_ca: Path  # a second CA that signed none of these


def _openssl(*args: str, cwd: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificates for the TLS tests")
    subprocess.run([openssl, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "2", "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return directory / f"{name}.pem", directory / f"{name}.key"


def _signed(directory: Path, ca: tuple[Path, Path], name: str, extensions: str) -> Path:
    (directory / f"{name}.ext").write_text(extensions + "\n")
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem",
        cwd=directory,
    )  # fmt: skip
    return directory / f"{name}.pem"


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca(directory, "test-ca")
    stranger, _ = _ca(directory, "stranger-ca")
    server = _signed(
        directory, ca, "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"
    )
    other = _signed(directory, ca, "orders", "subjectAltName=DNS:orders.internal")
    client = _signed(directory, ca, "client", "extendedKeyUsage=clientAuth")
    _openssl(
        "pkey", "-in", "client.key", "-aes256", "-passout", f"pass:{KEY_PASSWORD}",
        "-out", "client-encrypted.key",
        cwd=directory,
    )  # fmt: skip
    return Pki(
        ca=ca[0],
        server_cert=server,
        server_key=directory / "server.key",
        other_name_cert=other,
        other_name_key=directory / "orders.key",
        client_cert=client,
        client_key=directory / "client.key",
        client_key_encrypted=directory / "client-encrypted.key",
        stranger_ca=stranger,
    )


def server_context(cert: Path, key: Path, *, client_ca: Path | None = None) -> ssl.SSLContext:
    """A server's TLS: its certificate; with `client_ca`, clients must show one it signed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@asynccontextmanager
async def https_server(context: ssl.SSLContext) -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 answering GET /ok with {"state": "OK"} (and the client
    certificate's subject CN, when one was shown); yields its base URL."""

    async def ok(request: web.Request) -> web.Response:
        transport = request.transport
        peer = transport.get_extra_info("peercert") if transport is not None else None
        subject = dict(item[0] for item in peer["subject"]) if peer else {}
        return web.json_response({"state": "OK", "client": subject.get("commonName")})

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_post("/token", token)
    async with served(app, tls=context) as base_url:
        yield base_url


async def token(request: web.Request) -> web.Response:
    """An OAuth2 token endpoint that gives a token to anyone (the TLS layer is under test)."""
    return web.json_response({"access_token": "tok-123", "expires_in": 3600})
