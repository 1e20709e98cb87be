"""Shell completion as docs/shell-completion.md documents it: each documented line produces its
shell's script, and the script's completer answers with the commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env, orchestra

DOC = Path(__file__).parents[2] / "docs" / "shell-completion.md"
MARKS = {
    "bash": "complete -o nosort -F _orchestra_completion orchestra",
    "zsh": "compdef _orchestra_completion orchestra",
    "fish": "complete --no-files --command orchestra",
}


def _documented() -> dict[str, str]:
    """shell -> the value of _ORCHESTRA_COMPLETE each documented line sets."""
    found = re.findall(r"_ORCHESTRA_COMPLETE=((\w+)_source) orchestra", DOC.read_text())
    return {shell: value for value, shell in found}


def test_the_doc_names_bash_zsh_and_fish() -> None:
    assert set(_documented()) == set(MARKS)


@pytest.mark.parametrize("shell", sorted(MARKS))
def test_the_documented_line_prints_the_shells_completion_script(shell: str) -> None:
    value = _documented()[shell]
    done = orchestra(env=clean_env(_ORCHESTRA_COMPLETE=value))
    assert done.returncode == 0, done.stderr
    assert MARKS[shell] in done.stdout


def test_the_bash_completer_offers_the_commands_and_the_db_subcommands() -> None:
    def complete(line: str) -> list[str]:
        words = shlex.split(line) + ([""] if line.endswith(" ") else [])
        env = clean_env(
            _ORCHESTRA_COMPLETE="bash_complete",
            COMP_WORDS=" ".join(words),
            COMP_CWORD=str(len(words) - 1),
        )
        done = orchestra(env=env)
        assert done.returncode == 0, done.stderr
        return [entry.split(",", 1)[1] for entry in done.stdout.splitlines()]

    assert "db" in complete("orchestra d")
    assert {"status", "upgrade", "stop", "migrate-home"} <= set(complete("orchestra db "))
