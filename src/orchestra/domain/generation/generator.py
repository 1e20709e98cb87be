"""`generate_suite`: a process graph and a coverage criterion in, a GeneratedSuite out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from orchestra.domain.generation.calls import DEFAULT_CALL_DEPTH, inline_calls
from orchestra.domain.generation.compensation import compensation_event_subprocess
from orchestra.domain.generation.cover import Expander, solve
from orchestra.domain.generation.criteria import (
    DEFAULT_LOOP_BOUND,
    DEFAULT_MAX_SCENARIOS,
    MAX_LOOP_BOUND,
    MAX_SCENARIOS,
    Criterion,
)
from orchestra.domain.generation.enumeration import Enumerator
from orchestra.domain.generation.exhaustive import DEFAULT_BOUND as DEFAULT_SEARCH_BOUND
from orchestra.domain.generation.fallback import token_game_plans
from orchestra.domain.generation.flat import SINK, SOURCE, EdgeKind, FlatGraph, exit_id, flatten
from orchestra.domain.generation.plans import Plan
from orchestra.domain.generation.render import render
from orchestra.domain.generation.structure import (
    Analysis,
    Unstructured,
    analyse,
    prune,
    waits_for_all,
)
from orchestra.domain.generation.terminate import races, settle
from orchestra.domain.generation.throws import CANCEL, inside
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
    cancels: Collection[str] = (),
) -> GeneratedSuite:
    """Deterministic: the same graph and options give the same suite, in the same order.

    `called` maps process keys to imported processes that call activities may inline;
    `search_bound` caps the token-game states searched for what a greedy token game missed;
    `cancels` are the tasks whose action cancels their transaction (ids of the graph with its
    calls inlined): each throws a cancel as it completes, like a cancel end event after it.
    Raises GenerationLimit when all-paths exceeds `max_scenarios` (or blocks nest too deeply),
    BpmnRefused when no scenario can go from a start event to an end event, InputRefused for
    all-paths on a model that is not block-structured.
    """
    if not (0 <= loop_bound <= MAX_LOOP_BOUND and 1 <= max_scenarios <= MAX_SCENARIOS):
        raise InputRefused(
            f"--loop-bound must be 0 to {MAX_LOOP_BOUND} and --max-scenarios 1 to {MAX_SCENARIOS}"
        )
    working, inlined = inline_calls(graph, called or {}, call_depth)
    flat = flatten(working, cancels)
    analysis = prune(flat)
    if SOURCE not in analysis.kept or SINK not in analysis.kept:
        dead = "".join(
            f" (parallel join {flat.nodes[join].element} never fires: no token can come "
            f"from {missing})"
            for join, missing in _dead_joins(analysis)[:1]
        )
        raise BpmnRefused(
            f"process {graph.id}: no start event leads to an end event{dead}, nothing to generate"
        )
    parameters: dict[str, Any] = {"loop_bound": loop_bound, "max_scenarios": max_scenarios}
    if inlined:
        parameters["inlined_calls"] = inlined
    try:
        plans, method = _plans(analysis, criterion, loop_bound, max_scenarios, search_bound)
        if criterion is Criterion.ALL_NODES and _has_loops(flat):
            flat, plans = _fewer(flat, plans, working, loop_bound, max_scenarios, cancels)
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
    flat: FlatGraph,
    plans: list[Plan],
    graph: ProcessGraph,
    loop_bound: int,
    cap: int,
    cancels: Collection[str],
) -> tuple[FlatGraph, list[Plan]]:
    """With loops, going around one can reach nodes another scenario would: all-flows, which
    goes around every loop, may then need fewer scenarios than all-nodes' own solution."""
    other = prune(flatten(graph, cancels))
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
    compensation = _compensation_reason(analysis, ends)
    if compensation is not None:
        return compensation
    cancel = next((n for n in ends if _uncancelled(analysis.flat, n)), None)
    if cancel is not None:
        return (
            f"cancel boundary event {cancel} fires only when a cancel end event inside its "
            "transaction is reached, and none is"
        )
    if any(n in analysis.unreachable for n in ends):
        return _unreached_reason(analysis, ends)
    if any(n in analysis.dead_ends for n in ends):
        return _join_ahead(analysis, ends) or "no end event can be reached from it"
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
    node = flat.graph.node_by_id.get(thrower)
    if catch.kind == CANCEL and node is not None and node.category.is_activity:
        where = f"transaction {catch.scope}" if catch.scope else "no transaction"
        return f"the action bound to {thrower} cancels {where}: the way on after it is never taken"
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
    for join, missing in _dead_joins(analysis):
        if any(n in _reach_within(flat, join, analysis.unreachable) for n in ends):
            return _never_fires(flat, join, missing)
    return "no start event reaches it"


def _join_ahead(analysis: Analysis, ends: list[str]) -> str | None:
    """Elements that lead only to a parallel join that never fires say which."""
    flat = analysis.flat
    stuck = analysis.dead_ends | analysis.unreachable
    for join, missing in _dead_joins(analysis):
        if any(join in _reach_within(flat, n, stuck) for n in ends if n in flat.nodes):
            return _never_fires(flat, join, missing)
    return None


def _never_fires(flat: FlatGraph, join: str, missing: str) -> str:
    return (
        f"parallel join {flat.nodes[join].element} never fires: no token can come from "
        f"{missing} (no start reaches it, or only through the join)"
    )


def _dead_joins(analysis: Analysis) -> list[tuple[str, str]]:
    """Parallel joins some token reaches that wait for a flow no token can come down, each
    with the element that flow comes from."""
    flat = analysis.flat
    found = []
    for node in sorted(analysis.unreachable):
        if not waits_for_all(flat, node):
            continue
        sources = [flat.edges[e].source for e in flat.into[node]]
        if any(s not in analysis.unreachable for s in sources):
            missing = next(s for s in sources if s in analysis.unreachable)
            found.append((node, flat.nodes[missing].element or missing))
    return found


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


def _compensation_reason(analysis: Analysis, ends: list[str]) -> str | None:
    graph = analysis.flat.graph
    compensated = next((c for n in ends if (c := _compensated(graph, n)) is not None), None)
    if compensated is not None:
        return (
            f"compensation handler of {compensated}: runs only when {compensated} is "
            "compensated (its transaction cancelled, or a compensation event thrown after it), "
            "and no scenario does"
        )
    handler = next((h for n in ends for h in _compensation_subprocesses(graph, n)), None)
    if handler is not None:
        return (
            f"compensation: an event subprocess started by compensating its subprocess "
            f"({handler}), which generation does not play: the handlers of the activities "
            "completed inside that subprocess run instead"
        )
    if any(_compensation(analysis, n) for n in ends):
        return "compensation: only runs when an activity is compensated, not on a token's path"
    return None


def _compensation_subprocesses(graph: ProcessGraph, node_id: str) -> list[str]:
    """The compensation event subprocesses `node_id` is, or lies in."""
    found = []
    node = graph.node_by_id.get(node_id)
    while node is not None:
        if compensation_event_subprocess(graph, node):
            found.append(node.id)
        node = graph.node_by_id.get(node.parent or "")
    return found


def _compensated(graph: ProcessGraph, node_id: str) -> str | None:
    """The activity a bound compensation boundary event, or its handler, compensates."""
    for event in graph.nodes:
        handler = event.compensation_handler
        if handler is not None and node_id in (event.id, handler):
            return event.attached_to
    return None


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
