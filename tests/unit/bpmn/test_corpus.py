"""369 real models from 15 modelling tools: every well-formed one imports without an error."""

from __future__ import annotations

from collections import Counter

import pytest

from orchestra.bpmn import read_bpmn
from orchestra.errors import BpmnRefused
from tests.corpus import (
    CORPUS_FILES,
    CORPUS_PROCESSES,
    CORPUS_REFUSED,
    corpus_dir,
    corpus_files,
)

pytestmark = pytest.mark.skipif(corpus_dir() is None, reason="the BPMN corpus is not here")


def test_every_well_formed_corpus_model_imports_and_the_malformed_ones_are_refused() -> None:
    root = corpus_dir()
    assert root is not None
    refused: dict[str, str] = {}
    with_errors: dict[str, list[str]] = {}
    processes = 0
    for path in corpus_files():
        name = str(path.relative_to(root))
        try:
            model = read_bpmn(path.read_bytes(), source=name)
        except BpmnRefused as error:
            refused[name] = error.message
            continue
        processes += len(model.processes)
        if model.errors:
            with_errors[name] = [problem.message for problem in model.errors]
    assert len(corpus_files()) == CORPUS_FILES
    assert with_errors == {}
    assert set(refused) == CORPUS_REFUSED
    assert all("is not a valid URI" in message for message in refused.values())
    assert processes == CORPUS_PROCESSES


def test_the_corpus_graphs_keep_flow_ids_conditions_message_flows_boundaries_and_diagrams() -> None:
    kept: Counter[str] = Counter()
    for path in corpus_files():
        try:
            model = read_bpmn(path.read_bytes(), source=path.name)
        except BpmnRefused:
            continue
        for graph in model.processes:
            kept["flows"] += len(graph.flows)
            kept["conditions"] += sum(1 for flow in graph.flows if flow.condition)
            kept["message flows"] += len(graph.message_flows)
            kept["boundary events"] += sum(1 for n in graph.nodes if n.attached_to)
            kept["drawn processes"] += graph.diagram is not None
    assert all(kept[what] > 50 for what in kept), kept
