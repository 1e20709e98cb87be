"""An event definition's details in words: one wording for `processes show` and the report."""

from __future__ import annotations

from orchestra.domain.process import EventDetail, TimerKind


def test_a_timer_reads_as_its_kind_of_expression_and_the_expression() -> None:
    detail = EventDetail(kind="timer", timer=TimerKind.CYCLE, expression="R3/PT1H")
    assert detail.describe() == "timer timeCycle R3/PT1H"


def test_a_timer_without_an_expression_says_so() -> None:
    detail = EventDetail(kind="timer", timer=TimerKind.DATE)
    assert detail.describe() == "timer timeDate (no expression)"


def test_an_error_reads_as_its_ref_then_the_code_and_name_of_the_error_it_names() -> None:
    detail = EventDetail(kind="error", ref="Error_Pay", code="PAY-402", name="PaymentFailed")
    assert detail.describe() == "error Error_Pay code PAY-402 'PaymentFailed'"


def test_a_ref_to_no_declared_definition_reads_as_the_bare_ref() -> None:
    assert EventDetail(kind="signal", ref="Sig_Unknown").describe() == "signal Sig_Unknown"


def test_a_message_has_a_name_and_no_code() -> None:
    detail = EventDetail(kind="message", ref="Msg_Order", name="order")
    assert detail.describe() == "message Msg_Order 'order'"
