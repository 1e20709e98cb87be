"""Field descriptions of a JSON Schema taken from the docstrings written under each field.

Models document their fields with a string under each one (as `orchestra.project` does). Pydantic
can read them itself (`use_attribute_docstrings`), but it does so for every class as it is
defined, reading the module's source each time: that costs every command importing the models,
though only the schema files need the text. So the docstrings are read here, when a schema is
generated, and written into the schema's properties.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import sys
import types
import typing
from functools import cache
from typing import Any

from pydantic import BaseModel


def with_attribute_docs(schema: dict[str, Any], root: type[BaseModel]) -> dict[str, Any]:
    """`schema` (generated from `root`) with each property of `root` and of the models it holds
    described by its field's docstring, where the field has no description of its own."""
    definitions: dict[str, Any] = schema.get("$defs", {})
    for model in _models_within(root):
        target = schema if model is root else definitions.get(model.__name__)
        if target is None:
            continue
        properties: dict[str, Any] = target.get("properties", {})
        for name, doc in _docs_of(model).items():
            field = model.model_fields.get(name)
            if field is None:
                continue
            shown = properties.get(field.alias or name, properties.get(name))
            if shown is not None and "description" not in shown:
                shown["description"] = doc
    return schema


def _models_within(root: type[BaseModel]) -> list[type[BaseModel]]:
    """`root` and every model its fields' types name, each once, in the order met."""
    found: list[type[BaseModel]] = []
    pending: list[Any] = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item in found:
                continue
            found.append(item)
            pending.extend(field.annotation for field in item.model_fields.values())
        elif isinstance(item, types.UnionType) or typing.get_origin(item) is not None:
            pending.extend(typing.get_args(item))
    return found


def _docs_of(model: type[BaseModel]) -> dict[str, str]:
    """The docstrings of `model`'s fields, those of its bases included (the nearest wins)."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if issubclass(cls, BaseModel) and cls is not BaseModel:
            docs.update(_class_docs(cls.__module__).get(cls.__qualname__, {}))
    return docs


@cache
def _class_docs(module_name: str) -> dict[str, dict[str, str]]:
    """For each class of the module: its attributes' docstrings (a string right under an
    annotated assignment), read from the module's source once."""
    source = inspect.getsource(sys.modules[module_name])
    found: dict[str, dict[str, str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            found[node.name] = _attribute_docs(node.body)
    return found


def _attribute_docs(body: list[ast.stmt]) -> dict[str, str]:
    docs = {}
    for statement, following in itertools.pairwise(body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
