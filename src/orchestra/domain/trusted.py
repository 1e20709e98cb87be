"""Models built from values already of their fields' types, unvalidated: what our own store
hands back (its columns typed and checked by PostgreSQL) and what the report assembles from it.

`trusted(Model, values)` is `Model.model_construct(**values)` for `values` holding every field,
in declaration order, each already of its type (an enum as the enum, a tuple as a tuple): it
skips the per-field alias and default work `model_construct` does, which costs more than the
validation it saves at a thousand step results. Anything read from outside (a request, a file,
a stored value in an unexpected shape) is validated instead.

The field names are checked, always (not by `assert`, gone under `python -O`): a model missing
a field would be dumped without it, silently, into a checkpoint or a report.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)

_set = object.__setattr__
# A model's field names, in their order, and as the set of the fields set of its instances: all
# of them, one set shared by its trusted instances (a report builds thousands). Pydantic copies
# it before adding to it (`model_copy`), or adds a field's name, already there (assignment, on
# a model that allows it).
_fields: dict[type[BaseModel], tuple[tuple[str, ...], set[str]]] = {}


def trusted(model: type[ModelT], values: dict[str, Any]) -> ModelT:
    """An instance of `model` holding `values` as they are (see the module's docstring);
    `TypeError` when they are not its fields, naming those missing and those unknown."""
    fields = _fields.get(model)
    if fields is None:
        names = tuple(model.__pydantic_fields__)
        fields = _fields[model] = (names, set(names))
    names, fields_set = fields
    if tuple(values) != names:
        raise TypeError(_mismatch(model, names, tuple(values)))
    built = model.__new__(model)
    _set(built, "__dict__", values)
    _set(built, "__pydantic_fields_set__", fields_set)
    _set(built, "__pydantic_extra__", None)
    _set(built, "__pydantic_private__", None)
    return built


def _mismatch(model: type[BaseModel], fields: tuple[str, ...], given: tuple[str, ...]) -> str:
    missing = [name for name in fields if name not in given]
    unknown = [name for name in given if name not in fields]
    if not missing and not unknown:
        return f"{model.__name__}: fields given in the order {list(given)}, not {list(fields)}"
    return f"{model.__name__}: missing {missing}, unknown {unknown}"
