"""The project file `orchestra.yaml`: validated with clear errors, its schema shipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestra.errors import ConfigurationError
from orchestra.project import load_project, project_schema
from orchestra.schemas import schema_path


def test_the_shipped_schema_is_the_one_the_model_generates() -> None:
    shipped = json.loads(schema_path("project").read_text(encoding="utf-8"))
    assert shipped == project_schema(), "run `python -m orchestra.schemas` after a change"


def test_paths_are_read_from_the_files_folder_and_a_name_stays_a_name(tmp_path: Path) -> None:
    (tmp_path / "env.yaml").write_text("name: x\n", encoding="utf-8")
    config = tmp_path / "orchestra.yaml"
    config.write_text(
        "models: [bpmn/a.bpmn]\nbindings: b.yaml\nenv: env.yaml\ndata: customers\n"
        "reports: {junit: out/j.xml, json: out/r.json}\n",
        encoding="utf-8",
    )
    project = load_project(config)
    assert project.models == [str(tmp_path / "bpmn" / "a.bpmn")]
    assert project.bindings == str(tmp_path / "b.yaml")
    assert project.env == str(tmp_path / "env.yaml")
    assert project.data == "customers"  # no such file beside it: a data set's name
    assert project.reports.json_report == str(tmp_path / "out" / "r.json")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("models: [a.bpmn]\nrepeats: 3\n", ":2: repeats: unknown key 'repeats'"),
        ("repeat: 0\n", ":1: repeat: Input should be greater than or equal to 1"),
        ("rows: [-1]\n", "rows[0]: Input should be greater than or equal to 0"),
        ("coverage: every-flow\n", ":1: coverage: Input should be 'all-flows'"),
        ("reports: {pdf: r.pdf}\n", "reports.pdf: unknown key 'pdf'"),
        ("- a.bpmn\n", "expected a mapping of settings"),
    ],
)
def test_an_invalid_project_file_is_a_configuration_error_naming_file_line_and_key(
    tmp_path: Path, text: str, says: str
) -> None:
    config = tmp_path / "orchestra.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as refused:
        load_project(config)
    assert says in refused.value.message
    assert str(config) in refused.value.message
