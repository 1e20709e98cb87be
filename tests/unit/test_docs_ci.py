"""docs/ci.md: every YAML job parses, runs `orchestra test` with flags the command has, and
publishes the JUnit and HTML reports it asks for; the container snippet uses the Dockerfile."""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "ci.md"


def _test_flags() -> set[str]:
    """Every option the real `orchestra test` command has."""
    from orchestra.cli.test import test

    return {opt for param in test.params for opt in (*param.opts, *param.secondary_opts)}


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def _jobs() -> dict[str, Any]:
    loaded = [YAML(typ="safe").load(io.StringIO(block)) for block in _blocks("yaml")]
    return {"github": loaded[0], "gitlab": loaded[1]}


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _test_command(text: str) -> list[str]:
    words = shlex.split(text[text.index("orchestra test") :])
    return words[2:]


def _options(args: list[str]) -> dict[str, str]:
    pairs = zip(args, [*args[1:], ""], strict=True)
    return {flag: value for flag, value in pairs if flag.startswith("-")}


def _commands(job: Any) -> list[list[str]]:
    return [_test_command(text) for text in _strings(job) if "orchestra test" in text]


def test_the_doc_has_a_github_and_a_gitlab_job_that_parse_as_yaml() -> None:
    assert len(_blocks("yaml")) == 2
    jobs = _jobs()
    assert "orchestra" in jobs["github"]["jobs"]
    assert jobs["gitlab"]["orchestra"]["image"].startswith("python:3")


def test_every_job_runs_orchestra_test_with_flags_the_command_has() -> None:
    for name, job in _jobs().items():
        commands = _commands(job)
        assert len(commands) == 1, name
        args = commands[0]
        assert args[0].endswith(".bpmn"), name
        assert {a for a in args if a.startswith("-")} <= _test_flags(), name


def test_the_github_job_publishes_the_junit_and_keeps_the_html_report_even_on_failure() -> None:
    job = _jobs()["github"]["jobs"]["orchestra"]
    options = _options(_commands(job)[0])
    junit, html = options["--junit"], options["--html"]
    steps = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    published = steps["mikepenz/action-junit-report"]
    kept = steps["actions/upload-artifact"]
    assert published["with"]["report_paths"] == junit
    assert html.startswith(kept["with"]["path"])
    assert junit.startswith(kept["with"]["path"])
    assert published["if"] == kept["if"] == "${{ !cancelled() }}"


def test_the_gitlab_job_reports_the_junit_and_keeps_the_html_report_even_on_failure() -> None:
    job = _jobs()["gitlab"]["orchestra"]
    options = _options(_commands(job)[0])
    artifacts = job["artifacts"]
    assert artifacts["reports"]["junit"] == options["--junit"]
    assert any(options["--html"].startswith(path) for path in artifacts["paths"])
    assert artifacts["when"] == "always"


def test_the_container_snippet_builds_the_repository_dockerfile_and_runs_orchestra_test() -> None:
    (snippet,) = _blocks("sh")
    lines = snippet.strip().splitlines()
    assert lines[0] == "docker build -t orchestra ."
    assert (ROOT / "Dockerfile").is_file()
    run = next(line for line in lines if line.startswith("docker run"))
    assert " orchestra test " in run
    args = _test_command(run)
    assert {a for a in args if a.startswith("-")} <= _test_flags()


def test_the_dockerfile_runs_as_a_user_other_than_root() -> None:
    users = re.findall(r"^USER (\S+)$", (ROOT / "Dockerfile").read_text(), flags=re.M)
    assert users
    assert users[-1] not in {"root", "0"}
