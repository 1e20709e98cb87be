"""Hostile input is refused before it can read a file, reach the network or exhaust memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from orchestra.bpmn import Limits, read_bpmn
from orchestra.errors import BpmnRefused
from tests.unit.bpmn.documents import LINEAR, process

SECRET = "s3cr3t-c0ntent-of-a-local-file"


def refusal(data: bytes, limits: Limits | None = None) -> BpmnRefused:
    with pytest.raises(BpmnRefused) as caught:
        read_bpmn(data, source="evil.bpmn", limits=limits)
    assert "evil.bpmn" in caught.value.message
    return caught.value


def with_doctype(doctype: str, *, text: str = "&x;") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        f'<process id="P"><documentation>{text}</documentation></process></definitions>'
    ).encode()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY x "fetched">')

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 recording every request it gets."""
    _Recorder.requests = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_an_xxe_payload_reading_a_local_file_is_refused_without_reading_it(
    secret_file: Path,
) -> None:
    error = refusal(
        with_doctype(f'<!DOCTYPE definitions [<!ENTITY x SYSTEM "file://{secret_file}">]>')
    )
    assert error.details["code"] == "doctype-refused"
    assert "DOCTYPE" in error.message
    assert SECRET not in str(error.to_json())


def test_an_xxe_payload_reading_etc_hostname_is_refused() -> None:
    error = refusal(with_doctype('<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'))
    assert error.details["code"] == "doctype-refused"


def test_an_xxe_payload_in_utf16_is_refused_after_parsing_without_expansion(
    secret_file: Path,
) -> None:
    text = with_doctype(
        f'<!DOCTYPE definitions [<!ENTITY x SYSTEM "file://{secret_file}">]>'
    ).decode()
    data = text.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    error = refusal(data)
    assert error.details["code"] == "doctype-refused"
    assert SECRET not in str(error.to_json())


def test_an_xxe_payload_over_the_network_is_refused_without_a_request(
    listener: tuple[str, list[str]],
) -> None:
    url, requests = listener
    refusal(with_doctype(f'<!DOCTYPE d [<!ENTITY x SYSTEM "{url}/entity">]>'))
    assert requests == []


def test_an_external_dtd_is_refused_without_fetching_it(listener: tuple[str, list[str]]) -> None:
    url, requests = listener
    error = refusal(with_doctype(f'<!DOCTYPE definitions SYSTEM "{url}/evil.dtd">', text="n"))
    assert error.details["code"] == "doctype-refused"
    assert requests == []


def test_parameter_entities_are_refused(secret_file: Path, listener: tuple[str, list[str]]) -> None:
    url, requests = listener
    doctype = (
        f'<!DOCTYPE d [<!ENTITY % file SYSTEM "file://{secret_file}">'
        f'<!ENTITY % remote SYSTEM "{url}/p.dtd"> %remote; %file;]>'
    )
    error = refusal(with_doctype(doctype, text="n"))
    assert SECRET not in str(error.to_json())
    assert requests == []


def test_a_billion_laughs_document_is_refused_fast() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    data = with_doctype(f"<!DOCTYPE lolz [{''.join(entities)}]>", text="&lol9;")
    started = time.perf_counter()
    refusal(data)
    refusal(data.decode().replace("?>", ' encoding="UTF-16"?>', 1).encode("utf-16"))
    assert time.perf_counter() - started < 1.0


def test_a_doctype_after_comments_and_processing_instructions_is_still_refused() -> None:
    data = with_doctype('<!-- hi --><?pi x?>\n<!DOCTYPE d [<!ENTITY x "y">]>')
    assert refusal(data).details["code"] == "doctype-refused"


def test_doctype_text_inside_the_document_is_not_mistaken_for_one() -> None:
    data = process(LINEAR + "<!-- see <!DOCTYPE html> in the docs -->")
    assert read_bpmn(data, source="ok.bpmn").processes


def test_an_oversized_file_is_refused_before_parsing() -> None:
    data = process(LINEAR)
    error = refusal(data, Limits(max_bytes=len(data) - 1))
    assert error.details["code"] == "too-large"
    assert str(len(data) - 1) in error.message


def test_the_default_size_limit_is_twenty_megabytes() -> None:
    padding = b"<!--" + b"x" * (20 * 1024 * 1024) + b"-->"
    assert refusal(process(LINEAR) + padding).details["code"] == "too-large"


def test_deeply_nested_input_is_refused_with_the_configured_depth() -> None:
    nested = "<extensionElements>" + "<x>" * 210 + "</x>" * 210 + "</extensionElements>"
    data = process(f'<task id="T">{nested}</task>')
    assert refusal(data).details["code"] == "too-deep"
    assert refusal(process(LINEAR), Limits(max_depth=2)).details["code"] == "too-deep"


def test_nesting_beyond_the_parser_limit_is_refused_cleanly() -> None:
    data = process("<x>" * 100_000 + "</x>" * 100_000)
    error = refusal(data)
    assert error.details["code"] == "too-deep"
    assert "nest" in error.message


def test_malformed_xml_is_refused_with_line_and_column() -> None:
    data = process(LINEAR).replace(b'<task id="T"/>', b'<task id="T" id="U"/>')
    error = refusal(data)
    assert error.details["code"] == "malformed-xml"
    assert error.details["line"] == 10
    assert error.details["column"] is not None
    assert "line 10, column" in error.message


def test_an_invalid_namespace_uri_is_refused_as_malformed() -> None:
    data = process(LINEAR).replace(b'id="Defs"', b'xmlns:p="http://a b/c" id="Defs"')
    assert refusal(data).details["code"] == "malformed-xml"


def test_a_document_that_is_not_bpmn_is_refused() -> None:
    error = refusal(b"<html><body/></html>")
    assert error.details["code"] == "not-bpmn"
    assert "definitions" in error.message


def test_empty_and_binary_input_is_refused() -> None:
    assert refusal(b"").details["code"] == "malformed-xml"
    assert refusal(bytes(range(256))).details["code"] == "malformed-xml"
