"""Pieces shared by the command modules, and the exit-status policy of every command.

Exit status, every command: 0 done; 1 the work failed; 2 a usage error or bad input; 130
Ctrl-C. A package's own error (its root: `sandbox.SandboxError`, `library.LibraryError`,
`maker.MakerError`, and `experiments.ExperimentError` for the commands experiments adds) ends a
command as one line, ``Error: ...``, with the error's ``exit_code`` (2 or 1); click's usage
errors with 2. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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


def ledger_option(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--ledger FILE`: where the command appends a JSON line per model call (the format of a
    make job's ledger.jsonl, so an experiment's `make_ledger` can count it); by default
    LIBRARY/ledgers/<command>-<UTC time>.jsonl."""
    return click.option(
        "--ledger",
        "ledger_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Append each model call's cost to this JSONL file (default: "
        f"LIBRARY/ledgers/{command}-<UTC time>.jsonl).",
    )


def ledger_path(library_dir: Path, command: str, given: Path | None) -> Path:
    """The ledger file of one run of `command` on `library_dir` (`given` wins)."""
    if given is not None:
        return given
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return library_dir / "ledgers" / f"{command}-{stamp}.jsonl"


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


def exit_interrupted(message: str = "\ninterrupted") -> NoReturn:
    """After Ctrl-C: say so, stop the local model server, and leave at once (exit status 130).

    ``os._exit``, not ``sys.exit``: unit threads still waiting on a model call would hold a
    normal exit for minutes (the interpreter joins them), so "Ctrl-C again to stop at once"
    did not. Whatever finished is saved; the rest resumes, as after ``kill -9``."""
    from maker.llm.local import stop_shared_server

    click.echo(message, err=True)
    try:
        stop_shared_server()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)


class OneLineErrors(click.Group):
    """A command group whose commands end a package error as one line with its exit status.

    Only the packages' own errors (`package_roots`, plus ``extra_roots`` of a subclass) are
    converted; any other exception propagates with its traceback, because it is a bug.
    """

    extra_roots: tuple[type[Exception], ...] = ()

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            exit_interrupted()
        except Exception as exc:
            code = exit_code_of(exc, self.extra_roots)
            if code is None:
                raise
            fail(str(exc), code)


_ROLE_FIELDS = ("model", "base_url", "api_key_env")


@dataclass(frozen=True)
class ModelFlags:
    """The model endpoint flags of a command (see `model_options`): ``--config``, per role
    ``--ROLE-model``, ``--ROLE-base-url``, ``--ROLE-api-key-env``, and ``--cache-dir``."""

    config_file: Path | None
    roles: dict[str, dict[str, Any]]
    cache_dir: Path | None

    def overrides(self, **extra: Any) -> dict[str, Any]:
        """The flags as `load_config` overrides (``"maker.model"``...), plus `extra` ones."""
        out: dict[str, Any] = {
            f"{role}.{name}": value
            for role, values in self.roles.items()
            for name, value in values.items()
        }
        out["cache_dir"] = str(self.cache_dir) if self.cache_dir else None
        return {**out, **extra}

    def load(self, **extra: Any) -> Any:
        """The `LLMConfig` from the config file, the environment and these flags."""
        from maker.llm import load_config

        return load_config(self.config_file, overrides=self.overrides(**extra))


def model_options(
    *roles: str, what: dict[str, str] | None = None, cache_default: str = "LIBRARY/.llm-cache"
) -> Any:
    """Decorator: a command's model endpoint flags for `roles`, passed to it as one
    ``models: ModelFlags`` argument. `what` says what a role does in this command
    (``{"maker": "the judge"}``), for the help texts."""
    what = what or {}
    sections = " and ".join(f"[llm.{r}]" for r in roles)

    def decorate(command: Any) -> Any:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            per_role = {r: {k: kwargs.pop(f"{r}_{k}") for k in _ROLE_FIELDS} for r in roles}
            flags = ModelFlags(kwargs.pop("config_file"), per_role, kwargs.pop("cache_dir"))
            return command(*args, models=flags, **kwargs)

        options = [
            click.option(
                "--config",
                "config_file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=None,
                help=f"TOML config file with {sections} settings.",
            )
        ]
        for role in roles:
            of = f" ({what[role]})" if role in what else ""
            options += [
                click.option(
                    f"--{role}-model", default=None, help=f"Model name of the {role} role{of}."
                ),
                click.option(
                    f"--{role}-base-url",
                    default=None,
                    help=f"OpenAI-compatible base URL of the {role}.",
                ),
                click.option(
                    f"--{role}-api-key-env",
                    default=None,
                    help=f"Env variable holding the {role}'s key.",
                ),
            ]
        options.append(
            click.option(
                "--cache-dir",
                type=click.Path(path_type=Path),
                default=None,
                help=f"Response cache directory (default: {cache_default}).",
            )
        )
        for option in reversed(options):
            run = option(run)
        return run

    return decorate


class JobOption(click.Option):
    """An option made by `job_options` (a test finds every job flag by this class)."""


def job_options(
    role: str, unit: str, *, job_dir: str | None = None, concurrency: int | None = None
) -> Any:
    """Decorator: the job flags of a command that works through units concurrently, with one
    wording for every command. The command gets them as plain arguments.

    ``--concurrency`` is the `role`'s limit on model requests in flight: `concurrency` fixes its
    default (the benchmarks), None leaves it to ``[llm.ROLE]``. ``--units-in-flight`` says how
    many `unit` (a plural: ``"problems"``) are worked on at once. ``--job-dir`` is added when
    `job_dir` gives its default (``"LIBRARY/jobs/solve-<digest>"``).
    """
    limit = f"Model requests in flight at once: the {role} role's limit"
    if concurrency is None:
        limit += (
            f" (default: [llm.{role}] concurrency; 8, or 4 for a local model: what its server "
            "decodes together)"
        )
    options = []
    if job_dir is not None:
        options.append(
            click.option(
                "--job-dir",
                cls=JobOption,
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help=f"Where progress is kept (default: {job_dir}); re-run the same command "
                "to resume.",
            )
        )
    options += [
        click.option(
            "--concurrency",
            cls=JobOption,
            type=click.IntRange(min=1),
            default=concurrency,
            show_default=concurrency is not None,
            help=f"{limit}.",
        ),
        click.option(
            "--units-in-flight",
            cls=JobOption,
            type=click.IntRange(min=1),
            default=None,
            help=f"{unit[:1].upper()}{unit[1:]} worked on at once (default: twice --concurrency, "
            "so the sandbox work of some overlaps the model waits of others).",
        ),
    ]

    def decorate(command: Any) -> Any:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
