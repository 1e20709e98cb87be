"""Every condition expression of the shared BPMN corpus is either read or reported not
understood, and deriving data for each corpus suite ends in data or a report."""

from __future__ import annotations

import pytest

from orchestra.bpmn import read_bpmn
from orchestra.domain.conditions import NotUnderstood, language_of, parse_condition
from orchestra.domain.conditions.suites import derive_data
from orchestra.domain.generation import generate_suite
from orchestra.domain.process import ProcessGraph
from orchestra.errors import OrchestraError
from tests.corpus import corpus_dir, corpus_files

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        corpus_dir() is None, reason="the BPMN corpus (shared/corpus/bpmn-miwg) is not here"
    ),
]


def corpus_graphs() -> list[ProcessGraph]:
    found: list[ProcessGraph] = []
    for path in corpus_files():
        try:
            found += read_bpmn(path.read_bytes(), source=path.name).processes
        except OrchestraError:
            continue
    return found


def test_every_corpus_condition_is_understood_or_reported() -> None:
    counts: dict[str, int] = {}
    for graph in corpus_graphs():
        for flow in graph.flows:
            if flow.condition is None:
                continue
            language = language_of(flow.condition.text, flow.condition.language)
            try:
                parse_condition(flow.condition.text, flow.condition.language)
                key = f"{language} understood"
            except NotUnderstood:
                key = f"{language} not understood"
            counts[key] = counts.get(key, 0) + 1
    print(f"corpus conditions: {dict(sorted(counts.items()))}")
    assert sum(counts.values()) > 0


def test_deriving_data_for_every_corpus_suite_gives_data_or_a_report() -> None:
    solved = reported = 0
    for graph in corpus_graphs():
        try:
            suite = generate_suite(graph, process_key=graph.id, process_version=1)
        except OrchestraError:
            continue
        derived, report = derive_data(suite, graph, graph)
        assert len(derived.scenarios) == len(suite.scenarios)
        solved += sum(1 for s in derived.scenarios if s.data)
        reported += len(report.not_understood) + len(report.infeasible) + len(report.loops)
    print(f"corpus scenarios with data: {solved}, findings reported: {reported}")
