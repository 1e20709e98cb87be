"""A step spec made ready to run: templates, checks and extractors compiled once per spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestra.binding.checks import CompiledCheck, ResponseView, compile_check
from orchestra.binding.model import StepSpec, check_jsonpath, jsonpath_values
from orchestra.binding.templates import (
    Namespaces,
    Renderer,
    TemplateFailure,
    Templates,
    is_constant,
)
from orchestra.protocols.base import ActionSpec
from orchestra.protocols.retry import RetryPolicy


class StepError(Exception):
    """Ends a step with ERROR; `message` names the step and the culprit. `final`: polling
    again cannot help (a variable no answer brings), so `eventually` does not poll for it."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.final = final


def render(renderer: Renderer, ns: Namespaces, where: str, what: str) -> Any:
    """Render, turning a template failure into a StepError naming the step and the field."""
    try:
        return renderer(ns)
    except TemplateFailure as exc:
        raise StepError(f"{where}: {what}: {exc.message}", final=not exc.awaits_response) from exc


def render_action(action: CompiledAction, ns: Namespaces, where: str) -> dict[str, Any]:
    """The action's own fields rendered; a failure names the field (`action.path`)."""
    try:
        rendered: dict[str, Any] = action.request(ns)
    except TemplateFailure as exc:
        for name, renderer in action.fields.items():
            render(renderer, ns, where, f"{action.label}.{name}")
        raise StepError(f"{where}: {action.label}: {exc.message}") from exc
    return rendered


class CompiledAction:
    """An action's fields made ready to render; `label` is how errors name it (`action`,
    `eventually.poll`)."""

    __slots__ = ("fields", "label", "request", "retry", "spec", "target")

    def __init__(self, spec: ActionSpec, templates: Templates, label: str) -> None:
        self.spec = spec
        self.label = label
        renderers = {name: templates.compile(v) for name, v in spec.protocol_fields().items()}
        # The protocol's own fields, rendered in one call; `fields` names each for errors.
        self.request: Renderer = _fields_renderer(renderers)
        model_fields = type(spec).model_fields
        self.fields = {model_fields[n].alias or n: r for n, r in renderers.items()}
        self.target: object | None = None  # the RequestBuilder's, set at the first request
        self.retry: RetryPolicy | None = spec.retry_policy()


class CompiledStep:
    """A step spec made ready to run: renderers, checks and extractors built once."""

    __slots__ = (
        "action", "checks", "data", "expected", "exports", "given", "poll", "save", "spec",
        "status_checked",
    )  # fmt: skip

    def __init__(self, spec: StepSpec, exports: dict[str, str], templates: Templates) -> None:
        self.spec = spec
        self.data = spec.data
        self.given = spec.given
        action, eventually = spec.action, spec.eventually
        self.action = CompiledAction(action, templates, "action") if action else None
        poll = eventually.poll if eventually is not None else None
        self.poll = CompiledAction(poll, templates, "eventually.poll") if poll else None
        self.checks: list[CompiledCheck] = [compile_check(c, templates) for c in spec.checks]
        self.status_checked = any(c.kind == "status" for c in spec.checks)
        # The checks' expected values when none is a template (`that` is rendered later).
        self.expected: list[Any] | None = None
        if all(not c.needs_response or is_constant(c.expected) for c in self.checks):
            self.expected = [c.expected({}) if c.needs_response else None for c in self.checks]
        self.save = [(name, extractor(text, templates)) for name, text in spec.save.items()]
        self.exports = [(name, extractor(text, templates)) for name, text in exports.items()]


def _fields_renderer(renderers: dict[str, Renderer]) -> Renderer:
    """Renders only the fields holding a template, over a copy of the constant ones."""
    constant = {name: r({}) for name, r in renderers.items() if is_constant(r)}
    templated = [(name, r) for name, r in renderers.items() if not is_constant(r)]

    def render_fields(ns: Namespaces) -> dict[str, Any]:
        fields = constant.copy()
        for name, renderer in templated:
            fields[name] = renderer(ns)
        return fields

    return render_fields


Extractor = Callable[[ResponseView | None, Namespaces], Any]


def extractor(text: str, templates: Templates) -> Extractor:
    if text.startswith("$"):
        check_jsonpath(text)  # refuses an invalid path now, not at the first response

        def by_jsonpath(view: ResponseView | None, ns: Namespaces) -> Any:
            if view is None:
                raise StepError(f"{text} needs a response: the step has no action")
            found = jsonpath_values(text, view.json())
            if not found:
                raise LookupError(f"{text} matched nothing in the response")
            return found[0] if len(found) == 1 else found

        return by_jsonpath
    renderer = templates.compile(text)
    return lambda view, ns: renderer(ns)
