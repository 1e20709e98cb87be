"""JSON Schemas of the files people write, generated from the models that validate them.

`bindings`, `environment`, `data-set` and `project` (`orchestra.yaml`, the settings of
`orchestra test`) are shipped beside this module as
`<name>.schema.json` (a test keeps them equal to what the models generate; regenerate with
`python -m orchestra.schemas`) and printed by `orchestra schema NAME`. Editors use them through
a first line such as `# yaml-language-server: $schema=<path or URL of the file>`.

The shipped bindings schema knows the built-in `http` action; `schema_of("bindings",
registry)` adds the actions of the plug-ins installed (`orchestra schema bindings` does).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from orchestra.errors import UsageError
from orchestra.schemas.descriptions import BINDINGS, ENVIRONMENT, describe

SchemaName = Literal["bindings", "environment", "data-set", "project"]
NAMES: tuple[str, ...] = get_args(SchemaName)
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_FOLDER = Path(__file__).parent


def schema_path(name: str) -> Path:
    return _FOLDER / f"{name}.schema.json"


def shipped_schema(name: str) -> dict[str, Any]:
    """The schema file shipped in the package."""
    loaded: dict[str, Any] = json.loads(schema_path(_known(name)).read_text(encoding="utf-8"))
    return loaded


def schema_of(name: str, action_models: Sequence[type[Any]] | None = None) -> dict[str, Any]:
    """The schema `name` as the models generate it; the bindings' actions are those of
    `action_models` (default: the built-in http action only, as shipped)."""
    schema = _GENERATORS[_known(name)](action_models)
    header = {"$schema": DRAFT, "$id": f"urn:orchestra:schema:{name}:1"}
    return {**header, **schema}


def installed_action_models() -> list[type[Any]]:
    """The action models of every protocol this installation can use (http first)."""
    from orchestra.protocols.registry import protocol_registry

    registry = protocol_registry()
    return [registry.plugin(name).action_model for name in _http_first(registry.available)]


def schema_text(name: str) -> str:
    """`schema_of(name)` as its shipped file holds it, byte for byte."""
    return json.dumps(schema_of(name), indent=2) + "\n"


def write_schemas() -> list[Path]:
    """Regenerate every shipped schema file from the models."""
    written = []
    for name in NAMES:
        path = schema_path(name)
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


def _known(name: str) -> str:
    if name not in NAMES:
        raise UsageError(
            f"no schema {name!r}: one of {', '.join(NAMES)}", details={"schemas": list(NAMES)}
        )
    return name


def _http_first(names: list[str]) -> list[str]:
    return sorted(names, key=lambda name: (name != "http", name))


def _bindings(action_models: Sequence[type[Any]] | None) -> dict[str, Any]:
    from orchestra.binding.document import Bindings
    from orchestra.protocols.http import HttpAction

    schema = Bindings.model_json_schema(mode="validation")
    defs: dict[str, Any] = schema["$defs"]
    choices = []
    for model in action_models or [HttpAction]:
        action = model.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
        defs.update(action.pop("$defs", {}))
        defs[model.__name__] = action
        choices.append({"$ref": f"#/$defs/{model.__name__}"})
    defs["ActionSpec"] = {
        "title": "Action",
        "description": "What the step does against the SUT: an HTTP request unless `protocol` "
        "names a plug-in's (docs/bindings.md#actions, docs/protocols.md).",
        "anyOf": choices,
    }
    return describe(schema, BINDINGS)


def _environment(action_models: Sequence[type[Any]] | None) -> dict[str, Any]:
    from orchestra.binding.environment import EnvironmentSpec

    schema = EnvironmentSpec.model_json_schema(mode="validation")
    del schema["properties"]["applied_from"]  # Orchestra's, never the file's
    del schema["$defs"]["Origin"]
    return describe(schema, ENVIRONMENT)


def _data_set(action_models: Sequence[type[Any]] | None) -> dict[str, Any]:
    from orchestra.binding.datasets import data_set_adapter

    return data_set_adapter().json_schema(mode="validation")


def _project(action_models: Sequence[type[Any]] | None) -> dict[str, Any]:
    from orchestra.project import ProjectFile
    from orchestra.schemas.attribute_docs import with_attribute_docs

    schema = ProjectFile.model_json_schema(mode="validation", by_alias=True)
    return with_attribute_docs(schema, ProjectFile)


_GENERATORS: dict[str, Callable[[Sequence[type[Any]] | None], dict[str, Any]]] = {
    "bindings": _bindings,
    "environment": _environment,
    "data-set": _data_set,
    "project": _project,
}
