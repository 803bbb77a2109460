"""`maker explore`: a thin command over `maker.explore.explore_library`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from maker.cli.common import (
    WORK_FAILED,
    ModelFlags,
    exit_interrupted,
    fail,
    ledger_option,
    ledger_path,
    model_options,
)

if TYPE_CHECKING:
    from library import Library
    from maker.explore import ExploreSettings, ExploreSummary
    from maker.llm import ChatClient
    from sandbox import Sandbox


def _names(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    if not names:
        fail("--tools: give one or more tool names separated by commas, e.g. --tools gcd,lcm")
    return names


@click.command("explore")
@click.option(
    "--library",
    "library_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Library whose tools are explored (the episodes are recorded into it).",
)
@click.option(
    "--tools", default=None, help="Comma-separated tool names (default: every active tool)."
)
@click.option(
    "--min-experience",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Explore the tools with fewer judged episodes (uses judged right or wrong) than this.",
)
@click.option(
    "--queries-per-tool",
    type=click.IntRange(min=1, max=100),
    default=3,
    show_default=True,
    help="Problems imagined and tried per tool.",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1, max=10),
    default=2,
    show_default=True,
    help="Trials per problem; each later one sees the earlier replies and their real results.",
)
@click.option(
    "--no-pot",
    is_flag=True,
    help="Judge by the strong model alone, without a program-of-thought answer.",
)
@click.option(
    "--imagine-with",
    type=click.Choice(["user", "maker"]),
    default="user",
    show_default=True,
    help="Who imagines the problems: the explorer (user, as in STE), or the maker model when "
    "the user model is too weak to imagine problems the tool answers (the trials stay the "
    "user's).",
)
@model_options("user", "maker", what={"user": "the explorer", "maker": "the judge"})
@click.option("--seed", type=int, default=None, help="Sampling seed of both roles.")
@ledger_option("explore")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def explore_command(
    library_dir: Path,
    tools: str | None,
    min_experience: int,
    queries_per_tool: int,
    trials: int,
    no_pot: bool,
    imagine_with: str,
    models: ModelFlags,
    seed: int | None,
    ledger_file: Path | None,
    no_progress: bool,
) -> None:
    """Explore the tools with too little experience and record what was learned (STE).

    For each active tool with fewer than --min-experience judged episodes (or each of --tools),
    the user model imagines --queries-per-tool realistic problems that differ from those
    explored before, and tries each with the tool over up to --trials trials (each later trial
    sees the earlier replies and their real results). A judge independent of the explorer
    checks each trial: the maker model, asked whether the tool's real output answers the
    problem, and an independent program-of-thought answer (a `solve()` the maker writes without
    the tool, run in the sandbox). Verified trials become demonstrations that `maker solve`
    replays; failures become the tool's failure memory.

    Prints a table per tool, the model calls by role and, last, one JSON line; every model call
    is appended to a ledger (--ledger). Exit status 0 when it ran (even with nothing verified), 1 when model calls failed, 2 for bad input.

    \b
    Example:
      maker explore --library my-lib --tools gcd --queries-per-tool 5
    """
    names = _names(tools)
    if not (library_dir / "library.sqlite").is_file():
        fail(
            f"--library {library_dir}: no library there; make tools first (maker make ... "
            f"--library {library_dir})"
        )
    from library import Library, LibraryError
    from library.store.sqlite import check_library

    try:  # a damaged library, or a tool it does not offer, is said before any model starts
        check_library(library_dir)
    except LibraryError as exc:
        fail(str(exc))
    with Library.open(library_dir, read_only=True) as lib:
        for name in names:
            try:
                lib.resolve(name)
            except LibraryError as exc:
                fail(f"--tools {name}: {exc}")
    from maker.llm import ConfigError
    from maker.llm.local import resolve_role, stop_shared_server

    try:
        config = models.load(**{"user.seed": seed, "maker.seed": seed})
        roles = [resolve_role(config, role) for role in ("user", "maker")]
    except ConfigError as exc:
        fail(str(exc))
    from maker.explore import ExploreError, ExploreSettings, render_explore_report
    from maker.llm import CostLedger, ResponseCache, make_client
    from sandbox import Sandbox

    if any(r.provider == "local" for r in roles):
        from maker.cli.make import _prepare_local_models

        _prepare_local_models()
    cache = ResponseCache(config.cache_dir or library_dir / ".llm-cache")
    ledger = CostLedger(ledger_path(library_dir, "explore", ledger_file))
    user = make_client(config, "user", ledger=ledger, cache=cache)
    judge = make_client(config, "maker", ledger=ledger, cache=cache)
    settings = ExploreSettings(
        tools=names,
        min_experience=min_experience,
        queries_per_tool=queries_per_tool,
        trials=trials,
        pot=not no_pot,
        imagine_with=imagine_with,
    )
    console = Console(stderr=True)
    try:
        with Library.open(library_dir) as lib, Sandbox(workers=2) as sb:
            summary = _run(lib, user, judge, sb, settings, console, progress=not no_progress)
    except ExploreError as exc:
        fail(str(exc))
    except LibraryError as exc:
        fail(str(exc), WORK_FAILED)
    except KeyboardInterrupt:
        exit_interrupted("\ninterrupted: what was explored is recorded; run again to go on")
    finally:
        stop_shared_server()
    render_explore_report(summary, Console())
    if ledger.path is not None and ledger.path.exists():
        click.echo(f"ledger: {ledger.path}", err=True)
    click.echo(summary.line())
    if summary.errors:
        click.echo(f"error: {summary.errors} model call(s) failed (see the table)", err=True)
    sys.exit(WORK_FAILED if summary.errors else 0)


def _run(
    lib: Library,
    user: ChatClient,
    judge: ChatClient,
    sb: Sandbox,
    settings: ExploreSettings,
    console: Console,
    *,
    progress: bool,
) -> ExploreSummary:
    """Run the exploration with a progress bar on `console` (none when `progress` is off)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from maker.explore import explore_library

    if not progress:
        return explore_library(lib, user, judge, sb, settings)
    with Progress(
        TextColumn("[bold]explore[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def tick(description: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=description)

        return explore_library(lib, user, judge, sb, settings, progress=tick)


def register(main: click.Group) -> None:
    """Add the command of this module to the `maker` CLI."""
    main.add_command(explore_command)
