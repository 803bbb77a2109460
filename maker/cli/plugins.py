"""Commands other installed packages add to ``maker`` (entry-point group ``maker.commands``).

``maker`` never imports a higher layer by name: ``experiments`` declares its ``grade``
command in pyproject.toml (``[project.entry-points."maker.commands"]``) and it shows up as
``maker grade``. A plugin that fails to load does not break the rest of the CLI: it is
listed with the reason and says it in one line when run. Built-in commands win over a
plugin of the same name. (The entry point is registered by ``pip install -e .``.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

import click

GROUP = "maker.commands"


def _unavailable(name: str, error: BaseException) -> click.Command:
    reason = f"{type(error).__name__}: {error}"

    def run() -> None:
        click.echo(
            f"Error: `maker {name}` is unavailable ({reason}); reinstall the package "
            "with its dependencies (pip install -e .)",
            err=True,
        )
        sys.exit(1)

    return click.Command(
        name,
        callback=run,
        help=f"(unavailable: {reason})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


def register_plugins(group: click.Group, found: Iterable[EntryPoint] | None = None) -> list[str]:
    """Add every ``maker.commands`` entry point to ``group``; returns the names added."""
    added: list[str] = []
    for ep in entry_points(group=GROUP) if found is None else found:
        if ep.name in group.commands:
            continue
        try:
            command = ep.load()
            if not isinstance(command, click.Command):
                raise TypeError(f"{ep.value} is not a click command")
        except Exception as exc:  # any import failure of a plugin
            command = _unavailable(ep.name, exc)
        group.add_command(command, ep.name)
        added.append(ep.name)
    return added
