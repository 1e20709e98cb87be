"""all-paths: every plan with each back edge walked at most `loop_bound` times, up to a cap.

Choices in different parallel branches multiply (each combination is its own scenario), an
inclusive block takes every non-empty subset of its branches (its default flow alone), and a
non-interrupting attachment fires or not (the catcher of a caught throw always fires). Above the
cap, GenerationLimit says how far it got.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations, product

from orchestra.domain.generation.criteria import MAX_SCENARIOS
from orchestra.domain.generation.flat import FlatGraph, Gate
from orchestra.domain.generation.plans import Fork, Hop, Plan
from orchestra.domain.generation.structure import Block, Region
from orchestra.errors import GenerationLimit

# The most one generation may ask for, from the CLI and the API alike: each loop taken more
# often multiplies the enumeration, which would run for minutes before any cap.


class Enumerator:
    """Every plan with each back edge walked at most `loop_bound` times, up to `cap` plans."""

    def __init__(self, flat: FlatGraph, loop_bound: int, cap: int) -> None:
        self.flat = flat
        self.loop_bound = loop_bound
        self.cap = cap
        self.cache: dict[int, list[Plan]] = {}

    def plans(self, region: Region) -> list[Plan]:
        cached = self.cache.get(id(region))
        if cached is not None:
            return cached
        found: list[Plan] = []
        for path in self._paths(region):
            for plan in self._combine(region, path):
                found.append(plan)
                if len(found) > self.cap:
                    raise self._limit()
        self.cache[id(region)] = found
        return found

    def _limit(self) -> GenerationLimit:
        higher = self.cap < MAX_SCENARIOS
        return GenerationLimit(
            f"process {self.flat.graph.id}: all-paths stopped at {self.cap + 1} scenarios, "
            f"above --max-scenarios {self.cap}: "
            f"lower --loop-bound (now {self.loop_bound}), use --coverage all-flows"
            + (f", or raise --max-scenarios (up to {MAX_SCENARIOS})" if higher else ""),
            details={"reached": self.cap + 1, "cap": self.cap, "loop_bound": self.loop_bound},
        )

    def _paths(self, region: Region) -> Iterator[list[int]]:
        """Every entry-to-exit walk of the region, each back edge at most `loop_bound` times."""
        back = set(region.back_edges)
        taken: dict[int, int] = {}
        path: list[int] = []
        stack = [iter(region.out[region.entry])]
        while stack:
            e = next(stack[-1], None)
            if e is None:
                stack.pop()
                if path:
                    self._step_back(path, back, taken)
                continue
            if e in back and taken.get(e, 0) >= self.loop_bound:
                continue
            path.append(e)
            if e in back:
                taken[e] = taken.get(e, 0) + 1
            target = self.flat.edges[e].target
            if target in region.exits:
                yield list(path)
                self._step_back(path, back, taken)
            else:
                stack.append(iter(region.out[target]))

    @staticmethod
    def _step_back(path: list[int], back: set[int], taken: dict[int, int]) -> None:
        undone = path.pop()
        if undone in back:
            taken[undone] -= 1

    def _combine(self, region: Region, path: list[int]) -> Iterator[Plan]:
        options: list[list[tuple[Hop | Fork, ...]]] = []
        for e in path:
            options.append([(Hop(e),)])
            target = self.flat.edges[e].target
            if target in region.attachments:
                options.append(self._attach_options(region, target))
            block = region.blocks.get(target)
            if block is not None:
                options.append([(fork,) for fork in self._block_options(block)])
        for combo in product(*options):
            yield tuple(item for part in combo for item in part)

    def _block_options(self, block: Block) -> Iterator[Fork]:
        for chosen in _subsets(block):
            per_branch = [
                [(block.labels[i], plan) for plan in self.plans(block.branches[i])] for i in chosen
            ]
            for branches in product(*per_branch):
                yield Fork(
                    block.split,
                    tuple(branches),
                    block.join,
                    block.barrier,
                    inclusive=block.gate is Gate.OR,
                )

    def _attach_options(self, region: Region, node: str) -> list[tuple[Hop | Fork, ...]]:
        labels = region.attach_labels[node]
        choices = [
            [*self._unfired(attached), *self.plans(attached)]
            for attached in region.attachments[node]
        ]
        options: list[tuple[Hop | Fork, ...]] = []
        for combo in product(*choices):
            branches = tuple(
                (label, plan) for label, plan in zip(labels, combo, strict=True) if plan is not None
            )
            options.append((Fork(node, branches, None, None, attached=True),) if branches else ())
        return options

    def _unfired(self, attached: Region) -> list[None]:
        """Not firing is an option, except for a caught throw's catcher, which always fires."""
        return [] if self.flat.fires_always(attached.first_edges[0]) else [None]


def _subsets(block: Block) -> Iterator[list[int]]:
    count = len(block.branches)
    if block.gate is not Gate.OR:
        yield list(range(count))
        return
    others = [i for i in range(count) if i != block.default]
    for size in range(1, len(others) + 1):
        for chosen in combinations(others, size):
            yield list(chosen)
    if block.default is not None:
        yield [block.default]
