"""The executor at the edges a demanding binding meets: odd templates, odd responses, time.

Each test runs a real aiohttp server on 127.0.0.1 whose handlers answer the way real SUTs do
at the edges (repeated headers, legacy charsets, slow answers, URLs with queries).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from orchestra.binding.document import Defaults, StepBinding, spec_from_binding
from orchestra.binding.environment import EnvironmentSpec, resolve_secrets
from orchestra.binding.executor import StepExecutor
from orchestra.domain.execution import StepOutcome
from orchestra.domain.scenario import ScenarioStep
from orchestra.domain.statuses import StepKind, StepStatus
from tests.integration.executor_sut import bound_step, context, environment
from tests.support.servers import served


def _app(seen: list[web.Request]) -> web.Application:
    async def items(request: web.Request) -> web.Response:
        seen.append(request)
        response = web.json_response({"items": [{"id": 1}, {"id": 2}], "path": request.raw_path})
        response.headers.add("X-Multi", "one")
        response.headers.add("X-Multi", "two")
        return response

    async def slow(request: web.Request) -> web.Response:
        seen.append(request)
        await asyncio.sleep(float(request.query["delay"]))
        return web.json_response({"state": "PENDING"})

    async def legacy(request: web.Request) -> web.Response:
        charset = request.query["charset"]
        body = "Bestellung für Müller".encode("latin-1")
        return web.Response(body=body, headers={"Content-Type": f"text/plain; charset={charset}"})

    async def deep(request: web.Request) -> web.Response:
        depth = 100_000
        return web.Response(body=b"[" * depth + b"]" * depth, content_type="application/json")

    async def filling(request: web.Request) -> web.Response:
        seen.append(request)
        filled = len([r for r in seen if r.path == "/filling"]) >= 3
        return web.json_response({"items": [1] if filled else None})

    async def starting(request: web.Request) -> web.Response:
        seen.append(request)
        calls = len([r for r in seen if r.path == request.path])
        if calls == 1:
            return web.Response(text="<html>502 Bad Gateway</html>", status=502)
        if calls == 2:
            return web.json_response({"error": "no such order"}, status=404)
        return web.json_response({"state": "DONE"})

    app = web.Application()
    app.router.add_get("/starting/{kind}", starting)
    app.router.add_get("/filling", filling)
    app.router.add_get("/deep", deep)
    app.router.add_route("*", "/items", items)
    app.router.add_get("/legacy", legacy)
    app.router.add_get("/slow", slow)
    app.router.add_get("/{tail:.*}", items)
    return app


@pytest.fixture
async def sut() -> AsyncIterator[tuple[str, list[web.Request]]]:
    seen: list[web.Request] = []
    async with served(_app(seen)) as base_url:
        yield base_url, seen


@pytest.fixture
async def executor(sut: tuple[str, list[web.Request]]) -> AsyncIterator[StepExecutor]:
    async with StepExecutor(environment(sut[0]), {}) as running:
        yield running


async def run(executor: StepExecutor, binding: dict[str, Any], **ctx: Any) -> StepOutcome:
    return await executor.execute(bound_step(binding), context(**ctx))


async def test_a_missing_variable_inside_a_json_literal_is_an_error_naming_it(
    executor: StepExecutor,
) -> None:
    outcome = await run(
        executor, {"action": {"method": "POST", "path": "/items", "json": "{{ [vars.a, 1] }}"}}
    )

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert "vars.a is undefined" in outcome.error


async def test_an_export_made_with_a_jinja_filter_is_stored_as_a_list(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/items"},
        "exportAs": {"ids": "{{ response.json['items'] | map(attribute='id') }}"},
    })  # fmt: skip

    assert outcome.exports == {"ids": [1, 2]}
    assert '"ids":[1,2]' in outcome.model_dump_json()  # what the checkpoint writes


async def test_a_that_check_selecting_nothing_fails(executor: StepExecutor) -> None:
    outcome = await run(executor, {
        "action": {"path": "/items"},
        "checks": [{"that": "{{ response.json['items'] | selectattr('id', 'gt', 5) }}"}],
    })  # fmt: skip

    assert outcome.status is StepStatus.FAILED
    assert outcome.checks[-1].actual == []


@pytest.mark.parametrize("ref", ["#/definitions/nowhere", "http://127.0.0.1:9/item.json"])
async def test_a_schema_whose_ref_leads_nowhere_is_an_error_naming_the_ref(
    executor: StepExecutor, ref: str
) -> None:
    outcome = await run(
        executor, {"action": {"path": "/items"}, "checks": [{"schema": {"$ref": ref}}]}
    )

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert "check schema: the schema's $ref cannot be resolved" in outcome.error
    assert ref.lstrip("#") in outcome.error


async def test_a_schema_with_a_local_ref_is_checked(executor: StepExecutor) -> None:
    schema = {
        "$defs": {"item": {"type": "object", "required": ["id"]}},
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/item"}}},
    }
    outcome = await run(executor, {"action": {"path": "/items"}, "checks": [{"schema": schema}]})

    assert outcome.status is StepStatus.PASSED, outcome.error


async def test_a_poll_answered_after_the_eventually_timeout_is_the_last(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/slow", "query": {"delay": 0.4}},
        "checks": [{"jsonpath": "$.state", "eq": "DONE"}],
        "eventually": {"timeout": 0.3, "interval": 0.05},
    })  # fmt: skip

    assert outcome.status is StepStatus.FAILED
    assert outcome.attempts == 1
    assert outcome.error is not None
    assert outcome.error.endswith("(still failing: 1 polls in 0.3 s)")


async def test_polling_stops_when_a_poll_ends_with_no_interval_left_before_the_timeout(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/slow", "query": {"delay": 0.2}},
        "checks": [{"jsonpath": "$.state", "eq": "DONE"}],
        "eventually": {"timeout": 0.7, "interval": 0.05},
    })  # fmt: skip

    assert outcome.status is StepStatus.FAILED
    # polls end at 0.2, 0.45 and 0.7 s: after the third, no room is left for a fourth
    assert outcome.attempts == 3


async def test_a_secret_in_the_path_is_redacted_in_the_url_the_response_came_from(
    sut: tuple[str, list[web.Request]],
) -> None:
    secret = "pä:ss w@rd"  # ':' and '@' stay as they are in a path, 'ä' and ' ' do not
    spec = EnvironmentSpec.model_validate({
        "name": "t", "services": {"api": {"base_url": sut[0]}}, "secrets": {"key": "${KEY}"},
    })  # fmt: skip
    binding = {"action": {"path": "/reset/{{ secrets.key }}"}}
    async with StepExecutor(spec, resolve_secrets(spec, {"KEY": secret})) as executor:
        outcome = await executor.execute(bound_step(binding), context())

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.response is not None
    assert outcome.response["url"].endswith("/reset/***")
    assert "p%C3%A4:ss%20w@rd" not in outcome.model_dump_json()


async def test_a_header_sent_twice_is_checked_and_recorded_with_both_values(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/items"}, "checks": [{"header": "x-multi", "contains": "two"}]
    })  # fmt: skip

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.response is not None
    assert outcome.response["headers"]["X-Multi"] == "one, two"


async def test_query_pairs_added_to_a_path_with_a_query_are_recorded_as_sent(
    sut: tuple[str, list[web.Request]], executor: StepExecutor
) -> None:
    outcome = await run(executor, {"action": {"path": "/items?expand=all", "query": {"page": 2}}})

    assert sut[1][-1].raw_path == "/items?expand=all&page=2"
    assert outcome.request is not None
    assert outcome.request["url"] == f"{sut[0]}/items?expand=all&page=2"


async def test_an_error_names_the_url_with_both_queries(executor: StepExecutor) -> None:
    outcome = await run(
        executor, {"action": {"path": "/slow?delay=1", "query": {"page": 2}, "timeout": 0.05}}
    )

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert "/slow?delay=1&page=2: no response within 0.05 s" in outcome.error


async def test_a_text_body_is_read_in_the_charset_its_content_type_names(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/legacy", "query": {"charset": "ISO-8859-1"}},
        "checks": [{"that": "{{ 'für Müller' in response.body }}"}],
    })  # fmt: skip

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.response is not None
    assert outcome.response["body"] == "Bestellung für Müller"


@pytest.mark.parametrize("charset", ["no-such-charset", "rot13", "base64"])
async def test_a_charset_python_cannot_decode_text_with_is_read_as_utf_8(
    executor: StepExecutor, charset: str
) -> None:
    outcome = await run(executor, {"action": {"path": "/legacy", "query": {"charset": charset}}})

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.response is not None
    assert outcome.response["body"] == "Bestellung f\ufffdr M\ufffdller"


@pytest.mark.parametrize(
    "template",
    [
        "{{ response.headers['x-multi'] }}",
        "{{ response.headers.get('X-MULTI') }}",
        "multi: {{ response.headers['x-multi'] }}",
        "{{ response.headers['x-multi'] if 'x-multi' in response.headers else 'none' }}",
    ],
)
async def test_templates_find_a_response_header_by_its_name_in_any_case(
    executor: StepExecutor, template: str
) -> None:
    outcome = await run(executor, {"action": {"path": "/items"}, "save": {"multi": template}})

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.saved["multi"].endswith("one, two")


async def test_a_header_set_again_in_another_case_replaces_the_one_beneath_it(
    sut: tuple[str, list[web.Request]],
) -> None:
    spec = EnvironmentSpec.model_validate({
        "name": "t", "headers": {"Accept": "application/json", "X-Team": "env"},
        "services": {"api": {"base_url": sut[0], "headers": {"x-team": "service"}}},
    })  # fmt: skip
    own = {"accept": "text/csv", "content-type": "application/merge-patch+json"}
    binding = StepBinding.model_validate(
        {"action": {"method": "PATCH", "path": "/items", "json": {"a": 1}, "headers": own}}
    )
    defaults = Defaults(headers={"Content-Type": "application/json"})
    step = ScenarioStep(
        position=1, kind=StepKind.ACTION, element_id="Task_A",
        spec=spec_from_binding(binding, defaults, {}).to_json(),
    )  # fmt: skip
    async with StepExecutor(spec, {}) as executor:
        outcome = await executor.execute(step, context())

    assert outcome.request is not None
    recorded = {k.lower(): v for k, v in outcome.request["headers"].items()}
    assert len(recorded) == len(outcome.request["headers"])  # each name once
    received = sut[1][-1].headers
    for name, value in [
        ("accept", "text/csv"),
        ("x-team", "service"),
        ("content-type", "application/merge-patch+json"),
    ]:
        assert recorded[name] == value
        assert received.getall(name) == [value]


async def test_an_environment_variable_holding_a_reference_renders_its_value_unmasked(
    sut: tuple[str, list[web.Request]],
) -> None:
    spec = EnvironmentSpec.model_validate({
        "name": "t", "services": {"api": {"base_url": sut[0]}},
        "variables": {"tenant": "${TENANT}"}, "secrets": {"key": "${KEY}"},
    })  # fmt: skip
    binding = {"action": {"path": "/items/{{ env.tenant }}", "query": {"k": "{{ secrets.key }}"}}}
    environ = {"TENANT": "a", "KEY": "k3y-9f2c"}
    async with StepExecutor(spec, resolve_secrets(spec, environ)) as executor:
        outcome = await executor.execute(bound_step(binding), context())

    assert sut[1][-1].path == "/items/a"
    assert outcome.request is not None
    assert outcome.request["url"] == f"{sut[0]}/items/a?k=***"  # the secret still masked
    assert outcome.response is not None
    assert outcome.response["headers"]["Content-Type"] == "application/json; charset=utf-8"


async def test_a_variable_referenced_by_a_secret_field_too_stays_masked(
    sut: tuple[str, list[web.Request]],
) -> None:
    spec = EnvironmentSpec.model_validate({
        "name": "t", "services": {"api": {"base_url": sut[0]}},
        "variables": {"who": "${TOKEN}"}, "auth": {"type": "bearer", "token": "${TOKEN}"},
    })  # fmt: skip
    binding = {"action": {"path": "/items/{{ env.who }}"}}
    async with StepExecutor(spec, resolve_secrets(spec, {"TOKEN": "t0k-5e"})) as executor:
        outcome = await executor.execute(bound_step(binding), context())

    assert outcome.request is not None
    assert outcome.request["url"] == f"{sut[0]}/items/***"


async def test_json_nested_too_deeply_is_an_error_where_json_is_needed_and_a_body_otherwise(
    executor: StepExecutor,
) -> None:
    checked = await run(executor, {"action": {"path": "/deep"}, "checks": [{"jsonpath": "$[0]"}]})
    unchecked = await run(executor, {"action": {"path": "/deep"}})

    assert checked.status is StepStatus.ERROR
    assert checked.error is not None
    assert "response body is JSON nested too deeply to read (200000 bytes)" in checked.error
    assert unchecked.status is StepStatus.PASSED, unchecked.error
    assert unchecked.response is not None
    assert "body" in unchecked.response


async def test_a_data_value_encoded_into_the_path_reaches_the_sut_as_one_segment(
    sut: tuple[str, list[web.Request]],
) -> None:
    environment_with_prefix = environment(f"{sut[0]}/api/v1//")
    binding = {"action": {"path": "/users/{{ data.name | urlencode | replace('/', '%2F') }}"}}
    async with StepExecutor(environment_with_prefix, {}) as executor:
        outcome = await run(executor, binding, data={"name": "a b/c?d#e%"})

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert sut[1][-1].raw_path == "/api/v1/users/a%20b%2Fc%3Fd%23e%25"
    assert sut[1][-1].match_info["tail"] == "api/v1/users/a b/c?d#e%"


async def test_a_regular_expression_a_template_made_invalid_is_an_error_naming_it(
    executor: StepExecutor,
) -> None:
    binding = {
        "action": {"path": "/items"},
        "checks": [{"header": "X-Multi", "matches": "^{{ data.prefix }}"}],
    }
    outcome = await run(executor, binding, data={"prefix": "+1 (555"})

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert "check header X-Multi matches: invalid regular expression '^+1 (555'" in outcome.error


async def test_a_jmespath_function_given_the_wrong_type_fails_the_check_and_polling_goes_on(
    executor: StepExecutor,
) -> None:
    binding = {"action": {"path": "/filling"}, "checks": [{"jmespath": "length(items)", "ge": 1}]}
    once = await run(executor, binding)
    polled = await run(executor, binding | {"eventually": {"timeout": 5, "interval": 0.01}})

    assert once.status is StepStatus.FAILED
    assert once.error is not None
    assert (
        "jmespath length(items) ge: expected 1, got None (In function length(), invalid type"
        in (once.error)
    )
    assert polled.status is StepStatus.PASSED, polled.error
    assert polled.attempts == 2


@pytest.mark.parametrize(
    "check",
    [
        {"jsonpath": "$.state", "eq": "DONE"},
        {"that": "{{ response.json.state == 'DONE' }}"},
    ],
)
async def test_polling_waits_through_answers_that_cannot_be_judged_yet(
    executor: StepExecutor, check: dict[str, Any]
) -> None:
    outcome = await run(executor, {
        "action": {"path": f"/starting/{next(iter(check))}"}, "checks": [check],
        "eventually": {"timeout": 5, "interval": 0.01},
    })  # fmt: skip

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert outcome.attempts == 3


async def test_an_answer_that_never_can_be_judged_is_an_error_once_polling_ends(
    executor: StepExecutor,
) -> None:
    outcome = await run(executor, {
        "action": {"path": "/legacy", "query": {"charset": "utf-8"}},
        "checks": [{"jsonpath": "$.state", "eq": "DONE"}],
        "eventually": {"timeout": 0.1, "interval": 0.03},
    })  # fmt: skip

    assert outcome.status is StepStatus.ERROR
    assert outcome.error is not None
    assert "response body is not valid JSON" in outcome.error
    assert outcome.error.endswith("polls in 0.1 s)")
    assert outcome.attempts > 1


async def test_a_header_rendered_to_null_is_left_out_like_a_query_value(
    sut: tuple[str, list[web.Request]], executor: StepExecutor
) -> None:
    binding = {
        "action": {
            "path": "/items",
            "headers": {"X-Tenant": "{{ data.tenant }}"},
            "query": {"tenant": "{{ data.tenant }}"},
        }
    }
    outcome = await run(executor, binding, data={"tenant": None})

    assert outcome.status is StepStatus.PASSED, outcome.error
    assert "X-Tenant" not in sut[1][-1].headers
    assert sut[1][-1].query_string == ""
