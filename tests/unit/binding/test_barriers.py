"""`barriers:` in a binding file: validated with path and line, placed into generated scenarios."""

from __future__ import annotations

import textwrap

import pytest

from orchestra.binding.attach import attach_bindings
from orchestra.binding.document import DEFAULT_BARRIER_TIMEOUT
from orchestra.binding.loader import bindings_for, load_bindings
from orchestra.domain.scenario import DependsOn, GeneratedSuite, ScenarioStep, TestScenario
from orchestra.domain.statuses import StepKind
from orchestra.errors import BindingRefused
from orchestra.runtime.plan import Block, build_plan
from tests.unit.binding.graphs import order_process
from tests.unit.binding.test_attach import NO, YES, step, suite

SPLIT = "/Gw_Split#1", "/Gw_Split#2"


def refusal(text: str) -> BindingRefused:
    with pytest.raises(BindingRefused) as caught:
        load_bindings(textwrap.dedent(text), order_process())
    return caught.value


def place(text: str, generated: GeneratedSuite) -> GeneratedSuite:
    placed, _ = attach_bindings(generated, load_bindings(textwrap.dedent(text), order_process()))
    return placed


def barriers_of(scenario: TestScenario) -> list[ScenarioStep]:
    return [s for s in scenario.steps if s.kind is StepKind.BARRIER and "name" in s.spec]


def layout(scenario: TestScenario) -> list[tuple[int, str | None]]:
    return [(s.position, s.element_id or s.name) for s in scenario.steps]


def parallel(name: str, *deps: str) -> TestScenario:
    """Create, then Approve and Reject on two parallel branches joined by Gw_Join, then End_Ok."""
    steps = (
        step(1, StepKind.ACTION, "Task_Create"),
        step(2, StepKind.ACTION, "Task_Approve", branch=SPLIT[0]),
        step(3, StepKind.ACTION, "Task_Reject", branch=SPLIT[1]),
        step(4, StepKind.BARRIER, "Gw_Join", spec={"gateway": "Gw_Join", "branches": SPLIT}),
        step(5, StepKind.ASSERTION, "End_Ok"),
    )
    depends_on = tuple(DependsOn(scenario=dep) for dep in deps)
    return TestScenario(name=name, position=0, path=("Start",), steps=steps, depends_on=depends_on)


def never_joining(name: str) -> TestScenario:
    """Create, then Approve on a branch that never joins (a non-interrupting boundary's)."""
    steps = (
        step(1, StepKind.ACTION, "Task_Create"),
        step(2, StepKind.ACTION, "Task_Approve", branch=SPLIT[0]),
        step(3, StepKind.ASSERTION, "End_Ok", branch=SPLIT[1]),
    )
    return TestScenario(name=name, position=0, path=("Start",), steps=steps)


# -- the file ------------------------------------------------------------------------------


def test_barriers_resolve_names_to_element_ids_with_their_defaults() -> None:
    bindings = load_bindings(
        textwrap.dedent("""\
        barriers:
          - {name: created, after: Create order}
          - {name: approving, before: Task_Approve, parties: 2, timeout: 1.5}
        """),
        order_process(),
    )

    created, approving = bindings.barriers
    assert (created.side, created.element, created.parties) == ("after", "Task_Create", None)
    assert created.timeout == DEFAULT_BARRIER_TIMEOUT == 300
    assert (approving.side, approving.element, approving.parties) == ("before", "Task_Approve", 2)
    assert approving.spec(2) == {"name": "approving", "parties": 2, "timeout": 1.5}


def test_an_unknown_element_names_the_barrier_path_and_line() -> None:
    error = refusal("""\
        barriers:
          - name: created
            after: Task_Creat
        """)

    assert error.details["problems"][0]["path"] == "barriers[0].after"
    assert error.details["problems"][0]["line"] == 3
    assert "<bindings>:3: barriers[0].after: unknown element 'Task_Creat'" in error.message
    assert "did you mean Task_Create" in error.message


def test_a_barrier_names_exactly_one_of_before_and_after() -> None:
    both = refusal("""\
        barriers:
          - {name: x, before: Task_Create, after: Task_Approve}
        """)
    neither = refusal("""\
        tasks: {}
        barriers:
          - name: x
        """)

    assert "<bindings>:2: barriers[0]: a barrier names exactly one of `before` and `after`" in (
        both.message
    )
    assert "<bindings>:3: barriers[0]: a barrier names exactly one of" in neither.message


@pytest.mark.parametrize(
    ("entry", "path", "message"),
    [
        ("parties: 0", "barriers[0].parties", "greater than or equal to 1"),
        ("parties: 1.5", "barriers[0].parties", "valid integer"),
        ("parties: true", "barriers[0].parties", "valid integer"),
        ("timeout: 0", "barriers[0].timeout", "greater than 0"),
        ("timeout: -3", "barriers[0].timeout", "greater than 0"),
        ("timeout: .inf", "barriers[0].timeout", "not a number JSON can hold"),
        ("timeout: 604801", "barriers[0].timeout", "less than or equal to 604800"),
        ("partys: 2", "barriers[0].partys", "unknown key 'partys'"),
    ],
)
def test_bad_parties_and_timeouts_name_their_path_and_line(
    entry: str, path: str, message: str
) -> None:
    error = refusal(f"""\
        barriers:
          - name: x
            before: Task_Create
            {entry}
        """)

    (problem,) = error.details["problems"]
    assert (problem["path"], problem["line"]) == (path, 4)
    assert message in problem["message"]


def test_a_duplicate_name_names_both_entries() -> None:
    error = refusal("""\
        barriers:
          - {name: sync, before: Task_Create}
          - {name: sync, after: Task_Approve}
        """)

    assert (
        "<bindings>:3: barriers[1].name: barrier name 'sync' is already used by barriers[0] "
        "(line 2)" in error.message
    )


@pytest.mark.parametrize(
    ("element", "why"),
    [
        ("Gw", "Gw is a exclusiveGateway: a barrier goes before or after a task or an event"),
        ("Flow_yes", "Flow_yes is a sequence flow: a barrier goes before or after"),
        ("Notify", "name 'Notify' is ambiguous: use one of the ids Task_NotifyOk, Task_NotifyKo"),
    ],
)
def test_a_barrier_goes_at_a_task_or_an_event_named_unambiguously(element: str, why: str) -> None:
    error = refusal(f"""\
        barriers:
          - {{name: x, before: {element}}}
        """)

    assert f"<bindings>:2: barriers[0].before: {why}" in error.message


@pytest.mark.parametrize("name", ["a@row1", "  "])
def test_a_barrier_name_is_neither_blank_nor_holds_the_row_separator(name: str) -> None:
    error = refusal(f"""\
        barriers:
          - {{name: "{name}", before: Task_Create}}
        """)

    assert "<bindings>:2: barriers[0].name: a barrier's name cannot" in error.message


def test_a_binding_file_s_barriers_survive_the_merge_with_embedded_bindings() -> None:
    text = "barriers: [{name: x, before: Create order}]\n"

    assert [b.before for b in bindings_for(order_process(), text).barriers] == ["Task_Create"]


# -- placing them --------------------------------------------------------------------------


def test_a_barrier_lands_next_to_its_element_in_every_scenario_that_reaches_it() -> None:
    placed = place("barriers: [{name: created, after: Task_Create, timeout: 5}]", suite(YES, NO))

    for scenario in placed.scenarios:
        (barrier,) = barriers_of(scenario)
        assert barrier.spec == {"name": "created", "parties": 2, "timeout": 5.0}
        assert barrier.branch == ""
        assert barrier.element_id is None  # `steps.Task_Create` stays the task's own result
        assert barrier.meta == {"sharedBarrier": True, "after": "Task_Create"}
    assert layout(placed.scenarios[0]) == [
        (0, "Task_Create"),
        (1, "barrier created"),
        (2, "Task_Approve"),
        (3, "Task_NotifyOk"),
        (4, "End_Ok"),
    ]


def test_parties_default_to_the_scenarios_it_lands_in() -> None:
    placed = place("barriers: [{name: approving, before: Task_Approve}]", suite(YES, NO))

    approved, rejected = placed.scenarios
    assert [b.spec["parties"] for b in barriers_of(approved)] == [1]
    assert barriers_of(rejected) == []
    assert layout(rejected) == layout(NO)


def test_more_parties_than_scenarios_is_refused_naming_the_barrier_count_and_scenarios() -> None:
    with pytest.raises(BindingRefused) as caught:
        place("barriers: [{name: approving, before: Task_Approve, parties: 2}]", suite(YES, NO))

    assert caught.value.message == (
        "barrier 'approving' (before Task_Approve) needs 2 parties but lands in 1 scenario "
        "('approved'): it could never be met and its runs would only time out"
    )
    assert caught.value.details["scenarios"] == ["approved"]


def test_a_barrier_that_lands_in_no_scenario_is_refused() -> None:
    with pytest.raises(BindingRefused, match=r"barrier 'x' \(before Start\) lands in no scenario"):
        place("barriers: [{name: x, before: Start}]", suite(YES, NO))


def test_barriers_at_one_place_keep_the_file_s_order_and_positions_stay_contiguous() -> None:
    placed = place(
        """\
        barriers:
          - {name: second, before: Task_Approve}
          - {name: first, after: Task_Create}
          - {name: last, after: End_Ok}
        """,
        suite(YES),
    )

    assert layout(placed.scenarios[0]) == [
        (0, "Task_Create"),
        (1, "barrier second"),
        (2, "barrier first"),
        (3, "Task_Approve"),
        (4, "Task_NotifyOk"),
        (5, "End_Ok"),
        (6, "barrier last"),
    ]


def test_before_an_element_on_a_parallel_branch_waits_before_the_whole_block() -> None:
    placed = place("barriers: [{name: sync, before: Task_Reject}]", suite(parallel("p")))

    (scenario,) = placed.scenarios
    assert layout(scenario) == [
        (1, "Task_Create"),
        (2, "barrier sync"),
        (3, "Task_Approve"),
        (4, "Task_Reject"),
        (5, "Gw_Join"),
        (6, "End_Ok"),
    ]
    assert barriers_of(scenario)[0].meta["hoistedFrom"] == SPLIT[1]


def test_after_an_element_on_a_parallel_branch_waits_after_the_block_joins() -> None:
    placed = place("barriers: [{name: sync, after: Task_Approve}]", suite(parallel("p")))

    (scenario,) = placed.scenarios
    assert layout(scenario)[3:] == [(4, "Gw_Join"), (5, "barrier sync"), (6, "End_Ok")]
    plan = build_plan(scenario.steps)  # the runtime sees the block, its join, then the barrier
    block, barrier = plan.items[1], plan.items[2]
    assert isinstance(block, Block)
    assert block.barrier is not None
    assert block.barrier.element_id == "Gw_Join"
    assert barrier == barriers_of(scenario)[0]


def test_after_an_element_on_a_branch_that_never_joins_is_refused() -> None:
    with pytest.raises(BindingRefused) as caught:
        place("barriers: [{name: sync, after: Task_Approve}]", suite(never_joining("n")))

    assert "barrier 'sync' (after Task_Approve): in scenario 'n'" in caught.value.message
    assert "never joins the main line" in caught.value.message
    assert "place the barrier before Task_Approve instead" in caught.value.message


def test_before_an_element_on_a_branch_that_never_joins_waits_before_the_block() -> None:
    placed = place("barriers: [{name: sync, before: End_Ok}]", suite(never_joining("n")))

    assert layout(placed.scenarios[0])[:2] == [(1, "Task_Create"), (2, "barrier sync")]


def test_a_barrier_its_parties_cannot_meet_because_of_depends_on_is_refused() -> None:
    generated = suite(parallel("create"), parallel("cancel", "create"), parallel("other"))

    with pytest.raises(BindingRefused) as caught:
        place("barriers: [{name: sync, before: Task_Create}]", generated)
    fits = place("barriers: [{name: sync, before: Task_Create, parties: 2}]", generated)

    assert caught.value.message.startswith(
        "barrier 'sync' (before Task_Create) needs 3 parties, but of the 3 scenarios it lands "
        "in at most 2 can wait there at once: 'cancel' waits for 'create' to finish (dependsOn)"
    )
    assert [b.spec["parties"] for s in fits.scenarios for b in barriers_of(s)] == [2, 2, 2]


def test_without_barriers_the_scenarios_keep_their_steps() -> None:
    placed, _ = attach_bindings(suite(parallel("p")), load_bindings("{}", order_process()))

    assert layout(placed.scenarios[0]) == layout(parallel("p"))


def ordered(name: str, *elements: str, deps: tuple[str, ...] = ()) -> TestScenario:
    """A main line of the given ACTION steps, in that order."""
    steps = tuple(step(i, StepKind.ACTION, e) for i, e in enumerate(elements, 1))
    depends_on = tuple(DependsOn(scenario=dep) for dep in deps)
    return TestScenario(name=name, position=0, path=("Start",), steps=steps, depends_on=depends_on)


TWO_BARRIERS = """\
    barriers:
      - {name: x, before: Task_Approve}
      - {name: y, before: Task_Reject%s}
    """


def test_two_barriers_met_in_opposite_orders_by_their_parties_are_refused() -> None:
    # 'ab' waits at x for 'ba', which waits at y for 'ab': both would only time out
    generated = suite(
        ordered("ab", "Task_Approve", "Task_Reject"), ordered("ba", "Task_Reject", "Task_Approve")
    )

    with pytest.raises(BindingRefused) as caught:
        place(TWO_BARRIERS % "", generated)
    fits = place(TWO_BARRIERS % ", parties: 1", generated)  # y no longer waits for everyone

    assert caught.value.message.startswith("barriers 'x' and 'y' wait for each other")
    assert "'ba' meets 'y' before 'x'" in caught.value.message
    assert "'ab' meets 'x' before 'y'" in caught.value.message
    assert [len(barriers_of(s)) for s in fits.scenarios] == [2, 2]


def test_barriers_kept_apart_by_depends_on_through_another_scenario_are_refused() -> None:
    # 'first' waits at x for 'both', which waits at y for 'second', which waits for 'first'
    generated = suite(
        ordered("first", "Task_Create", "Task_Approve"),
        ordered("second", "Task_Create", "Task_Reject", deps=("first",)),
        ordered("both", "Task_Reject", "Task_Approve"),
    )

    with pytest.raises(BindingRefused) as caught:
        place(TWO_BARRIERS % "", generated)

    assert "'second' waits for 'first' (dependsOn), which meets 'x'" in caught.value.message
