"""Scenario plans: which edges each token walks, and how forks split into branches.

A plan is a tuple of `Hop` (walk one flat edge and visit its target) and `Fork` (the branches
of a parallel/inclusive block, or of fired non-interrupting attachments, each a plan of its
own). `cover` builds the fewest plans for all-flows / all-nodes from each region's minimum flow,
`enumeration` lists every plan for all-paths, `fallback` plays token games; `render` turns any
plan into a scenario.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Race:
    """Concurrent branches racing to terminate ends: which one wins is the SUT's to decide.

    `winner` is the terminate end event this plan expects, `rivals` those of the branches it
    beats (their steps are not expected); `waits` when the branches that end normally must
    end before the winner terminates (a BARRIER closes them before its terminate end)."""

    winner: str
    rivals: tuple[str, ...] = ()
    waits: bool = False
    cut: tuple[str, ...] = ()  # a token game's: where the tokens it ends were waiting


@dataclass(frozen=True)
class Hop:
    edge: int
    visit: bool = True  # False when the target is a join still waiting for other tokens
    race: Race | None = None  # a token game's hop into a terminate end that others race


@dataclass(frozen=True)
class Fork:
    node: str  # flat node the branches leave from
    branches: tuple[tuple[int, Plan], ...]  # (branch number, its plan)
    join: str | None  # flat node the branches meet at (visited after the BARRIER)
    barrier: str | None  # element id of the BARRIER step, None when closed by the scenario end
    attached: bool = False  # non-interrupting boundary events or event subprocesses
    inclusive: bool = False
    race: Race | None = None  # set by `terminate.settle`: this fork's branches race


Plan = tuple["Hop | Fork", ...]
