"""An element is reported uncoverable only when a search of every token game proves it; a
search stopped by its bound says so. all-nodes and all-flows agree on what is coverable."""

from __future__ import annotations

from orchestra.domain.generation import Criterion, generate_suite
from orchestra.domain.process import ProcessGraph
from orchestra.domain.scenario import GeneratedSuite
from tests.unit.generation.models import model
from tests.unit.generation.test_terminate import terminate


def generate(graph: ProcessGraph, criterion: Criterion, search_bound: int = 5000) -> GeneratedSuite:
    return generate_suite(
        graph,
        process_key="p",
        process_version=1,
        criterion=criterion,
        search_bound=search_bound,
    )


def racing_model() -> ProcessGraph:
    """Not block-structured (s2 enters A from outside the block of p1); the greedy token game
    always fires A first, whose terminate end tA then cuts B's branch before C."""
    return model("s>p1", "p1>A", "p1>B", "A>tA", "B>C", "C>e2", "s2>A", extra=(terminate("tA"),))


def test_what_another_order_of_the_branches_reaches_is_covered() -> None:
    for criterion in (Criterion.ALL_FLOWS, Criterion.ALL_NODES):
        suite = generate(racing_model(), criterion)
        assert suite.parameters["method"] == "token-game-heuristic"
        assert suite.coverage.nodes_covered == suite.coverage.nodes_total, criterion
        assert suite.parameters["search"]["complete"] is True
    flows = generate(racing_model(), Criterion.ALL_FLOWS)
    assert flows.coverage.flows_covered == flows.coverage.flows_total
    ends = [s.path[-6:] for s in flows.scenarios]
    assert ("C-e2", "e2", "p1-A", "A", "A-tA", "tA") in ends  # B's branch ends first


def test_a_search_stopped_by_its_bound_never_calls_an_element_uncoverable() -> None:
    suite = generate(racing_model(), Criterion.ALL_FLOWS, search_bound=1)
    assert suite.parameters["search"] == {"bound": 1, "states": 1, "complete": False}
    reasons = {u["element"]: u["reason"] for u in suite.coverage.uncovered}
    assert reasons["C"].startswith("not found within the search bound 1")
    assert not any("no valid token game" in reason for reason in reasons.values())


def test_an_element_no_token_game_covers_is_proven_so() -> None:
    # the parallel join p waits for A and B, which the exclusive x never sends together
    graph = model("s>x", "x>A", "x>B", "x>e1", "A>p", "B>p", "p>C", "C>e")
    for criterion in (Criterion.ALL_FLOWS, Criterion.ALL_NODES):
        suite = generate(graph, criterion)
        assert suite.parameters["search"]["complete"] is True
        reasons = {u["element"]: u["reason"] for u in suite.coverage.uncovered}
        assert reasons.get("C", "").startswith("no valid token game covers it"), criterion


def test_what_leads_only_to_a_join_fed_by_no_start_names_that_join() -> None:
    # after D, the parallel join p3 waits for a token from Z, which no start reaches
    graph = model(
        "s>p1", "p1>A", "p1>x", "A>p2", "x>p2", "x>D", "D>p3", "Z>p3", "p3>e2", "p2>e", "s2>A"
    )
    for criterion in (Criterion.ALL_FLOWS, Criterion.ALL_NODES):
        reasons = {u["element"]: u["reason"] for u in generate(graph, criterion).coverage.uncovered}
        assert reasons.get("D", "").startswith("parallel join p3 never fires"), criterion


def test_a_default_flow_is_taken_with_others_only_when_every_game_otherwise_deadlocks() -> None:
    # the parallel join p waits for both branches of o1, whose default flow is o1-B
    graph = model("s>o1", "o1>A", "o1>B", "A>p", "B>p", "p>e", "s2>A")
    graph = graph.model_copy(
        update={
            "nodes": tuple(
                n.model_copy(update={"default_flow": "o1-B"}) if n.id == "o1" else n
                for n in graph.nodes
            )
        }
    )
    suite = generate(graph, Criterion.ALL_FLOWS)
    assert "deadlocks at a join waiting for it" in suite.parameters["search"]["defaults"]
    assert "default flows taken together with other flows" in suite.parameters["note"]
    assert any({"o1-A", "o1-B"} <= set(s.path) for s in suite.scenarios)


def test_a_parallel_join_of_exclusive_alternatives_is_played_as_a_token_game() -> None:
    # p3 waits for x0's two flows, which an exclusive gateway never sends together
    graph = model("s>x0", "x0>A2", "x0>p3", "A2>p3", "s2>B", "B>e")
    suite = generate(graph, Criterion.ALL_FLOWS)
    assert "p3 closes no parallel split" in suite.parameters["note"]
    assert [s.path for s in suite.scenarios] == [("s2", "s2-B", "B", "B-e", "e")]
    reasons = {u["element"]: u["reason"] for u in suite.coverage.uncovered}
    assert reasons["p3"].startswith("no valid token game covers it")
