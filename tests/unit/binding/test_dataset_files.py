"""A data set file is written as the JSON text stored, a row at a time: a CSV is read a line at
a time, each line refused where it is not UTF-8 or holds a NUL, a limit as soon as it is
passed; the file's name in refusals is the one given (an upload's, not its spooled file's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestra.binding.datasets import MAX_ROWS, DataSetWritten, write_dataset_json
from orchestra.errors import BindingRefused


def written(
    tmp_path: Path, name: str, data: bytes
) -> tuple[DataSetWritten, list[dict[str, object]]]:
    upload, out = tmp_path / "spooled", tmp_path / "rows.json"
    upload.write_bytes(data)
    summary = write_dataset_json(upload, name, out)
    return summary, json.loads(out.read_text(encoding="utf-8"))


def test_a_csv_is_written_as_the_json_of_its_rows(tmp_path: Path) -> None:
    data = '\ufeffname, note\nann,"two\nlines"\nbob,é\n'.encode()
    summary, rows = written(tmp_path, "people.csv", data)
    assert rows == [{"name": "ann", "note": "two\nlines"}, {"name": "bob", "note": "é"}]
    assert summary == DataSetWritten(2, ("name", "note"))


def test_a_yaml_data_set_is_written_too(tmp_path: Path) -> None:
    _, rows = written(tmp_path, "people.yaml", b"rows:\n  - {name: ann, amount: 5}\n")
    assert rows == [{"name": "ann", "amount": 5}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a\n1\n\xff2\n", "up.csv:3: not UTF-8 text (byte 0xff at column 1): save it as UTF-8"),
        (b"a\n1\nx\x00y\n", "up.csv:3: a NUL character, which no text file has"),
        (b"a\n", "up.csv: the data set has no rows"),
    ],
)
def test_a_csv_line_that_no_data_set_has_is_refused_naming_it(
    tmp_path: Path, data: bytes, message: str
) -> None:
    with pytest.raises(BindingRefused) as refused:
        written(tmp_path, "up.csv", data)
    assert refused.value.message == message


def test_a_csv_above_the_row_limit_is_refused_at_the_first_row_past_it(tmp_path: Path) -> None:
    with pytest.raises(BindingRefused, match=f"more than the {MAX_ROWS} rows allowed"):
        written(tmp_path, "up.csv", b"a\n" + b"1\n" * (MAX_ROWS + 1) + b"\xff\n")  # not reached
