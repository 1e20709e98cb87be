"""A large data set's JSON text is stored in parts, no statement carrying it whole: psycopg
encodes a parameter, and libpq copies it, in single calls on the event loop (30-150 ms for
20 MiB, during which the API answered nothing)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from orchestra.errors import ValueRefused
from orchestra.store.database import Database
from orchestra.store.repositories import DATA_SET_PART


def rows_json(count: int, width: int) -> str:
    return json.dumps([{"n": n, "text": f"é{n}" + "x" * width} for n in range(count)])


async def test_a_text_longer_than_a_part_is_stored_whole_and_replaced_by_name(
    db: Database,
) -> None:
    text = rows_json(2_000, 40)
    async with db.transaction() as uow:
        first = await uow.config.store_data_set_json("parts", text, part_size=997)
    async with db.transaction() as uow:
        stored = await uow.config.data_set("parts")
    assert stored is not None
    assert stored.id == first
    assert list(stored.rows) == json.loads(text)
    async with db.transaction() as uow:
        again = await uow.config.store_data_set_json("parts", rows_json(3, 5), part_size=16)
        replaced = await uow.config.data_set("parts")
    assert again == first
    assert replaced is not None
    assert len(replaced.rows) == 3


async def test_no_statement_carries_more_than_a_part(db: Database) -> None:
    text = rows_json(12_000, 200)
    assert len(text) > 2 * DATA_SET_PART
    sent: list[int] = []
    async with db.transaction() as uow:
        conn = uow.config.conn
        conn.execute = _recording(conn.execute, sent)  # type: ignore[method-assign, assignment]
        await uow.config.store_data_set_json("big", text)
        stored = await uow.config.data_set("big")
    assert stored is not None
    assert len(stored.rows) == 12_000
    assert 0 < max(sent) <= DATA_SET_PART, max(sent)


async def test_a_text_postgresql_refuses_in_parts_is_a_value_refused(db: Database) -> None:
    with pytest.raises(ValueRefused):
        async with db.transaction() as uow:
            await uow.config.store_data_set_json("bad", '[{"a": 1}, oops]', part_size=4)
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
