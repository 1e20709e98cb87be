"""A step's recorded request as a curl command: quoted for a shell, secrets as recorded."""

from __future__ import annotations

import shlex

from orchestra.reports.curl import curl_command


def test_a_post_with_a_json_body_replays_with_its_headers_and_masked_secrets() -> None:
    request = {
        "method": "POST",
        "url": "http://127.0.0.1:8080/orders?token=***",
        "headers": {"Authorization": "***", "Content-Type": "application/json"},
        "body": '{"customer": "O\'Brien", "qty": 2}',
    }

    command = curl_command(request)

    assert shlex.split(command.replace("\\\n", " ")) == [
        "curl",
        "http://127.0.0.1:8080/orders?token=***",
        "-H",
        "Authorization: ***",
        "-H",
        "Content-Type: application/json",
        "--data-raw",
        '{"customer": "O\'Brien", "qty": 2}',
    ]


def test_methods_curl_would_not_guess_are_named() -> None:
    assert "-X DELETE" in curl_command({"method": "DELETE", "url": "http://h/o/1"})
    assert "-X PUT" in curl_command({"method": "put", "url": "http://h", "body": "x"})
    assert "-X" not in curl_command({"method": "GET", "url": "http://h"})
    assert "--head" in curl_command({"method": "HEAD", "url": "http://h"})


def test_a_body_cut_short_in_the_record_is_said_so() -> None:
    command = curl_command({"method": "POST", "url": "http://h", "body": "ab", "truncated": True})

    assert command.endswith("# the body above was cut short when the step was recorded")


def test_shell_metacharacters_in_the_url_stay_inside_one_argument() -> None:
    command = curl_command({"method": "GET", "url": "http://h/$(rm -rf ~)?a=1&b=`x`"})

    assert shlex.split(command.replace("\\\n", " "))[1] == "http://h/$(rm -rf ~)?a=1&b=`x`"
