"""The redactor: credentials headers masked by name, secret values masked wherever they are."""

from __future__ import annotations

from orchestra.binding.redaction import MASK, Redactor


def test_credentials_headers_are_masked_by_name_in_any_case_without_secrets() -> None:
    redactor = Redactor(headers=["X-Token"])

    for _ in range(2):  # the second time from what it noted of these names
        masked = redactor.headers({"authorization": "Bearer abc", "x-token": "t", "Accept": "*/*"})

        assert masked == {"authorization": MASK, "x-token": MASK, "Accept": "*/*"}


def test_headers_without_credentials_come_back_as_a_copy() -> None:
    redactor = Redactor()
    headers = {"Accept": "*/*"}

    masked = redactor.headers(headers)

    assert masked == headers
    assert masked is not headers


def test_a_secret_value_is_masked_in_headers_named_as_before() -> None:
    redactor = Redactor(secrets=["s3cret"])
    redactor.headers({"X-Note": "plain", "Authorization": "Basic x"})

    masked = redactor.headers({"X-Note": "a s3cret here", "Authorization": "Basic x"})

    assert masked == {"X-Note": f"a {MASK} here", "Authorization": MASK}


def test_credential_headers_are_named_by_name_or_by_a_secret_value() -> None:
    redactor = Redactor(secrets=["s3cret"], headers=["X-Api-Key"])

    assert redactor.credentials({"X-API-KEY": "k", "Accept": "*/*"}) == {"x-api-key"}
    assert redactor.credentials({"X-API-KEY": "k", "Accept": "s3cret"}) == {"x-api-key", "accept"}
    assert Redactor().credentials({"Cookie": "c", "Accept": "*/*"}) == {"cookie"}


def test_a_secret_learnt_at_run_time_is_masked_from_then_on() -> None:
    redactor = Redactor()
    assert not redactor.masks_values

    redactor.add("tok3n")

    assert redactor.masks_values
    assert redactor.headers({"X-Echo": "tok3n"}) == {"X-Echo": MASK}
    assert redactor.credentials({"X-Echo": "tok3n"}) == {"x-echo"}
