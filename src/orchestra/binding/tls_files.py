"""Reading an environment's certificate files when it is applied, so the store holds their text.

Runs on the environment file's plain values before they are validated: each `tls` block (the
environment's and each service's) that names `ca_file` or `client_cert` gets that file's PEM
text as `ca_pem` or `client_cert_pem`; a relative path is taken from the environment file's
directory, and so is a relative `client_key` written as a plain path (a `${VARIABLE}` reference
stays one, resolved by each worker at run time). A text with no directory (one sent to the API)
cannot name files: it gives the PEM text itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestra.binding.references import REFERENCE
from orchestra.binding.tls import certificates_problem
from orchestra.binding.yamlsource import Loc, Problem, Source, dotted, locate

MAX_PEM_BYTES = 1024 * 1024
_FILES = (("ca_file", "ca_pem", "CA file"), ("client_cert", "client_cert_pem", "certificate"))


def embed_certificates(
    value: dict[str, Any], tree: Any, source: Source, base_dir: Path | None
) -> list[Problem]:
    """Adds the PEM text of each named file to `value` in place; the problems met, if any."""
    name = value.get("name")
    prefix = f"environment {name!r}: " if isinstance(name, str) else ""
    problems: list[Problem] = []
    for loc, block in _tls_blocks(value):
        for path_field, pem_field, what in _FILES:
            written = block.get(path_field)
            if not isinstance(written, str):
                continue
            where = [*loc, path_field]
            message = _embed(block, written, pem_field, what, base_dir)
            if message is not None:
                problems.append(
                    Problem(dotted(where), locate(tree, where, source), prefix + message)
                )
        key = block.get("client_key")
        if isinstance(key, str) and base_dir is not None and not REFERENCE.search(key):
            block["client_key"] = str((base_dir / key).absolute())
    return problems


def _tls_blocks(value: dict[str, Any]) -> list[tuple[Loc, dict[str, Any]]]:
    blocks: list[tuple[Loc, Any]] = [(("tls",), value.get("tls"))]
    services = value.get("services")
    if isinstance(services, dict):
        for name, service in services.items():
            if isinstance(service, dict):
                blocks.append((("services", name, "tls"), service.get("tls")))
    return [(loc, block) for loc, block in blocks if isinstance(block, dict)]


def _embed(
    block: dict[str, Any], written: str, pem_field: str, what: str, base_dir: Path | None
) -> str | None:
    if pem_field in block:
        return f"give {pem_field} or the file it comes from, not both"
    if base_dir is None:
        return f"a {what} cannot be read from a text without a directory: give {pem_field}"
    path = (base_dir / written).absolute()  # said in full: relative to the file, not here
    try:
        with path.open("rb") as pem_file:
            data = pem_file.read(MAX_PEM_BYTES + 1)
        if len(data) > MAX_PEM_BYTES:
            return f"{what} {path}: larger than {MAX_PEM_BYTES} bytes, not a PEM bundle"
        text = data.decode("ascii")
    except OSError as exc:
        return f"cannot read {what} {path}: {exc.strerror or exc}"
    except UnicodeDecodeError:
        return f"{what} {path} is not PEM text (binary DER? convert it with openssl x509)"
    problem = certificates_problem(text)
    if problem is not None:
        return f"{what} {path} {problem}"
    block[pem_field] = text
    return None


def certificates_unchanged(stored: dict[str, Any], base_dir: Path) -> bool:
    """Whether each file an environment's stored configuration names (read from `base_dir`)
    still holds the PEM text stored from it."""
    for _, block in _tls_blocks(stored):
        for path_field, pem_field, _ in _FILES:
            written = block.get(path_field)
            if not isinstance(written, str):
                continue
            try:
                with (base_dir / written).absolute().open("rb") as pem_file:
                    data = pem_file.read(MAX_PEM_BYTES + 1)
            except OSError:
                return False
            if data != str(block.get(pem_field)).encode("ascii", "replace"):
                return False
    return True
