"""`generate_suite`: a process graph and a coverage criterion in, a GeneratedSuite out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestra.domain.generation.calls import DEFAULT_CALL_DEPTH, inline_calls
from orchestra.domain.generation.cover import Expander, solve
from orchestra.domain.generation.enumeration import Enumerator
from orchestra.domain.generation.exhaustive import DEFAULT_BOUND as DEFAULT_SEARCH_BOUND
from orchestra.domain.generation.fallback import token_game_plans
from orchestra.domain.generation.flat import SINK, SOURCE, EdgeKind, FlatGraph, exit_id, flatten
from orchestra.domain.generation.plans import (
    DEFAULT_LOOP_BOUND,
    DEFAULT_MAX_SCENARIOS,
    MAX_LOOP_BOUND,
    MAX_SCENARIOS,
    Criterion,
    Plan,
)
from orchestra.domain.generation.render import render
from orchestra.domain.generation.structure import Analysis, Unstructured, analyse, prune
from orchestra.domain.generation.terminate import races, settle
from orchestra.domain.generation.throws import inside
from orchestra.domain.process import Flow, NodeCategory, ProcessGraph
from orchestra.domain.scenario import Coverage, GeneratedSuite, TestScenario
from orchestra.errors import BpmnRefused, GenerationLimit, InputRefused

if TYPE_CHECKING:
    import networkx as nx


def generate_suite(
    graph: ProcessGraph,
    *,
    process_key: str,
    process_version: int,
    criterion: Criterion = Criterion.ALL_FLOWS,
    loop_bound: int = DEFAULT_LOOP_BOUND,
    max_scenarios: int = DEFAULT_MAX_SCENARIOS,
    called: Mapping[str, ProcessGraph] | None = None,
    call_depth: int = DEFAULT_CALL_DEPTH,
    search_bound: int = DEFAULT_SEARCH_BOUND,
) -> GeneratedSuite:
    """Deterministic: the same graph and options give the same suite, in the same order.

    `called` maps process keys to imported processes that call activities may inline;
    `search_bound` caps the token-game states searched for what a greedy token game missed.
    Raises GenerationLimit when all-paths exceeds `max_scenarios` (or blocks nest too deeply),
    BpmnRefused when no scenario can go from a start event to an end event, InputRefused for
    all-paths on a model that is not block-structured.
    """
    if not (0 <= loop_bound <= MAX_LOOP_BOUND and 1 <= max_scenarios <= MAX_SCENARIOS):
        raise InputRefused(
            f"--loop-bound must be 0 to {MAX_LOOP_BOUND} and --max-scenarios 1 to {MAX_SCENARIOS}"
        )
    working, inlined = inline_calls(graph, called or {}, call_depth)
    flat = flatten(working)
    analysis = prune(flat)
    if SOURCE not in analysis.kept or SINK not in analysis.kept:
        raise BpmnRefused(
            f"process {graph.id}: no start event leads to an end event, nothing to generate"
        )
    parameters: dict[str, Any] = {"loop_bound": loop_bound, "max_scenarios": max_scenarios}
    if inlined:
        parameters["inlined_calls"] = inlined
    try:
        plans, method = _plans(analysis, criterion, loop_bound, max_scenarios, search_bound)
        if criterion is Criterion.ALL_NODES and _has_loops(flat):
            flat, plans = _fewer(flat, plans, working, loop_bound, max_scenarios)
        plans = settle(flat, plans)
        scenarios = _without_spare_races(flat, plans, criterion)
        if not scenarios:
            raise BpmnRefused(
                f"process {graph.id}: no token game goes from a start event to an end event "
                "(every way loops or deadlocks), nothing to generate"
            )
    except RecursionError as exc:
        raise GenerationLimit(
            f"process {graph.id}: its blocks are nested too deeply to generate scenarios"
        ) from exc
    parameters.update(method)
    return GeneratedSuite(
        process_key=process_key,
        process_version=process_version,
        criterion=criterion.value,
        parameters=parameters,
        scenarios=scenarios,
        coverage=coverage(
            graph,
            analysis,
            criterion,
            scenarios,
            loop_bound=loop_bound,
            search=parameters.get("search"),
        ),
    )


def _plans(
    analysis: Analysis,
    criterion: Criterion,
    loop_bound: int,
    cap: int,
    search_bound: int = DEFAULT_SEARCH_BOUND,
) -> tuple[list[Plan], dict[str, Any]]:
    import networkx as nx  # imported to generate: listing suites needs no graph library

    flat = analysis.flat
    try:
        top = analyse(analysis)
        if criterion is Criterion.ALL_PATHS:
            return Enumerator(flat, loop_bound, cap).plans(top), {"method": "enumeration"}
        solve(flat, top, criterion)
        return Expander(flat).plans(top), {"method": "minimum-flow"}
    except (Unstructured, nx.NetworkXException) as exc:
        reason = exc.reason if isinstance(exc, Unstructured) else str(exc)
        reason = _with_names(flat.graph, reason)
        if criterion is Criterion.ALL_PATHS:
            raise InputRefused(
                f"process {flat.graph.id} is not block-structured ({reason}): all-paths needs "
                "nested single-entry single-exit blocks; use --coverage all-flows or all-nodes",
                details={"reason": reason},
            ) from exc
        plans, search = token_game_plans(analysis, criterion, search_bound)
        note = (
            f"not block-structured ({reason}): scenarios come from a greedy token game, "
            "complete but not guaranteed minimal, concurrent branches serialized"
        )
        if "defaults" in search:
            note += f"; default flows {search['defaults']}"
        return plans, {"method": "token-game-heuristic", "note": note, "search": search}


def _without_spare_races(
    flat: FlatGraph, plans: list[Plan], criterion: Criterion
) -> tuple[TestScenario, ...]:
    """The scenarios, less the race variants whose elements the others already cover
    (all-paths keeps every one: each is a way the process can go)."""
    scenarios = render(flat, plans)
    if criterion is Criterion.ALL_PATHS or not any(s.race for s in scenarios):
        return scenarios
    graph = flat.graph
    wanted = graph.flow_by_id if criterion is Criterion.ALL_FLOWS else graph.node_by_id
    counts: dict[str, int] = {}
    for scenario in scenarios:
        for element in set(scenario.path) & wanted.keys():
            counts[element] = counts.get(element, 0) + 1
    kept = list(range(len(plans)))
    for index in reversed(range(len(plans))):
        mine = set(scenarios[index].path) & wanted.keys()
        if any(True for _ in races(plans[index])) and all(counts[e] > 1 for e in mine):
            kept.remove(index)
            for element in mine:
                counts[element] -= 1
    return scenarios if len(kept) == len(plans) else render(flat, [plans[i] for i in kept])


def _with_names(graph: ProcessGraph, text: str) -> str:
    """Element ids in a message, followed by their names where they have one."""
    words = []
    for word in text.split(" "):
        node = graph.node_by_id.get(word)
        name = " ".join(node.name.split()) if node is not None and node.name else ""
        words.append(f"{word} ({name})" if name else word)
    return " ".join(words)


def _has_loops(flat: FlatGraph) -> bool:
    return any(edge.kind is EdgeKind.LOOP for edge in flat.edges)


def _fewer(
    flat: FlatGraph, plans: list[Plan], graph: ProcessGraph, loop_bound: int, cap: int
) -> tuple[FlatGraph, list[Plan]]:
    """With loops, going around one can reach nodes another scenario would: all-flows, which
    goes around every loop, may then need fewer scenarios than all-nodes' own solution."""
    other = prune(flatten(graph))
    flows, _ = _plans(other, Criterion.ALL_FLOWS, loop_bound, cap)
    return (other.flat, flows) if len(flows) < len(plans) else (flat, plans)


def coverage(
    graph: ProcessGraph,
    analysis: Analysis,
    criterion: Criterion,
    scenarios: tuple[TestScenario, ...],
    *,
    loop_bound: int = DEFAULT_LOOP_BOUND,
    search: Mapping[str, Any] | None = None,
) -> Coverage:
    """What the scenarios cover of `graph` (inlined called processes are not counted).
    `search`: what the exhaustive token-game search did, when the plans come from one."""
    seen = {element for scenario in scenarios for element in scenario.path}
    # all-paths with loop bound 0 leaves out what only going around a loop reaches
    loops = _loops(analysis) if criterion is Criterion.ALL_PATHS and loop_bound == 0 else {}
    uncovered: list[dict[str, str]] = []
    for node in graph.nodes:
        if node.id not in seen:
            uncovered.append(
                {
                    "element": node.id,
                    "kind": "node",
                    "reason": _reason(analysis, node.id, criterion, loops=loops, search=search),
                }
            )
    for flow in graph.flows:
        if flow.id not in seen:
            reason = _cut_reason(analysis.flat, flow) or _reason(
                analysis,
                flow.source,
                criterion,
                flow_target=flow.target,
                loops=loops,
                search=search,
            )
            uncovered.append({"element": flow.id, "kind": "flow", "reason": reason})
    return Coverage(
        criterion=criterion.value,
        flows_total=len(graph.flows),
        flows_covered=sum(1 for flow in graph.flows if flow.id in seen),
        nodes_total=len(graph.nodes),
        nodes_covered=sum(1 for node in graph.nodes if node.id in seen),
        uncovered=tuple(uncovered),
    )


def _reason(
    analysis: Analysis,
    node: str,
    criterion: Criterion,
    flow_target: str | None = None,
    *,
    loops: Mapping[str, int] | None = None,
    search: Mapping[str, Any] | None = None,
) -> str:
    ends = [node] if flow_target is None else [node, flow_target]
    if any(_compensation(analysis, n) for n in ends):
        return "compensation: only runs when an activity is compensated, not on a token's path"
    cancel = next((n for n in ends if _uncancelled(analysis.flat, n)), None)
    if cancel is not None:
        return (
            f"cancel boundary event {cancel} fires only when a cancel end event inside its "
            "transaction is reached, and none is"
        )
    if any(n in analysis.unreachable for n in ends):
        return _unreached_reason(analysis, ends)
    if any(n in analysis.dead_ends for n in ends):
        return "no end event can be reached from it"
    if criterion is Criterion.ALL_NODES and flow_target is not None:
        return "all-nodes does not require every flow"
    if _is_container(analysis.flat, node):
        return "a container with nothing to run"
    if loops and len({loops.get(n, -1 - i) for i, n in enumerate(ends)}) == 1:
        return "only reached by going around a loop, which all-paths with --loop-bound 0 never does"
    if search is not None and not search["complete"]:
        return (
            f"not found within the search bound {search['bound']} "
            "(token-game states explored, every order of concurrent tokens)"
        )
    return "no valid token game covers it (e.g. it leads to a deadlock)"


def _cut_reason(flat: FlatGraph, flow: Flow) -> str | None:
    """Why a flow after an interrupting throw, or out of a scope never left normally, is not
    taken; None for any other flow."""
    thrower = flat.cut.get(flow.id)
    if thrower is not None:
        return _cut_after(flat, thrower)
    node = flat.graph.node_by_id.get(flow.source)
    if node is None or node.category is not NodeCategory.SUB_PROCESS:
        return None
    scope_exit = exit_id(flow.source)
    throws = any(
        not catch.continues and inside(flat.graph, catch.thrower, flow.source)
        for catch in flat.catches.values()
    )
    if throws and scope_exit in flat.nodes and not flat.into[scope_exit]:
        return (
            f"subprocess {flow.source} never completes normally: "
            "each way through it throws an error or escalation that leaves it"
        )
    return None


def _cut_after(flat: FlatGraph, thrower: str) -> str:
    catch = flat.catches[thrower]
    if catch.catcher is None:
        return f"the {catch.kind} thrown at {thrower} is caught nowhere: the process ends there"
    return (
        f"the {catch.kind} thrown at {thrower} is caught by {catch.catcher}, which interrupts: "
        "the way on after the throw is never taken"
    )


def _unreached_reason(analysis: Analysis, ends: list[str]) -> str:
    """Elements only reached through flows cut after a throw say which throw cuts them."""
    flat = analysis.flat
    for flow_id, thrower in flat.cut.items():
        flow = flat.graph.flow_by_id[flow_id]
        behind = _reach_within(flat, flow.target, analysis.unreachable)
        if any(n in behind for n in ends):
            return f"only reached after {thrower}: {_cut_after(flat, thrower)}"
    for node in flat.graph.nodes:
        if _uncancelled(flat, node.id) and any(
            n in _reach_within(flat, node.id, analysis.unreachable) for n in ends
        ):
            return f"only reached after cancel boundary event {node.id}, which never fires"
    return "no start event reaches it"


def _reach_within(flat: FlatGraph, start: str, allowed: set[str]) -> set[str]:
    seen = {start} if start in allowed else set()
    stack = list(seen)
    while stack:
        node = stack.pop()
        for e in flat.out[node]:
            target = flat.edges[e].target
            if target in allowed and target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _loops(analysis: Analysis) -> dict[str, int]:
    """Flat nodes on a cycle of the kept graph -> the number of their strongly connected
    component (an element, or a flow between two of them, is on a loop when it is in one)."""
    import networkx as nx

    flat = analysis.flat
    graph: nx.DiGraph[str] = nx.DiGraph()
    for edge in flat.edges:
        if edge.kind not in (EdgeKind.DONE, EdgeKind.LOOP) and edge.target in analysis.kept:
            graph.add_edge(edge.source, edge.target)
    components = sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)
    return {node: number for number, nodes in enumerate(components) for node in nodes}


def _is_container(flat: FlatGraph, node: str) -> bool:
    return flat.nodes.get(node) is None


def _uncancelled(flat: FlatGraph, node_id: str) -> bool:
    """A cancel boundary event no cancel end event leads to."""
    node = flat.graph.node_by_id.get(node_id)
    if node is None or node.attached_to is None or "cancel" not in node.event_definitions:
        return False
    return not flat.into.get(node_id)


def _compensation(analysis: Analysis, node_id: str) -> bool:
    """A compensation boundary event or a compensation handler."""
    graph = analysis.flat.graph
    node = graph.node_by_id.get(node_id)
    if node is None:
        return False
    if "compensate" in node.event_definitions and node.attached_to is not None:
        return True
    if node.is_for_compensation:
        return True
    # some tools drop isForCompensation: an activity no flow enters, in a model that compensates
    orphan = node.category.is_activity and not graph.incoming.get(node_id)
    compensates = any("compensate" in n.event_definitions for n in graph.nodes)
    return orphan and compensates and node_id in analysis.unreachable
