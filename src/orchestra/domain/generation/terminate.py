"""Terminate end events: reaching one ends its scope at once, so concurrent branches race.

A terminate end event ends its scope (the process, or the subprocess it lies in) the moment a
token reaches it: the tokens still in that scope die. A plan whose parallel (or inclusive, or
fired) branches end without joining, one or more of them at a terminate end of the block's
scope, cannot expect every branch: whichever terminate end is reached first wins, and what the
other branches would still have done never happens. `settle` rewrites such a plan into one
plan per winner:

* the winner's branch runs to its terminate end;
* branches that end at a terminate end too are the losers: their steps are not expected;
* branches that end normally run beside the winner and must end before it terminates: the
  block is closed by a BARRIER on the enclosing branch, then the winner's terminate end is
  asserted there.

Each such plan is a *race*: the order is the SUT's to decide, not the scenario's, and the
scenario says so (`Race`, carried into the terminate end's step as `meta["race"]`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from orchestra.domain.generation.flat import FlatGraph, Role
from orchestra.domain.generation.plans import Fork, Hop, Plan, Race
from orchestra.domain.process import NodeCategory

_MAX_VARIANTS = 64  # per plan: more winners than this are spread over fewer plans


def settle(flat: FlatGraph, plans: list[Plan]) -> list[Plan]:
    """Every plan with its terminate races resolved, one plan per winner, without repeats."""
    if not _terminates(flat):
        return plans
    settled: list[Plan] = []
    seen: set[Plan] = set()
    for plan in plans:
        for variant in _Settler(flat).variants(plan):
            if variant not in seen:
                seen.add(variant)
                settled.append(variant)
    return settled


def terminate_scope(flat: FlatGraph, node: str) -> tuple[bool, str | None]:
    """(True, the scope it ends) for a flat node that ends a scope at once: a terminate end
    event (its scope), an error nothing catches (the process)."""
    element = flat.nodes[node].element if node in flat.nodes else None
    found = flat.graph.node_by_id.get(element or "")
    if found is None or flat.nodes[node].role is not Role.ELEMENT:
        return False, None
    if found.category is NodeCategory.END_EVENT and "terminate" in found.event_definitions:
        return True, found.parent
    catch = flat.catches.get(found.id)
    if catch is not None and catch.catcher is None and catch.interrupting:
        return True, None
    return False, None


def _terminates(flat: FlatGraph) -> bool:
    return any(
        terminate_scope(flat, node.id)[0] for node in flat.graph.nodes if node.id in flat.nodes
    )


@dataclass(frozen=True)
class _Ending:
    """Where a branch ends at a terminate end of the block's scope."""

    node: str  # flat node of the terminate end event
    top: bool  # reached on the branch itself, not inside a block nested in it


class _Settler:
    def __init__(self, flat: FlatGraph) -> None:
        self.flat = flat

    def variants(self, plan: Plan, *, top: bool = True) -> list[Plan]:
        """The plan's variants: item by item, each item's variants spread over as many plans
        as the item with the most needs (every variant of every item is used once at least).
        On the main line (`top`), a branch beside it that ends the process wins a race of its
        own: the plan up to where it forks, then that branch alone."""
        options = [self._item_variants(item) for item in plan]
        count = min(_MAX_VARIANTS, max((len(o) for o in options), default=1))
        found = [tuple(o[i % len(o)] for o in options) for i in range(count)]
        if top:
            found += self._attached_winners(plan)
        return found

    def _attached_winners(self, plan: Plan) -> list[Plan]:
        found: list[Plan] = []
        for position, item in enumerate(plan):
            if not isinstance(item, Fork) or not item.attached:
                continue
            for number, branch in item.branches:
                ending = self._ending(branch, None)
                if ending is None:
                    continue
                race = Race(winner=self._element(ending), cut=("the main line",))
                alone = replace(item, branches=((number, branch),), race=race)
                found.append((*plan[:position], alone))
        return found

    def _item_variants(self, item: Hop | Fork) -> list[Hop | Fork]:
        if isinstance(item, Hop):
            return [item]
        inner = [self.variants(plan, top=False) for _, plan in item.branches]
        count = min(_MAX_VARIANTS, max((len(v) for v in inner), default=1))
        found: list[Hop | Fork] = []
        for i in range(count):
            branches = tuple(
                (number, v[i % len(v)]) for (number, _), v in zip(item.branches, inner, strict=True)
            )
            found += self._races(replace(item, branches=branches))
        return found[:_MAX_VARIANTS]

    def _races(self, fork: Fork) -> list[Fork]:
        """One fork per winner when branches that do not join race to terminate ends; beside
        the main line, a branch ending the process is left out (`_attached_winners` gives it
        its own plan)."""
        if fork.attached:
            kept = tuple(
                (number, branch)
                for number, branch in fork.branches
                if self._ending(branch, None) is None
            )
            return [replace(fork, branches=kept)] if kept != fork.branches else [fork]
        if fork.join is not None or len(fork.branches) < 2:
            return [fork]
        scope = self._scope(fork.node)
        endings = [self._ending(plan, scope) for _, plan in fork.branches]
        winners = [i for i, ending in enumerate(endings) if ending is not None]
        if not winners:
            return [fork]
        rivals = {i: self._element(endings[i]) for i in winners}
        normal = [i for i, ending in enumerate(endings) if ending is None]
        return [self._won(fork, w, endings[w], normal, rivals) for w in winners]

    def _won(
        self,
        fork: Fork,
        winner: int,
        ending: _Ending | None,
        normal: list[int],
        rivals: dict[int, str],
    ) -> Fork:
        assert ending is not None
        others = tuple(rivals[i] for i in sorted(rivals) if i != winner)
        race = Race(winner=rivals[winner], rivals=others, waits=bool(normal) and ending.top)
        if not race.waits:  # the winner alone: the other branches' steps are not expected
            return replace(fork, branches=(fork.branches[winner],), race=race)
        kept = tuple(b for i, b in enumerate(fork.branches) if i == winner or i in normal)
        return replace(fork, branches=kept, join=ending.node, barrier=race.winner, race=race)

    def _ending(self, plan: Plan, scope: str | None) -> _Ending | None:
        for item in plan:
            if isinstance(item, Hop):
                target = self.flat.edges[item.edge].target
                is_terminate, ends = terminate_scope(self.flat, target)
                if is_terminate and ends == scope and item.visit:
                    return _Ending(target, top=True)
            elif not item.attached:
                for _, branch in item.branches:
                    nested = self._ending(branch, scope)
                    if nested is not None:
                        return _Ending(nested.node, top=False)
        return None

    def _scope(self, node: str) -> str | None:
        """The scope a fork's branches end in: the element's parent, or for a subprocess's
        exit that subprocess's parent."""
        flat_node = self.flat.nodes[node]
        element = self.flat.graph.node_by_id.get(flat_node.element or "")
        return element.parent if element is not None else None

    def _element(self, ending: _Ending | None) -> str:
        assert ending is not None
        return self.flat.nodes[ending.node].element or ending.node


def races(plan: Plan) -> Iterator[Race]:
    """The races a plan settled, outermost first."""
    for item in plan:
        if isinstance(item, Fork):
            if item.race is not None:
                yield item.race
            for _, branch in item.branches:
                yield from races(branch)
