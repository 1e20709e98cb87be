"""Every YAML snippet of docs/*.md is loaded by Orchestra's own loader and checked against the
shipped JSON Schema, so the docs cannot drift from the code.

Each snippet is marked by an HTML comment on the line before its fence:

    <!-- snippet: KIND [FLAG...] -->

KIND is `bindings`, `environment`, `data-set` or `bpmn` (an extensionElements excerpt);
`invalid: TEXT` says the loader must refuse it with a message holding TEXT; `plugin=NAME`
installs the test plug-in of that protocol first; `tls-files` writes test certificates where
the snippet names them; `csv` reads a data set as CSV. A ```yaml block without a marker fails,
except on the pages `TESTED_ELSEWHERE` names.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from orchestra.binding.datasets import parse_dataset
from orchestra.binding.environment import parse_environment
from orchestra.binding.extension import bindings_from_extension_elements
from orchestra.binding.loader import parse_bindings
from orchestra.binding.yamlsource import Source
from orchestra.bpmn.reader import read_bpmn
from orchestra.errors import OrchestraError
from orchestra.protocols.registry import reload_protocols
from orchestra.schemas import installed_action_models, schema_of, shipped_schema
from tests.support.certificates import make_pki
from tests.support.plugins import TCP_ECHO, entry_point_distribution

DOCS = Path(__file__).parents[2] / "docs"
# Pages whose snippets another test loads (CI jobs are not Orchestra's files).
TESTED_ELSEWHERE = {
    "ci.md": "tests/unit/test_docs_ci.py",
    "testing.md": "tests/e2e/test_docs_testing.py",
    "cli.md": "tests/e2e/test_cli_lists.py",
}
PLUGINS = {"tcp-echo": TCP_ECHO}
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*snippet:\s*(?P<kind>[\w-]+)(?P<flags>.*?)-->\s*$")


@dataclass(frozen=True)
class Snippet:
    file: str
    line: int
    language: str
    text: str
    kind: str | None
    flags: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def invalid(self) -> str | None:
        found = re.search(r"invalid:\s*(.+?)\s*$", self.flags)
        return found.group(1) if found else None

    @property
    def plugin(self) -> str | None:
        found = re.search(r"plugin=([\w-]+)", self.flags)
        return found.group(1) if found else None


def snippets() -> list[Snippet]:
    found = []
    for path in sorted(DOCS.glob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        inside: tuple[int, str, str | None, str] | None = None
        body: list[str] = []
        for number, line in enumerate(lines, 1):
            fence = _FENCE.match(line)
            if inside is None and fence and fence.group(1):
                marker = _MARKER.match(lines[number - 2]) if number > 1 else None
                kind = marker.group("kind") if marker else None
                inside = (number, fence.group(1), kind, marker.group("flags") if marker else "")
                body = []
            elif inside is not None and fence and not fence.group(1):
                start, language, kind, flags = inside
                found.append(
                    Snippet(path.name, start, language, "\n".join(body) + "\n", kind, flags)
                )
                inside = None
            elif inside is not None:
                body.append(line)
    return found


SNIPPETS = snippets()
MARKED = [s for s in SNIPPETS if s.kind is not None]


def test_every_yaml_snippet_of_the_docs_is_marked_with_what_it_is() -> None:
    unmarked = [
        s.id
        for s in SNIPPETS
        if s.language == "yaml" and s.kind is None and s.file not in TESTED_ELSEWHERE
    ]

    assert len(MARKED) >= 20
    assert unmarked == [], "add <!-- snippet: KIND --> before each"


@pytest.fixture
def plugin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    name = request.param
    if name is None:
        yield None
        return
    root = entry_point_distribution(
        tmp_path / "plugins", "orchestra-docs-plugins", {name: PLUGINS[name]}
    )
    sys.path.insert(0, str(root))
    reload_protocols()
    try:
        yield None
    finally:
        sys.path.remove(str(root))
        reload_protocols()


def yaml_value(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def load(snippet: Snippet, tmp_path: Path) -> None:
    """Load the snippet as Orchestra does; OrchestraError when it refuses it."""
    source = Source(f"{snippet.file}:{snippet.line}", snippet.text)
    if snippet.kind == "bindings":
        parse_bindings(source)
    elif snippet.kind == "environment":
        parse_environment(source, base_dir=_tls_files(snippet, tmp_path))
    elif snippet.kind == "data-set":
        parse_dataset(snippet.text, "rows.csv" if "csv" in snippet.flags else "rows.yaml")
    elif snippet.kind == "bpmn":
        _load_extension_bindings(snippet.text)
    else:
        raise AssertionError(f"{snippet.id}: unknown snippet kind {snippet.kind!r}")


def _tls_files(snippet: Snippet, tmp_path: Path) -> Path | None:
    """A folder holding a test certificate at each path the snippet names, if it needs them."""
    if "tls-files" not in snippet.flags:
        return None
    pki = make_pki(tmp_path / "pki")
    base = tmp_path / "environment"
    for key, source in (("ca_file", pki.ca), ("client_cert", pki.client_cert)):
        for written in re.findall(rf"{key}:\s*(\S+)", snippet.text):
            target = base / written
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return base


def _load_extension_bindings(excerpt: str) -> None:
    document = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="t"><bpmn:process id="P" isExecutable="true">
  <bpmn:startEvent id="Start"/>
  <bpmn:sequenceFlow id="F0" sourceRef="Start" targetRef="Task_CreateOrder"/>
  <bpmn:sequenceFlow id="F1" sourceRef="Task_CreateOrder" targetRef="Gateway_Payment"/>
  <bpmn:exclusiveGateway id="Gateway_Payment" default="F2"/>
  <bpmn:sequenceFlow id="F2" sourceRef="Gateway_Payment" targetRef="End"/>
  <bpmn:task id="Task_Retry"/>
  <bpmn:sequenceFlow id="F3" sourceRef="Task_Retry" targetRef="End"/>
  <bpmn:endEvent id="End"/>
  {excerpt}
</bpmn:process></bpmn:definitions>"""
    model = read_bpmn(document.encode(), source="snippet.bpmn")
    (graph,) = model.processes
    bindings = bindings_from_extension_elements(graph)
    assert set(bindings.tasks) == {"Task_CreateOrder"}
    assert set(bindings.flows) == {"Flow_PaymentDeclined"}


@pytest.mark.parametrize(
    ("snippet", "plugin"), [(s, s.plugin) for s in MARKED], ids=[s.id for s in MARKED],
    indirect=["plugin"],
)  # fmt: skip
def test_the_snippet_is_what_orchestra_takes(
    snippet: Snippet, plugin: None, tmp_path: Path
) -> None:
    if snippet.invalid is not None:
        with pytest.raises(OrchestraError) as refused:
            load(snippet, tmp_path)
        assert snippet.invalid in refused.value.message
        return
    load(snippet, tmp_path)
    if snippet.kind in ("bindings", "environment", "data-set") and "csv" not in snippet.flags:
        # the shipped schema knows the built-in protocol; `orchestra schema` the installed ones
        plugged = snippet.kind == "bindings" and snippet.plugin is not None
        schema = (
            schema_of("bindings", installed_action_models())
            if plugged
            else shipped_schema(snippet.kind)
        )
        jsonschema.Draft202012Validator(schema).validate(yaml_value(snippet.text) or {})
