"""Events in the HTML report: the marker of their definition and their timer or refs in words."""

from __future__ import annotations

import re

import pytest
from lxml import etree, html

from orchestra.domain.process import Node, NodeCategory
from orchestra.reports.diagram import render_svg
from orchestra.reports.events import event_marker
from orchestra.reports.html import render_html
from orchestra.reports.layout import auto_layout
from tests.support.event_process import events_graph, events_report

SVG = "{http://www.w3.org/2000/svg}"
TIMER = "timer timeDuration PT5M"
PAY_ERROR = "error Error_Pay code PAY_ERR 'Payment failed'"


def drawing() -> etree._Element:
    return etree.fromstring(str(render_svg(events_graph(), {})).encode())


def group(svg: etree._Element, element_id: str) -> etree._Element:
    (found,) = svg.iterfind(f".//{SVG}g[@data-element='{element_id}']")
    return found


def marker(svg: etree._Element, element_id: str) -> tuple[str, str] | None:
    """(what the marker shows, "throw" or "catch") of an event, None when it has none."""
    markers = group(svg, element_id).findall(f"{SVG}g")
    if not markers:
        return None
    (found,) = markers
    classes = found.get("class", "").split()
    assert classes[0] == "event-marker"
    return found.get("data-marker", ""), classes[1]


def title_lines(svg: etree._Element, element_id: str) -> list[str]:
    return (group(svg, element_id).findtext(f"{SVG}title") or "").split("\n")


def test_each_event_gets_the_marker_of_its_definition_filled_when_thrown() -> None:
    svg = drawing()
    assert marker(svg, "Timer_Wait") == ("timer", "catch")
    assert marker(svg, "Boundary_PayFailed") == ("error", "catch")
    assert marker(svg, "Boundary_Late") == ("escalation", "catch")
    assert marker(svg, "Message_Paid") == ("message", "catch")
    assert marker(svg, "Message_Any") == ("message", "catch")
    assert marker(svg, "Signal_Done") == ("signal", "throw")
    assert marker(svg, "End_Failed") == ("error", "throw")


def test_the_marker_is_drawn_inside_the_event_circle() -> None:
    svg = drawing()
    for element_id in ("Timer_Wait", "Boundary_PayFailed", "Message_Paid", "Signal_Done"):
        event = group(svg, element_id)
        circle = event.find(f"{SVG}circle")
        assert circle is not None
        cx, cy, r = (float(circle.get(name, "nan")) for name in ("cx", "cy", "r"))
        (drawn,) = event.findall(f"{SVG}g")
        points = _points(drawn)
        assert len(points) >= 3, element_id
        for x, y in points:
            assert (x - cx) ** 2 + (y - cy) ** 2 < r**2, (element_id, x, y)


def test_the_tooltip_of_an_event_gives_its_timer_or_refs_as_processes_show_words_them() -> None:
    svg = drawing()
    assert title_lines(svg, "Timer_Wait") == ["Five minutes (Timer_Wait) — not covered", TIMER]
    assert title_lines(svg, "Boundary_PayFailed")[1:] == [PAY_ERROR]
    assert title_lines(svg, "End_Failed")[1:] == [PAY_ERROR]
    assert title_lines(svg, "Boundary_Late")[1:] == ["escalation Esc_Late code LATE 'Late'"]
    assert title_lines(svg, "Message_Paid")[1:] == ["message Msg_Paid 'payment received'"]
    assert title_lines(svg, "Signal_Done")[1:] == ["signal Sig_Done 'order done'"]


def test_the_tooltip_still_gives_the_counts_first() -> None:
    page = html.fromstring(render_html(events_report()))
    (timer,) = (g for g in page.iter("g") if g.get("data-element") == "Timer_Wait")
    assert timer.findtext("title") == f"Five minutes (Timer_Wait) — 1 passed, 0 failed\n{TIMER}"


def test_an_event_without_details_renders_as_before() -> None:
    svg = drawing()
    start = group(svg, "Start_Order")
    assert [child.tag for child in start] == [f"{SVG}title", f"{SVG}circle"]
    assert start.findtext(f"{SVG}title") == "Start_Order — not covered"
    assert start[1].get("class") == "shape start"
    end = group(svg, "End_Done")
    assert [child.tag for child in end] == [f"{SVG}title", f"{SVG}circle"]
    assert end[1].get("class") == "shape end"
    assert title_lines(svg, "Message_Any") == ["Message_Any — not covered"]  # a kind, no ref


def test_a_non_interrupting_boundary_event_is_dashed_and_an_interrupting_one_is_not() -> None:
    svg = drawing()
    late = group(svg, "Boundary_Late").findall(f"{SVG}circle")
    assert [c.get("class") for c in late] == [
        "shape intermediate non-interrupting",
        "inner intermediate non-interrupting",
    ]
    failed = group(svg, "Boundary_PayFailed").findall(f"{SVG}circle")
    assert all("non-interrupting" not in (c.get("class") or "") for c in failed)


def test_a_non_interrupting_start_event_of_an_event_subprocess_is_dashed() -> None:
    start = Node(id="S", category=NodeCategory.START_EVENT, type="startEvent")
    graph = events_graph().model_copy(
        update={"nodes": (start.model_copy(update={"is_interrupting": False}),), "flows": ()}
    )
    svg = etree.fromstring(str(render_svg(graph, {})).encode())
    circles = group(svg, "S").findall(f"{SVG}circle")
    assert [c.get("class") for c in circles] == ["shape start non-interrupting"]


def test_a_step_on_an_event_shows_the_events_details_and_other_steps_do_not() -> None:
    page = html.fromstring(render_html(events_report()))
    steps = [d for d in page.iter("details") if "step" in d.get("class", "").split()]
    summaries = [step.find("summary") for step in steps]
    details = [event_details(summary) for summary in summaries if summary is not None]
    assert details == [TIMER, "", ""]  # the timer, the task, the none end event


def test_an_uncovered_event_is_listed_with_its_details() -> None:
    uncovered = ({"element": "Boundary_PayFailed", "kind": "node", "reason": "never raised"},)
    page = html.fromstring(render_html(events_report(uncovered)))
    (listed,) = (d for d in page.iter("details") if d.get("class") == "uncovered")
    (item,) = listed.iter("li")
    assert event_details(item) == PAY_ERROR


def test_the_report_with_markers_fetches_nothing() -> None:
    text = render_html(events_report())
    page = html.fromstring(text)
    links = [str(e.get("href")) for e in page.iter() if e.get("href")]
    assert [e.tag for e in page.iter() if e.get("src")] == []
    assert [link for link in links if not link.startswith("#")] == []  # only to its own parts
    assert [e.tag for e in page.iter("link", "image", "img", "use")] == []
    assert not re.search(r"url\((?!#)", text)  # only the page's own SVG markers


@pytest.mark.parametrize(
    ("kind", "category", "direction"),
    [
        ("message", NodeCategory.END_EVENT, "throw"),
        ("message", NodeCategory.START_EVENT, "catch"),
        ("escalation", NodeCategory.INTERMEDIATE_THROW_EVENT, "throw"),
        ("compensate", NodeCategory.BOUNDARY_EVENT, "catch"),
        ("timer", NodeCategory.END_EVENT, "catch"),  # a timer never throws
    ],
)
def test_throwing_events_fill_their_marker_and_catching_ones_outline_it(
    kind: str, category: NodeCategory, direction: str
) -> None:
    node = Node(id="E", category=category, type=category.value, event_definitions=(kind,))
    drawn = etree.fromstring(event_marker(node, 18, 18, 18))
    assert drawn.get("class") == f"event-marker {direction}"
    assert drawn.get("data-marker") == kind


def test_an_event_with_several_definitions_gets_the_multiple_pentagon() -> None:
    node = Node(
        id="E",
        category=NodeCategory.START_EVENT,
        type="startEvent",
        event_definitions=("message", "signal"),
    )
    assert 'data-marker="multiple"' in event_marker(node, 18, 18, 18)


def test_a_none_event_has_no_marker() -> None:
    node = Node(id="E", category=NodeCategory.START_EVENT, type="startEvent")
    assert event_marker(node, 18, 18, 18) == ""


def event_details(parent: etree._Element) -> str:
    """The text of `parent`'s `<span class="event-details">`, "" when it has none."""
    spans = [s for s in parent.iter("span") if s.get("class") == "event-details"]
    return "".join(str(part) for part in spans[0].itertext()) if spans else ""


def _points(drawn: etree._Element) -> list[tuple[float, float]]:
    """Every coordinate the marker's shapes go through (path vertices, rect corners, circles)."""
    points: list[tuple[float, float]] = []
    for shape in drawn:
        tag = etree.QName(shape).localname
        if tag == "path":
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", shape.get("d", ""))]
            points += list(zip(numbers[::2], numbers[1::2], strict=True))
        elif tag == "rect":
            x, y = float(shape.get("x", "0")), float(shape.get("y", "0"))
            w, h = float(shape.get("width", "0")), float(shape.get("height", "0"))
            points += [(x, y), (x + w, y), (x, y + h), (x + w, y + h)]
        elif tag == "circle":
            cx, cy, r = (float(shape.get(name, "0")) for name in ("cx", "cy", "r"))
            points += [(cx + r, cy), (cx - r, cy), (cx, cy + r), (cx, cy - r)]
    return points


def test_boundary_events_laid_out_on_one_activity_do_not_overlap() -> None:
    shapes = {s.element_id: s.bounds for s in auto_layout(events_graph()).shapes}
    first, second = shapes["Boundary_PayFailed"], shapes["Boundary_Late"]
    assert first.x + first.width < second.x
    host = shapes["Task_Charge"]
    assert first.y + first.height / 2 == second.y + second.height / 2 == host.y + host.height
