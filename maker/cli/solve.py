"""`maker solve` and `maker bench solve`: thin commands over `maker.use`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from maker.cli.common import ModelFlags, fail, job_options, make_dir, model_options


@click.command("solve")
@click.argument(
    "problems_file",
    metavar="PROBLEMS.jsonl",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--library",
    "library_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Library whose tools are used (episodes of use are recorded into it).",
)
@click.option(
    "--lock",
    "lock_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Pin the tools to a snapshot: a lock file (JSON of `Library.snapshot()`).",
)
@click.option(
    "--top-k",
    type=click.IntRange(min=1, max=20),
    default=3,
    show_default=True,
    help="At most this many tools offered per problem (none when no tool is "
    "relevant: the model then answers directly).",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0, max=10),
    default=2,
    show_default=True,
    help="Corrected replies allowed after one that cannot be used (not JSON, unknown "
    "tool, arguments that do not fit, a program that does not parse or fails).",
)
@click.option(
    "--replay-budget",
    type=click.IntRange(min=0),
    default=1500,
    show_default=True,
    help="Characters of replayed experience (solved problems, pitfalls) per prompt.",
)
@job_options("user", "problems", job_dir="LIBRARY/jobs/solve-<digest of problems and settings>")
@model_options("user")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def solve_command(
    problems_file: Path,
    library_dir: Path,
    lock_file: Path | None,
    top_k: int,
    max_retries: int,
    replay_budget: int,
    job_dir: Path | None,
    concurrency: int | None,
    units_in_flight: int | None,
    models: ModelFlags,
    no_progress: bool,
) -> None:
    """Solve the problems in PROBLEMS.jsonl with a cheap model using the library's tools.

    PROBLEMS.jsonl has the task format of `maker make` (docs/tasks.md); `answer`, when given,
    grades the result. Per problem the user model sees at most --top-k relevant tools (typed
    signature, one-line doc, measured success rate), replayed solved problems and known
    pitfalls, and replies with one JSON object: a call of one tool, a short program composing
    tools, or a direct answer. Calls and programs run in the sandbox; tool use is counted from
    the code that ran. Every problem is recorded in the library as an episode.

    The report (printed, and report.json in the job dir) gives accuracy, tool-use rate, the
    rate of each stage (well-formed, tool chosen, arguments valid, executed, correct), accuracy
    with and without a tool, reuse per tool and tokens, seconds and dollars by role and phase.
    Killed at any point, the same command resumes without redoing finished problems.

    \b
    Example:
      MAKER_USER_BASE_URL=http://localhost:11434/v1 MAKER_USER_MODEL=qwen2.5:0.5b \\
        maker solve problems.jsonl --library my-lib
    \b
    Offline, against the fake endpoint with scripted replies for the example tasks:
      python -m maker.llm.testing.fake_endpoint --reply-factory maker.bench.solve:example_reply
      # then, with its base_url, for the maker role and the user role:
      maker make maker/data/example_tasks.jsonl --library lib
      maker solve maker/data/example_tasks.jsonl --library lib
    """
    from maker.llm import ConfigError
    from maker.llm.local import resolve_role

    try:  # first, before the heavy imports: a missing endpoint is said at once
        config = models.load(**{"user.concurrency": concurrency})
        user_role = resolve_role(config, "user")  # the configured endpoint, else the local 0.5B
    except ConfigError as exc:
        fail(str(exc))
    if not (library_dir / "library.sqlite").is_file():
        fail(
            f"no library at {library_dir}: make tools first (maker make ... --library "
            f"{library_dir})"
        )
    from library import LibraryError
    from library.records import Lock

    lock = None
    if lock_file is not None:
        try:
            lock = Lock.from_text(lock_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, LibraryError) as exc:
            fail(f"--lock {lock_file}: {exc}")
    from maker.cli.make import _load
    from maker.jobs import JobDir, default_units, freeze_startup_objects
    from maker.llm import CostLedger, ResponseCache, make_client
    from maker.use import SolveSettings
    from maker.use.job import run_solve, solve_job_dir
    from maker.use.report import render_solve_report
    from sandbox import Sandbox

    tasks, errors = _load(problems_file)
    if not tasks:
        fail(f"{problems_file} has no valid problem ({len(errors)} malformed line(s))")
    settings = SolveSettings(
        top_k=top_k, max_retries=max_retries, replay_budget_chars=replay_budget
    )
    job = JobDir(job_dir or solve_job_dir(library_dir, tasks, settings, lock))
    make_dir(job.path, "--job-dir")
    cache = ResponseCache(config.cache_dir or library_dir / ".llm-cache")
    client = make_client(config, "user", ledger=CostLedger.load(job.ledger_file), cache=cache)
    try:
        with Sandbox(workers=2) as sb:
            freeze_startup_objects()
            report, job_report = run_solve(
                tasks,
                library_dir=library_dir,
                job_dir=job.path,
                client=client,
                sandbox=sb,
                settings=settings,
                lock=lock,
                task_errors=errors,
                progress=not no_progress,
                concurrency=units_in_flight or default_units(user_role.concurrency),
            )
    except LibraryError as exc:
        fail(str(exc))
    render_solve_report(report, Console())
    click.echo(f"report: {job.report_file}")
    if job_report.stopped:
        click.echo(
            f"error: the job stopped early, {job_report.not_started} problem(s) not "
            f"started: {job_report.stopped}",
            err=True,
        )
    sys.exit(1 if job_report.errors or job_report.stopped else 0)


@click.command("solve")
@click.option("--problems", type=click.IntRange(min=3), default=200, show_default=True)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.2,
    show_default=True,
    help="Seconds per fake-server call.",
)
@job_options("user", "problems", concurrency=16)
@click.option(
    "--big-tools",
    type=click.IntRange(min=10),
    default=10_000,
    show_default=True,
    help="Tools in the library of the host-cost measurement.",
)
@click.option(
    "--big-episodes",
    type=click.IntRange(min=0),
    default=100_000,
    show_default=True,
    help="Episodes in the library of the host-cost measurement.",
)
@click.option(
    "--host-problems",
    type=click.IntRange(min=10),
    default=200,
    show_default=True,
    help="Problems timed in the host-cost measurement.",
)
def bench_solve_command(
    problems: int,
    latency: float,
    concurrency: int,
    units_in_flight: int | None,
    big_tools: int,
    big_episodes: int,
    host_problems: int,
) -> None:
    """Solve a batch against the fake server, again from cache, and time the host's own work.

    Prints a table and, last, one JSON line: calls, wall_s, ideal_s (calls x latency /
    concurrency), efficiency (ideal_s / wall_s; target >= 0.8), rerun_wall_s (the same command
    on the finished job; target < 5% of the first) and host_ms_median (retrieve, replay,
    render, parse, sandbox run, record per problem on a library of --big-tools tools and
    --big-episodes episodes, model time excluded; target <= 5 ms).
    """
    from maker.bench.solve import run_bench

    run_bench(
        problems=problems,
        latency=latency,
        concurrency=concurrency,
        units_in_flight=units_in_flight,
        big_tools=big_tools,
        big_episodes=big_episodes,
        host_problems=host_problems,
    )


def register(main: click.Group, bench: click.Group) -> None:
    """Add the commands of this module to the `maker` CLI."""
    main.add_command(solve_command)
    bench.add_command(bench_solve_command)
