"""docs/bindings.md, "Starting from a scaffold": the entry it shows is the one `bindings init`
writes for the library service, and its commands are ones the CLI takes."""

from __future__ import annotations

import re
import shlex
import shutil
import warnings
from pathlib import Path

import click
import pytest

from orchestra.binding.scaffold import scaffold
from orchestra.bpmn.documentation import documentation_by_id
from orchestra.bpmn.reader import read_bpmn
from orchestra.cli import cli
from orchestra.services.scaffolding import read_openapi
from tests.support.library.service import MODEL, OPENAPI

DOC = Path(__file__).parents[3] / "docs" / "bindings.md"


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Starting from a scaffold")
    return text[start : text.index("\n## ", start + 1)]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), flags=re.S)


def test_the_entry_shown_is_the_one_written_for_the_library_service() -> None:
    data = MODEL.read_bytes()
    (graph,) = read_bpmn(data, source=MODEL.name).processes
    made = scaffold(
        graph,
        label="book_loan@1",
        documentation=documentation_by_id(data, source=MODEL.name),
        description=read_openapi(OPENAPI),
        description_name=OPENAPI.name,
    )
    (shown,) = blocks("yaml")

    assert shown.startswith("tasks:\n")
    assert shown.removeprefix("tasks:\n") in made.text


def _rest(context: click.Context) -> list[str]:
    with warnings.catch_warnings():  # click 9 folds protected_args into args
        warnings.simplefilter("ignore", DeprecationWarning)
        return [*context.protected_args, *context.args]


def _parses(args: list[str]) -> None:
    """Parse `args` as `orchestra` would, down to the command's own options, running nothing."""
    context = cli.make_context("orchestra", list(args))
    command: click.Command = cli
    rest = _rest(context)
    while isinstance(command, click.Group) and rest:
        name, found, rest = command.resolve_command(context, rest)
        assert found is not None
        assert name is not None
        context = found.make_context(name, rest, parent=context)
        command, rest = found, _rest(context)


def test_the_commands_shown_are_ones_the_cli_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(MODEL, tmp_path / "loans.bpmn")
    shutil.copy(OPENAPI, tmp_path / "openapi.yaml")
    (tmp_path / "bindings.yaml").write_text("")
    (tmp_path / "environment.yaml").write_text("")
    monkeypatch.chdir(tmp_path)
    (commands,) = blocks("sh")
    lines = commands.strip().splitlines()

    assert any(line.startswith("orchestra bindings init ") for line in lines)
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "orchestra"
        _parses(words[1:])
