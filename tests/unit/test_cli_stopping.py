"""`main` catches SIGTERM and SIGINT from the start of the commands that stop in order on
them, keeps the first for the command, and leaves every other command's signals alone."""

from __future__ import annotations

import signal

import pytest

from orchestra.cli import stopping


def test_a_stop_while_a_worker_starts_is_kept_for_it_and_the_handlers_restored_after() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stopping.caught_from_start(["worker", "--json"]):
        signal.raise_signal(signal.SIGTERM)
        assert stopping.caught() == signal.SIGTERM
        signal.raise_signal(signal.SIGTERM)  # a second SIGTERM changes nothing
        assert stopping.caught() == signal.SIGTERM
    assert stopping.caught() is None
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.parametrize("args", [["import", "x.bpmn"], ["--help"], []])
def test_the_other_commands_keep_their_signals(args: list[str]) -> None:
    before = signal.getsignal(signal.SIGINT)
    with stopping.caught_from_start(args):
        assert signal.getsignal(signal.SIGINT) == before
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)


def test_a_command_that_gives_the_signals_back_gets_the_one_caught_raised_again() -> None:
    with stopping.caught_from_start(["run", "1"]):
        signal.raise_signal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            stopping.give_back()
        assert stopping.caught() is None
