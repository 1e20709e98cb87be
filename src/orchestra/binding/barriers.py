"""Shared barriers (`barriers:` of a binding file) placed into the scenarios of a suite.

A barrier rule names an element and a side. It lands in every scenario with a step of that
element (an ACTION or ASSERTION step; the first one when a loop repeats it) and becomes a BARRIER
step on the scenario's main line, spec `{"name", "parties", "timeout"}`, just before or just
after that step. Its `parties` default to the number of scenarios it lands in.

The runtime meets shared barriers on the main line only, so when the element is on a parallel
branch the barrier moves out to the edge of the outermost parallel block holding it: `before`
goes before the whole block, `after` after the BARRIER that joins it. Both keep the promise the
user wrote (no party runs the element before all have arrived; every party has run it before
any goes on), at the price of waiting for the block's other branches too. The step's
`meta["hoistedFrom"]` names the branch it moved out of. A block whose branches never join the
main line (a non-interrupting boundary event's branch) has no "after": that is refused.

Refused, naming the barrier: a barrier that lands in no scenario (it would silently not exist),
one whose `parties` exceed the scenarios it lands in (its runs could only time out), and one
whose `parties` exceed how many of those scenarios can wait there at once: a scenario that
`dependsOn` another only starts when that one has finished, so the two never meet (the most
that can meet is the largest set of them none of which waits for another, by Dilworth's
theorem: their number minus a maximum matching of the "waits for" pairs), and barriers that
wait for each other: each needs every scenario it lands in, and one scenario meets the first
before the second while another meets the second before the first (or waits, by `dependsOn`,
for a scenario that meets it).

Steps are renumbered in order after insertion, from the scenario's first position: positions
stay unique and ordered, which is all the plan, the checkpoints (`done` by position) and the
reports rely on. Block BARRIERs name branch labels, not positions, so they stay valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestra.binding.document import BarrierRule
from orchestra.domain.scenario import ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind
from orchestra.errors import BindingRefused

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where one barrier goes in one scenario: before `steps[index]` (len(steps): at the end)."""

    index: int
    rule: BarrierRule
    hoisted_from: str | None  # the parallel branch the element is on, if moved out of it


def place_barriers(
    scenarios: Sequence[TestScenario],
    rules: Sequence[BarrierRule],
    dependencies: nx.DiGraph[str] | None = None,
) -> tuple[TestScenario, ...]:
    """The scenarios with a BARRIER step for each rule that lands in them (see module doc).

    `dependencies` is the suite's dependsOn graph (an edge from a scenario to each one waiting
    for it), as `validate_dependencies` returns it."""
    import networkx as nx  # here: attaching bindings without barriers needs no graph library

    waits = nx.transitive_closure_dag(dependencies) if dependencies and rules else None
    placements: list[list[tuple[_Placement, int]]] = [[] for _ in scenarios]
    everyone: set[str] = set()  # the barriers that wait for every scenario they land in
    for rule in rules:
        landed = [
            (i, placement)
            for i, scenario in enumerate(scenarios)
            if (placement := _placement(scenario, rule)) is not None
        ]
        parties = _parties(rule, [scenarios[i] for i, _ in landed])
        if waits is not None:
            _check_can_meet(rule, parties, [scenarios[i].name for i, _ in landed], waits)
        for i, placement in landed:
            placements[i].append((placement, parties))
        if parties == len(landed):
            everyone.add(rule.name)
    _check_order(scenarios, rules, placements, everyone, waits)
    return tuple(
        _with_barriers(scenario, found) if found else scenario
        for scenario, found in zip(scenarios, placements, strict=True)
    )


def _placement(scenario: TestScenario, rule: BarrierRule) -> _Placement | None:
    steps = _ordered(scenario)
    anchor = next(
        (
            i
            for i, step in enumerate(steps)
            if step.element_id == rule.element and step.kind is not StepKind.BARRIER
        ),
        None,
    )
    if anchor is None:
        return None
    branch = steps[anchor].branch
    if not branch:
        index = anchor if rule.side == "before" else anchor + 1
    elif rule.side == "before":
        index = _block_start(steps, anchor)
    else:
        index = _after_block(steps, anchor, scenario, rule)
    if index > 0 and steps[index - 1].branch:  # would be taken for the join of that block
        raise BindingRefused(
            f"barrier {rule.name!r} ({rule.side} {rule.element}): in scenario "
            f"{scenario.name!r} it would follow the parallel branch {steps[index - 1].branch!r}, "
            "which never joins the main line; shared barriers wait on the main line only"
        )
    return _Placement(index=index, rule=rule, hoisted_from=branch or None)


def _block_start(steps: list[ScenarioStep], anchor: int) -> int:
    """The first step of the outermost parallel block holding `steps[anchor]`."""
    index = anchor
    while index > 0 and steps[index - 1].branch:
        index -= 1
    return index


def _after_block(
    steps: list[ScenarioStep], anchor: int, scenario: TestScenario, rule: BarrierRule
) -> int:
    """Just after the main-line BARRIER joining the outermost block holding `steps[anchor]`."""
    index = anchor + 1
    while index < len(steps) and steps[index].branch:
        index += 1
    closing = steps[index] if index < len(steps) else None
    if closing is None or closing.kind is not StepKind.BARRIER or "branches" not in closing.spec:
        raise BindingRefused(
            f"barrier {rule.name!r} (after {rule.element}): in scenario {scenario.name!r}, "
            f"{rule.element} is on the parallel branch {steps[anchor].branch!r}, which never "
            "joins the main line, so nothing on the main line comes after it; place the "
            f"barrier before {rule.element} instead"
        )
    return index + 1


def _parties(rule: BarrierRule, landed: list[TestScenario]) -> int:
    names = ", ".join(repr(scenario.name) for scenario in landed)
    where = f"{rule.side} {rule.element}"
    if not landed:
        raise BindingRefused(
            f"barrier {rule.name!r} ({where}) lands in no scenario: no scenario of the suite "
            f"has a step of {rule.element}: either the criterion leaves it uncovered, or it "
            "gives no step (a subprocess, a plain start or boundary event): place the barrier "
            "at a task or an event the scenarios run",
            details={"barrier": rule.name, "element": rule.element, "scenarios": []},
        )
    if rule.parties is not None and rule.parties > len(landed):
        raise BindingRefused(
            f"barrier {rule.name!r} ({where}) needs {rule.parties} parties but lands in "
            f"{len(landed)} scenario{'s' if len(landed) != 1 else ''} ({names}): it could never "
            "be met and its runs would only time out",
            details={
                "barrier": rule.name,
                "parties": rule.parties,
                "scenarios": [scenario.name for scenario in landed],
            },
        )
    return rule.parties if rule.parties is not None else len(landed)


def _check_can_meet(
    rule: BarrierRule, parties: int, landed: list[str], waits: nx.DiGraph[str]
) -> None:
    pairs = [(a, b) for a in landed for b in landed if a != b and waits.has_edge(a, b)]
    if not pairs:
        return
    import networkx as nx

    bipartite: nx.Graph[tuple[str, str]] = nx.Graph()
    bipartite.add_nodes_from(("first", name) for name in landed)
    bipartite.add_nodes_from(("then", name) for name in landed)
    bipartite.add_edges_from((("first", a), ("then", b)) for a, b in pairs)
    top = {("first", name) for name in landed}
    matched = len(nx.bipartite.hopcroft_karp_matching(bipartite, top_nodes=top)) // 2
    can_meet = len(landed) - matched
    if parties <= can_meet:
        return
    first, then = pairs[0]
    raise BindingRefused(
        f"barrier {rule.name!r} ({rule.side} {rule.element}) needs {parties} parties, but of "
        f"the {len(landed)} scenarios it lands in at most {can_meet} can wait there at once: "
        f"{then!r} waits for {first!r} to finish (dependsOn), so {first!r} would time out at "
        f"the barrier; set `parties` to at most {can_meet} or drop that dependency",
        details={"barrier": rule.name, "parties": parties, "can_meet": can_meet},
    )


def _check_order(
    scenarios: Sequence[TestScenario],
    rules: Sequence[BarrierRule],
    placements: list[list[tuple[_Placement, int]]],
    everyone: set[str],
    waits: nx.DiGraph[str] | None,
) -> None:
    """Refuses barriers that wait for each other: each waits for every party, and a party of
    one meets the other first (or waits, by dependsOn, for a scenario meeting it), both ways."""
    import networkx as nx

    rank = {rule.name: n for n, rule in enumerate(rules)}
    met: dict[str, list[str]] = {}  # scenario -> the barriers it meets, in order
    for scenario, found in zip(scenarios, placements, strict=True):
        ordered = sorted(found, key=lambda pp: (pp[0].index, rank[pp[0].rule.name]))
        met[scenario.name] = [p.rule.name for p, _ in ordered if p.rule.name in everyone]
    graph: nx.DiGraph[str] = nx.DiGraph()  # barrier -> a barrier it waits for
    for name, barriers in met.items():
        for k, later in enumerate(barriers):
            for earlier in barriers[:k]:
                graph.add_edge(later, earlier, why=f"{name!r} meets {earlier!r} before {later!r}")
        awaited = list(waits.predecessors(name)) if waits is not None else []
        for barrier in barriers:
            for first in sorted(awaited):
                for other in met.get(first, []):
                    why = f"{name!r} waits for {first!r} (dependsOn), which meets {other!r}"
                    graph.add_edge(barrier, other, why=why)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    start = min(range(len(cycle)), key=lambda n: rank[cycle[n][0]])  # the file's first
    cycle = cycle[start:] + cycle[:start]
    names = [repr(a) for a, _ in cycle]
    listed = f"{', '.join(names[:-1])} and {names[-1]}"
    reasons = "; ".join(str(graph.edges[a, b]["why"]) for a, b in cycle)
    raise BindingRefused(
        f"barriers {listed} wait for each other: {reasons}; each needs every scenario it lands "
        "in, so their runs could only time out: set a smaller `parties` or move one of them",
        details={"barriers": [a for a, _ in cycle]},
    )


def _with_barriers(scenario: TestScenario, found: list[tuple[_Placement, int]]) -> TestScenario:
    """Inserts the barriers (at one index: file order) and renumbers every step in order."""
    steps = _ordered(scenario)
    by_index: dict[int, list[ScenarioStep]] = {}
    for placement, parties in found:
        by_index.setdefault(placement.index, []).append(_barrier_step(placement, parties))
    merged: list[ScenarioStep] = []
    for index in range(len(steps) + 1):
        merged += by_index.get(index, [])
        if index < len(steps):
            merged.append(steps[index])
    first = steps[0].position if steps else 1
    renumbered = tuple(
        step.model_copy(update={"position": first + i}) for i, step in enumerate(merged)
    )
    return scenario.model_copy(update={"steps": renumbered})


def _barrier_step(placement: _Placement, parties: int) -> ScenarioStep:
    rule = placement.rule
    meta: dict[str, object] = {"sharedBarrier": True, rule.side: rule.element}
    if placement.hoisted_from is not None:
        meta["hoistedFrom"] = placement.hoisted_from
    # no element id: the barrier is no BPMN element, and the runtime keeps each step's result
    # under its element id for templates (`steps.<id>`), which the element's own step owns
    return ScenarioStep(
        position=0,  # set when the scenario's steps are renumbered
        kind=StepKind.BARRIER,
        element_id=None,
        name=f"barrier {rule.name}",
        spec=rule.spec(parties),
        meta=meta,
    )


def _ordered(scenario: TestScenario) -> list[ScenarioStep]:
    return sorted(scenario.steps, key=lambda step: step.position)
