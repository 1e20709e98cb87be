"""A whole BPMN 2.0 file -> an ImportedModel: every process, each standing on its own."""

from __future__ import annotations

from lxml import etree

from orchestra.bpmn.collaboration_reader import (
    Collaboration,
    check_message_flows,
    read_collaborations,
    with_pools,
)
from orchestra.bpmn.diagram_reader import diagram_of, read_diagram
from orchestra.bpmn.event_details import read_root_definitions
from orchestra.bpmn.findings import Findings
from orchestra.bpmn.process_reader import ProcessReader, model_children, rebuilt
from orchestra.bpmn.repair import restore_cross_process_elements
from orchestra.bpmn.safe_xml import Limits, parse_xml
from orchestra.bpmn.validation import validate
from orchestra.bpmn.vocabulary import MODEL, line_of, model
from orchestra.domain.process import Diagram, ImportedModel, ProcessGraph
from orchestra.errors import BpmnRefused


def read_bpmn(data: bytes, *, source: str, limits: Limits | None = None) -> ImportedModel:
    """Parse and validate one BPMN file.

    Raises BpmnRefused for input that is hostile, malformed or not BPMN at all; everything else
    comes back as processes plus problems (errors and warnings) for the caller to judge.
    """
    definitions = parse_xml(data, source=source, limits=limits)
    if definitions.tag != model("definitions"):
        raise BpmnRefused(
            f"{source}: not a BPMN 2.0 model: the root element is {definitions.tag!r}, "
            f"expected <definitions> in namespace {MODEL}",
            details={"file": source, "code": "not-bpmn", "line": line_of(definitions)},
        )
    findings = Findings()
    graphs = restore_cross_process_elements(_read_processes(definitions, findings), findings)
    imported = _imports(definitions)
    if not graphs:
        elsewhere = (
            f"; its processes come from imported files ({', '.join(imported)}), which are not "
            "read: import those files themselves"
            if imported
            else ": there is nothing to test in it"
        )
        findings.error(
            "no-process", f"{source} defines no <process>{elsewhere}", line=line_of(definitions)
        )
    elif imported:
        findings.warning(
            "imports",
            f"{source} imports {', '.join(imported)}; what is defined there (called processes, "
            "errors, messages) is not read: import those files too",
            line=line_of(definitions),
        )
    collaboration = read_collaborations(definitions, findings)
    check_message_flows(collaboration, graphs, findings)
    diagram = read_diagram(definitions, findings)
    graphs = _stand_alone(graphs, collaboration, diagram, _exporter(definitions))
    for graph in graphs:
        validate(graph, findings)
    return ImportedModel(processes=tuple(graphs), problems=tuple(findings.problems))


def _read_processes(definitions: etree._Element, findings: Findings) -> list[ProcessGraph]:
    root = read_root_definitions(definitions)
    seen_ids: dict[str, int | None] = {}
    graphs: list[ProcessGraph] = []
    for local, element in model_children(definitions):
        if local != "process":
            continue
        process_id = (element.get("id") or "").strip()
        if not process_id or process_id in seen_ids:
            what = (
                "has no id"
                if not process_id
                else f"repeats the id {process_id!r} of line {seen_ids[process_id]}"
            )
            findings.error(
                "missing-id" if not process_id else "duplicate-id",
                f"the <process> at line {line_of(element)} {what}",
                element_id=process_id or None,
                line=line_of(element),
            )
            continue
        seen_ids[process_id] = line_of(element)
        reader = ProcessReader(element, root=root, findings=findings, seen_ids=seen_ids)
        graphs.append(reader.read())
    return graphs


def _imports(definitions: etree._Element) -> list[str]:
    """The locations (else namespaces) of the BPMN files an <import> names (not the XML
    schemas or WSDL files some tools import for data types)."""
    found = []
    for local, element in model_children(definitions):
        if local == "import" and element.get("importType", MODEL).strip() == MODEL:
            where = element.get("location") or element.get("namespace") or "(unnamed)"
            found.append(where.strip())
    return found


def _stand_alone(
    graphs: list[ProcessGraph], collaboration: Collaboration, diagram: Diagram, exporter: str | None
) -> list[ProcessGraph]:
    """Give each process its pool, message flows, other pools and diagram."""
    participant_of_node = {
        node_id: collaboration.by_process[graph.id].id
        for graph in graphs
        if graph.id in collaboration.by_process
        for node_id in graph.node_by_id
    }
    result: list[ProcessGraph] = []
    for graph in graphs:
        pooled = with_pools(graph, collaboration, participant_of_node)
        if pooled.name is None and pooled.participant is not None:
            pooled = rebuilt(pooled, name=pooled.participant.name)
        drawn = diagram_of(diagram, _drawn_ids(pooled))
        result.append(rebuilt(pooled, diagram=drawn, exporter=exporter))
    return result


def _drawn_ids(graph: ProcessGraph) -> set[str]:
    ids = {node.id for node in graph.nodes} | {flow.id for flow in graph.flows}
    ids |= {lane.id for lane in graph.lanes} | {flow.id for flow in graph.message_flows}
    ids |= {participant.id for participant in graph.other_participants}
    if graph.participant is not None:
        ids.add(graph.participant.id)
    return ids


def _exporter(definitions: etree._Element) -> str | None:
    name = definitions.get("exporter")
    version = definitions.get("exporterVersion")
    if name and version:
        return f"{name} {version}"
    return name or None
