"""The shipped JSON Schemas are the models' own, accept every shipped example and refuse what
the loaders refuse: a misspelt key, a wrong type."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from orchestra.binding.datasets import parse_dataset
from orchestra.binding.environment import parse_environment
from orchestra.binding.loader import parse_bindings
from orchestra.binding.yamlsource import Source
from orchestra.errors import OrchestraError, UsageError
from orchestra.examples.order import (
    BINDINGS_FILE,
    DATASET_FILE,
    ENVIRONMENT_FILE,
    PROJECT_FILE,
    example_path,
)
from orchestra.project import parse_project
from orchestra.schemas import NAMES, schema_of, schema_path, schema_text, shipped_schema
from orchestra.schemas.descriptions import BINDINGS, ENVIRONMENT

EXAMPLES = {
    "bindings": BINDINGS_FILE,
    "environment": ENVIRONMENT_FILE,
    "data-set": DATASET_FILE,
    "project": PROJECT_FILE,
}


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = shipped_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def yaml_value(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def loads(name: str, value: Any) -> bool:
    """Whether Orchestra's own loader takes the document `value` (written out as JSON text,
    which YAML reads too)."""
    text = json.dumps(value)
    load: dict[str, Callable[[], Any]] = {
        "bindings": lambda: parse_bindings(Source("f.yaml", text)),
        "environment": lambda: parse_environment(Source("f.yaml", text)),
        "data-set": lambda: parse_dataset(text, "f.yaml"),
        "project": lambda: parse_project(text, "orchestra.yaml"),
    }
    try:
        load[name]()
    except OrchestraError:
        return False
    return True


@pytest.mark.parametrize("name", NAMES)
def test_the_shipped_schema_is_the_one_the_models_generate(name: str) -> None:
    shipped = schema_path(name).read_text(encoding="utf-8")
    assert shipped == schema_text(name), "run `python -m orchestra.schemas`"


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_example_names_its_schema_and_is_valid_against_it(name: str) -> None:
    path = example_path(EXAMPLES[name])
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]

    assert first.startswith("# yaml-language-server: $schema=")
    named = (path.parent / first.split("=", 1)[1]).resolve()
    assert named == schema_path(name).resolve()
    validator(name).validate(yaml_value(text))


def _example(name: str) -> Any:
    return yaml_value(example_path(EXAMPLES[name]).read_text(encoding="utf-8"))


def _set(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    mutated = copy.deepcopy(document)
    target = mutated
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return mutated


def _rename(document: Any, path: tuple[Any, ...], new: str) -> Any:
    mutated = copy.deepcopy(document)
    target = mutated
    for part in path[:-1]:
        target = target[part]
    target[new] = target.pop(path[-1])
    return mutated


TASK = ("tasks", "Task_CreateOrder")
MUTATIONS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("bindings", "a misspelt section", lambda d: _rename(d, ("tasks",), "taks")),
    ("bindings", "a misspelt task key", lambda d: _rename(d, (*TASK, "checks"), "chekcs")),
    ("bindings", "a misspelt action key", lambda d: _rename(d, (*TASK, "action", "json"), "jsn")),
    ("bindings", "a misspelt check subject",
     lambda d: _set(d, (*TASK, "checks", 1), {"jsonpth": "$.state", "eq": "CREATED"})),
    ("bindings", "a misspelt operator",
     lambda d: _set(d, (*TASK, "checks", 1), {"jsonpath": "$.state", "equals": "CREATED"})),
    ("bindings", "two operators",
     lambda d: _set(d, (*TASK, "checks", 1), {"jsonpath": "$.state", "eq": 1, "ne": 2})),
    ("bindings", "a status that is no code",
     lambda d: _set(d, (*TASK, "checks", 0), {"status": 99})),
    ("bindings", "a timeout that is text", lambda d: _set(d, ("defaults", "timeout"), "soon")),
    ("bindings", "checks as a mapping", lambda d: _set(d, (*TASK, "checks"), {"status": 201})),
    ("bindings", "an eventually without timeout",
     lambda d: _set(d, ("tasks", "Task_ReserveStock", "eventually"), {"interval": 1})),
    ("bindings", "a retry on a word it does not know",
     lambda d: _set(d, (*TASK, "action", "retry"), {"on": ["reset"]})),
    ("environment", "a misspelt section", lambda d: _rename(d, ("services",), "servces")),
    ("environment", "a misspelt auth key",
     lambda d: _rename(d, ("services", "orders", "auth", "token"), "tokn")),
    ("environment", "a timeout that is text", lambda d: _set(d, ("timeout",), "fast")),
    ("environment", "a base URL that is a number",
     lambda d: _set(d, ("services", "orders", "base_url"), 8080)),
    ("environment", "an auth type it does not know",
     lambda d: _set(d, ("services", "orders", "auth", "type"), "kerberos")),
    ("data-set", "a misspelt rows", lambda d: _rename(d, ("rows",), "row")),
    ("data-set", "rows that are text", lambda d: _set(d, ("rows",), "Ada")),
    ("data-set", "a row that is a list", lambda d: _set(d, ("rows", 0), ["Ada"])),
    ("project", "a misspelt key", lambda d: _rename(d, ("workers",), "worker")),
    ("project", "a criterion it does not know", lambda d: _set(d, ("coverage",), "every-flow")),
    ("project", "a report format it does not know", lambda d: _set(d, ("reports", "pdf"), "r.pdf")),
    ("project", "no repeat", lambda d: _set(d, ("repeat",), 0)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "mutation"), [(n, m) for n, _, m in MUTATIONS], ids=[w for _, w, _ in MUTATIONS]
)
def test_a_mutated_example_is_refused_by_the_schema_and_by_the_loader(
    name: str, mutation: Callable[[Any], Any]
) -> None:
    document = _example(name)
    mutated = mutation(document)

    assert loads(name, document)
    assert not validator(name).is_valid(mutated)
    assert not loads(name, mutated)


def test_an_unknown_schema_is_a_usage_error_naming_those_there_are() -> None:
    with pytest.raises(UsageError, match="no schema 'report': one of bindings, environment"):
        schema_of("report")


@pytest.mark.parametrize(("name", "words"), [("bindings", BINDINGS), ("environment", ENVIRONMENT)])
def test_every_key_an_editor_shows_has_its_description(
    name: str, words: dict[str, dict[str, str]]
) -> None:
    schema = shipped_schema(name)
    for definition, described in words.items():
        target = schema if not definition else schema["$defs"][definition]
        assert set(target["properties"]) == set(described), f"describe {definition or 'top'}"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_descriptions_link_to_headings_that_exist() -> None:
    docs = Path(__file__).parents[3]
    for words in (BINDINGS, ENVIRONMENT):
        for text in (t for described in words.values() for t in described.values()):
            for page, anchor in re.findall(r"(docs/[\w-]+\.md)#([\w-]+)", text):
                lines = (docs / page).read_text(encoding="utf-8").splitlines()
                anchors = {_anchor(line.lstrip("#")) for line in lines if line.startswith("#")}
                assert anchor in anchors, f"{page}#{anchor}"
