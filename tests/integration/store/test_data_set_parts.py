"""A large data set's JSON text is stored in parts, no statement carrying it whole: psycopg
encodes a parameter, and libpq copies it, in single calls on the event loop (30-150 ms for
20 MiB, during which the API answered nothing). An imported file's JSON is read from the file
it was written to in parts of `DATA_SET_PART` characters, never whole."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestra.errors import ValueRefused
from orchestra.services.config import import_data_set
from orchestra.store.database import Database, ServerInfo, connect_pool
from orchestra.store.repositories import DATA_SET_PART


def rows_json(count: int, width: int) -> str:
    return json.dumps([{"n": n, "text": f"é{n}" + "x" * width} for n in range(count)])


def parts_of(text: str, size: int) -> Iterator[str]:
    return (text[start : start + size] for start in range(0, len(text), size))


async def test_a_text_longer_than_a_part_is_stored_whole_and_replaced_by_name(
    db: Database,
) -> None:
    text = rows_json(2_000, 40)
    async with db.transaction() as uow:
        first = await uow.config.store_data_set_parts("parts", parts_of(text, 997))
    async with db.transaction() as uow:
        stored = await uow.config.data_set("parts")
    assert stored is not None
    assert stored.id == first
    assert list(stored.rows) == json.loads(text)
    async with db.transaction() as uow:
        again = await uow.config.store_data_set_parts("parts", parts_of(rows_json(3, 5), 16))
        replaced = await uow.config.data_set("parts")
    assert again == first
    assert replaced is not None
    assert len(replaced.rows) == 3


async def test_an_imported_file_is_sent_a_part_at_a_time(database_url: str, tmp_path: Path) -> None:
    upload = tmp_path / "rows.csv"
    upload.write_text("n,text\n" + "".join(f"{n},é{'x' * 200}\n" for n in range(12_000)))
    sent: list[int] = []
    async with connect_pool(database_url, max_size=1, upgrade=False) as pool:
        db = Database(pool, ServerInfo(url=database_url, embedded=False))
        conn = await pool.getconn()  # the pool's one connection: the import's too
        conn.execute = _recording(conn.execute, sent)  # type: ignore[method-assign, assignment]
        await pool.putconn(conn)
        imported = await import_data_set(db, "big", upload)
        async with db.transaction() as uow:
            stored = await uow.config.data_set("big")
    assert stored is not None
    assert imported["rows"] == len(stored.rows) == 12_000
    assert stored.rows[-1] == {"n": "11999", "text": "é" + "x" * 200}
    assert len(sent) > 2
    assert 0 < max(sent) <= DATA_SET_PART, max(sent)


async def test_a_text_postgresql_refuses_in_parts_is_a_value_refused(db: Database) -> None:
    with pytest.raises(ValueRefused):
        async with db.transaction() as uow:
            await uow.config.store_data_set_parts("bad", parts_of('[{"a": 1}, oops]', 4))
    async with db.transaction() as uow:
        assert await uow.config.data_set("bad") is None


def _recording(
    execute: Callable[..., Awaitable[Any]], sent: list[int]
) -> Callable[..., Awaitable[Any]]:
    """`execute`, noting the length of each text parameter it is given."""

    async def recorded(query: Any, params: Any = None, **options: Any) -> Any:
        for value in (params or {}).values():
            if isinstance(value, str):
                sent.append(len(value))
        return await execute(query, params, **options)

    return recorded
