"""Test data sets from YAML, JSON or CSV files: a list of rows, each a mapping.

YAML and JSON files hold a list of mappings, or a mapping with a `rows` list. CSV files have a
header line; their values stay strings (`"{{ data.amount | int }}"` converts in a template).
A scenario runs once per row when a suite run names a data set.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from orchestra.binding.yamlsource import Problem, Source, locate, parse, read_text_file, refusal
from orchestra.errors import BindingRefused

MAX_ROWS = 100_000
MAX_COLUMNS = 1_000

Row = dict[str, Any]
Rows = Annotated[list[Row], Field(min_length=1, max_length=MAX_ROWS)]


class RowsDocument(BaseModel):
    """A data set written as a mapping: its `rows`, and anything else for people (a title)."""

    model_config = ConfigDict(extra="allow", title="Data set with rows")

    rows: Rows


@cache
def data_set_adapter() -> TypeAdapter[Any]:
    """What a YAML or JSON data set file holds: a list of rows, or a mapping with `rows`."""
    return TypeAdapter(Annotated[Rows | RowsDocument, Field(title="Data set", description=_DOC)])


_DOC = "Rows of test data: each a mapping of column to value, `{{ data.COLUMN }}` in templates."


@dataclass(frozen=True, slots=True)
class DataSetText:
    """A data set's rows as the JSON array text stored, with what a summary says of them."""

    json: str
    rows: int
    columns: tuple[str, ...]


def read_dataset_json(path: str | Path) -> DataSetText:
    path = Path(path)
    return dataset_json(read_text_file(path, "data set"), path.name)


def dataset_json(text: str, name: str) -> DataSetText:
    """`parse_dataset`, written as JSON text. A CSV's rows are written one by one as they
    are read, never all held as Python values: the memory stays a small multiple of the
    text's size (a YAML or JSON file is parsed whole first)."""
    if Path(name).suffix.lower() == ".csv":
        rows: Iterable[dict[str, Any]] = _csv_records(text, name)
    else:
        rows = parse_dataset(text, name)
    parts: list[str] = []
    columns: set[str] = set()
    for row in rows:
        parts.append(json.dumps(row, ensure_ascii=False, allow_nan=False))
        columns.update(row)
    if not parts:
        raise BindingRefused(f"{name}: the data set has no rows")
    return DataSetText("[" + ",".join(parts) + "]", len(parts), tuple(sorted(columns)))


def load_dataset(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    return parse_dataset(read_text_file(path, "data set"), path.name)


def parse_dataset(text: str, name: str) -> list[dict[str, Any]]:
    """Rows of a data set file's text; the format comes from the name's suffix."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(text, name)
    elif suffix in (".yaml", ".yml", ".json"):
        rows = _structured_rows(text, name, suffix)
    else:
        raise BindingRefused(f"{name}: a data set is a .yaml, .yml, .json or .csv file")
    if not rows:
        raise BindingRefused(f"{name}: the data set has no rows")
    if len(rows) > MAX_ROWS:
        raise BindingRefused(f"{name}: {len(rows)} rows, more than the {MAX_ROWS} allowed")
    return rows


def _csv_rows(text: str, name: str) -> list[dict[str, Any]]:
    return list(_csv_records(text, name))


def _csv_records(text: str, name: str) -> Iterator[dict[str, Any]]:
    """The rows of a CSV text one by one, refused as soon as one passes a limit."""
    reader = csv.DictReader(_lines(text))
    count = 0
    try:
        _check_header(reader, name)
        for row in reader:
            if count == MAX_ROWS:  # refused while reading, not once all is built
                raise BindingRefused(f"{name}: more than the {MAX_ROWS} rows allowed")
            if None in row or any(value is None for value in row.values()):
                line = reader.line_num
                raise BindingRefused(f"{name}:{line}: the row has not as many values as the header")
            count += 1
            yield dict(row)
    except csv.Error as exc:  # a field above the csv module's limit (128 KiB)
        line = reader.line_num + 1  # the record being read when it failed
        raise BindingRefused(f"{name}:{line}: not valid CSV: {exc}") from exc


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, ends kept, one at a time: a StringIO would copy the whole text
    (four bytes a character)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end == -1 else end + 1
        yield text[start:end]
        start = end


def _check_header(reader: csv.DictReader[str], name: str) -> None:
    """Column names without the spaces around them (`amount, customer` names `customer`), each
    named and named once: `{{ data.NAME }}` must find them."""
    if reader.fieldnames is None:
        return
    names = [column.strip() for column in reader.fieldnames]
    if len(names) > MAX_COLUMNS:
        raise BindingRefused(f"{name}:1: {len(names)} columns, more than the {MAX_COLUMNS} allowed")
    if "" in names:
        raise BindingRefused(f"{name}:1: column {names.index('') + 1} of the header has no name")
    if len(set(names)) != len(names):
        raise BindingRefused(f"{name}:1: the header repeats a column name")
    reader.fieldnames = names


def _structured_rows(text: str, name: str, suffix: str) -> list[dict[str, Any]]:
    source = Source(name, text)
    if suffix == ".json":
        value: Any = _json_value(text, name)
        tree = None
    else:
        value, tree = parse(source)
    prefix: list[str | int] = []
    if isinstance(value, dict) and "rows" in value:
        value, prefix = value["rows"], ["rows"]
    if not isinstance(value, list):
        problem = Problem("", None, "expected a list of rows (or a mapping with a `rows` list)")
        raise refusal(source, [problem])
    if len(value) > MAX_ROWS:
        raise BindingRefused(f"{name}: {len(value)} rows, more than the {MAX_ROWS} allowed")
    for index, row in enumerate(value):
        if not isinstance(row, dict) or len(row) > MAX_COLUMNS:
            loc = [*prefix, index]
            line = locate(tree, loc, source) if tree is not None else None
            why = "a row must be a mapping"
            if isinstance(row, dict):
                why = f"{len(row)} columns, more than the {MAX_COLUMNS} allowed"
            raise refusal(source, [Problem(f"rows[{index}]", line, why)])
    data_set_adapter().validate_python(value)  # what the shipped JSON Schema says, too
    return value


def _json_value(text: str, name: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BindingRefused(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    except _NotJson as exc:
        raise BindingRefused(f"{name}: not valid JSON: {exc} is not a JSON number") from exc
    except RecursionError as exc:
        raise BindingRefused(f"{name}: not valid JSON: nested too deeply") from exc


class _NotJson(ValueError):
    pass


def _no_constant(constant: str) -> Any:
    """Python's json reads NaN and Infinity, which neither JSON nor PostgreSQL has."""
    raise _NotJson(constant)
