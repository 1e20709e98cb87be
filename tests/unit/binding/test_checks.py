"""Every check operator, holding and not holding, with expected and actual recorded."""

from __future__ import annotations

import json
import random
import string
from typing import Any

import pytest

from orchestra.binding.checks import InvalidJson, ResponseView, compare, compile_check
from orchestra.binding.model import Check, check_jsonpath, compiled_jsonpath, jsonpath_values
from orchestra.binding.templates import Templates
from orchestra.domain.execution import CheckResult

BODY = {"state": "DONE", "id": 42, "items": [1, 2, 3], "name": "alpha", "total": 9.5, "none": None}


def view(body: Any = BODY, status: int = 200, elapsed_ms: float = 12.0) -> ResponseView:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Trace": "abc-123"}
    return ResponseView(status, headers, raw, elapsed_ms)


def run(short_form: dict[str, Any], response: ResponseView | None = None) -> CheckResult:
    compiled = compile_check(Check.model_validate(short_form), Templates())
    expected = compiled.expected({})
    return compiled.evaluate(response or view(), {}, expected)


@pytest.mark.parametrize(
    ("check", "actual"),
    [
        ({"jsonpath": "$.state", "eq": "DONE"}, "DONE"),
        ({"jsonpath": "$.state", "ne": "FAILED"}, "DONE"),
        ({"jsonpath": "$.name", "contains": "lph"}, "alpha"),
        ({"jsonpath": "$.items", "contains": 2}, [1, 2, 3]),
        ({"jsonpath": "$.name", "matches": "^al.*a$"}, "alpha"),
        ({"jsonpath": "$.id", "exists": True}, True),
        ({"jsonpath": "$.missing", "exists": False}, False),
        ({"jsonpath": "$.id", "gt": 41}, 42),
        ({"jsonpath": "$.total", "lt": 10}, 9.5),
        ({"jsonpath": "$.id", "ge": 42}, 42),
        ({"jsonpath": "$.id", "le": 42}, 42),
        ({"jsonpath": "$.items", "length": 3}, [1, 2, 3]),
        ({"jsonpath": "$.state", "in": ["DONE", "CLOSED"]}, "DONE"),
        ({"jsonpath": "$.items[*]", "eq": [1, 2, 3]}, [1, 2, 3]),
        ({"header": "x-trace", "eq": "abc-123"}, "abc-123"),
        ({"header": "X-Trace", "matches": "^abc"}, "abc-123"),
        ({"header": "Content-Type"}, True),
        ({"status": 200}, 200),
        ({"status": "2xx"}, 200),
        ({"status": [200, 204]}, 200),
        ({"status": {"lt": 300}}, 200),
        ({"latency_ms": 500}, 12.0),
    ],
)
def test_a_check_that_holds_records_what_it_saw(check: dict[str, Any], actual: Any) -> None:
    result = run(check)

    assert result.passed, result.message
    assert result.actual == actual
    assert result.message is None


@pytest.mark.parametrize(
    ("check", "expected", "actual"),
    [
        ({"jsonpath": "$.state", "eq": "PENDING"}, "PENDING", "DONE"),
        ({"jsonpath": "$.state", "ne": "DONE"}, "DONE", "DONE"),
        ({"jsonpath": "$.name", "contains": "z"}, "z", "alpha"),
        ({"jsonpath": "$.name", "matches": "^b"}, "^b", "alpha"),
        ({"jsonpath": "$.missing", "exists": True}, True, False),
        ({"jsonpath": "$.id", "gt": 42}, 42, 42),
        ({"jsonpath": "$.id", "lt": 42}, 42, 42),
        ({"jsonpath": "$.id", "ge": 43}, 43, 42),
        ({"jsonpath": "$.id", "le": 41}, 41, 42),
        ({"jsonpath": "$.items", "length": 2}, 2, [1, 2, 3]),
        ({"jsonpath": "$.state", "in": ["NEW"]}, ["NEW"], "DONE"),
        ({"header": "X-Trace", "eq": "zzz"}, "zzz", "abc-123"),
        ({"header": "X-Missing"}, True, False),
        ({"status": 201}, 201, 200),
        ({"status": "4xx"}, "4xx", 200),
        ({"latency_ms": 5}, 5, 12.0),
    ],
)
def test_a_check_that_fails_says_what_it_expected_and_got(
    check: dict[str, Any], expected: Any, actual: Any
) -> None:
    result = run(check)

    assert not result.passed
    assert (result.expected, result.actual) == (expected, actual)
    assert result.message
    assert result.name in result.message


def test_an_ordering_on_a_non_number_fails_with_a_reason() -> None:
    result = run({"jsonpath": "$.state", "gt": 3})

    assert not result.passed
    assert result.message == "jsonpath $.state gt: expected 3, got 'DONE' ('DONE' is not a number)"


def test_contains_on_a_number_fails_with_a_reason() -> None:
    assert compare("contains", 42, 4) == (False, "42 is not a string, list or object")


def test_a_schema_check_reports_where_the_body_departs_from_it() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    passing = run({"schema": {"type": "object", "required": ["id"]}})
    failing = run({"schema": schema})

    assert passing.passed
    assert not failing.passed
    assert failing.actual == "at $.id: 42 is not of type 'string'"


@pytest.mark.parametrize(
    ("check", "passed", "actual"),
    [
        ({"jmespath": "state", "eq": "DONE"}, True, "DONE"),
        ({"jmespath": "items[-1]", "eq": 3}, True, 3),
        ({"jmespath": "length(items)", "ge": 3}, True, 3),
        ({"jmespath": "items[?@ > `1`]", "eq": [2, 3]}, True, [2, 3]),
        ({"jmespath": "id"}, True, True),  # exists, by default
        ({"jmespath": "missing", "exists": False}, True, False),
        ({"jmespath": "none", "exists": True}, False, False),  # null is not there
        ({"jmespath": "state", "in": ["NEW"]}, False, "DONE"),
        ({"jmespath": "name", "matches": "^b"}, False, "alpha"),
    ],
)
def test_a_jmespath_check_compares_what_its_expression_selects(
    check: dict[str, Any], passed: bool, actual: Any
) -> None:
    result = run(check)

    assert (result.passed, result.actual) == (passed, actual), result.message
    assert (result.message is None) == passed


def test_an_invalid_jmespath_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"invalid JMESPath 'items\[\?'"):
        Check.model_validate({"jmespath": "items[?", "eq": 1})


def test_a_jsonpath_check_on_a_body_that_is_not_json_raises_invalid_json() -> None:
    with pytest.raises(InvalidJson, match="not valid JSON"):
        run({"jsonpath": "$.state", "eq": "DONE"}, view(b"<html>"))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_body_with_a_number_json_does_not_have_is_not_json(constant: str) -> None:
    body = f'{{"amount": {constant}}}'.encode()

    with pytest.raises(InvalidJson, match=f"not valid JSON .*{constant} is not a JSON number"):
        run({"jsonpath": "$.amount", "exists": True}, view(body))
    assert view(body).json_or_none() is None  # recorded as the body's text, not as JSON


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": 123456789012345678901234567890}',  # beyond 64 bits: an exact integer
        b'{"id": -9999999999999999999, "at": 18446744073709551616}',
        b'\xef\xbb\xbf{"state": "DONE"}',  # a byte order mark
        '{"state": "DONE"}'.encode("utf-16"),
        b'{"name": "\\ud800"}',  # a lone surrogate, escaped
        b'{"total": 1e400, "ratio": -0.0, "n": 1E2}',
        b"[" * 500 + b"]" * 500,  # nested: orjson reads up to 1,024 levels
    ],
)
def test_a_body_reads_as_json_reads_it(body: bytes) -> None:
    assert repr(view(body).json()) == repr(json.loads(body))


def test_expected_values_may_be_templates() -> None:
    compiled = compile_check(
        Check.model_validate({"jsonpath": "$.id", "eq": "{{ vars.id }}"}), Templates()
    )

    expected = compiled.expected({"vars": {"id": 42}})

    assert compiled.evaluate(view(), {}, expected).passed


@pytest.mark.parametrize(
    ("short_form", "message"),
    [
        ({"jsonpath": "$.a", "equals": 1}, "unknown operator 'equals'"),
        ({"jsonpath": "$.a", "eq": 1, "ne": 2}, "one operator per check"),
        ({"status": 200, "jsonpath": "$.a"}, "exactly one of"),
        ({"status": "ok"}, "neither a code nor a class"),
        ({"latency_ms": {"gt": 5}}, "operator 'gt' does not apply to latency_ms"),
        ({"header": "X", "length": 3}, "operator 'length' does not apply to header"),
        ({"that": "true"}, "needs a template"),
        ({"jsonpath": "$.a", "matches": "("}, "invalid regular expression"),
        ({"status": True}, "status True is neither a code nor a class"),
        ({"status": 42}, "status 42 is neither a code nor a class"),
        ({"status": "999"}, "status '999' is neither a code nor a class"),
        ({"status": []}, r"`status: \{in: ...\}` takes a list of codes, not \[\]"),
        ({"status": [200, None]}, "status None is neither a code nor a class"),
        ({"status": {"lt": "abc"}}, r"`status: \{lt: ...\}` compares with a number, not 'abc'"),
        ({"latency_ms": True}, "latency_ms True is not a number of milliseconds above 0"),
        ({"latency_ms": -5}, "latency_ms -5 is not a number of milliseconds above 0"),
        ({"latency_ms": None}, "latency_ms None is not a number"),
        ({"latency_ms": {"le": "fast"}}, "latency_ms 'fast' is not a number of milliseconds"),
    ],
)
def test_malformed_checks_are_refused(short_form: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Check.model_validate(short_form)


@pytest.mark.parametrize(
    "path", ["$.state", "$.items[1]", "$['name']", "$.items[7]", "$.nothing.deeper", "$"]
)
def test_simple_jsonpaths_find_what_jsonpath_ng_finds(path: str) -> None:
    expected = [match.value for match in compiled_jsonpath(path).find(BODY)]

    assert jsonpath_values(path, BODY) == expected


def plain_paths() -> list[str]:
    """`$.name` and `[index]` parts: names every ASCII character a name may start and go on
    with, jsonpath-ng's words, and a seeded sample of mixes."""
    first, rest = string.ascii_letters + "_", string.ascii_letters + string.digits + "_"
    words = ["where", "wherenot", "true", "false", "null", "and", "or", "not", "in", "len"]
    paths = ["$", "$[0]", "$[00]", "$.a[0][1]", *(f"$.{c}" for c in first), f"$.a{rest}"]
    paths += [p for w in words for p in (f"$.{w}", f"$.a.{w}[0]", f"$[1].{w}.b")]
    draw = random.Random(15)
    for _ in range(500):
        parts = [
            f"[{draw.randint(0, 120)}]"
            if draw.random() < 0.3
            else "." + draw.choice(first) + "".join(draw.choices(rest, k=draw.randint(0, 8)))
            for _ in range(draw.randint(1, 4))
        ]
        paths.append("$" + "".join(parts))
    return paths


def test_a_plain_jsonpath_accepted_without_jsonpath_ng_is_one_jsonpath_ng_parses() -> None:
    # check_jsonpath takes plain paths without importing jsonpath-ng: it must refuse none
    for path in plain_paths():
        try:
            check_jsonpath(path)
        except ValueError:
            with pytest.raises(ValueError, match="invalid JSONPath"):
                compiled_jsonpath(path)
            continue
        compiled_jsonpath(path)  # raises if jsonpath-ng refuses what was accepted


@pytest.mark.parametrize("path", ["$.where", "$.a.wherenot", "$.a[", "$.a b"])
def test_a_path_jsonpath_ng_refuses_is_refused_whether_plain_or_not(path: str) -> None:
    with pytest.raises(ValueError, match="invalid JSONPath"):
        compiled_jsonpath(path)
    with pytest.raises(ValueError, match="invalid JSONPath"):
        check_jsonpath(path)


def test_checks_that_held_keep_the_exact_types_of_their_values_when_run_again() -> None:
    for _ in range(2):  # a result that held may be shared: equal values of other types are not
        as_bool = run({"jsonpath": "$.flag", "eq": True}, view({"flag": True}))
        as_int = run({"jsonpath": "$.flag", "eq": 1}, view({"flag": 1}))

        assert as_bool.passed
        assert as_int.passed
        assert (type(as_bool.expected), type(as_bool.actual)) == (bool, bool)
        assert (type(as_int.expected), type(as_int.actual)) == (int, int)


@pytest.mark.parametrize(
    "short_form",
    [
        {"status": 201},
        {"status": "2xx"},
        {"status": "204"},
        {"status": [200, "3xx"]},
        {"status": {"ge": 200}},
        {"status": {"in": [200, 201]}},
        {"status": {"ne": 500}},
        {"status": "{{ vars.code }}"},
        {"latency_ms": 0.5},
        {"latency_ms": {"le": 800}},
        {"latency_ms": "{{ env.budget }}"},
    ],
)
def test_status_and_latency_checks_take_codes_classes_numbers_and_templates(
    short_form: dict[str, Any],
) -> None:
    assert Check.model_validate(short_form).kind in ("status", "latency_ms")


@pytest.mark.parametrize(
    ("check", "status", "passed"),
    [
        ({"status": {"ne": "5xx"}}, 503, False),
        ({"status": {"ne": "5xx"}}, 201, True),
        ({"status": ["2xx", 404]}, 201, True),
        ({"status": ["2xx", 404]}, 404, True),
        ({"status": ["2xx", 404]}, 500, False),
        ({"status": {"in": ["201", 202]}}, 201, True),
        ({"status": {"ne": "201"}}, 201, False),
        ({"status": "2xx"}, 302, False),
    ],
)
def test_status_classes_and_codes_as_text_hold_for_eq_ne_and_in_alike(
    check: dict[str, Any], status: int, passed: bool
) -> None:
    assert run(check, view(status=status)).passed is passed


@pytest.mark.parametrize(
    ("check", "body", "passed"),
    [
        ({"jsonpath": "$.flag", "eq": 1}, {"flag": True}, False),
        ({"jsonpath": "$.count", "eq": True}, {"count": 1}, False),
        ({"jsonpath": "$.count", "ne": False}, {"count": 0}, True),
        ({"jsonpath": "$.count", "in": [True, 2]}, {"count": 1}, False),
        ({"jsonpath": "$.flags", "contains": 1}, {"flags": [True]}, False),
        ({"jsonpath": "$.row", "eq": [1, {"a": 0}]}, {"row": [True, {"a": False}]}, False),
        ({"jsonpath": "$.row", "eq": [1, {"a": 0}]}, {"row": [1.0, {"a": 0}]}, True),
        ({"jsonpath": "$.flag", "eq": True}, {"flag": True}, True),
    ],
)
def test_true_and_false_are_not_the_numbers_1_and_0(
    check: dict[str, Any], body: Any, passed: bool
) -> None:
    assert run(check, view(body)).passed is passed


def test_a_header_in_a_list_of_numbers_compares_their_digits() -> None:
    response = ResponseView(200, {"X-Page": "2"}, b"{}", 1.0)

    assert run({"header": "x-page", "in": [1, 2]}, response).passed
    assert not run({"header": "x-page", "in": [3, 4]}, response).passed


def test_a_failing_that_check_tells_what_it_read_but_never_a_secret() -> None:
    templates = Templates()
    check = Check.model_validate({"that": "{{ vars.n == secrets.pin and data.items[0] > 5 }}"})
    compiled = compile_check(check, templates)
    ns = {"vars": {"n": 1}, "secrets": {"pin": "0000"}, "data": {"items": [2]}}

    result = compiled.evaluate(None, ns, compiled.expected(ns))

    assert not result.passed
    assert result.message is not None
    assert result.message.endswith("; it read vars.n = 1, data.items[0] = 2")
    assert "0000" not in result.message


def test_a_jsonpath_matching_nothing_is_not_json_null() -> None:
    null = run({"jsonpath": "$.none", "eq": None})
    nothing = run({"jsonpath": "$.missing", "eq": None})
    absent_differs = run({"jsonpath": "$.missing", "ne": "x"})

    assert (null.passed, null.found) == (True, True)
    assert (nothing.passed, nothing.found, nothing.actual) == (False, False, None)
    assert nothing.message == "jsonpath $.missing eq: expected None, got no match"
    assert absent_differs.passed
