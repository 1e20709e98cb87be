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

from orchestra.binding.yamlsource import (
    MAX_FILE_BYTES,
    Problem,
    Source,
    locate,
    parse,
    read_text_file,
    refusal,
)
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
class DataSetWritten:
    """What a summary says of a data set whose rows were written as JSON text."""

    rows: int
    columns: tuple[str, ...]


def write_dataset_json(path: Path, name: str, out: Path) -> DataSetWritten:
    """The rows of data set file `path` written to `out` as the JSON array text stored, UTF-8;
    `name` (its suffix says the format) is the file's name in refusals. A CSV is read a line
    at a time and each row written as it is read: the memory stays that of a row, whatever
    the file's size (a YAML or JSON file is parsed whole first)."""
    if Path(name).suffix.lower() == ".csv":
        with path.open("rb") as lines:
            return _write_rows(_csv_records(_utf8_lines(lines, name), name), name, out)
    return _write_rows(parse_dataset(read_text_file(path, "data set", name), name), name, out)


def _write_rows(rows: Iterable[Row], name: str, out: Path) -> DataSetWritten:
    count = 0
    columns: set[str] = set()
    with out.open("w", encoding="utf-8") as sink:
        sink.write("[")
        for row in rows:
            text = json.dumps(row, ensure_ascii=False, allow_nan=False)
            sink.write("," + text if count else text)
            columns.update(row)
            count += 1
        sink.write("]")
    if not count:
        raise BindingRefused(f"{name}: the data set has no rows")
    return DataSetWritten(count, tuple(sorted(columns)))


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
    return list(_csv_records(_lines(text), name))


def _csv_records(lines: Iterable[str], name: str) -> Iterator[dict[str, Any]]:
    """The rows of a CSV's lines one by one, refused as soon as one passes a limit."""
    reader = csv.DictReader(lines)
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


def _utf8_lines(lines: Iterable[bytes], name: str) -> Iterator[str]:
    """A file's lines as text, one at a time (a UTF-8 byte order mark dropped); refused at the
    first that is not UTF-8 or holds a NUL character (which PostgreSQL cannot store), and
    past `MAX_FILE_BYTES`."""
    size = 0
    for number, line in enumerate(lines, start=1):
        size += len(line)
        if size > MAX_FILE_BYTES:
            raise BindingRefused(
                f"{name}: the data set is above the limit of {MAX_FILE_BYTES} bytes"
            )
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise BindingRefused(
                f"{name}:{number}: not UTF-8 text (byte 0x{line[exc.start]:02x} at column"
                f" {exc.start + 1}): save it as UTF-8"
            ) from exc
        if "\x00" in text:
            raise BindingRefused(f"{name}:{number}: a NUL character, which no text file has")
        yield text


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
