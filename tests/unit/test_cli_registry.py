"""The registry of lazily loaded commands says what each command's module would say itself."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from orchestra.cli import COMMANDS, cli
from orchestra.cli.lazy import SUMMARY_WIDTH, LazyGroup, load_command


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_loads_and_its_summary_is_its_own_short_help(name: str) -> None:
    target, summary = COMMANDS[name]
    command = load_command(target)
    assert command.name == name or name == "import"
    assert summary == command.get_short_help_str(SUMMARY_WIDTH), (
        f"COMMANDS[{name!r}] should read {command.get_short_help_str(SUMMARY_WIDTH)!r}"
    )


@pytest.mark.parametrize("width", [78, 60])  # 78: what click makes of a terminal of 80+
def test_the_lazy_listing_is_the_one_click_shows_with_every_command_loaded(width: int) -> None:
    eager = click.Group(
        "cli", help=cli.help, context_settings={"help_option_names": ["-h", "--help"]}
    )
    for name, (target, _) in COMMANDS.items():
        eager.add_command(load_command(target), name)
    eager.params = cli.params
    runner = CliRunner()
    lazy_help = runner.invoke(cli, ["--help"], prog_name="orchestra", terminal_width=width)
    eager_help = runner.invoke(eager, ["--help"], prog_name="orchestra", terminal_width=width)
    assert lazy_help.output == eager_help.output


def test_a_command_added_eagerly_is_listed_beside_the_lazy_ones() -> None:
    group = LazyGroup("g", lazy_commands={"later": ("orchestra.cli.db:db", "Lazy.")})

    @group.command()
    def now() -> None:
        """Eager."""

    listed = CliRunner().invoke(group, ["--help"]).output
    assert "later  Lazy." in listed
    assert "now    Eager." in listed


def test_a_target_that_is_not_a_command_is_refused() -> None:
    with pytest.raises(TypeError, match="not a click command"):
        load_command("orchestra.cli.lazy:SUMMARY_WIDTH")


def test_a_misspelt_command_is_answered_with_the_command_meant() -> None:
    fresh = LazyGroup("orchestra", lazy_commands=COMMANDS)  # no command loaded yet
    done = CliRunner().invoke(fresh, ["proceses", "list"])
    assert done.exit_code == 2
    assert "Did you mean 'processes'?" in done.output
