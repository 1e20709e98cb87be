"""Models built from values already of their fields' types, unvalidated: what our own store
hands back (its columns typed and checked by PostgreSQL) and what the report assembles from it.

`trusted(Model, values)` is `Model.model_construct(**values)` for `values` holding every field,
in declaration order, each already of its type (an enum as the enum, a tuple as a tuple): it
skips the per-field alias and default work `model_construct` does, which costs more than the
validation it saves at a thousand step results. Anything read from outside (a request, a file,
a stored value in an unexpected shape) is validated instead.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)

_set = object.__setattr__


def trusted(model: type[ModelT], values: dict[str, Any]) -> ModelT:
    """An instance of `model` holding `values` as they are (see the module's docstring)."""
    assert values.keys() == model.__pydantic_fields__.keys(), (model, values.keys())
    built = model.__new__(model)
    _set(built, "__dict__", values)
    _set(built, "__pydantic_fields_set__", set(values))
    _set(built, "__pydantic_extra__", None)
    _set(built, "__pydantic_private__", None)
    return built
