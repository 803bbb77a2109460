"""Pieces shared by the command modules."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click


def json_kwargs(ctx: click.Context, param: click.Parameter, value: str | None) -> dict[str, Any]:
    """Click callback: ``--args`` as a JSON object of keyword arguments, with a one-line error."""
    if value is None:
        return {}
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object of keyword arguments, e.g. '{\"n\": 3}'")
    return data


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 tool"``, ``"2 tools"``, ``"0 tools"`` (`many` for an irregular plural)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


USAGE_ERROR = 2
"""Exit status of a user's mistake: a bad argument, file or setting (`--help` says so)."""
WORK_FAILED = 1
"""Exit status when the work itself failed (a unit errored, a run stopped early)."""


def fail(message: str, code: int = USAGE_ERROR) -> NoReturn:
    """One line on stderr (``Error: ...``, no traceback) and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)
