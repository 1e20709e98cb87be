"""Every scenario generated for the shared corpus replays as a valid token game in the
reference simulator (tests/support/token_game.py), for the models it knows; each model it
does not replay is left out for a named reason, printed with its count."""

from __future__ import annotations

from collections import Counter

import pytest

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.errors import OrchestraError
from tests.corpus import corpus_dir
from tests.integration.test_generate_corpus import corpus_processes
from tests.support.token_game import coverable, known, replay, unread

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        corpus_dir() is None, reason="the BPMN corpus (shared/corpus/bpmn-miwg) is not here"
    ),
]


# Why a corpus process is not replayed -> how many are not, for that reason alone.
SKIPPED = {
    "a parallel join waits for a flow no start reaches, or for a loop's way back: it never "
    "fires, and the generator leaves out a parallel branch toward it": 1,  # Bonita's B.2.0
}


def test_every_corpus_process_is_replayed_or_skipped_for_a_named_reason() -> None:
    skipped = Counter(reason for _, graph in corpus_processes() if (reason := unread(graph)))
    for reason, count in skipped.most_common():
        print(f"not replayed, {count}: {reason}")
    assert dict(skipped) == SKIPPED


def test_every_corpus_scenario_replays_as_a_token_game() -> None:
    read = [(name, graph) for name, graph in corpus_processes() if known(graph)]
    assert len(read) == 680 - sum(SKIPPED.values())
    invalid = []
    for name, graph in read:
        for criterion in Criterion:
            try:
                suite = generate_suite(
                    graph, process_key=graph.id, process_version=1, criterion=criterion
                )
            except OrchestraError:
                continue
            alone = "defaults" not in suite.parameters.get("search", {})
            for scenario in suite.scenarios:
                reason = replay(graph, scenario, default_alone=alone)
                if reason is not None:
                    invalid.append((name, criterion.value, scenario.name, reason))
    assert invalid == []


def test_small_corpus_models_cover_all_they_can_and_call_nothing_coverable_impossible() -> None:
    """Models of up to 30 nodes, against an exhaustive search of the reference token game."""
    checked = 0
    wrong: list[tuple[str, ...]] = []
    for name, graph in corpus_processes():
        if not known(graph) or not graph.nodes or len(graph.nodes) > 30:
            continue
        reference = coverable(graph)
        if reference is None:
            continue
        checked += 1
        for criterion, wanted in (
            (Criterion.ALL_FLOWS, set(graph.flow_by_id)),
            (Criterion.ALL_NODES, set(graph.node_by_id)),
        ):
            try:
                suite = generate_suite(
                    graph, process_key=graph.id, process_version=1, criterion=criterion
                )
            except OrchestraError:
                if reference & wanted:
                    wrong.append((name, criterion.value, "refused"))
                continue
            seen = {element for scenario in suite.scenarios for element in scenario.path}
            proven = {
                item["element"]
                for item in suite.coverage.uncovered
                if item["reason"].startswith("no valid token game")
            }
            missed = (reference & wanted) - seen
            if missed or proven & reference:
                wrong.append((name, criterion.value, *sorted(missed), *sorted(proven & reference)))
    assert checked >= 400
    assert wrong == []
