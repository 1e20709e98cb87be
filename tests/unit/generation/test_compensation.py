"""Compensation: a cancelled transaction, or a compensation throw event, runs the handlers of
the activities completed before it, last completed first; handlers are steps like tasks."""

from __future__ import annotations

from orchestra.bpmn import checksum
from orchestra.domain.process import ProcessGraph
from orchestra.domain.statuses import StepKind
from tests.unit.bpmn.documents import LINEAR, only_process, process
from tests.unit.generation.test_constructs import generate, paths

# s -> tx -> e1; in tx: s2 -> Book -> Pay -> x, which ends normally (e2) or cancels (eC).
# Book and Pay are compensated by UnBook and Refund; the cancel boundary bC goes on at Undo.
TRANSACTION = """
    <startEvent id="s"/>
    <transaction id="tx">
      <startEvent id="s2"/>
      <task id="Book"/>
      <task id="Pay"/>
      <exclusiveGateway id="x"/>
      <endEvent id="e2"/>
      <endEvent id="eC"><cancelEventDefinition/></endEvent>
      <task id="UnBook" isForCompensation="true"/>
      <serviceTask id="Refund" isForCompensation="true"/>
      <boundaryEvent id="cBook" attachedToRef="Book"><compensateEventDefinition/></boundaryEvent>
      <boundaryEvent id="cPay" attachedToRef="Pay"><compensateEventDefinition/></boundaryEvent>
      <association id="a1" sourceRef="cBook" targetRef="UnBook"/>
      <association id="a2" sourceRef="Refund" targetRef="cPay"/>
      <sequenceFlow id="f1" sourceRef="s2" targetRef="Book"/>
      <sequenceFlow id="f2" sourceRef="Book" targetRef="Pay"/>
      <sequenceFlow id="f3" sourceRef="Pay" targetRef="x"/>
      <sequenceFlow id="f4" sourceRef="x" targetRef="e2"/>
      <sequenceFlow id="f5" sourceRef="x" targetRef="eC"/>
    </transaction>
    <boundaryEvent id="bC" attachedToRef="tx"><cancelEventDefinition/></boundaryEvent>
    <task id="Undo"/>
    <endEvent id="e1"/>
    <endEvent id="eUndone"/>
    <sequenceFlow id="g1" sourceRef="s" targetRef="tx"/>
    <sequenceFlow id="g2" sourceRef="tx" targetRef="e1"/>
    <sequenceFlow id="g3" sourceRef="bC" targetRef="Undo"/>
    <sequenceFlow id="g4" sourceRef="Undo" targetRef="eUndone"/>
"""


def transaction() -> ProcessGraph:
    return only_process(process(TRANSACTION))


def test_the_importer_ties_each_compensation_boundary_event_to_its_handler() -> None:
    graph = transaction()
    handlers = {n.id: n.compensation_handler for n in graph.nodes if n.compensation_handler}
    assert handlers == {"cBook": "UnBook", "cPay": "Refund"}  # either end of the association


def test_a_process_without_compensation_keeps_its_checksum() -> None:
    graph = only_process(process(LINEAR))
    assert "compensation_handler" not in graph.model_dump_json(exclude_defaults=True)
    assert checksum(graph) == checksum(graph.model_copy())
    assert '"compensation_handler"' not in _canonical(graph)


def _canonical(graph: ProcessGraph) -> str:
    from orchestra.bpmn import canonical_json

    return canonical_json(graph)


def test_a_cancel_runs_the_handlers_of_completed_activities_last_first_then_the_boundary() -> None:
    suite = generate(transaction())
    inside = "s g1 tx s2 f1 Book f2 Pay f3 x"
    assert sorted(paths(suite)) == [
        f"{inside} f4 e2 g2 e1",
        f"{inside} f5 eC cPay Refund cBook UnBook bC g3 Undo g4 eUndone",
    ]
    cancelled = next(s for s in suite.scenarios if "eC" in s.path)
    actions = [(s.element_id, s.meta.get("compensates")) for s in cancelled.steps]
    assert actions == [
        ("Book", None),
        ("Pay", None),
        ("eC", None),
        ("Refund", "Pay"),
        ("UnBook", "Book"),
        ("Undo", None),
        ("eUndone", None),
    ]
    refund = next(s for s in cancelled.steps if s.element_id == "Refund")
    assert refund.kind is StepKind.ACTION
    assert refund.meta["unbound"] is True


def test_only_activities_completed_before_the_cancel_are_compensated() -> None:
    # Pay is on the normal way only: cancelling straight after Book undoes Book alone
    body = TRANSACTION.replace(
        '<sequenceFlow id="f2" sourceRef="Book" targetRef="Pay"/>',
        '<exclusiveGateway id="y"/>'
        '<sequenceFlow id="f2" sourceRef="Book" targetRef="y"/>'
        '<sequenceFlow id="f6" sourceRef="y" targetRef="Pay"/>'
        '<endEvent id="eC2"><cancelEventDefinition/></endEvent>'
        '<sequenceFlow id="f7" sourceRef="y" targetRef="eC2"/>',
    )
    suite = generate(only_process(process(body)))
    early = next(s for s in suite.scenarios if "eC2" in s.path)
    assert " ".join(early.path).endswith("f7 eC2 cBook UnBook bC g3 Undo g4 eUndone")


def test_an_uncompensated_handler_says_what_would_run_it() -> None:
    body = TRANSACTION.replace('<sequenceFlow id="f5" sourceRef="x" targetRef="eC"/>', "")
    suite = generate(only_process(process(body)))
    reasons = {u["element"]: u["reason"] for u in suite.coverage.uncovered}
    assert reasons["UnBook"].startswith("compensation handler of Book: runs only when Book")
    assert reasons["cBook"] == reasons["UnBook"]


# s -> A -> B -> c (a compensation throw) -> e; A and B have handlers
THROWN = """
    <startEvent id="s"/>
    <task id="A"/>
    <task id="B"/>
    <intermediateThrowEvent id="c"><compensateEventDefinition {ref}/></intermediateThrowEvent>
    <endEvent id="e"/>
    <task id="UndoA" isForCompensation="true"/>
    <task id="UndoB" isForCompensation="true"/>
    <boundaryEvent id="cA" attachedToRef="A"><compensateEventDefinition/></boundaryEvent>
    <boundaryEvent id="cB" attachedToRef="B"><compensateEventDefinition/></boundaryEvent>
    <association id="a1" sourceRef="cA" targetRef="UndoA"/>
    <association id="a2" sourceRef="cB" targetRef="UndoB"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="A"/>
    <sequenceFlow id="f2" sourceRef="A" targetRef="B"/>
    <sequenceFlow id="f3" sourceRef="B" targetRef="c"/>
    <sequenceFlow id="f4" sourceRef="c" targetRef="e"/>
"""


def test_a_compensation_throw_compensates_its_scope_and_goes_on() -> None:
    suite = generate(only_process(process(THROWN.format(ref=""))))
    assert paths(suite) == ["s f1 A f2 B f3 c cB UndoB cA UndoA f4 e"]


def test_a_compensation_throw_with_an_activity_ref_compensates_that_activity_only() -> None:
    suite = generate(only_process(process(THROWN.format(ref='activityRef="A"'))))
    assert paths(suite) == ["s f1 A f2 B f3 c cA UndoA f4 e"]


# MIWG C.6.0, reduced: Booking (a subprocess) books a hotel; an event subprocess with a
# compensation start event inside it would undo it; after Pay fails, a compensation throw
# compensates what completed.
HANDLED_BY_EVENT_SUBPROCESS = """
    <startEvent id="s"/>
    <subProcess id="Booking">
      <startEvent id="s2"/>
      <task id="Hotel"/>
      <endEvent id="e2"/>
      <task id="CancelHotel" isForCompensation="true"/>
      <boundaryEvent id="cHotel" attachedToRef="Hotel"><compensateEventDefinition/></boundaryEvent>
      <association id="a1" sourceRef="cHotel" targetRef="CancelHotel"/>
      <subProcess id="Undo" triggeredByEvent="true">
        <startEvent id="s3"><compensateEventDefinition/></startEvent>
        <intermediateThrowEvent id="t3"><compensateEventDefinition/></intermediateThrowEvent>
        <endEvent id="e3"/>
        <sequenceFlow id="u1" sourceRef="s3" targetRef="t3"/>
        <sequenceFlow id="u2" sourceRef="t3" targetRef="e3"/>
      </subProcess>
      <sequenceFlow id="f1" sourceRef="s2" targetRef="Hotel"/>
      <sequenceFlow id="f2" sourceRef="Hotel" targetRef="e2"/>
    </subProcess>
    <task id="Pay"/>
    <boundaryEvent id="failed" attachedToRef="Pay"><errorEventDefinition/></boundaryEvent>
    <intermediateThrowEvent id="undo"><compensateEventDefinition/></intermediateThrowEvent>
    <endEvent id="e"/>
    <endEvent id="eFailed"/>
    <sequenceFlow id="g1" sourceRef="s" targetRef="Booking"/>
    <sequenceFlow id="g2" sourceRef="Booking" targetRef="Pay"/>
    <sequenceFlow id="g3" sourceRef="Pay" targetRef="e"/>
    <sequenceFlow id="g4" sourceRef="failed" targetRef="undo"/>
    <sequenceFlow id="g5" sourceRef="undo" targetRef="eFailed"/>
"""


def test_an_event_subprocess_started_by_compensation_never_starts_while_its_scope_runs() -> None:
    suite = generate(only_process(process(HANDLED_BY_EVENT_SUBPROCESS)))
    booked = "s g1 Booking s2 f1 Hotel f2 e2 g2 Pay"
    assert sorted(paths(suite)) == [
        f"{booked} failed g4 undo cHotel CancelHotel g5 eFailed",
        f"{booked} g3 e",
    ]
    reasons = {u["element"]: u["reason"] for u in suite.coverage.uncovered}
    assert reasons["Undo"].startswith("compensation: an event subprocess started by compensating")
