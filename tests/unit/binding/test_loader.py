from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestra.binding.extension import bindings_from_extension_elements
from orchestra.binding.loader import bindings_for, load_bindings, merge_bindings
from orchestra.domain.process import MessageFlow, Node, NodeCategory
from orchestra.errors import BindingRefused
from orchestra.protocols.http import HttpAction
from tests.unit.binding.graphs import EXTENSION, order_process

VALID = """\
defaults:
  service: orders
  timeout: 5
tasks:
  Create order:
    action:
      method: post
      path: /orders
      json: {amount: "{{ data.amount }}"}
    checks:
      - status: 201
      - jsonpath: $.state
        eq: CREATED
    save: {order_id: $.id}
    exportAs: {lastOrder: "{{ response.json.id }}"}
  Task_Approve:
    action: {path: "/orders/{{ vars.order_id }}"}
    checks: [{jsonpath: $.state, eq: APPROVED}]
    eventually: {timeout: 10, interval: 0.5}
flows:
  Flow_yes: {data: {amount: 50}}
  "no": {data: {amount: 5000}}
events:
  Order done:
    checks: [{that: "{{ vars.order_id is defined }}"}]
"""


def refusal(text: str, *, graph: bool = True) -> BindingRefused:
    with pytest.raises(BindingRefused) as caught:
        load_bindings(textwrap.dedent(text), order_process() if graph else None)
    return caught.value


def test_a_valid_file_resolves_names_to_element_ids() -> None:
    bindings = load_bindings(VALID, order_process())

    assert set(bindings.tasks) == {"Task_Create", "Task_Approve"}
    assert set(bindings.flows) == {"Flow_yes", "Flow_no"}
    assert set(bindings.events) == {"End_Ok"}
    create = bindings.tasks["Task_Create"]
    assert isinstance(create.action, HttpAction)
    assert create.action.method == "POST"
    assert [check.name for check in create.checks] == ["status eq", "jsonpath $.state eq"]
    assert create.export_as == {"lastOrder": "{{ response.json.id }}"}


def test_without_a_graph_keys_stay_as_written(tmp_path: Path) -> None:
    path = tmp_path / "bindings.yaml"
    path.write_text(VALID)

    bindings = load_bindings(path)

    assert set(bindings.tasks) == {"Create order", "Task_Approve"}


def test_an_unknown_element_id_names_its_yaml_path_and_line() -> None:
    error = refusal("""\
        tasks:
          Task_Creat:
            action: {path: /x}
        """)

    assert "<bindings>:2: tasks.Task_Creat: unknown task 'Task_Creat'" in error.message
    assert "did you mean Task_Create" in error.message
    assert error.details["problems"][0] == {
        "path": "tasks.Task_Creat",
        "line": 2,
        "message": error.details["problems"][0]["message"],
    }


def test_a_bad_operator_names_the_check_and_its_line() -> None:
    error = refusal("""\
        tasks:
          Task_Create:
            action: {path: /x}
            checks:
              - status: 200
              - jsonpath: $.state
                equals: DONE
        """)

    assert "<bindings>:6: tasks.Task_Create.checks[1]: unknown operator 'equals'" in error.message


def test_a_wrong_type_names_the_key_and_its_line() -> None:
    error = refusal("""\
        tasks:
          Task_Create:
            action:
              path: /x
              timeout: soon
        """)

    assert "<bindings>:5: tasks.Task_Create.action.timeout:" in error.message
    assert "number" in error.message


def test_every_problem_is_reported_at_once() -> None:
    error = refusal("""\
        tasks:
          Task_Create:
            action: {path: /x, method: FETCH}
            extra: 1
          Task_Approve: {checks: [{status: 200}]}
        """)

    problems = {(p["path"], p["line"]) for p in error.details["problems"]}
    assert ("tasks.Task_Create.action.method", 3) in problems
    assert ("tasks.Task_Create.extra", 4) in problems


def test_a_task_without_action_is_refused() -> None:
    error = refusal("tasks:\n  Task_Create: {eventually: {timeout: 1}}\n")

    assert "tasks.Task_Create: missing `action`" in error.message


def test_an_element_of_the_wrong_kind_is_refused() -> None:
    error = refusal("tasks:\n  End_Ok: {action: {path: /x}}\n")

    assert "End_Ok is an endEvent, not a task" in error.message


@pytest.mark.parametrize("section", ["tasks", "events"])
def test_an_element_no_step_is_made_of_is_refused_naming_the_step_after_it(
    section: str,
) -> None:
    error = refusal(f"{section}:\n  Start: {{action: {{method: POST, path: /carts}}}}\n")

    assert (
        "Start is a startEvent without a message, signal, timer, conditional or escalation "
        "definition or a message flow: no step is made of it, so its binding would never run; "
        "bind what it should do on the step after it, Task_Create ('Create order')"
    ) in error.message


def test_a_subprocess_is_refused_for_its_tasks() -> None:
    graph = order_process()
    sub = Node(id="Sub", category=NodeCategory.SUB_PROCESS, type="subProcess")
    inside = Node(id="Task_Inner", category=NodeCategory.TASK, type="task", parent="Sub")
    graph = graph.model_copy(update={"nodes": (*graph.nodes, sub, inside)})

    with pytest.raises(BindingRefused) as caught:
        load_bindings("tasks:\n  Sub: {action: {path: /x}}\n", graph)

    assert "Sub is a subProcess: no step is made of it but of its tasks" in caught.value.message


@pytest.mark.parametrize(
    "start",
    [
        {"event_definitions": ("message",)},  # a message start event waits: a step
        {},  # a none start event a message flow ends at: a step too
    ],
)
def test_a_start_event_that_waits_for_something_is_bound(start: dict[str, object]) -> None:
    graph = order_process()
    nodes = tuple(
        node.model_copy(update=start) if node.id == "Start" else node for node in graph.nodes
    )
    flows = () if start else (MessageFlow(id="M1", source="Customer", target="Start"),)
    graph = graph.model_copy(update={"nodes": nodes, "message_flows": flows})

    bindings = load_bindings("tasks:\n  Start: {action: {method: POST, path: /carts}}\n", graph)

    assert list(bindings.tasks) == ["Start"]


def test_an_ambiguous_name_lists_the_ids() -> None:
    error = refusal("tasks:\n  Notify: {action: {path: /x}}\n")

    assert "Task_NotifyOk, Task_NotifyKo" in error.message


def test_a_template_syntax_error_is_found_at_load_time() -> None:
    error = refusal("""\
        tasks:
          Task_Create:
            action: {path: "/orders/{{ vars.id "}
        """)

    assert "<bindings>:3: tasks.Task_Create.action.path: template" in error.message


def test_invalid_yaml_names_the_line() -> None:
    error = refusal("tasks:\n  Task_Create: {action: [\n", graph=False)

    assert error.message.startswith("<bindings>:3: (top level): not valid YAML")


def test_an_invalid_json_schema_is_refused() -> None:
    error = refusal("""\
        tasks:
          Task_Create:
            action: {path: /x}
            checks: [{schema: {type: nothing}}]
        """)

    assert "tasks.Task_Create.checks[0]: invalid JSON Schema" in error.message


def test_an_invalid_jmespath_is_refused_with_its_line() -> None:
    error = refusal("""\
        tasks:
          Task_Create:
            action: {path: /x}
            checks: [{jmespath: "items[?", eq: 1}]
        """)

    assert ":4: tasks.Task_Create.checks[0]: invalid JMESPath 'items[?'" in error.message


def test_an_invalid_jsonpath_is_refused() -> None:
    error = refusal("""\
        tasks:
          Task_Create:
            action: {path: /x}
            save: {id: "$..[("}
        """)

    assert "tasks.Task_Create.save: invalid JSONPath" in error.message


def test_bindings_in_extension_elements_are_read() -> None:
    graph = order_process(extension=EXTENSION)

    bindings = bindings_from_extension_elements(graph)

    create = bindings.tasks["Task_Create"]
    assert isinstance(create.action, HttpAction)
    assert create.action.method == "POST"
    assert [check.expected for check in create.checks] == [201]


def test_a_binding_file_overrides_the_embedded_bindings() -> None:
    graph = order_process(extension=EXTENSION)
    embedded = bindings_from_extension_elements(graph)
    from_file = load_bindings("tasks:\n  Task_Create: {action: {path: /v2/orders}}\n", graph)

    merged = merge_bindings(embedded, from_file)

    action = merged.tasks["Task_Create"].action
    assert isinstance(action, HttpAction)
    assert action.path == "/v2/orders"


def test_the_file_s_cleanup_actions_survive_the_merge_with_embedded_bindings() -> None:
    graph = order_process(extension=EXTENSION)
    from_file = load_bindings("cleanup:\n  - {name: reset, action: {path: /reset}}\n", graph)

    merged = bindings_for(graph, "cleanup:\n  - {name: reset, action: {path: /reset}}\n")

    assert merged.cleanup == from_file.cleanup
    assert [action.name for action in merged.cleanup] == ["reset"]


def test_an_invalid_embedded_binding_names_the_element() -> None:
    bad = EXTENSION.replace("status: 201", "status: two hundred")
    with pytest.raises(BindingRefused, match=r"<orc:binding of Task_Create>:\d+: checks\[0\]"):
        bindings_from_extension_elements(order_process(extension=bad))


def test_without_an_action_only_that_checks_are_allowed() -> None:
    error = refusal("events:\n  End_Ok: {checks: [{that: '{{ true }}'}, {status: 200}]}\n")

    assert (
        "<bindings>:2: events.End_Ok.checks[1]: a status check needs an `action`" in error.message
    )


def test_bindings_for_a_graph_merge_embedded_and_file_bindings() -> None:
    graph = order_process(extension=EXTENSION)

    merged = bindings_for(graph, "tasks:\n  Approve: {action: {path: /approve}}\n")

    assert set(merged.tasks) == {"Task_Create", "Task_Approve"}
    assert bindings_for(graph).tasks.keys() == {"Task_Create"}


def test_a_yaml_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
              f"*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]  # fmt: skip

    with pytest.raises(BindingRefused, match="aliases expanding"):
        load_bindings("\n".join(lines) + "\n")


def test_a_long_one_line_text_is_read_as_text_not_as_a_file_name() -> None:
    text = '{"tasks": {"Task_Create": {"action": {"path": "/' + "x" * 5000 + '"}}}}'

    assert set(load_bindings(text).tasks) == {"Task_Create"}


@pytest.mark.parametrize(
    ("eventually", "message"),
    [
        (
            "{timeout: 10, interval: 0.001}",
            "interval: Input should be greater than or equal to 0.01",
        ),
        ("{timeout: 1e300}", "timeout: Input should be less than or equal to 604800"),
    ],
)
def test_polling_faster_than_10_ms_or_longer_than_a_week_is_refused_with_its_line(
    eventually: str, message: str
) -> None:
    error = refusal(f"""\
        tasks:
          Task_Create:
            action: {{path: /orders}}
            eventually: {eventually}
        """)

    assert f"<bindings>:4: tasks.Task_Create.eventually.{message}" in error.message


def test_an_element_bound_in_the_wrong_section_says_which_section_it_belongs_in() -> None:
    error = refusal("""\
        tasks:
          Flow_yes: {action: {path: /yes}}
        events:
          Flow_no: {checks: [{that: '{{ true }}'}]}
        flows:
          Task_Approve: {data: {approved: true}}
          End_Ok: {data: {}}
        """)

    assert [p["message"] for p in error.details["problems"]] == [
        "Flow_yes is a sequenceFlow, not a task: bind it under `flows:`",
        "Flow_no is a sequenceFlow, not an event: bind it under `flows:`",
        "Task_Approve is a task, not a flow: bind it under `tasks:`",
        "End_Ok is an endEvent, not a flow: bind it under `events:`",
    ]


def test_headers_of_defaults_and_actions_that_cannot_be_sent_are_refused_with_their_line() -> None:
    error = refusal("""\
        defaults: {headers: {"X Y": "1"}}
        tasks:
          Task_Create: {action: {path: /x, headers: {X-Note: "a\\rb"}}}
        """)

    assert [(p["line"], p["message"]) for p in error.details["problems"]] == [
        (1, "header name 'X Y' is not an HTTP field name"),
        (3, "header X-Note: a value cannot hold a line break or NUL"),
    ]


def test_a_poll_gets_the_files_defaults_and_goes_to_the_commands_service() -> None:
    from orchestra.binding.document import spec_from_binding

    bindings = load_bindings("""\
defaults: {service: orders, timeout: 5, headers: {Accept: application/json}}
tasks:
  Task_Create:
    action: {method: POST, path: /orders, service: payments}
    eventually:
      timeout: 10
      poll: {path: /orders/1}
""")
    spec = spec_from_binding(bindings.tasks["Task_Create"], bindings.defaults, {})

    assert spec.eventually is not None
    poll = spec.eventually.poll
    assert isinstance(poll, HttpAction)
    assert (poll.method, poll.service, poll.timeout) == ("GET", "payments", 5)
    assert poll.headers == {"Accept": "application/json"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "defaults:\n  eventually: {timeout: 5, poll: {path: /x}}\n",
            "defaults.eventually: `poll` is one step's",
        ),
        (
            "events:\n  End_Ok:\n    checks: [{that: '{{ true }}'}]\n"
            "    eventually: {timeout: 5, poll: {path: /x}}\n",
            "events.End_Ok.eventually.poll: `eventually.poll` watches what the step's `action`"
            " did: it needs one",
        ),
        (
            "tasks:\n  Task_Create:\n    action: {method: POST, path: /x}\n"
            "    eventually: {timeout: 5, poll: {path: /x, replay: {status: [200]}}}\n",
            "tasks.Task_Create.eventually.poll: a poll is never a re-send",
        ),
    ],
)
def test_a_poll_in_the_defaults_without_a_command_or_with_a_replay_is_refused(
    text: str, message: str
) -> None:
    error = refusal(text)

    assert message in error.message
