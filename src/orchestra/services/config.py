"""Use cases for what runs need besides suites: data sets and environments.

Both are named and replaced as a whole (upsert by name). An environment is stored as written:
its secrets stay `${VARIABLE}` references, resolved by each worker at run time, and the
certificates its `tls` names are kept as PEM text (a private key never is). Each comes from
a file: the CLI's (a `Path`), or an upload the API spooled to one (an `Upload`, whose
certificates are not read from files).
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestra.binding.datasets import write_dataset_json
from orchestra.binding.environment import (
    EnvironmentSpec,
    load_environment,
    parse_environment,
    references_in,
    secret_references_in,
    stored_environment,
)
from orchestra.binding.tls import describe
from orchestra.binding.tls_files import certificates_unchanged
from orchestra.binding.yamlsource import Source, Upload, read_text_file
from orchestra.domain.records import DataSet, Environment
from orchestra.errors import NotFound, UsageError
from orchestra.services.offload import Offload
from orchestra.store.database import Database
from orchestra.store.repositories import DATA_SET_PART

if TYPE_CHECKING:
    from orchestra.domain.history import DataSetHead


async def import_data_set(
    db: Database,
    name: str,
    path: Path | Upload,
    offload: Offload = asyncio.to_thread,
    scratch: Path | None = None,
    digest: str | None = None,
) -> dict[str, Any]:
    """The rows of file `path` (or of an upload, by its name) as data set `name`; the format
    comes from the file's suffix. The rows are written as JSON text to a file under `scratch`
    (the system's temporary directory by default), deleted once stored. `digest`: the file's
    `source_digest`, stored with the rows; by default a file's own (`data_set_from_file`
    then takes it as stored), none for an upload."""
    if not name.strip():
        raise UsageError("a data set needs a name")
    if digest is None and isinstance(path, Path):
        digest = await asyncio.to_thread(_data_set_digest, path)
    upload = path if isinstance(path, Upload) else Upload(path, path.name)
    directory = Path(tempfile.mkdtemp(prefix="data-set-", dir=scratch))
    try:
        written = directory / "rows.json"
        # off the loop, a row at a time: a large file must not hold the event loop, nor all
        # of its rows be in memory together
        summary = await offload(write_dataset_json, upload.path, upload.name, written)
        if digest is not None and isinstance(path, Path):
            digest = await _still(digest, _data_set_digest, path)
        with written.open(encoding="utf-8") as text:
            parts = iter(partial(text.read, DATA_SET_PART), "")
            async with db.transaction() as uow:
                stored_id = await uow.config.store_data_set_parts(name, parts, digest)
    finally:  # in a thread: deleting tens of MiB takes milliseconds
        await asyncio.to_thread(shutil.rmtree, directory, ignore_errors=True)
    return {
        "data_set": name,
        "id": stored_id,
        "rows": summary.rows,
        "columns": list(summary.columns),
    }


async def data_set_from_file(db: Database, name: str, path: Path) -> DataSet:
    """File `path` imported as data set `name`, unless that data set was stored from this very
    file content: then as stored, the file not converted again."""
    digest = await asyncio.to_thread(_data_set_digest, path)
    if digest is not None:
        async with db.reading() as uow:
            found = await uow.config.data_set_from(name, digest)
        if found is not None:
            return found
    await import_data_set(db, name, path, digest=digest)
    async with db.reading() as uow:
        found = await uow.config.data_set(name)
    if found is None:  # deleted meanwhile
        raise NotFound("data set", name)
    return found


async def environment_from_file(db: Database, path: Path) -> Environment:
    """Environment file `path` applied (as `store_environment`), unless the environment was
    stored from this very file content, read from this place, and the certificate files it
    names still hold the text stored: then as stored, the file not parsed again."""
    digest = await asyncio.to_thread(_environment_digest, path)
    if digest is not None:
        async with db.reading() as uow:
            found = await uow.config.environment_from(digest)
        if found is not None and await asyncio.to_thread(
            certificates_unchanged, found.configuration, path.parent
        ):
            return found
    _, stored = await store_environment(db, path, digest=digest)
    return stored


def _data_set_digest(path: Path) -> str | None:
    """A data set file's `source_digest`: its name gives its format."""
    return source_digest(path, path.name)


def _environment_digest(path: Path) -> str | None:
    """An environment file's `source_digest`: the path as given is kept (`applied_from`),
    and relative paths in the file are taken from its directory."""
    return source_digest(path, str(path), str(path.parent.absolute()))


async def _still(digest: str, digest_of: Callable[[Path], str | None], path: Path) -> str | None:
    """`digest` when file `path` has it still, once parsed; None when the file changed
    meanwhile: what was parsed is then not known to be what the digest names, and stored
    with it, it would be taken for that content next time."""
    return digest if await asyncio.to_thread(digest_of, path) == digest else None


def source_digest(path: Path, *given: str) -> str | None:
    """A digest of file `path`'s content and what else the value stored from it depends on
    (`given`); None when the file cannot be read (its import says why)."""
    digest = hashlib.sha256()
    for part in given:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    try:
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _data_set_summary(stored: DataSet) -> dict[str, Any]:
    columns = sorted({key for row in stored.rows for key in row})
    return {"data_set": stored.name, "id": stored.id, "rows": len(stored.rows), "columns": columns}


async def apply_environment(
    db: Database, path: Path | Upload, offload: Offload = asyncio.to_thread
) -> dict[str, Any]:
    spec, stored = await store_environment(db, path, offload)
    return {
        "environment": stored.name,
        "id": stored.id,
        "services": {name: svc.base_url for name, svc in spec.services.items()},
        **_references(stored),
        "tls": _tls_blocks(spec),
    }


async def store_environment(
    db: Database,
    path: Path | Upload,
    offload: Offload = asyncio.to_thread,
    digest: str | None = None,
) -> tuple[EnvironmentSpec, Environment]:
    """The environment a file describes, parsed, and as stored (left as it is when stored
    with this very configuration); `digest`: the file's, stored with it; by default a file's
    own (`environment_from_file` then takes it as stored), none for an upload."""
    # parsed off the loop: a YAML of 1 MiB takes 8 s of CPU (the API's parser process, where
    # it shares no GIL with the loop)
    if isinstance(path, Upload):
        spec, configuration = await offload(_uploaded_environment, path.path, path.name)
    else:
        if digest is None:
            digest = await asyncio.to_thread(_environment_digest, path)
        spec, configuration = await asyncio.to_thread(_environment_file, path)
        if digest is not None:
            digest = await _still(digest, _environment_digest, path)
    secret = secret_references_in(configuration)
    async with db.transaction() as uow:
        stored = await uow.config.upsert_environment(spec.name, configuration, secret, digest)
    return spec, stored


async def show_environment(db: Database, name: str) -> dict[str, Any]:
    """An environment as stored: references as written, certificates by fingerprint."""
    async with db.transaction() as uow:
        found = await uow.config.environment(name)
    if found is None:
        raise NotFound("environment", name)
    spec = stored_environment(found.name, found.configuration)
    shown = spec.model_dump(mode="json", exclude_none=True, exclude={"name", "applied_from"})
    if spec.tls is not None:
        shown["tls"] = describe(spec.tls)
    for service_name, service in spec.services.items():
        if service.tls is not None:
            shown["services"][service_name]["tls"] = describe(service.tls)
    return {
        "environment": found.name,
        "id": found.id,
        **shown,
        **_references(found),
    }


def _uploaded_environment(path: Path, name: str) -> tuple[EnvironmentSpec, dict[str, Any]]:
    """The environment an uploaded file describes, and its configuration as stored."""
    spec = parse_environment(Source(name, read_text_file(path, "environment file", name)))
    return spec, spec.model_dump(mode="json")


def _environment_file(path: Path) -> tuple[EnvironmentSpec, dict[str, Any]]:
    spec = load_environment(path)
    return spec, spec.model_dump(mode="json")


def _references(stored: Environment) -> dict[str, list[str]]:
    """`secret_refs`: the variables whose values are secrets, masked in results (stored with
    the environment); `variables`: every variable read at run time, secret or not. Both sorted."""
    return {
        "secret_refs": list(stored.secret_refs),
        "variables": sorted(references_in(stored.configuration)),
    }


def _tls_blocks(spec: EnvironmentSpec) -> dict[str, Any]:
    """{"": the environment's TLS options, service name: its own}, for those that have some."""
    blocks = {"": spec.tls} | {name: svc.tls for name, svc in spec.services.items()}
    return {name: describe(tls) for name, tls in blocks.items() if tls is not None}


async def list_data_sets(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as uow:
        found = await uow.config.data_sets()
    return [_data_set_summary(stored) for stored in found]


async def data_set_names(db: Database) -> list[str]:
    async with db.transaction() as uow:
        return await uow.config.data_set_names()


async def data_set_heads(db: Database, head: int) -> list[DataSetHead]:
    """Every data set with its first `head` rows only (the others stay in PostgreSQL)."""
    async with db.transaction() as uow:
        return await uow.config.data_set_heads(head)


async def list_environments(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as uow:
        found = await uow.config.environments()
    return [
        {
            "environment": e.name,
            "id": e.id,
            "services": {
                name: service.get("base_url")
                for name, service in e.configuration.get("services", {}).items()
            },
            **_references(e),
        }
        for e in found
    ]
