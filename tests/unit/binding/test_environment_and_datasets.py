from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestra.binding.datasets import MAX_COLUMNS, MAX_ROWS, load_dataset, parse_dataset
from orchestra.binding.environment import (
    EnvironmentSpec,
    load_environment,
    resolve_secrets,
    resolved_environment,
)
from orchestra.domain.records import MAX_NAME_LENGTH
from orchestra.errors import BindingRefused, ConfigurationError

ENVIRONMENT = """\
name: staging
timeout: 5
headers: {X-Client: orchestra}
auth: {type: bearer, token: "${ORDERS_TOKEN}"}
services:
  orders: {base_url: "http://127.0.0.1:8080/api"}
  billing:
    base_url: http://127.0.0.1:8081
    auth:
      type: oauth2_client_credentials
      token_url: http://127.0.0.1:8081/token
      client_id: orchestra
      client_secret: "${BILLING_SECRET}"
variables: {tenant: acme}
secrets: {admin: "${ADMIN_PASSWORD}"}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_an_environment_keeps_its_secrets_as_references(tmp_path: Path) -> None:
    spec = load_environment(write(tmp_path, "staging.yaml", ENVIRONMENT))

    assert spec.auth is not None
    assert spec.auth.token == "${ORDERS_TOKEN}"
    assert set(spec.references()) == {"ORDERS_TOKEN", "BILLING_SECRET", "ADMIN_PASSWORD"}
    assert spec.template_view()["tenant"] == "acme"
    assert "ORDERS_TOKEN" not in str(spec.template_view())


def test_secrets_resolve_from_the_process_environment(tmp_path: Path) -> None:
    spec = load_environment(write(tmp_path, "staging.yaml", ENVIRONMENT))
    environ = {"ORDERS_TOKEN": "t0k", "BILLING_SECRET": "b1ll", "ADMIN_PASSWORD": "adm"}

    resolved = resolve_secrets(spec, environ)
    usable = resolved_environment(spec, resolved)

    assert resolved == environ
    assert usable.secrets == {"admin": "adm"}
    assert usable.auth is not None
    assert usable.auth.token == "t0k"


def test_a_missing_variable_is_named(tmp_path: Path) -> None:
    spec = load_environment(write(tmp_path, "staging.yaml", ENVIRONMENT))

    with pytest.raises(ConfigurationError) as caught:
        resolve_secrets(spec, {"ORDERS_TOKEN": "t0k"})

    assert "${BILLING_SECRET}, ${ADMIN_PASSWORD} not set" in caught.value.message
    assert caught.value.details["missing"] == ["BILLING_SECRET", "ADMIN_PASSWORD"]


def test_a_secret_written_in_clear_is_refused_with_its_line(tmp_path: Path) -> None:
    clear = ENVIRONMENT.replace('"${BILLING_SECRET}"', "hunter2")
    with pytest.raises(BindingRefused) as caught:
        load_environment(write(tmp_path, "staging.yaml", clear))

    assert ":9: services.billing.auth: `client_secret` is a secret" in caught.value.message
    assert "hunter2" not in caught.value.message


def test_an_environment_needs_a_service(tmp_path: Path) -> None:
    with pytest.raises(BindingRefused, match="services"):
        load_environment(write(tmp_path, "e.yaml", "name: x\nservices: {}\n"))


@pytest.mark.parametrize("service", ['""', '" orders"', '"orders "'])
def test_a_service_name_empty_or_with_spaces_around_is_refused(
    tmp_path: Path, service: str
) -> None:
    text = f"name: x\nservices:\n  {service}:\n    base_url: http://127.0.0.1:9\n"
    with pytest.raises(BindingRefused) as caught:
        load_environment(write(tmp_path, "e.yaml", text))
    assert ":2: services: a service's name may not be empty or have spaces around it" in (
        caught.value.message
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("rows.yaml", "- {amount: 5, customer: ann}\n- {amount: 7, customer: bob}\n"),
        (
            "rows.json",
            '{"rows": [{"amount": 5, "customer": "ann"}, {"amount": 7, "customer": "bob"}]}',
        ),
    ],
)
def test_a_data_set_is_a_list_of_rows(tmp_path: Path, name: str, text: str) -> None:
    rows = load_dataset(write(tmp_path, name, text))

    assert rows == [{"amount": 5, "customer": "ann"}, {"amount": 7, "customer": "bob"}]


def test_csv_rows_keep_their_values_as_text(tmp_path: Path) -> None:
    rows = load_dataset(write(tmp_path, "rows.csv", "amount,customer\n5,ann\n7,bob\n"))

    assert rows == [{"amount": "5", "customer": "ann"}, {"amount": "7", "customer": "bob"}]


def test_a_short_csv_row_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(BindingRefused, match=r"rows.csv:3: the row has not as many values"):
        load_dataset(write(tmp_path, "rows.csv", "amount,customer\n5,ann\n7\n"))


def test_a_row_that_is_not_a_mapping_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(BindingRefused, match=r"rows.yaml:2: rows\[1\]: a row must be a mapping"):
        load_dataset(write(tmp_path, "rows.yaml", "- {a: 1}\n- 3\n"))


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BindingRefused, match="a data set is a"):
        load_dataset(write(tmp_path, "rows.txt", "a"))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_json_data_set_with_a_number_json_does_not_have_is_refused(
    tmp_path: Path, constant: str
) -> None:
    with pytest.raises(BindingRefused, match=f"rows.json: not valid JSON: {constant} is not a"):
        load_dataset(write(tmp_path, "rows.json", f'[{{"amount": {constant}}}]'))


def test_a_json_data_set_nested_without_end_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BindingRefused, match=r"rows\.json: not valid JSON: nested too deeply"):
        load_dataset(write(tmp_path, "rows.json", "[" * 100_000 + "]" * 100_000))


def test_a_yaml_data_set_keeps_its_dates_as_iso_text(tmp_path: Path) -> None:
    rows = load_dataset(write(tmp_path, "rows.yaml", "- {born: 1815-12-10}\n"))

    assert rows == [{"born": "1815-12-10"}]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:99999", "is not a valid URL: Port out of range"),
        ("https://orders:http/", "is not a valid URL"),
        ("http://", "names no valid host"),
        ("http://orders .internal/", "names no valid host"),
    ],
)
def test_a_base_url_aiohttp_cannot_reach_is_refused_with_its_line(
    tmp_path: Path, url: str, why: str
) -> None:
    text = f"name: x\nservices:\n  orders: {{base_url: '{url}'}}\n"

    with pytest.raises(BindingRefused) as caught:
        load_environment(write(tmp_path, "e.yaml", text))

    assert f"e.yaml:3: services.orders.base_url: base_url {url!r}" in caught.value.message
    assert why in caught.value.message


def test_a_base_url_is_checked_again_once_its_variables_are_substituted(tmp_path: Path) -> None:
    text = "name: x\nservices:\n  orders: {base_url: '${ORDERS_URL}'}\n"
    spec = load_environment(write(tmp_path, "e.yaml", text))

    with pytest.raises(ConfigurationError, match="Port out of range"):
        resolved_environment(spec, {"ORDERS_URL": "http://127.0.0.1:70000"})


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://user:pa55word@orders", "its value must start with http://, https://"),
        ("http://user:pa55word@bad host", "its value names no valid host"),
        ("http://pa55word:99999", "its value is not a valid URL: Port out of range 0-65535"),
        ("http://pa55word\uff0f.example", "its value is not a valid URL: netloc '...' contains"),
        ("http://[pa55word", "its value is not a valid URL: Invalid IPv6 URL"),
    ],
)
def test_a_substituted_base_url_is_refused_by_its_text_as_written_never_its_value(
    tmp_path: Path, url: str, why: str
) -> None:
    text = "name: x\nservices:\n  orders: {base_url: 'http://127.0.0.1:1'}\n"
    text += "  billing:\n    base_url: '${BILLING_URL}'\n"
    spec = load_environment(write(tmp_path, "e.yaml", text))

    with pytest.raises(ConfigurationError) as caught:
        resolved_environment(spec, {"BILLING_URL": url})

    message = caught.value.message
    assert f"e.yaml:5: services.billing.base_url '${{BILLING_URL}}': {why}" in message
    assert "pa55word" not in message


def test_a_variable_substituted_into_part_of_a_base_url_is_named_not_shown(
    tmp_path: Path,
) -> None:
    text = "name: x\nservices:\n  orders: {base_url: 'https://${HOST}:99999/x'}\n"
    spec = load_environment(write(tmp_path, "e.yaml", text))

    with pytest.raises(ConfigurationError) as caught:
        resolved_environment(spec, {"HOST": "internal-sekrit"})

    assert "e.yaml:3: services.orders.base_url 'https://${HOST}:99999/x': its value is not" in (
        caught.value.message
    )
    assert "sekrit" not in caught.value.message


def test_applied_from_is_not_for_the_file_to_say(tmp_path: Path) -> None:
    text = "name: x\napplied_from: {file: elsewhere.yaml}\nservices:\n  a: {base_url: 'http://h'}\n"

    with pytest.raises(BindingRefused, match=r"e\.yaml:2: applied_from: is Orchestra's"):
        load_environment(write(tmp_path, "e.yaml", text))


def test_a_csv_field_above_the_csv_modules_limit_is_refused_with_its_line(tmp_path: Path) -> None:
    text = "amount,note\n5,short\n7," + "x" * 200_000 + "\n"

    with pytest.raises(BindingRefused) as caught:
        load_dataset(write(tmp_path, "rows.csv", text))

    assert caught.value.message == (
        "rows.csv:3: not valid CSV: field larger than field limit (131072)"
    )


@pytest.mark.parametrize("url", ["${}", "${1X}", "${ORDERS URL}"])
def test_a_base_url_that_only_looks_like_a_reference_is_refused(tmp_path: Path, url: str) -> None:
    text = f"name: x\nservices:\n  orders: {{base_url: '{url}'}}\n"

    with pytest.raises(BindingRefused, match=r"e\.yaml:3: services\.orders\.base_url: base_url"):
        load_environment(write(tmp_path, "e.yaml", text))


def test_csv_column_names_lose_the_spaces_around_them(tmp_path: Path) -> None:
    rows = load_dataset(write(tmp_path, "rows.csv", "amount, customer \n5, ann\n"))

    assert rows == [{"amount": "5", "customer": " ann"}]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("amount,,customer", "rows.csv:1: column 2 of the header has no name"),
        ("amount, amount", "rows.csv:1: the header repeats a column name"),
    ],
)
def test_a_csv_header_with_a_column_unnamed_or_named_twice_is_refused(
    tmp_path: Path, header: str, message: str
) -> None:
    with pytest.raises(BindingRefused) as caught:
        load_dataset(write(tmp_path, "rows.csv", f"{header}\n1,2,3\n"))

    assert caught.value.message == message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ('{X-Note: "a\\nb"}', "headers: header X-Note: a value cannot hold a line break or NUL"),
        ('{"Bad Name": x}', "headers: header name 'Bad Name' is not an HTTP field name"),
        ('{"": x}', "headers: header name '' is not an HTTP field name"),
    ],
)
def test_a_header_that_cannot_be_sent_is_refused_with_its_line(
    tmp_path: Path, headers: str, message: str
) -> None:
    text = f"name: x\nheaders: {headers}\nservices:\n  orders: {{base_url: 'http://a'}}\n"

    with pytest.raises(BindingRefused) as caught:
        load_environment(write(tmp_path, "e.yaml", text))

    assert caught.value.message.endswith(f"e.yaml:2: {message}")


def test_an_api_key_header_name_that_cannot_be_sent_is_refused_with_its_line(
    tmp_path: Path,
) -> None:
    text = (
        "name: x\nservices:\n  orders: {base_url: 'http://a'}\n"
        "auth: {type: api_key, header: 'X Key', value: '${KEY}'}\n"
    )

    with pytest.raises(BindingRefused) as caught:
        load_environment(write(tmp_path, "e.yaml", text))

    assert caught.value.message.endswith(
        "e.yaml:4: auth.header: header name 'X Key' is not an HTTP field name"
    )


def test_an_environment_or_service_name_longer_than_the_api_takes_is_refused_with_its_line(
    tmp_path: Path,
) -> None:
    long = "n" * (MAX_NAME_LENGTH + 1)
    named = f"name: {long}\nservices:\n  orders: {{base_url: 'http://127.0.0.1:1'}}\n"
    served = f"name: x\nservices:\n  {long}: {{base_url: 'http://127.0.0.1:1'}}\n"

    with pytest.raises(BindingRefused) as too_long_name:
        load_environment(write(tmp_path, "named.yaml", named))
    with pytest.raises(BindingRefused) as too_long_service:
        load_environment(write(tmp_path, "served.yaml", served))

    assert too_long_name.value.message.endswith(
        f"named.yaml:1: name: String should have at most {MAX_NAME_LENGTH} characters"
    )
    assert (
        f"served.yaml:2: services: a service's name has at most {MAX_NAME_LENGTH} characters,"
        f" not {MAX_NAME_LENGTH + 1}: 'nnnn"
    ) in too_long_service.value.message


def test_secrets_are_declared_or_credentials_and_the_other_variables_are_plain() -> None:
    spec = EnvironmentSpec.model_validate({
        "name": "x", "headers": {"X-Key": "${HEADER_KEY}"},
        "services": {
            "orders": {"base_url": "${ORDERS_URL}", "auth": {"type": "bearer", "token": "${T}"}},
            "billing": {"base_url": "https://${secret:BILLING_HOST}/v1"},
        },
        "variables": {"tenant": "${TENANT}"}, "secrets": {"admin": "${ADMIN}"},
    })  # fmt: skip

    assert spec.secret_references() == {"HEADER_KEY", "T", "BILLING_HOST", "ADMIN"}
    assert spec.public_references() == {"ORDERS_URL", "TENANT"}
    values = dict.fromkeys(spec.references(), "h") | {"ORDERS_URL": "http://o"}
    assert resolved_environment(spec, values).services["billing"].base_url == "https://h/v1"


def test_a_csv_data_set_above_the_row_limit_is_refused_while_read() -> None:
    text = "a\n" + "1\n" * (MAX_ROWS + 5)
    with pytest.raises(BindingRefused, match=f"more than the {MAX_ROWS} rows allowed"):
        parse_dataset(text, "many.csv")


def test_a_data_set_wider_than_the_column_limit_is_refused() -> None:
    header = ",".join(f"c{n}" for n in range(MAX_COLUMNS + 1))
    with pytest.raises(BindingRefused, match=f"more than the {MAX_COLUMNS} allowed"):
        parse_dataset(header + "\n" + ",".join(["1"] * (MAX_COLUMNS + 1)) + "\n", "wide.csv")
    row = "{" + ",".join(f'"c{n}": 1' for n in range(MAX_COLUMNS + 1)) + "}"
    with pytest.raises(BindingRefused, match=f"more than the {MAX_COLUMNS} allowed"):
        parse_dataset(f"[{row}]", "wide.json")
