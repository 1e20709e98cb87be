from orchestra.domain.process import (
    Condition,
    LoopKind,
    MessageFlow,
    NodeCategory,
    Participant,
    Point,
    ProcessGraph,
)
from tests.unit.bpmn.documents import ORDER_BPMN, definitions, only_process, process, read


def order() -> ProcessGraph:
    return only_process(ORDER_BPMN)


def test_a_clean_model_imports_without_problems() -> None:
    model = read(ORDER_BPMN)
    assert model.problems == ()
    assert [p.id for p in model.processes] == ["Order"]


def test_the_process_keeps_its_name_executability_and_exporter() -> None:
    graph = order()
    assert (graph.name, graph.is_executable) == ("Order handling", True)
    assert graph.exporter == "Camunda Modeler 5.0.0"


def test_every_task_type_is_a_task_that_keeps_its_bpmn_tag() -> None:
    for tag in (
        "task",
        "userTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "manualTask",
        "businessRuleTask",
        "scriptTask",
    ):
        graph = only_process(process(f'<{tag} id="S"/>'))
        (node,) = graph.nodes
        assert (node.category, node.type) == (NodeCategory.TASK, tag)


def test_gateways_of_every_kind_keep_their_default_flow() -> None:
    for tag in (
        "exclusiveGateway",
        "inclusiveGateway",
        "complexGateway",
        "parallelGateway",
        "eventBasedGateway",
    ):
        graph = only_process(
            process(f"""<startEvent id="S"/><{tag} id="G" default="F2"/><endEvent id="E"/>
            <sequenceFlow id="F1" sourceRef="S" targetRef="G"/>
            <sequenceFlow id="F2" sourceRef="G" targetRef="E"/>""")
        )
        gateway = graph.node_by_id["G"]
        assert gateway.category.value == tag
        assert gateway.default_flow == "F2"


def test_events_keep_their_definitions_inline_or_by_reference() -> None:
    nodes = order().node_by_id
    assert nodes["Start"].event_definitions == ("message",)
    assert nodes["Check_Timeout"].event_definitions == ("timer",)
    assert nodes["Check_Cancel"].event_definitions == ("signal",)
    assert nodes["Rejected"].event_definitions == ("terminate",)
    assert nodes["Ship_Error_Start"].event_definitions == ("escalation",)


def test_every_event_definition_kind_is_recognised() -> None:
    kinds = [
        "message",
        "timer",
        "error",
        "signal",
        "escalation",
        "conditional",
        "link",
        "terminate",
        "compensate",
        "cancel",
    ]
    inner = "".join(f"<{kind}EventDefinition/>" for kind in kinds)
    graph = only_process(
        process(f'<intermediateThrowEvent id="S">{inner}</intermediateThrowEvent>')
    )
    assert graph.nodes[0].event_definitions == tuple(kinds)
    assert graph.nodes[0].category is NodeCategory.INTERMEDIATE_THROW_EVENT


def test_boundary_events_name_their_activity_and_whether_they_interrupt() -> None:
    nodes = order().node_by_id
    assert (nodes["Check_Timeout"].attached_to, nodes["Check_Timeout"].cancel_activity) == (
        "Check",
        False,
    )
    assert (nodes["Check_Cancel"].attached_to, nodes["Check_Cancel"].cancel_activity) == (
        "Check",
        True,
    )
    assert {e.id for e in order().boundary_events["Check"]} == {"Check_Timeout", "Check_Cancel"}


def test_subprocess_contents_are_flattened_with_their_parent() -> None:
    graph = order()
    assert {n.id for n in graph.children("Ship")} == {
        "Ship_Start",
        "Pack",
        "Ship_End",
        "Ship_Errors",
    }
    assert {n.id for n in graph.children("Ship_Errors")} == {"Ship_Error_Start", "Ship_Error_End"}
    assert {"Flow_S1", "Flow_S2", "Flow_E1"} <= set(graph.flow_by_id)


def test_event_subprocesses_and_non_interrupting_starts_are_marked() -> None:
    nodes = order().node_by_id
    assert nodes["Ship_Errors"].triggered_by_event
    assert not nodes["Ship"].triggered_by_event
    assert not nodes["Ship_Error_Start"].is_interrupting


def test_transactions_and_ad_hoc_subprocesses_are_subprocesses() -> None:
    for tag in ("transaction", "adHocSubProcess"):
        graph = only_process(process(f'<{tag} id="S"><task id="Inner"/></{tag}>'))
        assert graph.node_by_id["S"].category is NodeCategory.SUB_PROCESS
        assert graph.node_by_id["S"].type == tag
        assert graph.node_by_id["Inner"].parent == "S"


def test_loop_and_multi_instance_markers_are_kept() -> None:
    nodes = order().node_by_id
    assert nodes["Pack"].loop is LoopKind.STANDARD
    assert nodes["Send_Invoice"].loop is LoopKind.SEQUENTIAL_MULTI_INSTANCE
    assert nodes["Archive"].loop is LoopKind.PARALLEL_MULTI_INSTANCE
    assert nodes["Check"].loop is None


def test_call_activities_keep_the_called_element() -> None:
    assert order().node_by_id["Archive"].called_element == "Archiving"


def test_sequence_flows_keep_ids_names_and_conditions_verbatim() -> None:
    flows = order().flow_by_id
    assert flows["Flow_Yes"].name == "yes"
    assert flows["Flow_Yes"].condition == Condition(text="approved = true", language="feel")
    assert (flows["Flow_Yes"].source, flows["Flow_Yes"].target) == ("Approved", "Fork")
    assert flows["Flow_No"].condition is None


def test_extension_elements_are_kept_raw_on_nodes_and_flows() -> None:
    graph = order()
    check_xml = graph.node_by_id["Check"].extension_xml
    assert check_xml is not None
    assert 'path="/orders/{{ row.id }}/check"' in check_xml
    assert 'xmlns:orc="https://orchestra.example/binding"' in check_xml
    assert "bpmndi" not in check_xml  # unused namespaces of the document are not dragged in
    flow_xml = graph.flow_by_id["Flow_Yes"].extension_xml
    assert flow_xml is not None
    assert 'approved="true"' in flow_xml


def test_lanes_nest_and_nodes_take_their_innermost_lane() -> None:
    graph = order()
    lanes = {lane.id: lane for lane in graph.lanes}
    assert lanes["Lane_Desk"].parent == "Lane_Sales"
    assert lanes["Lane_Sales"].node_ids == ("Start", "Check", "Approved")
    nodes = graph.node_by_id
    assert (nodes["Start"].lane, nodes["Check"].lane) == ("Lane_Sales", "Lane_Desk")
    assert nodes["Pack"].lane == "Lane_Billing"  # inherited from its subprocess


def test_the_pool_message_flows_and_the_pools_at_their_other_end_are_kept() -> None:
    graph = order()
    assert graph.participant == Participant(id="Pool_Shop", name="Shop", process_ref="Order")
    assert graph.other_participants == (Participant(id="Pool_Customer", name="Customer"),)
    assert graph.message_flows == (
        MessageFlow(id="MF_Order", source="Pool_Customer", target="Start", name="places order"),
        MessageFlow(id="MF_Invoice", source="Send_Invoice", target="Pool_Customer"),
    )


def test_diagram_bounds_and_waypoints_are_kept_with_their_plane() -> None:
    diagram = order().diagram
    assert diagram is not None
    shapes = {shape.element_id: shape for shape in diagram.shapes}
    assert set(shapes) == {"Pool_Shop", "Pool_Customer", "Start", "Check", "Ship", "Pack"}
    assert shapes["Ship"].bounds.x == 600.5
    assert shapes["Ship"].is_expanded is False
    assert (shapes["Check"].plane, shapes["Pack"].plane) == ("Collab_1", "Ship")
    edges = {edge.element_id: edge for edge in diagram.edges}
    assert edges["Flow_1"].waypoints == (Point(x=186, y=168), Point(x=230, y=168))
    assert "MF_Order" in edges


def test_every_process_of_a_file_is_read_and_a_nameless_one_takes_its_pool_name() -> None:
    data = definitions(
        """<collaboration id="C">
             <participant id="PoolA" name="Buyer" processRef="A"/>
             <participant id="PoolB" name="Seller" processRef="B"/>
             <messageFlow id="M" sourceRef="TA" targetRef="TB"/>
           </collaboration>
           <process id="A"><task id="TA"/></process>
           <process id="B" name="Selling"><task id="TB"/></process>""",
        diagram_of="C",
    )
    first, second = read(data).processes
    assert (first.name, second.name) == ("Buyer", "Selling")
    assert first.other_participants == (Participant(id="PoolB", name="Seller", process_ref="B"),)
    assert (
        first.message_flows
        == second.message_flows
        == (MessageFlow(id="M", source="TA", target="TB"),)
    )


def test_references_with_a_namespace_prefix_resolve_to_the_local_id() -> None:
    assert order().node_by_id["Check_Cancel"].attached_to == "Check"


def test_source_lines_are_recorded_for_messages() -> None:
    graph = order()
    assert graph.node_by_id["Start"].line == 36
    assert graph.flow_by_id["Flow_1"].line is not None


def test_the_graph_survives_a_round_trip_through_json() -> None:
    graph = order()
    assert ProcessGraph.model_validate_json(graph.model_dump_json()) == graph


def test_link_events_keep_their_link_name() -> None:
    graph = only_process(
        process("""<intermediateThrowEvent id="S"><linkEventDefinition name="Go"/>
        </intermediateThrowEvent>
        <intermediateCatchEvent id="C" name="label"><linkEventDefinition name="Go"/>
        </intermediateCatchEvent>""")
    )
    assert [node.link_name for node in graph.nodes] == ["Go", "Go"]


def test_boundary_events_sit_in_the_lane_of_their_activity() -> None:
    nodes = order().node_by_id
    assert nodes["Check_Timeout"].lane == nodes["Check"].lane == "Lane_Desk"


def test_a_condition_without_a_language_takes_the_definitions_expression_language() -> None:
    flows = """
    <startEvent id="S"/><endEvent id="E"/><endEvent id="E2"/>
    <sequenceFlow id="Own" sourceRef="S" targetRef="E">
      <conditionExpression language="python">x > 1</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="Inherited" sourceRef="S" targetRef="E2">
      <conditionExpression>x &lt;= 1</conditionExpression>
    </sequenceFlow>"""
    document = process(flows).replace(b"<definitions ", b'<definitions expressionLanguage="FEEL" ')
    graph = only_process(document)
    assert graph.flow_by_id["Own"].condition == Condition(text="x > 1", language="python")
    assert graph.flow_by_id["Inherited"].condition == Condition(text="x <= 1", language="FEEL")
