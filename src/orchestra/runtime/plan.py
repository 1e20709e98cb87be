"""The step list of a scenario as a tree of sequences and parallel blocks (pure).

Generation flattens concurrency into branch labels (see `orchestra.domain.scenario`): the steps
of a parallel block follow each other branch by branch and a BARRIER on the enclosing branch
closes the block. This module rebuilds the tree the runtime walks: a `Sequence_` of items, each
a step or a `Block` of concurrent sequences followed by its barrier.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind
from orchestra.errors import InputRefused


@dataclass(frozen=True, slots=True)
class Block:
    branches: dict[str, StepSequence]
    barrier: ScenarioStep | None  # None: the branches never join; the scenario's end waits


@dataclass(frozen=True, slots=True)
class StepSequence:
    branch: str
    items: list[ScenarioStep | Block] = field(default_factory=list)


def build_plan(steps: Sequence[ScenarioStep]) -> StepSequence:
    ordered = sorted(steps, key=lambda s: s.position)
    plan, end = _parse(ordered, 0, "")
    if end != len(ordered):
        step = ordered[end]
        raise InputRefused(
            f"step {step.position} ({step.element_id}) is on branch {step.branch!r}, "
            "which no parallel block of the scenario opens"
        )
    return plan


def _parse(steps: list[ScenarioStep], i: int, branch: str) -> tuple[StepSequence, int]:
    sequence = StepSequence(branch)
    while i < len(steps):
        step = steps[i]
        if step.branch == branch:
            sequence.items.append(step)
            i += 1
        elif _is_below(step.branch, branch):
            block, i = _parse_block(steps, i, branch)
            sequence.items.append(block)
        else:
            break
    return sequence, i


def _parse_block(steps: list[ScenarioStep], i: int, branch: str) -> tuple[Block, int]:
    branches: dict[str, StepSequence] = {}
    while i < len(steps) and _is_below(steps[i].branch, branch):
        child = _child_label(steps[i].branch, branch)
        if child in branches:
            break  # a second block on the same branches: the first one ended without barrier
        branches[child], i = _parse(steps, i, child)
    barrier = None
    if i < len(steps) and steps[i].branch == branch and _closes(steps[i], branches):
        barrier = steps[i]
        i += 1
    return Block(branches=branches, barrier=barrier), i


def _closes(step: ScenarioStep, branches: dict[str, StepSequence]) -> bool:
    """Whether `step` joins the block of `branches`; a barrier shared with other runs (it has
    a `name`) never does, even right after a block whose branches never join."""
    if step.kind is not StepKind.BARRIER or "name" in step.spec:
        return False
    named = step.spec.get("branches")
    return named is None or set(named) >= set(branches)


def _is_below(label: str, branch: str) -> bool:
    return label.startswith(branch + "/")


def _child_label(label: str, branch: str) -> str:
    rest = label[len(branch) + 1 :]
    return branch + "/" + rest.split("/", 1)[0]


def all_steps(sequence: StepSequence) -> list[ScenarioStep]:
    found: list[ScenarioStep] = []
    for item in sequence.items:
        if isinstance(item, Block):
            for child in item.branches.values():
                found.extend(all_steps(child))
            if item.barrier is not None:
                found.append(item.barrier)
        else:
            found.append(item)
    return found


def next_steps(sequence: StepSequence, done: Collection[int]) -> list[ScenarioStep]:
    """The steps a run whose checkpoint holds `done` (positions) executes next: one step, or
    the next one on each branch of a parallel block running at once; [] when all are done."""
    for item in sequence.items:
        if isinstance(item, Block):
            heads = [step for branch in item.branches.values() for step in next_steps(branch, done)]
            if heads:
                return heads
            if item.barrier is not None and item.barrier.position not in done:
                return [item.barrier]
        elif item.position not in done:
            return [item]
    return []
