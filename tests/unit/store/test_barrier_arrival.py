"""A barrier arrival says, as a typed value, whether the barrier is met and whether it waits."""

from __future__ import annotations

from orchestra.store.runs import BarrierArrival


def arrival(arrived: int, *, released: bool = False, timed_out: bool = False) -> BarrierArrival:
    return BarrierArrival(
        arrived=arrived, parties=2, released=released, timed_out=timed_out, timeout_at=0.0
    )


def test_the_last_party_in_time_completes_the_barrier() -> None:
    assert arrival(2).complete
    assert not arrival(2).waiting


def test_a_party_arriving_before_the_last_waits() -> None:
    assert arrival(1).waiting
    assert not arrival(1).complete


def test_a_barrier_that_timed_out_is_not_complete_though_every_party_came() -> None:
    assert not arrival(2, timed_out=True).complete


def test_a_released_barrier_waits_for_no_one() -> None:
    assert not arrival(1, released=True).waiting


def test_an_arrival_knows_no_doomer_until_one_is_looked_up() -> None:
    assert arrival(1).doomed_by == ()
