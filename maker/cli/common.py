"""Pieces shared by the command modules, and the exit-status policy of every command.

Exit status, every command: 0 done; 1 the work failed; 2 a usage error or bad input; 130
Ctrl-C. A package's own error (its root: `sandbox.SandboxError`, `library.LibraryError`,
`maker.MakerError`, and `experiments.ExperimentError` for the commands experiments adds) ends a
command as one line, ``Error: ...``, with the error's ``exit_code`` (2 or 1); click's usage
errors with 2. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
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


def make_dir(path: Path, option: str) -> None:
    """Create ``path`` (and its parents) or end the command in one line naming ``option``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{option} {path}: {exc.strerror or exc}")


def package_roots() -> tuple[type[Exception], ...]:
    """The root exceptions of the packages below the CLI: sandbox, library, maker."""
    from library.errors import LibraryError
    from maker.errors import MakerError
    from sandbox import SandboxError

    return (SandboxError, LibraryError, MakerError)


def exit_code_of(exc: BaseException, roots: tuple[type[Exception], ...] = ()) -> int | None:
    """The exit status a package error ends a command with, or None for anything else (a bug).

    ``roots`` adds root exceptions of a higher package (the commands experiments adds).

    >>> from maker.llm import ConfigError, ModelCallError
    >>> exit_code_of(ConfigError("no model")), exit_code_of(ModelCallError("503"))
    (2, 1)
    >>> exit_code_of(KeyError("x")) is None
    True
    """
    if isinstance(exc, (*package_roots(), *roots)):
        code = getattr(exc, "exit_code", WORK_FAILED)
        return code if code in (USAGE_ERROR, WORK_FAILED) else WORK_FAILED
    return None


class OneLineErrors(click.Group):
    """A command group whose commands end a package error as one line with its exit status.

    Only the packages' own errors (`package_roots`, plus ``extra_roots`` of a subclass) are
    converted; any other exception propagates with its traceback, because it is a bug.
    """

    extra_roots: tuple[type[Exception], ...] = ()

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            code = exit_code_of(exc, self.extra_roots)
            if code is None:
                raise
            fail(str(exc), code)
