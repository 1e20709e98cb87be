"""Repositories store domain objects and give the same objects back."""

from __future__ import annotations

from orchestra.domain.process import Flow, Node, NodeCategory, ProcessGraph
from orchestra.domain.scenario import (
    Coverage,
    Decision,
    DependsOn,
    GeneratedSuite,
    ScenarioStep,
    TestScenario,
)
from orchestra.domain.statuses import StepKind
from orchestra.store.database import Database


def graph(name: str = "Order") -> ProcessGraph:
    return ProcessGraph(
        id="order",
        name=name,
        nodes=(
            Node(id="start", category=NodeCategory.START_EVENT, type="startEvent"),
            Node(id="pay", category=NodeCategory.TASK, type="serviceTask", name="Pay"),
            Node(id="end", category=NodeCategory.END_EVENT, type="endEvent"),
        ),
        flows=(
            Flow(id="f1", source="start", target="pay"),
            Flow(id="f2", source="pay", target="end"),
        ),
    )


async def test_the_same_process_content_is_the_same_version(db: Database) -> None:
    async with db.transaction() as uow:
        first, created = await uow.processes.add_version(
            graph(), checksum="a", source_xml="<x/>", source_name="order.bpmn"
        )
        again, created_again = await uow.processes.add_version(
            graph(), checksum="a", source_xml="<x/>", source_name="order.bpmn"
        )
    assert created
    assert not created_again
    assert again == first
    assert first.version == 1
    assert first.graph == graph()


async def test_changed_content_is_a_new_version_and_the_latest_is_listed(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.processes.add_version(graph(), checksum="a", source_xml="<a/>", source_name=None)
        second, _ = await uow.processes.add_version(
            graph("Order v2"), checksum="b", source_xml="<b/>", source_name=None
        )
    async with db.transaction() as uow:
        latest = await uow.processes.get("order")
        first = await uow.processes.get("order", 1)
        listed = await uow.processes.list_latest()
        source = await uow.processes.source(second.id)
    assert second.version == 2
    assert latest == second
    assert first is not None
    assert first.graph.name == "Order"
    assert [p.version for p in listed] == [2]
    assert source == "<b/>"


async def test_a_suite_is_stored_with_its_scenarios_and_steps(db: Database) -> None:
    scenario = TestScenario(
        name="S01 pay",
        position=0,
        path=("start", "f1", "pay", "f2", "end"),
        decisions=(Decision(gateway="g", flows=("f1",), conditions=("ok",)),),
        steps=(
            ScenarioStep(
                position=0, kind=StepKind.ACTION, element_id="pay", meta={"unbound": True}
            ),
            ScenarioStep(position=1, kind=StepKind.ASSERTION, element_id="end"),
        ),
        depends_on=(DependsOn(scenario="S00"),),
    )
    generated = GeneratedSuite(
        process_key="order",
        process_version=1,
        criterion="all-flows",
        parameters={"loop_bound": 1},
        scenarios=(scenario,),
        coverage=Coverage(
            criterion="all-flows", flows_total=2, flows_covered=2, nodes_total=3, nodes_covered=3
        ),
    )
    async with db.transaction() as uow:
        process, _ = await uow.processes.add_version(
            graph(), checksum="a", source_xml="<x/>", source_name=None
        )
        suite_id = await uow.suites.add(process.id, generated, unbound=["pay"])
    async with db.transaction() as uow:
        stored = await uow.suites.get(suite_id)
        listed = await uow.suites.list()
    assert stored is not None
    assert stored.process_key == "order"
    assert stored.coverage == generated.coverage
    assert stored.unbound == ("pay",)
    assert [s.scenario for s in stored.scenarios] == [scenario]
    assert [s.id for s in listed] == [suite_id]


async def test_data_sets_and_environments_are_replaced_by_name(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("customers", [{"name": "Ann"}])
        replaced = await uow.config.upsert_data_set("customers", [{"name": "Bob"}, {"name": "Eve"}])
        env = await uow.config.upsert_environment(
            "local", {"services": {"api": {"base_url": "http://127.0.0.1:1"}}}, ["API_TOKEN"]
        )
    async with db.transaction() as uow:
        data_set = await uow.config.data_set("customers")
        environment = await uow.config.environment("local")
    assert data_set == replaced
    assert data_set is not None
    assert [row["name"] for row in data_set.rows] == ["Bob", "Eve"]
    assert environment == env


async def test_a_failed_transaction_leaves_nothing_behind(db: Database) -> None:
    class Boom(Exception):
        pass

    try:
        async with db.transaction() as uow:
            await uow.processes.add_version(
                graph(), checksum="a", source_xml="<x/>", source_name=None
            )
            raise Boom
    except Boom:
        pass
    async with db.transaction() as uow:
        assert await uow.processes.get("order") is None
