"""docs/data.md: every row of its table of conditions and their data is what the solver gives,
and every condition of its subset table parses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestra.domain.conditions import parse_condition
from orchestra.domain.conditions.solver import Goal, solve
from orchestra.domain.scenario import TestScenario

PAGE = (Path(__file__).parents[3] / "docs" / "data.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `(?P<condition>[^|]+?)` \| `(?P<data>\{.*\})` \|$", re.MULTILINE)
EXAMPLES = [(m["condition"], json.loads(m["data"])) for m in ROW.finditer(PAGE)]


def test_the_page_has_its_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(("condition", "data"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_each_example_condition_solves_to_the_data_shown(
    condition: str, data: dict[str, object]
) -> None:
    assert solve([Goal("F", condition, parse_condition(condition))]) == data


def test_the_gateway_shown_gives_its_three_scenarios_the_data_the_page_says() -> None:
    from orchestra.domain.conditions.suites import derive_data
    from orchestra.domain.generation import generate_suite
    from tests.unit.bpmn.documents import only_process, process

    (gateway,) = re.findall(r"```xml\n(.*?)```", PAGE, re.DOTALL)
    ends = "".join(
        f'<task id="Task_{n}"/><sequenceFlow id="To_{n}" sourceRef="Task_{n}" targetRef="E"/>'
        for n in ("Review", "Ship", "Export")
    )
    model = (
        '<startEvent id="S"/><endEvent id="E"/>'
        '<sequenceFlow id="In" sourceRef="S" targetRef="Route"/>' + gateway + ends
    )
    graph = only_process(process(model))
    suite = generate_suite(graph, process_key="P", process_version=1)
    solved, _ = derive_data(suite, graph, graph)
    shown = dict(re.findall(r"`(\{\"amount\": \d+,\s+\"country\": \"\w+\"\})` \((\w+)", PAGE))
    expected = {name: json.loads(data.replace("\n", " ")) for data, name in shown.items()}
    found = {next(e for e in s.path if e.startswith("Task_"))[5:]: s.data for s in solved.scenarios}
    assert found == expected


def test_the_data_set_shown_contradicts_the_scenarios_the_page_says() -> None:
    from orchestra.domain.conditions.rows import RowChecker
    from orchestra.domain.conditions.suites import derive_data
    from orchestra.domain.generation import generate_suite
    from tests.integration.test_docs_snippets import yaml_value
    from tests.unit.bpmn.documents import only_process, process

    (gateway,) = re.findall(r"```xml\n(.*?)```", PAGE, re.DOTALL)
    (rows_text,) = re.findall(r"<!-- snippet: data-set -->\n```yaml\n(.*?)```", PAGE, re.DOTALL)
    rows = yaml_value(rows_text)
    ends = "".join(
        f'<task id="Task_{n}"/><sequenceFlow id="To_{n}" sourceRef="Task_{n}" targetRef="E"/>'
        for n in ("Review", "Ship", "Export")
    )
    model = (
        '<startEvent id="S"/><endEvent id="E"/>'
        '<sequenceFlow id="In" sourceRef="S" targetRef="Route"/>' + gateway + ends
    )
    graph = only_process(process(model))
    solved, _ = derive_data(generate_suite(graph, process_key="P", process_version=1), graph, graph)
    checker = RowChecker()
    found = {
        (next(e for e in s.path if e.startswith("Task_"))[5:], index, conflict.condition)
        for s in solved.scenarios
        for index, row in enumerate(rows)
        if (conflict := checker.conflict(s, index, row)) is not None
    }
    assert found == {
        ("Ship", 0, "not = amount > 1000"),
        ("Export", 0, "not = amount > 1000"),
    }


def test_the_boundary_suite_shown_is_what_the_gateway_gives() -> None:
    from orchestra.domain.conditions.suites import derive_data
    from orchestra.domain.generation import Criterion, generate_suite
    from tests.unit.bpmn.documents import only_process, process

    (gateway,) = re.findall(r"```xml\n(.*?)```", PAGE, re.DOTALL)
    ends = "".join(
        f'<task id="Task_{n}"/><sequenceFlow id="To_{n}" sourceRef="Task_{n}" targetRef="E"/>'
        for n in ("Review", "Ship", "Export")
    )
    model = (
        '<startEvent id="S"/><endEvent id="E"/>'
        '<sequenceFlow id="In" sourceRef="S" targetRef="Route"/>' + gateway + ends
    )
    graph = only_process(process(model))
    generated = generate_suite(graph, process_key="P", process_version=1)

    def every() -> tuple[TestScenario, ...]:
        suite = generate_suite(
            graph, process_key="P", process_version=1, criterion=Criterion.ALL_PATHS
        )
        return suite.scenarios

    solved, _ = derive_data(generated, graph, graph, every, boundary=True)
    shown = re.findall(r"^\| (S\d\d) (\w+)(?: `(\[.*?\])`)? \| `(\{.*\})` \|$", PAGE, re.MULTILINE)
    assert len(shown) == 5
    found = {
        (
            s.name[:3],
            next(e for e in s.path if e.startswith("Task_"))[5:],
            s.name.rpartition(" ")[2] if s.name.endswith("]") else "",
            json.dumps(s.data),
        )
        for s in solved.scenarios
    }
    expected = {
        (number, task, pinned.rpartition(" ")[2] if pinned else "", json.dumps(json.loads(data)))
        for number, task, pinned, data in shown
    }
    assert found == expected
