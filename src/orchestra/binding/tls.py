"""TLS options for reaching the SUT: extra trust, mutual TLS, the name to verify, a floor.

    tls:                                   # per environment, and per service (field by field)
      ca_file: ./certs/internal-ca.pem     # extra trusted CAs (PEM), added to the system store
      client_cert: ./certs/orchestra.pem   # mutual TLS: the client certificate (PEM)
      client_key: "${ORCHESTRA_CLIENT_KEY_FILE}"   # the path of its key file, read at run time
      client_key_password: "${ORCHESTRA_CLIENT_KEY_PASSWORD}"  # if the key is encrypted
      server_hostname: orders.internal     # the name sent (SNI) and verified instead of the URL's
      min_version: "1.2"                   # "1.2" or "1.3"

Certificates are public: when an environment is applied, `ca_file` and `client_cert` are read
(relative to the environment file) and their PEM text is stored beside the path, as `ca_pem` and
`client_cert_pem`, so a worker on another machine needs no copy of them. A private key is never
stored: `client_key` is the path of a key file on the worker's machine, best given as a
`${VARIABLE}` reference, and a key written inline (or hidden in a certificate file) is refused.

A service's `tls` overrides the environment's field by field (a field it leaves out is
inherited); a service giving a client certificate gives its key too. `TlsContexts` builds one
`ssl.SSLContext` per distinct configuration, once, so connections to a service are pooled.
"""

from __future__ import annotations

import hashlib
import re
import ssl
import tempfile
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationInfo, field_validator, model_validator

from orchestra.binding.references import is_resolved, reference_only
from orchestra.domain.process import Frozen
from orchestra.errors import ConfigurationError

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
_BEGIN_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def certificates_problem(text: str) -> str | None:
    """Why `text` is not a PEM bundle of certificates fit to store, or None when it is."""
    if "PRIVATE KEY" in text:
        return "holds a private key, which Orchestra never stores: give it as client_key"
    if _BEGIN_CERTIFICATE not in text:
        return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=text)
    except (ssl.SSLError, ValueError) as exc:
        return f"is not a valid PEM certificate bundle ({openssl_reason(exc)})"
    return None


def openssl_reason(exc: Exception) -> str:
    """OpenSSL's words without its `[LIB: CODE]` prefix and `(_ssl.c:NNN)` suffix."""
    text = str(exc.args[1]) if isinstance(exc, ssl.SSLError) and len(exc.args) > 1 else str(exc)
    return re.sub(r"^\[[^\]]*\]\s*|\s*\(_ssl\.c:\d+\)$", "", text)


class Tls(Frozen):
    ca_file: str | None = None  # as written, kept to show where `ca_pem` came from
    ca_pem: str | None = None
    client_cert: str | None = None  # as written, kept to show where `client_cert_pem` came from
    client_cert_pem: str | None = None
    client_key: str | None = None  # a path on the worker's machine, never the key itself
    client_key_password: str | None = None  # a secret: a ${VARIABLE} reference
    server_hostname: str | None = None
    min_version: Literal["1.2", "1.3"] | None = None

    @field_validator("min_version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return f"{value:.1f}" if isinstance(value, float) else value  # YAML reads 1.2 as a float

    @field_validator("ca_pem", "client_cert_pem")
    @classmethod
    def _certificates(cls, value: str | None) -> str | None:
        problem = None if value is None else certificates_problem(value)
        if problem is not None:
            raise ValueError(f"the text {problem}")
        return value

    @field_validator("client_key")
    @classmethod
    def _a_path(cls, value: str | None) -> str | None:
        if value is not None and ("-----BEGIN" in value or "PRIVATE KEY" in value):
            raise ValueError(
                "a key given inline is refused: give the path of its key file, "
                "best as a reference such as ${ORCHESTRA_CLIENT_KEY_FILE}"
            )
        return value

    @field_validator("client_key_password")
    @classmethod
    def _a_reference(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not is_resolved(info):
            reference_only("client_key_password", value)
        return value

    @model_validator(mode="after")
    def _complete(self) -> Tls:
        for path, pem in (("ca_file", self.ca_pem), ("client_cert", self.client_cert_pem)):
            if getattr(self, path) is not None and pem is None:
                raise ValueError(
                    f"{path} {getattr(self, path)!r} has not been read: files are read when "
                    "an environment file is loaded"
                )
        has_cert, has_key = self.client_cert_pem is not None, self.client_key is not None
        if has_cert != has_key:
            given, missing = (
                ("client_cert", "client_key") if has_cert else ("client_key", "client_cert")
            )
            raise ValueError(f"{given} needs {missing}: mutual TLS takes both")
        return self


def describe(tls: Tls) -> dict[str, Any]:
    """The options to show: paths and references as written, certificates by fingerprint."""
    shown: dict[str, Any] = tls.model_dump(exclude_none=True, exclude={"ca_pem", "client_cert_pem"})
    if tls.ca_pem is not None:
        shown["ca_certificates"] = certificates(tls.ca_pem)
    if tls.client_cert_pem is not None:
        shown["client_certificate"] = certificates(tls.client_cert_pem)
    return shown


def certificates(pem: str) -> list[dict[str, str]]:
    """Each certificate of a bundle: its SHA-256 fingerprint, and for a CA its subject and end."""
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=pem)
    known = {  # OpenSSL decodes only the CAs it holds
        hashlib.sha256(der).hexdigest(): info
        for der, info in zip(
            context.get_ca_certs(binary_form=True), context.get_ca_certs(), strict=True
        )
    }
    found = []
    for block in blocks:
        fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(block)).hexdigest()
        shown = {"sha256": fingerprint}
        info = known.get(fingerprint)
        if info is not None:
            shown.update(subject=_subject(info["subject"]), not_after=str(info["notAfter"]))
        found.append(shown)
    return found


def _subject(names: Any) -> str:
    """OpenSSL's ((("commonName", "x"),), ...) as `CN=x, O=y`."""
    short = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU"}
    return ", ".join(f"{short.get(key, key)}={value}" for rdn in names for key, value in rdn)


def merged(environment: Tls | None, service: Tls | None) -> Tls | None:
    """The service's TLS options over the environment's, field by field."""
    if service is None or environment is None:
        return service or environment
    fields = environment.model_dump()
    fields.update({name: value for name, value in service.model_dump().items() if value})
    if service.client_cert_pem is not None:  # a certificate and its key go together
        fields["client_key_password"] = service.client_key_password
    return Tls.model_validate(fields, context={"resolved": True})


@dataclass(frozen=True, slots=True)
class Connection:
    """What a request to one service carries for TLS: None fields leave aiohttp's defaults."""

    ssl_context: ssl.SSLContext | None
    server_hostname: str | None


class TlsContexts:
    """One SSLContext per distinct (options, verify) pair of an environment, built once."""

    def __init__(self, environment: str) -> None:
        self._environment = environment
        self._built: dict[tuple[Any, ...], ssl.SSLContext] = {}

    def connection(self, tls: Tls | None, *, verify: bool, service: str) -> Connection:
        if tls is None:
            return Connection(None, None)
        return Connection(self.context(tls, verify=verify, service=service), tls.server_hostname)

    def context(self, tls: Tls, *, verify: bool, service: str) -> ssl.SSLContext:
        key = (
            tls.ca_pem,
            tls.client_cert_pem,
            tls.client_key,
            tls.client_key_password,
            tls.min_version,
            verify,
        )
        found = self._built.get(key)
        if found is None:
            found = self._built[key] = self._build(tls, verify, service)
        return found

    def __len__(self) -> int:
        return len(self._built)

    def _build(self, tls: Tls, verify: bool, service: str) -> ssl.SSLContext:
        context = ssl.create_default_context()  # the system's trust store
        if tls.ca_pem is not None:
            context.load_verify_locations(cadata=tls.ca_pem)  # checked when applied
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if tls.min_version is not None:
            context.minimum_version = _VERSIONS[tls.min_version]
        if tls.client_cert_pem is not None and tls.client_key is not None:
            self._load_client_certificate(context, tls, service)
        return context

    def _load_client_certificate(self, context: ssl.SSLContext, tls: Tls, service: str) -> None:
        assert tls.client_cert_pem is not None
        assert tls.client_key is not None
        key, password = tls.client_key, (tls.client_key_password or "").encode()
        where = f"environment {self._environment!r}, service {service!r}: client_key {key}"
        details = {"environment": self._environment, "service": service, "file": key}
        # `load_cert_chain` reads files only: the stored (public) certificate goes to a temp file
        with tempfile.NamedTemporaryFile("w", suffix=".pem", encoding="utf-8") as cert_file:
            cert_file.write(tls.client_cert_pem)
            cert_file.flush()
            try:
                # a password callback, even empty: OpenSSL would otherwise prompt on the terminal
                context.load_cert_chain(cert_file.name, key, lambda: password)
            except OSError as exc:
                if not isinstance(exc, ssl.SSLError):
                    reason = exc.strerror or str(exc)
                    message = f"{where}: cannot read the key file ({reason})"
                    raise ConfigurationError(message, details=details) from exc
                message = (
                    f"{where}: not a PEM private key matching client_cert "
                    f"{tls.client_cert or '(inline)'}, or a wrong client_key_password "
                    f"({openssl_reason(exc)})"
                )
                raise ConfigurationError(message, details=details) from exc
