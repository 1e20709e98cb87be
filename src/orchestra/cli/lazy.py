"""A click group that imports a command's module only when that command is used.

The group knows each command by a `"module:attribute"` string and the one-line summary its
listing shows, so `orchestra --help` and shell completion of command names import no command
module. A command's own module (and what it imports) loads when it runs or shows its --help.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

# The summary in the registry is the command's short help as click cuts it at this width (the
# width of the listing on a terminal of 80 columns or more); a test keeps the two in step.
SUMMARY_WIDTH = 63


# A command's name -> ("package.module:attribute", summary)
Registry = Mapping[str, tuple[str, str]]


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy_commands: Registry | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            target, _ = self.lazy_commands[cmd_name]
            self.add_command(load_command(target), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:  # suggest among every command, not loaded
            name = exc.command_name
            raise click.exceptions.NoSuchCommand(
                name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def summaries(self) -> list[tuple[str, str]]:
        """Every command's name and summary, without importing the lazy ones."""
        lazy = {name: summary for name, (_, summary) in self.lazy_commands.items()}
        eager = {
            name: command.get_short_help_str(SUMMARY_WIDTH)
            for name, command in self.commands.items()
            if not command.hidden
        }
        return sorted({**lazy, **eager}.items())

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = self.summaries()
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(name, _fit(summary, limit)) for name, summary in rows])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        items = [
            CompletionItem(name, help=summary)
            for name, summary in self.summaries()
            if name.startswith(incomplete)
        ]
        # the group's own options, as click.Group would add them after its commands
        items.extend(click.Command.shell_complete(self, ctx, incomplete))
        return items


def _fit(summary: str, width: int) -> str:
    """The summary cut at a word to `width`, as click cuts a short help."""
    if len(summary) <= width:
        return summary
    import textwrap

    return textwrap.shorten(summary, max(width, 3), placeholder="...", break_on_hyphens=False)


def load_command(target: str) -> click.Command:
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command
