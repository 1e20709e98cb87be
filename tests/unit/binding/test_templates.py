from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from orchestra.binding.templates import TemplateFailure, Templates

NS: dict[str, Any] = {
    "data": {"amount": 12, "items": [1, 2]},
    "vars": {"order": {"id": "o-1"}},
    "secrets": {},
}


def render(value: object) -> object:
    return Templates().compile(value)(NS)


def test_a_lone_expression_keeps_its_native_type() -> None:
    assert render("{{ data.amount }}") == 12
    assert render({"n": ["{{ data.amount * 2 }}"]}) == {"n": [24]}


def test_text_around_an_expression_renders_to_text() -> None:
    assert render("order {{ vars.order.id }}!") == "order o-1!"


def test_a_data_key_named_like_a_dict_method_is_the_key() -> None:
    assert render("{{ data.items | length }}") == 2


def test_values_without_templates_come_back_as_they_are() -> None:
    value = {"a": [1, "b", None]}
    assert Templates().compile(value)(NS) is value


@pytest.mark.parametrize(
    ("template", "missing"),
    [
        ("{{ vars.order_id }}", "vars.order_id is undefined"),
        ("/orders/{{ vars.order.ref }}", "vars.order.ref is undefined"),
        ("{{ data.items[5] }}", "data.items[5] is undefined"),
        ("{{ nothing }}", "nothing is undefined"),
    ],
)
def test_a_missing_variable_is_named(template: str, missing: str) -> None:
    with pytest.raises(TemplateFailure) as caught:
        render(template)

    assert missing in caught.value.message
    assert template in caught.value.message


def test_the_sandbox_refuses_python_internals() -> None:
    with pytest.raises(TemplateFailure, match="not allowed"):
        render("{{ vars.__class__.__mro__ }}")


@pytest.mark.parametrize(
    "template", ["{{ ('a' * 200000000) | length }}", "{{ [1] * 10**8 }}", "{{ 7 ** 100000 }}"]
)
def test_the_sandbox_refuses_to_build_huge_values(template: str) -> None:
    with pytest.raises(TemplateFailure, match="not allowed"):
        render(template)


def test_ordinary_arithmetic_still_works_in_the_sandbox() -> None:
    assert render("{{ 'ab' * 3 }}") == "ababab"
    assert render("{{ 2 ** 10 }}") == 1024
    assert render("{{ data.amount * 2.5 }}") == 30.0


def test_a_syntax_error_fails_at_compile_time() -> None:
    with pytest.raises(TemplateFailure, match="is invalid"):
        Templates().compile("{{ data.amount ")


def test_compiled_strings_are_cached() -> None:
    templates = Templates()
    assert templates.compile("{{ data.amount }}") is templates.compile("{{ data.amount }}")


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("{{ vars.order['id'] }}", "o-1"),
        ('{{ vars.order["id"] }}', "o-1"),
        ("{{data.items[1]}}", 2),
        ("n={{ data.amount }};f={{ vars.flag }};z={{ vars.none }}", "n=12;f=True;z=None"),
        ("{{ vars.none }}", None),
        ("{{ data.amount + 1 }}", 13),
        ("{{ data.items | length }} items", "2 items"),
    ],
)
def test_plain_lookups_render_as_jinja_would(template: str, rendered: object) -> None:
    ns = {**NS, "vars": {**NS["vars"], "flag": True, "none": None}}

    assert Templates().compile(template)(ns) == rendered


@pytest.mark.parametrize(
    ("template", "missing"),
    [
        ("{{ [vars.order_id, 1] }}", "vars.order_id is undefined"),
        ("{{ {'order': {'id': vars.order.ref} } }}", "vars.order.ref is undefined"),
    ],
)
def test_a_missing_variable_inside_a_list_or_mapping_is_named_too(
    template: str, missing: str
) -> None:
    with pytest.raises(TemplateFailure) as caught:
        render(template)

    assert missing in caught.value.message


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{{ data.items | map('string') }}", ["1", "2"]),
        ("{{ data.items | select('gt', 5) }}", []),
        ("{{ data.items | unique }}", [1, 2]),
        ("{{ range(3) }}", [0, 1, 2]),
        ("{{ {'a': 1}.items() }}", [["a", 1]]),
        ("{{ (1, 2) }}", [1, 2]),
    ],
)
def test_a_lone_expression_giving_a_generator_or_view_renders_to_a_list(
    template: str, value: object
) -> None:
    assert render(template) == value


def test_a_lone_expression_giving_what_json_cannot_hold_is_refused() -> None:
    with pytest.raises(TemplateFailure, match="gives a function, not a JSON value"):
        render("{{ uuid }}")


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{{ {'order': {'amount': data.amount}} }}", {"order": {"amount": 12}}),
        (" {{ [{'n': {'m': 1}}] }} ", [{"n": {"m": 1}}]),
        ("{{ '}}' }}", "}}"),
        ("{{ data.amount }}{{ data.amount }}", "1212"),
        ("{{ data.amount }} }}", "12 }}"),
    ],
)
def test_a_lone_expression_ending_in_braces_keeps_its_native_type(
    template: str, value: object
) -> None:
    assert render(template) == value


def test_path_templates_render_without_importing_jinja() -> None:
    code = (
        "import sys\n"
        "from orchestra.binding.templates import Templates\n"
        "t = Templates()\n"
        "assert t.compile('/orders/{{ vars.id }}/pay')({'vars': {'id': 7}}) == '/orders/7/pay'\n"
        "body = t.compile({'amount': '{{ data.amount }}'})\n"
        "assert body({'data': {'amount': 3}}) == {'amount': 3}\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "template",
    ["{{ not }}", "x{{ not.x }}", "{{ data['\\'] }}", "{{ vars.a }"],
)
def test_a_template_that_looks_like_a_path_but_is_invalid_fails_at_compile_time(
    template: str,
) -> None:
    with pytest.raises(TemplateFailure, match="invalid"):
        Templates().compile(template)


def test_a_path_template_that_misses_is_worded_by_jinja_compiled_then() -> None:
    renderer = Templates().compile("/orders/{{ vars.order.number }}")
    with pytest.raises(TemplateFailure, match=r"vars\.order\.number is undefined"):
        renderer(NS)
    with pytest.raises(TemplateFailure, match=r"vars\.order\.number is undefined"):
        renderer(NS)  # the second miss reuses what the first compiled
