"""`maker improve`: one round of the self-improvement loop, a thin command over `maker.improve`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from maker.cli.common import (
    WORK_FAILED,
    ModelFlags,
    fail,
    ledger_option,
    ledger_path,
    model_options,
)


@click.command("improve")
@click.option(
    "--library",
    "library_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Library to improve (its recorded episodes are the evidence).",
)
@click.option(
    "--min-failures",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Failures of a tool's latest version before it is examined (an answer that "
    "disagrees with a gold answer counts at once).",
)
@click.option(
    "--max-rounds",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Repair rounds per tool, counted across runs; a tool still failing after "
    "them is retired with the reason.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1, max=10),
    default=3,
    show_default=True,
    help="Maker replies per repair round (a reply that cannot "
    "be used, or a candidate that fails, is shown back).",
)
@click.option(
    "--explore/--no-explore",
    default=False,
    show_default=True,
    help="Run `maker explore` first (default settings; the user model explores, the maker "
    "judges), so the round also sees the failures exploration finds.",
)
@model_options("maker", "user", what={"user": "the explorer, with --explore"})
@click.option(
    "--dry-run",
    is_flag=True,
    help="Classify and say what would be done; no model call, nothing written.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the whole report (every tool, every round) to this JSON file.",
)
@ledger_option("improve")
@click.option("--no-progress", is_flag=True, help="No per-tool progress lines on stderr.")
def improve_command(
    library_dir: Path,
    min_failures: int,
    max_rounds: int,
    max_attempts: int,
    explore: bool,
    models: ModelFlags,
    dry_run: bool,
    report_file: Path | None,
    ledger_file: Path | None,
    no_progress: bool,
) -> None:
    """Repair the library's failing tools from their recorded uses (one round).

    Tools whose latest version failed at least --min-failures times (or gave an answer that
    disagrees with a gold answer) are examined. Each failure is classified: a bug (valid
    arguments, wrong value or an error inside the tool) goes to the maker for repair with the
    failing uses as evidence; the candidate must validate, fix at least one failing use and
    pass the regression gate (previous tests, recorded successful uses), else it is stored
    rejected with the reason. Misuse (arguments that do not fit) becomes a pitfall the solver's
    replay shows; environment failures (timeouts, limits, endpoint errors) are only reported.

    Prints a table and, last, one JSON line of figures; every model call is appended to a
    ledger (--ledger). Exit status: 0 ran, 1 a maker call
    failed, 2 bad input.

    \b
    Examples:
      maker improve --library my-lib --dry-run
      MAKER_MAKER_MODEL=gpt-4.1 OPENAI_API_KEY=... maker improve --library my-lib
    """
    from library.errors import LibraryError
    from library.store.sqlite import check_library

    if not (library_dir / "library.sqlite").is_file():
        fail(f"--library {library_dir}: no library there (library.sqlite is missing)")
    try:
        check_library(library_dir)
    except LibraryError as exc:
        fail(str(exc))
    client = None
    user = None
    ledger = None
    local = False
    if not dry_run:
        from maker.llm import ConfigError, CostLedger, make_client
        from maker.llm.local import resolve_role

        try:
            config = models.load()
            local = resolve_role(config, "maker").provider == "local"
            if explore:  # the explorer is the user role (the configured endpoint, else local)
                local = resolve_role(config, "user").provider == "local" or local
            from maker.llm import ResponseCache

            cache = ResponseCache(config.cache_dir or library_dir / ".llm-cache")
            ledger = CostLedger(ledger_path(library_dir, "improve", ledger_file))
            client = make_client(config, "maker", ledger=ledger, cache=cache)
            if explore:
                # its own ledger object (the maker's totals stay the maker's), the same file
                user = make_client(config, "user", ledger=CostLedger(ledger.path), cache=cache)
        except ConfigError as exc:
            fail(str(exc))
    from library import Library
    from maker.improve import ImproveSettings, improve_library
    from maker.improve.report import render_improve_report
    from sandbox import Sandbox

    settings = ImproveSettings(
        min_failures=min_failures, max_rounds=max_rounds, max_attempts=max_attempts, dry_run=dry_run
    )
    progress = None if no_progress else _progress
    try:
        with Library.open(library_dir, read_only=dry_run) as lib:
            if dry_run:  # nothing runs: no sandbox to start
                report = improve_library(lib, None, None, settings=settings, progress=progress)
            else:
                with Sandbox(workers=2) as sb:
                    explore_step = None
                    if user is not None and client is not None:
                        from maker.explore import explore_library

                        def explore_step(library: Library) -> Any:
                            return explore_library(library, user, client, sb)

                    report = improve_library(
                        lib, client, sb, settings=settings, progress=progress, explore=explore_step
                    )
    except LibraryError as exc:
        fail(str(exc), WORK_FAILED)
    finally:
        if local:
            from maker.llm.local import stop_shared_server

            stop_shared_server()
    if report_file is not None:
        try:
            report_file.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
        except OSError as exc:
            click.echo(f"warning: --report {report_file}: {exc.strerror or exc}", err=True)
    render_improve_report(report, Console())
    if ledger is not None and ledger.path is not None and ledger.path.exists():
        click.echo(f"ledger: {ledger.path}", err=True)
    summary = report.summary()
    click.echo(json.dumps(summary, sort_keys=True))
    sys.exit(WORK_FAILED if summary["errors"] else 0)


def _progress(message: str) -> None:
    click.echo(message, err=True)


def register(main: click.Group) -> None:
    """Add the commands of this module to the `maker` CLI."""
    main.add_command(improve_command)
