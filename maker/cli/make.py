"""`maker make`, `maker demo` and `maker bench make`: thin commands over `maker.jobs`."""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from maker.cli.common import (
    ModelFlags,
    exit_interrupted,
    fail,
    job_options,
    make_dir,
    model_options,
    plural,
)
from maker.make import REGISTRY, Options, StrategyUnavailable, get_strategy


def _load(tasks_file: Path) -> tuple[list[Any], list[Any]]:
    from maker.tasks import load_tasks

    try:
        tasks, errors = load_tasks(tasks_file)
    except OSError as exc:
        fail(f"cannot read {tasks_file}: {exc.strerror or exc}")
    for e in errors:
        click.echo(f"warning: skipped {e}", err=True)
    return tasks, errors


@click.command("make")
@click.argument(
    "tasks_file",
    metavar="TASKS.jsonl",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--strategy",
    type=click.Choice(list(REGISTRY)),
    default="creator",
    show_default=True,
    help="How tools are made.",
)
@click.option(
    "--library",
    "library_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Library directory to publish into (created if missing).",
)
@job_options(
    "maker",
    "work units (tasks, or task types for latm/craft)",
    job_dir="LIBRARY/jobs/STRATEGY-<tasks digest>",
)
@model_options("maker")
@click.option(
    "--max-repairs",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Repair rounds per unit after a failing validation or run.",
)
@click.option(
    "--solve-samples",
    type=click.IntRange(min=1),
    default=Options.solve_samples,
    show_default=True,
    help="craft: programs tried per train problem until one reproduces the gold "
    "answer (each new one sees the last one's result, never the answer).",
)
@click.option(
    "--fresh-starts",
    type=click.IntRange(min=0),
    default=Options.fresh_starts,
    show_default=True,
    help="Times a tool that still fails with no repair left is drafted afresh "
    "(a new sample, its own repairs; the best of several drafts, for a weak maker).",
)
@click.option(
    "--drafts",
    type=click.IntRange(min=1),
    default=Options.drafts,
    show_default=True,
    help="latm: first drafts of each tool drawn at once (the first at the role's own "
    "temperature, the rest warm); the one that does best on the checks known at that "
    "point goes on to the usual checks and repairs. N times the tokens; well under N "
    "times the wall time on a server that decodes requests together (the local one does).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def make_command(
    tasks_file: Path,
    strategy: str,
    library_dir: Path,
    job_dir: Path | None,
    concurrency: int | None,
    units_in_flight: int | None,
    models: ModelFlags,
    max_repairs: int,
    solve_samples: int,
    fresh_starts: int,
    drafts: int,
    no_progress: bool,
) -> None:
    """Make tools for the tasks in TASKS.jsonl with a strong model and publish them.

    Malformed task lines are reported (line and field) and skipped; the rest still runs.
    Killed at any point, the same command resumes without redoing finished tasks.

    With no endpoint configured, the maker is the local 1.5B model (`maker models`), served
    by a local server started on the first model call and stopped at the end.

    \b
    Examples:
      maker make tasks.jsonl --strategy creator --library my-lib      # local model
      MAKER_MAKER_MODEL=gpt-4.1 OPENAI_API_KEY=... \\
        maker make tasks.jsonl --strategy creator --library my-lib
    """
    from maker.llm import ConfigError
    from maker.llm.local import resolve_role, stop_shared_server

    try:  # first, before the heavy imports: a missing endpoint is said at once
        config = models.load(**{"maker.concurrency": concurrency})
        maker_role = resolve_role(config, "maker")
    except ConfigError as exc:
        fail(str(exc))
    try:
        get_strategy(strategy)
    except StrategyUnavailable as exc:
        fail(str(exc))
    from library.errors import LibraryError
    from library.store.sqlite import check_library

    try:  # a damaged library is said before any work starts, and left unchanged
        check_library(library_dir)
    except LibraryError as exc:
        fail(str(exc))
    from maker.jobs import (
        JobBusy,
        JobDir,
        JobError,
        default_job_dir,
        default_units,
        freeze_startup_objects,
        run_job,
    )
    from maker.jobs.report import render_report
    from maker.llm import CostLedger, ResponseCache, make_client
    from sandbox import Sandbox

    tasks, errors = _load(tasks_file)
    if not tasks:
        lines = len({e.line for e in errors})
        fail(f"{tasks_file} has no valid task ({plural(lines, 'malformed line')})")
    job = JobDir(job_dir or default_job_dir(library_dir, strategy, tasks))
    try:  # a job dir of another job is said before anything is created
        job.check(strategy, tasks, library_dir)
    except JobError as exc:
        fail(str(exc))
    make_dir(job.path, "--job-dir")
    cache = ResponseCache(config.cache_dir or library_dir / ".llm-cache")
    client = make_client(config, "maker", ledger=CostLedger.load(job.ledger_file), cache=cache)
    if maker_role.provider == "local":
        click.echo(
            f"maker: local model {maker_role.model} (served on this machine when first needed)",
            err=True,
        )
        _prepare_local_models()
    try:
        with job.hold(), Sandbox(workers=2) as sb:  # one run per job dir, said at once
            freeze_startup_objects()
            report = run_job(
                tasks,
                strategy,
                library_dir=library_dir,
                job_dir=job.path,
                client=client,
                sandbox=sb,
                concurrency=units_in_flight or default_units(maker_role.concurrency),
                progress=not no_progress,
                task_errors=errors,
                options=Options(
                    max_repairs=max_repairs,
                    solve_samples=solve_samples,
                    fresh_starts=fresh_starts,
                    drafts=drafts,
                ),
            )
    except JobBusy as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except JobError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        exit_interrupted(
            f"\ninterrupted: finished units are saved in {job.path}; run the same "
            "command again to resume"
        )
    finally:
        stop_shared_server()
    render_report(report, Console())
    click.echo(f"report: {job.report_file}")
    if report.stopped:
        click.echo(
            f"error: the job stopped early, {plural(report.not_started, 'unit')} not "
            f"started: {report.stopped}",
            err=True,
        )
    sys.exit(1 if report.errors or report.stopped else 0)


def _prepare_local_models() -> None:
    """Assemble or check the local model files now, with their own progress bar, so that the
    server started later inside the job (under the job's progress bar) finds them ready."""
    from maker.llm.local import LOCAL_MODELS, LocalModelError, ensure_model

    for model in LOCAL_MODELS:
        try:
            ensure_model(model, progress=True)
        except (LocalModelError, OSError) as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.command("demo")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    default=None,
    help="Keep the demo library and job here (default: a temporary directory, removed at the end).",
)
def demo_command(workdir: Path | None) -> None:
    """Offline walk-through of `maker make` on the shipped example tasks, with a SCRIPTED model.

    No endpoint is used: a scripted model (replies written in advance, labelled as such) plays
    the maker, including one wrong first tool that gets rectified. Everything else is real:
    parsing, the sandbox, validation, the library, checkpoints, the report.
    """
    from maker.bench.oracle import example_solutions, scripted_model
    from maker.jobs import run_job
    from maker.jobs.report import render_report
    from maker.llm import ChatClient, RoleConfig
    from maker.tasks import example_tasks_path, load_tasks
    from sandbox import Sandbox

    console = Console()
    console.print(
        "[bold yellow]SCRIPTED DEMO[/]: the maker model below is a ScriptedModel "
        "with replies written in advance; no model endpoint is called."
    )
    tasks, _ = load_tasks(example_tasks_path())
    console.print(f"tasks: {example_tasks_path()} ({len(tasks)} tasks)")
    model = scripted_model(example_solutions(tasks, buggy_first=["math-divisor-sum-36"]))
    client = ChatClient(model, RoleConfig("maker", model="scripted-oracle"), local=True)
    with tempfile.TemporaryDirectory(prefix="maker-demo-") as tmp:
        root = workdir or Path(tmp)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"--workdir {root}: {exc.strerror or exc}")
        with Sandbox(workers=2) as sb:
            report = run_job(
                tasks,
                "creator",
                library_dir=root / "library",
                job_dir=root / "job",
                client=client,
                sandbox=sb,
                concurrency=4,
            )
        if not workdir:  # do not print paths that are gone when the demo ends
            gone = "(temporary, removed at the end; keep it with --workdir DIR)"
            report = dataclasses.replace(report, job_dir=gone, library_dir=gone)
        render_report(report, console)
        model.assert_consumed()
        from library import Library

        with Library.open(root / "library", read_only=True) as lib:
            names = sorted(r.ref for r in lib.store.list())
        console.print(f"library now holds: {', '.join(names)}")
        rejections = (root / "job" / "rejections.jsonl").read_text("utf-8").splitlines()
        console.print(f"drafts turned down on the way: {len(rejections)} (see rejections.jsonl)")
        if workdir:
            console.print(f"kept in {root}")


@click.command("make")
@click.option(
    "--tasks",
    "count",
    type=click.IntRange(min=3),
    default=100,
    show_default=True,
    help="Synthetic tasks in the batch (distinct problems of the three shipped task "
    "types, at least 3).",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.2,
    show_default=True,
    help="Seconds per fake-server call.",
)
@job_options("maker", "tasks", concurrency=16)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=None,
    help="Hypothesis examples per property during validation (default: as `maker make`, 50).",
)
def bench_make_command(
    count: int,
    latency: float,
    concurrency: int,
    units_in_flight: int | None,
    max_examples: int | None,
) -> None:
    """A CREATOR batch against the fake server, then again from the response cache.

    Prints a table and, last, one JSON line: calls, wall_s, ideal_s (calls x latency /
    concurrency), efficiency (ideal_s / wall_s; target >= 0.75), rerun_wall_s (the same
    command on the finished job; target < 5% of the first run) and more.
    """
    from maker.bench.make import run_bench

    run_bench(
        tasks=count,
        latency=latency,
        concurrency=concurrency,
        units_in_flight=units_in_flight,
        max_examples=max_examples,
    )


def register(main: click.Group, bench: click.Group) -> None:
    """Add the commands of this module to the `maker` CLI."""
    main.add_command(make_command)
    main.add_command(demo_command)
    bench.add_command(bench_make_command)
