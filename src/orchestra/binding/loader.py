"""Binding files in, validated `Bindings` out; every error names the YAML path and line.

`load_bindings(path_or_text, graph)` reads a binding file (its format:
`orchestra.binding.document`). With a process graph, keys are resolved to element ids (a key may
be an id or a unique name) and each must be of the right kind: `tasks` are activities and the
events generation turns into ACTION steps (message, timer... events), `events` are events (end
events: final checks), `flows` are sequence flows, and a barrier's `before`/`after` is a task or
an event.
`bindings_from_extension_elements(graph)` reads bindings embedded in the BPMN (see
`orchestra.binding.extension`); `merge_bindings` lets a file override them, and
`bindings_for(graph, file)` does both.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestra.binding.document import (
    BarrierRule,
    Bindings,
    ScenarioCleanup,
    ScenarioRule,
    StepBinding,
)
from orchestra.binding.extension import bindings_from_extension_elements
from orchestra.binding.templates import TemplateFailure, Templates
from orchestra.binding.yamlsource import (
    Problem,
    Source,
    dotted,
    locate,
    parse,
    problems_of,
    read_source,
    refusal,
)
from orchestra.domain.generation.calls import SEPARATOR
from orchestra.domain.process import Node, NodeCategory, ProcessGraph

_SECTIONS = ("tasks", "events", "flows")


def load_bindings(path_or_text: str | Path, graph: ProcessGraph | None = None) -> Bindings:
    source = read_source(path_or_text)
    return parse_bindings(source, graph)


def parse_bindings(source: Source, graph: ProcessGraph | None = None) -> Bindings:
    value, tree = parse(source)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise refusal(source, [Problem("", locate(tree, (), source), "expected a mapping")])
    try:
        bindings = Bindings.model_validate(value)
    except ValidationError as exc:
        raise refusal(source, problems_of(exc, tree, source)) from exc
    problems = _semantic_problems(bindings, tree, source)
    if graph is not None:
        bindings, unresolved = _resolve(bindings, graph, tree, source)
        problems += unresolved
    if problems:
        raise refusal(source, problems)
    return bindings


def _semantic_problems(bindings: Bindings, tree: Any, source: Source) -> list[Problem]:
    """What the schema cannot say: tasks need an action, templates must compile."""
    problems = []
    for section in ("tasks", "events"):
        bound: dict[str, StepBinding] = getattr(bindings, section)
        for key, binding in bound.items():
            loc: list[str | int] = [section, key]
            if binding.action is None:
                problems += _actionless_problems(section, binding, loc, tree, source)
            if binding.cancels_transaction:
                problems += _cancel_problems(section, binding, loc, tree, source)
            problems += _template_problems(binding, loc, tree, source)
    return problems + _duplicate_barriers(bindings.barriers, tree, source)


def _duplicate_barriers(
    barriers: tuple[BarrierRule, ...], tree: Any, source: Source
) -> list[Problem]:
    """A barrier's name is what its runs meet by: two entries with one name would be one barrier."""
    first: dict[str, int] = {}
    problems = []
    for i, barrier in enumerate(barriers):
        if barrier.name not in first:
            first[barrier.name] = i
            continue
        loc: list[str | int] = ["barriers", i, "name"]
        earlier = locate(tree, ["barriers", first[barrier.name], "name"], source)
        message = (
            f"barrier name {barrier.name!r} is already used by barriers[{first[barrier.name]}]"
        )
        message += f" (line {earlier})" if earlier is not None else ""
        problems.append(Problem(dotted(loc), locate(tree, loc, source), message))
    return problems


def _actionless_problems(
    section: str, binding: StepBinding, loc: list[str | int], tree: Any, source: Source
) -> list[Problem]:
    """Without an action only `that` checks (over the run's values) have something to check."""
    if section == "tasks" and not binding.checks:
        return [Problem(dotted(loc), locate(tree, loc, source), "missing `action`")]
    problems = []
    if binding.eventually is not None and binding.eventually.poll is not None:
        where_poll: list[str | int] = [*loc, "eventually", "poll"]
        message = "`eventually.poll` watches what the step's `action` did: it needs one"
        problems.append(Problem(dotted(where_poll), locate(tree, where_poll, source), message))
    for index, check in enumerate(binding.checks):
        if check.kind != "that":
            where: list[str | int] = [*loc, "checks", index]
            message = f"a {check.kind} check needs an `action` (without one, use `that`)"
            problems.append(Problem(dotted(where), locate(tree, where, source), message))
    return problems


def _cancel_problems(
    section: str, binding: StepBinding, loc: list[str | int], tree: Any, source: Source
) -> list[Problem]:
    """Only a task's action can cancel a transaction: an event has none to send."""
    where: list[str | int] = [*loc, "cancelsTransaction"]
    if section != "tasks":
        message = "only a task's action can cancel its transaction: bind it under `tasks:`"
    elif binding.action is None:
        message = "`cancelsTransaction` needs the `action` that cancels"
    else:
        return []
    return [Problem(dotted(where), locate(tree, where, source), message)]


def _template_problems(
    binding: StepBinding, loc: list[str | int], tree: Any, source: Source
) -> list[Problem]:
    templates = Templates()
    raw = binding.model_dump(mode="json", by_alias=True, exclude_none=True)
    problems = []
    for path, text in _strings(raw, loc):
        try:
            templates.compile(text)
        except TemplateFailure as exc:
            problems.append(Problem(dotted(path), locate(tree, path, source), exc.message))
    return problems


def _strings(value: Any, loc: list[str | int]) -> list[tuple[list[str | int], str]]:
    if isinstance(value, str):
        return [(loc, value)] if ("{{" in value or "{%" in value) else []
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _strings(item, [*loc, key])]
    if isinstance(value, list):
        return [pair for i, item in enumerate(value) for pair in _strings(item, [*loc, i])]
    return []


def _resolve(
    bindings: Bindings, graph: ProcessGraph, tree: Any, source: Source
) -> tuple[Bindings, list[Problem]]:
    problems: list[Problem] = []
    resolved: dict[str, dict[str, Any]] = {}
    for section in _SECTIONS:
        resolved[section] = {}
        for key, binding in getattr(bindings, section).items():
            element_id, message = _element_id(section, key, graph)
            loc = [section, key]
            if element_id is None or message:
                problems.append(Problem(dotted(loc), locate(tree, loc, source), message or ""))
            elif element_id in resolved[section]:
                duplicate = f"binds {element_id} a second time (by id and by name)"
                problems.append(Problem(dotted(loc), locate(tree, loc, source), duplicate))
            else:
                resolved[section][element_id] = binding
                cancels = isinstance(binding, StepBinding) and binding.cancels_transaction
                if cancels and not _in_transaction(graph, element_id):
                    where = [*loc, "cancelsTransaction"]
                    message = f"{element_id} lies in no transaction: there is nothing to cancel"
                    problems.append(Problem(dotted(where), locate(tree, where, source), message))
    rules, rule_problems = _resolve_rules(bindings, graph, tree, source)
    barriers, barrier_problems = _resolve_barriers(bindings, graph, tree, source)
    cleanup, cleanup_problems = _resolve_cleanup(bindings, graph, tree, source)
    update = {**resolved, "scenarios": rules, "barriers": barriers, "cleanup": cleanup}
    found = problems + rule_problems + barrier_problems + cleanup_problems
    return bindings.model_copy(update=update), found


def _resolve_cleanup(
    bindings: Bindings, graph: ProcessGraph, tree: Any, source: Source
) -> tuple[tuple[ScenarioCleanup, ...], list[Problem]]:
    """`cleanup[i].reaching` names any node or flow: an id once resolved."""
    problems: list[Problem] = []
    cleanup = []
    for i, action in enumerate(bindings.cleanup):
        if action.reaching is None:
            cleanup.append(action)
            continue
        element = _any_element(action.reaching, graph, ["cleanup", i, "reaching"], tree, source)
        if isinstance(element, Problem):
            problems.append(element)
        else:
            cleanup.append(action.model_copy(update={"reaching": element}))
    return tuple(cleanup), problems


def _in_transaction(graph: ProcessGraph, element_id: str) -> bool:
    """Whether an activity lies in a transaction, at any depth (events have no action)."""
    node = graph.node_by_id[element_id]
    if not node.category.is_activity:
        return False
    seen: set[str] = set()
    while node.parent is not None and node.parent not in seen:
        seen.add(node.parent)
        node = graph.node_by_id[node.parent]
        if node.type == "transaction":
            return True
    return False


def _resolve_barriers(
    bindings: Bindings, graph: ProcessGraph, tree: Any, source: Source
) -> tuple[tuple[BarrierRule, ...], list[Problem]]:
    """`barriers[i].before` / `.after` name a task or an event (a step): ids once resolved."""
    problems: list[Problem] = []
    barriers = []
    for i, barrier in enumerate(bindings.barriers):
        element_id, why = _step_element(barrier.element, graph)
        if element_id is None:
            loc: list[str | int] = ["barriers", i, barrier.side]
            problems.append(Problem(dotted(loc), locate(tree, loc, source), why))
        else:
            barriers.append(barrier.model_copy(update={barrier.side: element_id}))
    return tuple(barriers), problems


def _step_element(key: str, graph: ProcessGraph) -> tuple[str | None, str]:
    """The task or event a barrier is placed at (by id or unique name), or why there is none."""
    node = graph.node_by_id.get(key)
    if node is None:
        named = [n for n in graph.nodes if n.name == key]
        if len(named) > 1:
            ids = ", ".join(n.id for n in named)
            return None, f"name {key!r} is ambiguous: use one of the ids {ids}"
        if not named:
            return None, _unknown_step_element(key, graph)
        node = named[0]
    if not (node.category.is_activity or node.category.is_event):
        return (
            None,
            f"{node.id} is a {node.type}: a barrier goes before or after a task or an event",
        )
    return node.id, ""


def _unknown_step_element(key: str, graph: ProcessGraph) -> str:
    if key in graph.flow_by_id:
        return f"{key} is a sequence flow: a barrier goes before or after a task or an event"
    known = [*graph.node_by_id, *(node.name for node in graph.nodes if node.name)]
    close = difflib.get_close_matches(key, known, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"unknown element {key!r}: no task or event of the process has this id or name{hint}"


def _resolve_rules(
    bindings: Bindings, graph: ProcessGraph, tree: Any, source: Source
) -> tuple[tuple[ScenarioRule, ...], list[Problem]]:
    """`scenarios[i].reaching` and its dependencies' name any node or flow: ids once resolved."""
    problems: list[Problem] = []
    rules = []
    for i, rule in enumerate(bindings.scenarios):
        reaching = _any_element(rule.reaching, graph, ["scenarios", i, "reaching"], tree, source)
        deps = []
        for j, dep in enumerate(rule.depends_on):
            loc: list[str | int] = ["scenarios", i, "dependsOn", j, "reaching"]
            element = _any_element(dep.reaching, graph, loc, tree, source)
            if isinstance(element, Problem):
                problems.append(element)
            else:
                deps.append(dep.model_copy(update={"reaching": element}))
        if isinstance(reaching, Problem):
            problems.append(reaching)
        else:
            rules.append(rule.model_copy(update={"reaching": reaching, "depends_on": tuple(deps)}))
    return tuple(rules), problems


def _any_element(
    key: str, graph: ProcessGraph, loc: list[str | int], tree: Any, source: Source
) -> str | Problem:
    for section in ("tasks", "events", "flows"):
        element_id, message = _element_id(section, key, graph)
        if element_id is not None and not message:
            return element_id
    if key in graph.node_by_id:  # a gateway or another node no section takes
        return key
    named = [n.id for n in graph.nodes if n.name == key]
    if len(named) == 1:
        return named[0]
    why = f"unknown element {key!r}: no node or flow of the process has this id or name"
    if len(named) > 1:
        why = f"name {key!r} is ambiguous: use one of the ids {', '.join(named)}"
    return Problem(dotted(loc), locate(tree, loc, source), why)


def _element_id(section: str, key: str, graph: ProcessGraph) -> tuple[str | None, str | None]:
    """The element a key names, or why it names none."""
    if section == "flows":
        candidates = {flow.id: flow.name for flow in graph.flows}
        kinds = {flow.id: "sequenceFlow" for flow in graph.flows}
    else:
        candidates = {node.id: node.name for node in graph.nodes}
        kinds = {node.id: node.type for node in graph.nodes}
    if key in candidates:
        element_id = key
    else:
        named = [eid for eid, name in candidates.items() if name == key]
        if len(named) > 1:
            return None, f"name {key!r} is ambiguous: use one of the ids {', '.join(named)}"
        if not named:
            return None, _misplaced(section, key, graph) or _unknown(section, key, candidates)
        element_id = named[0]
    if section == "flows":
        return element_id, None
    node = graph.node_by_id[element_id]
    if not _fits(section, node.category):
        expected = "a task" if section == "tasks" else "an event"
        return None, f"{element_id} is {_a(kinds[element_id])}, not {expected}"
    if node.category is not NodeCategory.END_EVENT and not graph.acts(node):
        return None, _no_step(node, graph)
    return element_id, None


def _no_step(node: Node, graph: ProcessGraph) -> str:
    """Why a binding of `node` would never run: generation makes no step of it."""
    if node.category is NodeCategory.SUB_PROCESS:
        inner = "the elements of the process it calls" if node.called_element else "its tasks"
        return f"{node.id} is {_a(node.type)}: no step is made of it but of {inner}; bind those"
    why = (
        f"{node.id} is {_a(node.type)} without a message, signal, timer, conditional or "
        "escalation definition or a message flow: no step is made of it, so its binding "
        "would never run"
    )
    after = _next_step(node, graph)
    if after is None:
        return why
    named = f" ({after.name!r})" if after.name else ""
    return f"{why}; bind what it should do on the step after it, {after.id}{named}"


def _next_step(node: Node, graph: ProcessGraph) -> Node | None:
    """The first node after `node`, by its outgoing flows, that generation makes a step of."""
    seen = {node.id}
    ahead = [flow.target for flow in graph.outgoing.get(node.id, ())]
    while ahead:
        element_id = ahead.pop(0)
        if element_id in seen or element_id not in graph.node_by_id:
            continue
        seen.add(element_id)
        candidate = graph.node_by_id[element_id]
        if candidate.category is NodeCategory.END_EVENT or graph.acts(candidate):
            return candidate
        ahead.extend(flow.target for flow in graph.outgoing.get(element_id, ()))
    return None


def _misplaced(section: str, key: str, graph: ProcessGraph) -> str | None:
    """Why `key` is no element of `section` when it is an element of another kind by its id:
    a flow under `tasks:`, a task under `flows:`."""
    if section != "flows" and any(flow.id == key for flow in graph.flows):
        expected = "a task" if section == "tasks" else "an event"
        return f"{key} is a sequenceFlow, not {expected}: bind it under `flows:`"
    node = graph.node_by_id.get(key) if section == "flows" else None
    if node is None:
        return None
    place = "events" if node.category.is_event else "tasks"
    return f"{key} is {_a(node.type)}, not a flow: bind it under `{place}:`"


def _a(kind: str) -> str:
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _fits(section: str, category: NodeCategory) -> bool:
    """`tasks`: what becomes an ACTION step (activities, and events that wait or send)."""
    if section == "tasks":
        return category.is_activity or (
            category.is_event and category is not NodeCategory.END_EVENT
        )
    return category.is_event


def _unknown(section: str, key: str, candidates: dict[str, str | None]) -> str:
    kind = {"tasks": "task", "events": "event", "flows": "flow"}[section]
    called = [element for element in candidates if element.endswith(f"{SEPARATOR}{key}")]
    if called:  # an inlined called process's element, named by its own id
        ids = ", ".join(called)
        return f"{key!r} is a {kind} of a called process: name it through its call, as {ids}"
    known = [*candidates, *(name for name in candidates.values() if name)]
    close = difflib.get_close_matches(key, known, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"unknown {kind} {key!r}: no element of the process has this id or name{hint}"


def bindings_for(graph: ProcessGraph, path_or_text: str | Path | None = None) -> Bindings:
    """What `generate --bindings FILE` attaches: the BPMN's embedded bindings, then the file's."""
    embedded = bindings_from_extension_elements(graph)
    if path_or_text is None:
        return embedded
    return merge_bindings(embedded, load_bindings(path_or_text, graph))


def merge_bindings(base: Bindings, override: Bindings) -> Bindings:
    """`override` (a binding file) laid over `base` (bindings embedded in the BPMN), key by
    key of the format, whatever keys it has: a mapping (`tasks`...) merged per element, the
    file's entry winning; a list (`scenarios`, `barriers`, `cleanup`...) the file's after
    the embedded; a section (`defaults`) or a value the file's when it writes one."""
    merged = {
        field.alias or name: _merged(
            getattr(base, name), getattr(override, name), name in override.model_fields_set
        )
        for name, field in Bindings.model_fields.items()
    }
    return Bindings.model_validate(merged)


def _merged(base: Any, override: Any, written: bool) -> Any:
    if isinstance(base, dict):
        return {**base, **override}
    if isinstance(base, tuple):
        return (*base, *override)
    if isinstance(base, BaseModel):
        return override if override.model_fields_set else base
    return override if written else base
