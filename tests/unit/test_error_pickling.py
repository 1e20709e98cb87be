"""Errors raised in the parser process reach the caller pickled: each comes back as it was."""

from __future__ import annotations

import pickle

import pytest

from orchestra.binding.templates import TemplateFailure
from orchestra.binding.yamlsource import UnfitValue
from orchestra.domain.conditions.errors import NotUnderstood
from orchestra.domain.generation.structure import Unstructured
from orchestra.errors import BindingRefused, NotFound, UnboundTasks, UsageError
from orchestra.protocols.registry import UnknownProtocol

ERRORS: list[BaseException] = [
    NotFound("suite", "order", reason="process 'order' is not imported"),
    NotFound("suite run", 7),
    BindingRefused("bindings.yaml:3: tasks.X: unknown task 'X'", details={"problems": []}),
    UsageError("no such model file: a.bpmn"),
    UnboundTasks("2 tasks have no binding", details={"unbound": [{"element_id": "T"}]}),
    UnfitValue(("tasks", "T", "json"), "a set is not JSON"),
    Unstructured("Gateway_1", "the branches of Gateway_1 meet at two joins"),
    UnknownProtocol("grpc", ["http"]),
    TemplateFailure("vars.x is undefined", missing="vars.x"),
    NotUnderstood("unexpected ')'", 7),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_error_comes_back_from_pickle_as_it_was(error: BaseException) -> None:
    back = pickle.loads(pickle.dumps(error))

    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)
