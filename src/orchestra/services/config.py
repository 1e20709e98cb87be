"""Use cases for what runs need besides suites: data sets and environments.

Both are named and replaced as a whole (upsert by name). An environment is stored as written:
its secrets stay `${VARIABLE}` references, resolved by each worker at run time. Each comes from
a file (a `Path`, the CLI) or from a text already in hand (a `Source`, the API): a text is never
taken for a file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestra.binding.datasets import load_dataset, parse_dataset
from orchestra.binding.environment import load_environment, parse_environment
from orchestra.binding.yamlsource import Source
from orchestra.errors import UsageError
from orchestra.store.database import Database


async def import_data_set(db: Database, name: str, path: Path | Source) -> dict[str, Any]:
    """`path`'s rows as data set `name`; a Source's format comes from its name's suffix."""
    if not name.strip():
        raise UsageError("a data set needs a name")
    rows = parse_dataset(path.text, path.name) if isinstance(path, Source) else load_dataset(path)
    async with db.transaction() as uow:
        stored = await uow.config.upsert_data_set(name, rows)
    columns = sorted({key for row in rows for key in row})
    return {"data_set": stored.name, "id": stored.id, "rows": len(stored.rows), "columns": columns}


async def apply_environment(db: Database, path: Path | Source) -> dict[str, Any]:
    spec = parse_environment(path) if isinstance(path, Source) else load_environment(path)
    configuration = spec.model_dump(mode="json")
    async with db.transaction() as uow:
        stored = await uow.config.upsert_environment(spec.name, configuration, spec.references())
    return {
        "environment": stored.name,
        "id": stored.id,
        "services": {name: svc.base_url for name, svc in spec.services.items()},
        "secret_refs": list(stored.secret_refs),
    }


async def list_data_sets(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as uow:
        found = await uow.config.data_sets()
    return [{"data_set": d.name, "id": d.id, "rows": len(d.rows)} for d in found]


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
            "secret_refs": list(e.secret_refs),
        }
        for e in found
    ]
