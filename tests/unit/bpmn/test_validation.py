from orchestra.domain.process import ImportedModel, Problem, ProblemSeverity
from tests.unit.bpmn.documents import LINEAR, codes, definitions, process, read


def problem(model: ImportedModel, code: str) -> Problem:
    (found,) = [p for p in model.problems if p.code == code]
    return found


def test_a_linear_executable_process_with_a_diagram_has_no_problem() -> None:
    assert read(process(LINEAR)).problems == ()


# errors: nothing can be generated from these


def test_a_flow_to_a_missing_node_is_an_error_naming_the_flow_and_line() -> None:
    model = read(process(LINEAR + '<sequenceFlow id="F3" sourceRef="T" targetRef="Nowhere"/>'))
    found = problem(model, "dangling-flow")
    assert found.severity is ProblemSeverity.ERROR
    assert (found.element_id, found.process_id) == ("F3", "P")
    assert found.line is not None
    assert "'Nowhere'" in found.message


def test_a_flow_missing_one_end_is_an_error() -> None:
    model = read(process(LINEAR + '<sequenceFlow id="F3" sourceRef="T"/>'))
    assert problem(model, "dangling-flow").severity is ProblemSeverity.ERROR
    assert "targetRef" in problem(model, "dangling-flow").message


def test_a_process_with_nothing_to_start_from_is_an_error() -> None:
    model = read(
        process("""<task id="S"/><task id="B"/>
        <sequenceFlow id="F1" sourceRef="S" targetRef="B"/>
        <sequenceFlow id="F2" sourceRef="B" targetRef="S"/>""")
    )
    assert problem(model, "nothing-to-start").severity is ProblemSeverity.ERROR
    assert problem(model, "nothing-to-start").element_id == "P"


def test_a_reached_gateway_without_outgoing_flows_is_an_error() -> None:
    model = read(
        process("""<startEvent id="S"/><exclusiveGateway id="G"/>
        <sequenceFlow id="F1" sourceRef="S" targetRef="G"/>""")
    )
    found = problem(model, "gateway-without-outgoing")
    assert (found.severity, found.element_id) == (ProblemSeverity.ERROR, "G")


def test_a_boundary_event_attached_to_nothing_is_an_error() -> None:
    model = read(process(LINEAR + '<boundaryEvent id="B"><timerEventDefinition/></boundaryEvent>'))
    found = problem(model, "unattached-boundary-event")
    assert (found.severity, found.element_id) == (ProblemSeverity.ERROR, "B")


def test_a_boundary_event_attached_to_a_missing_element_or_a_non_activity_is_an_error() -> None:
    for host in ("Ghost", "S"):
        model = read(process(LINEAR + f'<boundaryEvent id="B" attachedToRef="{host}"/>'))
        assert problem(model, "unattached-boundary-event").severity is ProblemSeverity.ERROR


def test_an_element_without_an_id_is_an_error_with_its_line() -> None:
    model = read(process(LINEAR + "<task name='anonymous'/>"))
    found = problem(model, "missing-id")
    assert found.severity is ProblemSeverity.ERROR
    assert found.line == 14


def test_a_repeated_id_is_an_error() -> None:
    model = read(process(LINEAR + '<task id="T"/>'))
    assert problem(model, "duplicate-id").severity is ProblemSeverity.ERROR


def test_a_file_without_any_process_is_an_error() -> None:
    model = read(definitions('<collaboration id="C"><participant id="X"/></collaboration>'))
    assert problem(model, "no-process").severity is ProblemSeverity.ERROR


# warnings: legitimate in real models, worth knowing


def test_a_non_executable_process_is_a_warning() -> None:
    for attributes in ('isExecutable="false"', ""):
        model = read(process(LINEAR, attributes=attributes))
        assert problem(model, "not-executable").severity is ProblemSeverity.WARNING
        assert model.errors == ()


def test_an_exclusive_split_without_conditions_is_a_warning_unless_the_rest_is_default() -> None:
    split = """<startEvent id="S"/><exclusiveGateway id="G" {default}/>
        <endEvent id="A"/><endEvent id="B"/>
        <sequenceFlow id="F0" sourceRef="S" targetRef="G"/>
        <sequenceFlow id="FA" sourceRef="G" targetRef="A">
          <conditionExpression>x &gt; 1</conditionExpression></sequenceFlow>
        <sequenceFlow id="FB" sourceRef="G" targetRef="B"/>"""
    model = read(process(split.format(default="")))
    assert problem(model, "split-without-conditions").severity is ProblemSeverity.WARNING
    assert problem(model, "split-without-conditions").element_id == "G"
    assert read(process(split.format(default='default="FB"'))).problems == ()


def test_unreachable_nodes_are_warnings_naming_each_node() -> None:
    model = read(
        process(
            LINEAR + '<task id="Island"/><endEvent id="E2"/>'
            '<sequenceFlow id="F9" sourceRef="Island" targetRef="E2"/>'
        )
    )
    found = [p for p in model.problems if p.code == "unreachable-node"]
    assert {p.element_id for p in found} == {"Island", "E2"}
    assert {p.severity for p in found} == {ProblemSeverity.WARNING}


def test_nodes_reached_by_events_are_not_unreachable() -> None:
    model = read(
        process(
            LINEAR
            + """<boundaryEvent id="B" attachedToRef="T"/><endEvent id="E2"/>
            <sequenceFlow id="F3" sourceRef="B" targetRef="E2"/>
            <subProcess id="Ev" triggeredByEvent="true"><startEvent id="ES"/></subProcess>
            <task id="Undo" isForCompensation="true"/>"""
        )
    )
    assert "unreachable-node" not in codes(model)


def test_a_process_without_a_diagram_is_a_warning() -> None:
    model = read(
        definitions(f'<process id="P" isExecutable="true">{LINEAR}</process>', diagram_of=None)
    )
    assert problem(model, "no-diagram").severity is ProblemSeverity.WARNING


def test_a_process_without_a_start_event_starts_where_nothing_flows_in() -> None:
    model = read(
        process(
            '<task id="S"/><endEvent id="E"/><sequenceFlow id="F" sourceRef="S" targetRef="E"/>'
        )
    )
    found = problem(model, "no-start-event")
    assert found.severity is ProblemSeverity.WARNING
    assert "'S'" in found.message
    assert model.errors == ()


def test_a_lane_only_pool_is_an_empty_process_warning() -> None:
    model = read(process('<laneSet id="LS"><lane id="L"/></laneSet>'))
    assert problem(model, "empty-process").severity is ProblemSeverity.WARNING
    assert model.errors == ()


def test_a_join_with_no_way_out_ends_its_paths_with_a_warning() -> None:
    model = read(
        process("""<startEvent id="S"/><parallelGateway id="Fork"/><task id="A"/><task id="B"/>
        <parallelGateway id="G"/>
        <sequenceFlow id="F0" sourceRef="S" targetRef="Fork"/>
        <sequenceFlow id="F1" sourceRef="Fork" targetRef="A"/>
        <sequenceFlow id="F2" sourceRef="Fork" targetRef="B"/>
        <sequenceFlow id="F3" sourceRef="A" targetRef="G"/>
        <sequenceFlow id="F4" sourceRef="B" targetRef="G"/>""")
    )
    assert problem(model, "dead-end-gateway").severity is ProblemSeverity.WARNING
    assert model.errors == ()


def test_a_default_flow_that_is_not_outgoing_is_a_warning() -> None:
    model = read(process(LINEAR.replace('<task id="T"/>', '<task id="T" default="F1"/>')))
    assert problem(model, "unknown-default-flow").severity is ProblemSeverity.WARNING


def test_a_call_activity_without_called_element_is_a_warning() -> None:
    model = read(process(LINEAR.replace('<task id="T"/>', '<callActivity id="T"/>')))
    assert problem(model, "call-without-called-element").severity is ProblemSeverity.WARNING


def test_a_flow_that_connects_nothing_is_dropped_with_a_warning() -> None:
    model = read(
        process(
            LINEAR + '<sequenceFlow id="Lost" sourceRef="X" targetRef="Y"/>'
            '<sequenceFlow id="Bare"/>'
        )
    )
    strays = [p for p in model.problems if p.code == "stray-flow"]
    assert {p.element_id for p in strays} == {"Lost", "Bare"}
    assert model.errors == ()
    assert "Lost" not in model.processes[0].flow_by_id


def test_an_unreadable_diagram_element_is_left_out_with_a_warning() -> None:
    data = process(LINEAR).replace(b'x="1"', b'x="wide"')
    model = read(data)
    assert problem(model, "unreadable-diagram-element").severity is ProblemSeverity.WARNING
    assert problem(model, "no-diagram").severity is ProblemSeverity.WARNING


def test_boundary_events_written_into_another_process_are_moved_to_their_host() -> None:
    model = read(
        definitions(
            f"""<process id="P" isExecutable="true">{LINEAR}<endEvent id="E2"/>
              <sequenceFlow id="F3" sourceRef="B" targetRef="E2"/></process>
            <process id="Q" isExecutable="true"><boundaryEvent id="B" attachedToRef="T"/>
            </process>"""
        )
    )
    by_id = {graph.id: graph for graph in model.processes}
    assert by_id["P"].node_by_id["B"].attached_to == "T"
    assert "B" not in by_id["Q"].node_by_id
    assert problem(model, "moved-between-processes").element_id == "B"
    assert model.errors == ()


def test_flows_written_into_the_process_of_neither_end_are_moved() -> None:
    model = read(
        definitions(
            """<process id="P" isExecutable="true"><startEvent id="S"/><endEvent id="E"/></process>
            <process id="Q" isExecutable="true">
              <sequenceFlow id="F" sourceRef="S" targetRef="E"/></process>"""
        )
    )
    by_id = {graph.id: graph for graph in model.processes}
    assert "F" in by_id["P"].flow_by_id
    assert by_id["Q"].flows == ()
    assert model.errors == ()


def test_a_message_flow_to_nothing_in_the_file_is_a_warning() -> None:
    model = read(
        definitions(
            f"""<collaboration id="C"><participant id="Pool" processRef="P"/>
            <messageFlow id="M" sourceRef="T" targetRef="Elsewhere"/></collaboration>
            <process id="P" isExecutable="true">{LINEAR}</process>"""
        )
    )
    found = problem(model, "dangling-message-flow")
    assert (found.severity, found.element_id) == (ProblemSeverity.WARNING, "M")
    assert "'Elsewhere'" in found.message


def test_a_link_catch_is_reached_through_the_throw_of_the_same_link() -> None:
    links = """<startEvent id="S"/>
        <intermediateThrowEvent id="Jump"><linkEventDefinition name="A"/></intermediateThrowEvent>
        <intermediateCatchEvent id="Land"><linkEventDefinition name="A"/></intermediateCatchEvent>
        <intermediateCatchEvent id="Lost"><linkEventDefinition name="B"/></intermediateCatchEvent>
        <endEvent id="E"/><endEvent id="E2"/>
        <sequenceFlow id="F1" sourceRef="S" targetRef="Jump"/>
        <sequenceFlow id="F2" sourceRef="Land" targetRef="E"/>
        <sequenceFlow id="F3" sourceRef="Lost" targetRef="E2"/>"""
    model = read(process(links))
    unreachable = {p.element_id for p in model.problems if p.code == "unreachable-node"}
    assert unreachable == {"Lost", "E2"}
    assert model.errors == ()


def test_a_link_throw_no_catch_names_continues_at_the_catch_no_throw_names() -> None:
    links = """<startEvent id="S"/>
        <intermediateThrowEvent id="Jump" name="Go on"><linkEventDefinition name=""/>
        </intermediateThrowEvent>
        <intermediateCatchEvent id="Land" name="GoOn"><linkEventDefinition name=""/>
        </intermediateCatchEvent>
        <endEvent id="E"/>
        <sequenceFlow id="F1" sourceRef="S" targetRef="Jump"/>
        <sequenceFlow id="F2" sourceRef="Land" targetRef="E"/>"""
    assert "unreachable-node" not in codes(read(process(links)))
