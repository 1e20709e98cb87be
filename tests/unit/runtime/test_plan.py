from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind
from orchestra.runtime.plan import Block, all_steps, build_plan, next_steps


def action(position: int, element: str, branch: str = "") -> ScenarioStep:
    return ScenarioStep(position=position, kind=StepKind.ACTION, element_id=element, branch=branch)


def barrier(position: int, branches: list[str], branch: str = "") -> ScenarioStep:
    return ScenarioStep(
        position=position,
        kind=StepKind.BARRIER,
        element_id="join",
        branch=branch,
        spec={"gateway": "join", "branches": branches},
    )


def test_a_sequence_without_branches_is_one_flat_sequence() -> None:
    plan = build_plan([action(0, "a"), action(1, "b")])
    assert [s.element_id for s in plan.items if not isinstance(s, Block)] == ["a", "b"]


def two_branches() -> list[ScenarioStep]:
    """a, then b1 b2 on one branch beside c1 on another, joined at 4, then z."""
    return [
        action(0, "a"),
        action(1, "b1", "/G#1"),
        action(2, "b2", "/G#1"),
        action(3, "c1", "/G#2"),
        barrier(4, ["/G#1", "/G#2"]),
        action(5, "z"),
    ]


def test_a_parallel_block_groups_each_branch_and_ends_at_its_barrier() -> None:
    plan = build_plan(two_branches())
    first, block, last = plan.items
    assert isinstance(block, Block)
    assert list(block.branches) == ["/G#1", "/G#2"]
    assert [s.element_id for s in block.branches["/G#1"].items if not isinstance(s, Block)] == [
        "b1",
        "b2",
    ]
    assert block.barrier is not None
    assert block.barrier.position == 4
    assert not isinstance(last, Block)
    assert last.element_id == "z"
    assert [s.position for s in all_steps(plan)] == [0, 1, 2, 3, 4, 5]
    assert not isinstance(first, Block)


def test_nested_blocks_are_parsed_inside_their_branch() -> None:
    steps = [
        action(0, "x", "/G#1"),
        action(1, "y", "/G#1/H#1"),
        action(2, "w", "/G#1/H#2"),
        barrier(3, ["/G#1/H#1", "/G#1/H#2"], "/G#1"),
        action(4, "v", "/G#2"),
        barrier(5, ["/G#1", "/G#2"]),
    ]
    plan = build_plan(steps)
    (outer,) = plan.items
    assert isinstance(outer, Block)
    inner = outer.branches["/G#1"].items[1]
    assert isinstance(inner, Block)
    assert list(inner.branches) == ["/G#1/H#1", "/G#1/H#2"]
    assert sorted(s.position for s in all_steps(plan)) == list(range(6))


def test_branches_that_never_join_end_with_the_scenario() -> None:
    plan = build_plan([action(0, "a"), action(1, "b", "/B#1"), action(2, "c", "/B#1")])
    _, block = plan.items
    assert isinstance(block, Block)
    assert block.barrier is None


def test_a_shared_barrier_after_branches_that_never_join_is_its_own_step() -> None:
    shared = ScenarioStep(
        position=2,
        kind=StepKind.BARRIER,
        element_id=None,
        name="barrier sync",
        spec={"name": "sync", "parties": 2, "timeout": 10},
    )
    plan = build_plan([action(0, "a"), action(1, "b", "/B#1"), shared])
    _, block, last = plan.items
    assert isinstance(block, Block)
    assert block.barrier is None
    assert last == shared


def positions(steps: list[ScenarioStep]) -> list[int]:
    return [step.position for step in steps]


def test_the_next_steps_of_a_sequence_are_its_first_step_not_done() -> None:
    plan = build_plan([action(0, "a"), action(1, "b"), action(2, "c")])
    assert positions(next_steps(plan, set())) == [0]
    assert positions(next_steps(plan, {0, 1})) == [2]
    assert next_steps(plan, {0, 1, 2}) == []


def test_inside_a_parallel_block_each_unfinished_branch_has_a_next_step() -> None:
    plan = build_plan(two_branches())
    assert positions(next_steps(plan, {0})) == [1, 3]  # both branches run at once
    assert positions(next_steps(plan, {0, 1, 3})) == [2]  # one branch is finished
    assert positions(next_steps(plan, {0, 1, 2, 3})) == [4]  # the branches wait to join
    assert positions(next_steps(plan, {0, 1, 2, 3, 4})) == [5]
