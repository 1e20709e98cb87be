"""Block-structured process models built from a tree, with what is known about them.

`to_graph(tree)` draws a tree of blocks (Task, Seq, Xor, And, Loop) as a ProcessGraph between
one start and one end event. `minimum(tree)` is the fewest all-flows scenarios of an acyclic
tree, by structure alone: a sequence needs the most any part needs, an exclusive block the sum
of its branches, a parallel block the most any branch needs. `token_games(tree)` lists the flow
set of every scenario, for brute-force checks on small trees. The benchmark uses them too.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph


@dataclass(frozen=True)
class Task:
    pass


@dataclass(frozen=True)
class Seq:
    items: tuple[Block, ...]


@dataclass(frozen=True)
class Xor:
    branches: tuple[Block | None, ...]  # None: a flow straight from split to join


@dataclass(frozen=True)
class And:
    branches: tuple[Block, ...]


@dataclass(frozen=True)
class Loop:
    body: Block  # do-while: merge -> body -> split -> back to merge, or out


Block = Task | Seq | Xor | And | Loop


def minimum(tree: Block) -> int:
    if isinstance(tree, Task):
        return 1
    if isinstance(tree, Seq):
        return max(minimum(item) for item in tree.items)
    if isinstance(tree, Xor):
        return sum(1 if b is None else minimum(b) for b in tree.branches)
    if isinstance(tree, And):
        return max(minimum(b) for b in tree.branches)
    return minimum(tree.body)


def size(tree: Block) -> int:
    """Flow nodes the tree draws (start and end events excluded)."""
    if isinstance(tree, Task):
        return 1
    if isinstance(tree, Seq):
        return sum(size(item) for item in tree.items)
    if isinstance(tree, Xor):
        return 2 + sum(0 if b is None else size(b) for b in tree.branches)
    if isinstance(tree, And):
        return 2 + sum(size(b) for b in tree.branches)
    return 2 + size(tree.body)


@dataclass
class _Drawing:
    nodes: list[Node] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)

    def node(self, category: NodeCategory) -> str:
        node_id = f"{category.value[0]}{len(self.nodes)}"
        self.nodes.append(Node(id=node_id, category=category, type=category.value))
        return node_id

    def flow(self, source: str, target: str) -> str:
        flow_id = f"f{len(self.flows)}"
        self.flows.append(Flow(id=flow_id, source=source, target=target))
        return flow_id


def to_graph(tree: Block) -> ProcessGraph:
    drawing = _Drawing()
    start = drawing.node(NodeCategory.START_EVENT)
    entry, exit_ = _draw(drawing, tree)
    drawing.flow(start, entry)
    drawing.flow(exit_, drawing.node(NodeCategory.END_EVENT))
    return ProcessGraph(id="synthetic", nodes=tuple(drawing.nodes), flows=tuple(drawing.flows))


def _draw(drawing: _Drawing, tree: Block) -> tuple[str, str]:
    if isinstance(tree, Task):
        task = drawing.node(NodeCategory.TASK)
        return task, task
    if isinstance(tree, Seq):
        ends = [_draw(drawing, item) for item in tree.items]
        for (_, before), (after, _) in itertools.pairwise(ends):
            drawing.flow(before, after)
        return ends[0][0], ends[-1][1]
    if isinstance(tree, Loop):
        merge = drawing.node(NodeCategory.EXCLUSIVE_GATEWAY)
        entry, exit_ = _draw(drawing, tree.body)
        split = drawing.node(NodeCategory.EXCLUSIVE_GATEWAY)
        drawing.flow(merge, entry)
        drawing.flow(exit_, split)
        drawing.flow(split, merge)
        return merge, split
    category = (
        NodeCategory.EXCLUSIVE_GATEWAY if isinstance(tree, Xor) else NodeCategory.PARALLEL_GATEWAY
    )
    split, join = drawing.node(category), drawing.node(category)
    for branch in tree.branches:
        if branch is None:
            drawing.flow(split, join)
            continue
        entry, exit_ = _draw(drawing, branch)
        drawing.flow(split, entry)
        drawing.flow(exit_, join)
    return split, join


def token_games(tree: Block) -> list[frozenset[str]]:
    """The flows of every scenario of an acyclic tree (same ids as `to_graph`)."""
    drawing = _Drawing()
    drawing.node(NodeCategory.START_EVENT)
    entry, exit_, games = _games(drawing, tree)
    first, last = drawing.flow("s0", entry), drawing.flow(exit_, "e")
    return [game | {first, last} for game in games]


def _games(drawing: _Drawing, tree: Block) -> tuple[str, str, list[frozenset[str]]]:
    if isinstance(tree, Task):
        task = drawing.node(NodeCategory.TASK)
        return task, task, [frozenset()]
    if isinstance(tree, Seq):
        parts = [_games(drawing, item) for item in tree.items]
        links = [drawing.flow(a[1], b[0]) for a, b in itertools.pairwise(parts)]
        combos = itertools.product(*(games for _, _, games in parts))
        return parts[0][0], parts[-1][1], [frozenset(links).union(*c) for c in combos]
    if isinstance(tree, Loop):
        raise ValueError("token_games is for acyclic trees")
    category = (
        NodeCategory.EXCLUSIVE_GATEWAY if isinstance(tree, Xor) else NodeCategory.PARALLEL_GATEWAY
    )
    split, join = drawing.node(category), drawing.node(category)
    per_branch: list[list[frozenset[str]]] = []
    for branch in tree.branches:
        if branch is None:
            per_branch.append([frozenset({drawing.flow(split, join)})])
            continue
        entry, exit_, games = _games(drawing, branch)
        edges = {drawing.flow(split, entry), drawing.flow(exit_, join)}
        per_branch.append([game | edges for game in games])
    if isinstance(tree, Xor):
        return split, join, [game for games in per_branch for game in games]
    return split, join, [frozenset().union(*c) for c in itertools.product(*per_branch)]


def random_tree(rng: random.Random, budget: int, *, loops: bool = False) -> Block:
    """A random tree of about `budget` nodes: nested sequences, exclusive and parallel blocks."""
    if budget <= 1:
        return Task()
    kind = rng.random()
    if kind < 0.3:
        parts = rng.randint(2, 4)
        return Seq(tuple(random_tree(rng, budget // parts, loops=loops) for _ in range(parts)))
    if loops and kind < 0.4:
        return Loop(random_tree(rng, budget - 2, loops=loops))
    count = rng.randint(2, 3)
    share = max(1, (budget - 2) // count)
    if kind < 0.7:
        branches = tuple(
            None if rng.random() < 0.1 else random_tree(rng, share, loops=loops)
            for _ in range(count)
        )
        return Xor(branches)
    return And(tuple(random_tree(rng, share, loops=loops) for _ in range(count)))
