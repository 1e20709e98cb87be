"""Matching tasks to an OpenAPI description's operations, and reading the description."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from orchestra.binding.instances import example_instance
from orchestra.binding.matching import match
from orchestra.binding.openapi import Operation, read_description
from orchestra.errors import InputRefused
from orchestra.services.scaffolding import read_openapi
from tests.support.library.service import OPENAPI


def library() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe", pure=True).load(OPENAPI.read_text())
    return loaded


def operations() -> tuple[Operation, ...]:
    return read_description(library(), "openapi.yaml").operations


def best(name: str, documentation: str | None = None) -> str | None:
    found = match(name, documentation, operations()).best
    return found.operation.operation_id if found else None


@pytest.mark.parametrize(
    ("task", "operation"),
    [
        ("Register member", "createMember"),
        ("Borrow a book", "borrowBook"),
        ("Renew the loan", "renewLoan"),
        ("Return the book", "returnBook"),
        ("Browse the catalogue", "listBooks"),
    ],
)
def test_a_task_is_matched_to_the_operation_whose_words_fit_best(task: str, operation: str) -> None:
    assert best(task) == operation


def test_the_comment_gives_the_score_the_shared_words_and_the_runner_up() -> None:
    comment = match("Borrow a book", None, operations()).comment()

    assert comment.startswith("matched borrowBook (POST /members/{memberId}/loans) 1.50")
    assert "(name: book, borrow; id: book, borrow)" in comment
    assert "runner-up returnBook (POST /loans/{loanId}/return) 1.25" in comment


def test_documentation_decides_between_operations_the_name_alone_cannot_tell_apart() -> None:
    assert best("Handle the loan") is None  # getLoan, renewLoan... share `loan` alike
    assert best("Handle the loan", "It is renewed for two more weeks") == "renewLoan"


def test_a_task_sharing_no_word_is_unmatched_saying_so() -> None:
    found = match("Notify librarian", None, operations())

    assert found.best is None
    assert found.why_not == "no operation shares a word but verbs with it (librarian, notify)"


def test_a_verb_alone_does_not_match() -> None:
    found = match("Create invoice", None, operations())  # createMember shares `create` only

    assert found.best is None
    assert found.why_not == "no operation shares a word but verbs with it (create, invoice)"


def test_a_tie_is_unmatched_naming_both() -> None:
    found = match("Look up", None, operations())

    assert found.best is None
    assert "two operations fit as well" in (found.why_not or "")


def test_refs_are_resolved_and_the_success_status_and_response_schema_are_read() -> None:
    (create,) = [op for op in operations() if op.operation_id == "createMember"]

    assert create.success_status == "201"
    assert create.body_example == {"name": "Ada Lovelace", "email": "ada@example.org"}
    assert create.response_properties == {"id", "status", "name", "email"}
    jsonschema.validate({"id": "m-1", "status": "ACTIVE", "name": "A", "email": "a@b"},
                        create.response_schema or {})  # fmt: skip


def _with_ref(ref: str) -> dict[str, Any]:
    document = library()
    body = document["paths"]["/members"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {"$ref": ref}
    return document


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("https://example.org/api.yaml#/Member", "points outside the file"),
        ("common.yaml#/Member", "points outside the file"),
        ("#/components/schemas/Nobody", "points to nothing in the file"),
    ],
)
def test_a_remote_or_broken_ref_is_refused_naming_it_and_where(ref: str, why: str) -> None:
    with pytest.raises(InputRefused) as refused:
        read_description(_with_ref(ref), "api.yaml")

    assert refused.value.message.startswith(
        f"api.yaml: $ref {ref!r} at paths./members.post.requestBody.schema {why}"
    )
    assert refused.value.details["ref"] == ref


def test_a_file_that_is_not_openapi_3_is_refused() -> None:
    with pytest.raises(InputRefused, match=r"not an OpenAPI 3\.0 or 3\.1 description"):
        read_description({"swagger": "2.0"}, "old.json")


def test_openapi_3_0_schemas_become_json_schema() -> None:
    document = copy.deepcopy(library())
    document["openapi"] = "3.0.3"
    document["components"]["schemas"]["Loan"]["properties"]["renewals"] = {
        "type": "integer", "minimum": 0, "exclusiveMinimum": True, "nullable": True,
    }  # fmt: skip
    (get_loan,) = [
        op for op in read_description(document, "x").operations if op.operation_id == "getLoan"
    ]
    renewals = (get_loan.response_schema or {})["properties"]["renewals"]

    assert renewals == {"type": ["integer", "null"], "exclusiveMinimum": 0}


def test_a_recursive_schema_is_cut_where_it_recurs() -> None:
    document = library()
    document["components"]["schemas"]["Member"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "sponsor": {"$ref": "#/components/schemas/Member"},
        },
    }
    (create,) = [
        op for op in read_description(document, "x").operations if op.operation_id == "createMember"
    ]

    assert (create.response_schema or {})["properties"]["sponsor"] == {}


SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "object",
        "required": ["a", "b"],
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "integer", "minimum": 3},
            "c": {"type": "number"},
        },
    },
    {"type": "string", "format": "email"},
    {"type": "string", "minLength": 12, "maxLength": 14},
    {"type": "integer", "exclusiveMinimum": 5, "multipleOf": 5},
    {"type": "number", "maximum": -2},
    {"type": "array", "minItems": 2, "items": {"enum": ["X", "Y"]}},
    {"type": ["null", "boolean"]},
    {
        "allOf": [
            {"type": "object", "required": ["a"], "properties": {"a": {"const": 1}}},
            {"required": ["b"], "properties": {"b": {"type": "string", "format": "date"}}},
        ]
    },
    {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "integer"}]},
    {
        "type": "object",
        "required": ["n"],
        "properties": {"n": {"type": "string", "example": "Ada"}},
    },
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_example_instance_is_valid_against_its_schema(schema: dict[str, Any]) -> None:
    instance = example_instance(schema)

    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(instance)


def test_the_example_instance_holds_only_what_is_required_and_prefers_given_examples() -> None:
    assert example_instance(SCHEMAS[0]) == {"a": "text", "b": 3}
    assert example_instance(SCHEMAS[-1]) == {"n": "Ada"}


def test_a_json_description_reads_as_the_yaml_one(tmp_path: Path) -> None:
    written = tmp_path / "openapi.json"
    written.write_text(json.dumps(library()))

    assert read_openapi(written) == read_openapi(OPENAPI)


def test_a_file_that_is_neither_json_nor_yaml_is_refused_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: [3.1\n")

    with pytest.raises(InputRefused, match=r"broken\.yaml: neither JSON nor YAML"):
        read_openapi(broken)


def test_references_that_multiply_a_schema_past_the_limit_are_refused() -> None:
    document = library()
    schemas = document["components"]["schemas"]
    schemas["L0"] = {"type": "string"}
    for level in range(1, 25):  # each level twice the one below: 2**24 nodes inlined
        below = {"$ref": f"#/components/schemas/L{level - 1}"}
        schemas[f"L{level}"] = {"type": "object", "properties": {"a": below, "b": below}}
    schemas["Member"] = {"$ref": "#/components/schemas/L24"}

    with pytest.raises(InputRefused, match="nodes once their references are resolved"):
        read_description(document, "bomb.yaml")


def test_a_description_nested_too_deeply_is_refused() -> None:
    document = library()
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(5000):
        deep = {"type": "array", "items": deep}
    document["components"]["schemas"]["Member"] = deep

    with pytest.raises(InputRefused, match="nested too deeply"):
        read_description(document, "deep.yaml")


def test_read_only_properties_are_not_required_in_requests_nor_write_only_in_answers() -> None:
    document = library()
    schemas = document["components"]["schemas"]
    schemas["NewMember"]["properties"]["id"] = {"type": "string", "readOnly": True}
    schemas["NewMember"]["properties"]["password"] = {"type": "string", "writeOnly": True}
    schemas["NewMember"]["required"] = ["id", "name", "email", "password"]
    del document["paths"]["/members"]["post"]["requestBody"]["content"]["application/json"][
        "example"
    ]
    (create,) = [
        op for op in read_description(document, "x").operations if op.operation_id == "createMember"
    ]

    assert example_instance(create.body_schema) == {
        "name": "text", "email": "user@example.org", "password": "text"
    }  # fmt: skip
    member = {"id": "m-1", "status": "ACTIVE", "name": "A", "email": "a@b"}
    jsonschema.validate(member, create.response_schema or {})  # no password in the answer
