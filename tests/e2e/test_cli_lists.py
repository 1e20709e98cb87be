"""Every `--json` list is one object naming its items with a plural key (and `next_before`
when paged), timestamps are RFC 3339 in UTC with `Z`, and piped tables are never cut."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from orchestra.examples.order import BINDINGS_FILE, PROCESS_FILE, example_path
from orchestra.services import generating, importing, running
from orchestra.store.database import Database
from tests.e2e.conftest import clean_env, orchestra

LONG_SOURCE = "/".join(["models"] * 20) + "/order.bpmn"  # a table far wider than 80 columns
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def documented_lists() -> dict[tuple[str, ...], list[str]]:
    """docs/cli.md's block of list commands: command -> the keys of its JSON document, the
    first naming the items."""
    (block,) = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    return {tuple(command.split()): keys for command, keys in YAML(typ="safe").load(block).items()}


LISTS = documented_lists()
TIMESTAMPS = {  # items' timestamps
    "processes": ["imported_at"],
    "suites": ["created_at"],
    "suite_runs": ["created_at", "finished_at"],
}


async def one_of_each(db: Database) -> None:
    data = example_path(PROCESS_FILE).read_bytes()
    async with db.transaction() as uow:
        await importing.import_bpmn(uow, data, source=LONG_SOURCE)
        await uow.config.upsert_data_set("customers", [{"name": "Ada"}])
        services = {"services": {"orders": {"base_url": "http://127.0.0.1:9"}}}
        await uow.config.upsert_environment("local", {"name": "local", **services}, [])
    generated = await generating.generate(
        db, "order_fulfilment", bindings=example_path(BINDINGS_FILE)
    )
    suite_run = await running.start_suite_run(db, int(generated["suite"]))
    await running.cancel(db, suite_run.id)


async def test_every_json_list_is_an_object_naming_its_items_with_z_timestamps(
    db: Database, database_url: str
) -> None:
    await one_of_each(db)
    async with db.connection() as conn:  # a server in another zone: still UTC, with Z
        cursor = await conn.execute("SELECT current_database() AS name")
        row = await cursor.fetchone()
        assert row is not None
        await conn.execute(f"ALTER DATABASE \"{row['name']}\" SET timezone = 'Asia/Kolkata'")
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)

    done = await asyncio.gather(
        *(asyncio.to_thread(orchestra, *args, "--json", env=env) for args in LISTS)
    )

    assert len(LISTS) == 7  # every list command
    for (args, keys), listed in zip(LISTS.items(), done, strict=True):
        assert listed.returncode == 0, (args, listed.stderr)
        document: dict[str, Any] = json.loads(listed.stdout)
        assert set(document) == set(keys), args
        items = document[keys[0]]
        assert isinstance(items, list), args
        assert items, args
        for name in TIMESTAMPS.get(keys[0], []):
            for item in items:
                assert RFC3339_Z.match(item.get(name) or "2026-01-01T00:00:00Z"), (args, item)


async def test_a_piped_table_is_never_cut_so_grep_finds_the_whole_row(
    db: Database, database_url: str
) -> None:
    await one_of_each(db)
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url, COLUMNS="80")

    listed = await asyncio.to_thread(orchestra, "processes", "list", env=env)
    status = await asyncio.to_thread(orchestra, "status", env=env)

    assert listed.returncode == 0, listed.stderr
    (row,) = [line for line in listed.stdout.splitlines() if "order_fulfilment" in line]
    assert LONG_SOURCE in row
    assert "…" not in listed.stdout
    assert re.search(r"CANCELLED .*\d\d:\d\d:\d\dZ", status.stdout), status.stdout
