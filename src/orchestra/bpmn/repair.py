"""Put back what some exporters scatter across the processes of one file.

Real tools write boundary events into a different <process> than the activity they sit on
(ARIS, Signavio round-trips), sequence flows into the process of neither of their ends, and
leftover flows that connect nothing at all (Signavio). The model meant is plain, so it is
restored, and each move is reported as a warning so nothing happens silently:

- a boundary event goes to the process of the activity it is attached to;
- a sequence flow goes to the process holding both of its ends;
- a flow none of whose ends exists anywhere in the file is dropped.
"""

from __future__ import annotations

from collections import defaultdict

from orchestra.bpmn.findings import Findings
from orchestra.bpmn.process_reader import rebuilt
from orchestra.domain.process import Flow, Node, ProcessGraph


def restore_cross_process_elements(
    graphs: list[ProcessGraph], findings: Findings
) -> list[ProcessGraph]:
    if not graphs:
        return graphs
    nodes = {graph.id: list(graph.nodes) for graph in graphs}
    flows = {graph.id: list(graph.flows) for graph in graphs}
    _move_boundary_events_to_their_hosts(nodes, findings)
    home = {node.id: process_id for process_id, members in nodes.items() for node in members}
    _move_flows_to_their_ends(flows, home, findings)
    return [
        rebuilt(graph, nodes=tuple(nodes[graph.id]), flows=tuple(flows[graph.id]))
        for graph in graphs
    ]


def _move_boundary_events_to_their_hosts(nodes: dict[str, list[Node]], findings: Findings) -> None:
    host_of = {node.id: (pid, node) for pid, members in nodes.items() for node in members}
    arrivals: dict[str, list[Node]] = defaultdict(list)
    for process_id, members in nodes.items():
        staying: list[Node] = []
        for node in members:
            host = host_of.get(node.attached_to or "")
            if host is None or host[0] == process_id:
                staying.append(node)
                continue
            host_process, host_node = host
            arrivals[host_process].append(
                node.model_copy(update={"parent": host_node.parent, "lane": host_node.lane})
            )
            findings.warning(
                "moved-between-processes",
                f"boundary event {node.id!r} was written in process {process_id!r} but is "
                f"attached to {host_node.id!r} of process {host_process!r}; it is moved there",
                element_id=node.id,
                process_id=host_process,
                line=node.line,
            )
        nodes[process_id] = staying
    for process_id, moved in arrivals.items():
        nodes[process_id].extend(moved)


def _move_flows_to_their_ends(
    flows: dict[str, list[Flow]], home: dict[str, str], findings: Findings
) -> None:
    arrivals: dict[str, list[Flow]] = defaultdict(list)
    for process_id, members in flows.items():
        staying: list[Flow] = []
        for flow in members:
            source_home, target_home = home.get(flow.source), home.get(flow.target)
            if source_home is None and target_home is None:
                _report_stray(flow, process_id, findings)
            elif source_home == target_home and source_home != process_id:
                assert source_home is not None
                arrivals[source_home].append(flow)
                findings.warning(
                    "moved-between-processes",
                    f"sequence flow {flow.id!r} was written in process {process_id!r} but both "
                    f"its ends are in process {source_home!r}; it is moved there",
                    element_id=flow.id,
                    process_id=source_home,
                    line=flow.line,
                )
            else:
                staying.append(flow)  # fine, or a dangling flow validation reports
        flows[process_id] = staying
    for process_id, moved in arrivals.items():
        flows[process_id].extend(moved)


def _report_stray(flow: Flow, process_id: str, findings: Findings) -> None:
    findings.warning(
        "stray-flow",
        f"sequence flow {flow.id!r} in process {process_id!r} connects {flow.source!r} to "
        f"{flow.target!r}, neither of which exists in the file; it is left out",
        element_id=flow.id,
        process_id=process_id,
        line=flow.line,
    )
