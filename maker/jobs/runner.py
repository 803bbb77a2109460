"""Batch jobs: run a strategy over a batch of tasks, checkpointed, concurrent and resumable.

    report = run_job(tasks, "creator", library_dir="lib", job_dir="lib/jobs/demo",
                     client=client, sandbox=sb, concurrency=8)

Each unit of work (one task for CREATOR) runs its strategy's LangGraph graph under thread id
``<job id>:<unit id>`` with a SQLite checkpointer in the job dir, so a job killed at any point
(even ``kill -9``) resumes where it stopped when run again with the same job dir: finished
units are read back from the checkpointer and never re-run; an interrupted unit continues from
its last finished node: checkpoints are written with ``durability="sync"``, so a node's result
is on disk before the next node starts; a model call that node repeats is served by the
response cache, and publishing is idempotent by content hash. A strategy whose graph is one
node per unit may say ``durability = "exit"``: its unit then writes one checkpoint, when it
ends (a unit killed before that starts over, as it would from its input checkpoint).

A finished unit's line in units.jsonl names the checkpoint it was read from; when that is still
the thread's latest checkpoint, a resumed run takes the unit's outcome from the line instead
of loading the checkpoint (a finished job re-runs in a fraction of the time).

A finished unit counts as finished only while what it published is in *this* library (same
name, version and content hash); otherwise it runs again (its replies come from the response
cache where possible). A job dir belongs to one library and one tasks file (both recorded in
job.json; another one is refused in one line), and to one run at a time: a run holds an OS
lock (`fcntl.flock`) on ``run.lock`` until it ends, so a crash or ``kill -9`` releases it.

The job dir holds::

    job.json            job id, strategy, task digest, library
    run.lock            the lock of the run in progress (pid, host and start time inside)
    checkpoints.sqlite  LangGraph checkpoints (the record of progress)
    units.jsonl         one line per finished unit (appended as units finish)
    rejections.jsonl    every draft turned down, with its reason (rewritten at the end)
    report.json         the final `JobReport`
    ledger.jsonl        the cost ledger, when the caller's client writes one there (the CLI does)
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from library import Library
from library.errors import LibraryError
from library.records import parse_ref
from library.store.base import Gate
from maker.errors import MakerError
from maker.jobs.report import JobReport, count_reasons, phase_table
from maker.llm import ChatClient
from maker.make import Context, Options, Strategy, Unit, UnitOutcome, get_strategy
from maker.tasks import Task, TaskError
from sandbox import Sandbox

RECURSION_LIMIT = 200
JOB_VERSION = 1


STOP_AFTER_ERRORS = 5
"""A job starts no new unit after this many units in a row ended in an error."""


class JobError(MakerError, ValueError):
    """A job cannot start (e.g. the job dir belongs to another strategy); says what to do."""

    exit_code = 2


class JobBusy(JobError):
    """Another run holds the job dir; the message names it (pid, host, start time)."""

    exit_code = 1


_HELD = threading.local()  # job dirs this thread holds: resolved path -> depth


def freeze_startup_objects() -> None:
    """Move every object alive now (imported modules, the graph, the library) out of the cyclic
    garbage collector's reach (`gc.freeze`), so that the collections a long job triggers walk
    only what the job allocates: full collections otherwise stall every unit thread for tens of
    milliseconds each. For a process that runs jobs (`maker make`, the benchmark); a library
    caller decides for its own process."""
    gc.collect()
    gc.freeze()


def default_units(model_concurrency: int) -> int:
    """Units a job works on at once for a role limited to `model_concurrency` requests in
    flight: twice as many, so that while some units run sandbox validation (CPU) others keep
    every model slot busy. The request limit itself is the client's (`RoleConfig.concurrency`),
    not this number."""
    return 2 * max(1, model_concurrency)


def tasks_digest(tasks: Sequence[Task]) -> str:
    text = json.dumps([t.to_json() for t in tasks], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def default_job_dir(library_dir: str | Path, strategy: str, tasks: Sequence[Task]) -> Path:
    """``<library>/jobs/<strategy>-<digest of the tasks>``: the same command finds its job."""
    return Path(library_dir) / "jobs" / f"{strategy}-{tasks_digest(tasks)[:12]}"


@dataclass(frozen=True)
class JobDir:
    """The files of one job (see the module docstring)."""

    path: Path

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints.sqlite"

    @property
    def units_file(self) -> Path:
        return self.path / "units.jsonl"

    @property
    def rejections_file(self) -> Path:
        return self.path / "rejections.jsonl"

    @property
    def report_file(self) -> Path:
        return self.path / "report.json"

    @property
    def ledger_file(self) -> Path:
        return self.path / "ledger.jsonl"

    @property
    def lock_file(self) -> Path:
        return self.path / "run.lock"

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the job dir for one run (an OS lock, released by exit, crash or kill -9), or
        raise `JobBusy` naming the run that holds it. Re-entrant within one thread (the CLI
        holds it before starting the sandbox, then `run_job` holds it again)."""
        key = str(self.path.resolve())
        held: dict[str, int] | None = getattr(_HELD, "paths", None)
        if held is None:
            held = _HELD.paths = {}
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise JobBusy(
                    f"job dir {self.path} is in use by {_holder(self.lock_file)}; "
                    "wait for that run to end (or stop it), then run again"
                ) from None
            started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": started}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
            held[key] = 1
            try:
                yield
            finally:
                held.pop(key, None)
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def check(
        self, strategy: str, tasks: Sequence[Task], library_dir: str | Path | None = None
    ) -> dict[str, Any] | None:
        """The job's job.json if it belongs to this strategy, these tasks and this library
        (`JobError` saying what to do otherwise), or None for a new job. Writes nothing."""
        meta_path = self.path / "job.json"
        if not meta_path.exists():
            return None
        meta: dict[str, Any] = json.loads(meta_path.read_text("utf-8"))
        digest = tasks_digest(tasks)
        if meta.get("strategy") != strategy:
            raise JobError(
                f"job dir {self.path} holds a {meta.get('strategy')!r} job, not "
                f"{strategy!r}; pass another --job-dir"
            )
        if meta.get("tasks_digest") != digest:
            raise JobError(
                f"job dir {self.path} was started for other tasks (digest "
                f"{str(meta.get('tasks_digest'))[:12]}, these are {digest[:12]}); pass "
                "another --job-dir, or none (the default job dir is per tasks file)"
            )
        known = meta.get("library")
        library = str(Path(library_dir).resolve()) if library_dir is not None else None
        if library is not None and known not in (None, library):
            raise JobError(
                f"job dir {self.path} belongs to the library {known}, not "
                f"{library}; pass --library {known} to resume it, or another "
                "--job-dir"
            )
        return meta

    def init(
        self, strategy: str, tasks: Sequence[Task], library_dir: str | Path | None = None
    ) -> dict[str, Any]:
        """Create the job dir or check that it belongs to this strategy, these tasks and this
        library (`JobError` saying what to do otherwise); returns job.json."""
        self.path.mkdir(parents=True, exist_ok=True)
        meta_path = self.path / "job.json"
        digest = tasks_digest(tasks)
        library = str(Path(library_dir).resolve()) if library_dir is not None else None
        meta = self.check(strategy, tasks, library_dir)
        if meta is not None:
            if library is not None and meta.get("library") is None:  # from before: adopt it
                meta = {**meta, "library": library}
                _write_atomic(meta_path, json.dumps(meta, indent=2, sort_keys=True))
            return meta
        meta = {
            "version": JOB_VERSION,
            "job_id": f"{strategy}-{digest[:12]}",
            "strategy": strategy,
            "tasks_digest": digest,
            "created": time.time(),
            "library": library,
        }
        _write_atomic(meta_path, json.dumps(meta, indent=2, sort_keys=True))
        return meta

    def append_unit(self, outcome: UnitOutcome, checkpoint_id: str | None = None) -> None:
        with self.units_file.open("a", encoding="utf-8") as f:
            f.write(_unit_line(outcome, checkpoint_id))
            f.flush()

    def finished_units(self) -> dict[str, dict[str, Any]]:
        """Unit outcomes recorded in units.jsonl (last line per unit wins)."""
        out: dict[str, dict[str, Any]] = {}
        if self.units_file.exists():
            for line in self.units_file.read_text("utf-8").splitlines():
                try:
                    data = json.loads(line)
                except ValueError:
                    continue  # a line cut off by a kill
                out[data["unit_id"]] = data
        return out

    def rejections(self) -> list[dict[str, Any]]:
        if not self.rejections_file.exists():
            return []
        return [json.loads(x) for x in self.rejections_file.read_text("utf-8").splitlines() if x]


def _holder(lock_file: Path) -> str:
    """Who holds a job's lock, from what the holder wrote in the lock file."""
    try:
        data = json.loads(lock_file.read_text("utf-8"))
        return f"pid {data['pid']} on {data['host']} since {data['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another run (starting up)"


def missing_tools(
    library: Library, outcome: UnitOutcome, known: dict[str, dict[int, str]] | None = None
) -> list[str]:
    """The tools a finished unit reports that this library does not hold (by name, version
    and, when recorded, content hash). `known` caches each name's versions across calls."""
    known = {} if known is None else known
    missing = []
    for tool in outcome.tools:
        ref = str(tool.get("ref") or "")
        try:
            name, version = parse_ref(ref)
        except LibraryError:
            missing.append(ref or "?")
            continue
        if name not in known:
            known[name] = {r.version: r.content_hash for r in library.store.history(name)}
        held = known[name].get(version) if version is not None else None
        want = tool.get("content_hash")
        if held is None or (want and held != want):
            missing.append(ref)
    return missing


def _unit_line(outcome: UnitOutcome, checkpoint_id: str | None) -> str:
    """One line of units.jsonl: the outcome and the checkpoint it was read from."""
    data = outcome.to_json()
    if checkpoint_id:
        data["checkpoint_id"] = checkpoint_id
    return json.dumps(data, ensure_ascii=False, default=str) + "\n"


def _outcome_of_line(data: dict[str, Any]) -> UnitOutcome:
    return UnitOutcome(
        str(data["unit_id"]),
        str(data["status"]),
        tuple(data.get("tools", ())),
        str(data.get("reason", "")),
        tuple(data.get("rejections", ())),
        dict(data.get("usage", {})),
    )


def latest_checkpoints(saver: SqliteSaver, thread_id: str | None = None) -> dict[str, str] | None:
    """Each thread's latest checkpoint id (of `thread_id` only, when given), in one query of
    the checkpointer's table (the order `SqliteSaver.get_tuple` reads by); None when the table
    cannot be read that way (the callers then ask the graph per unit)."""
    sql = "SELECT thread_id, MAX(checkpoint_id) FROM checkpoints WHERE checkpoint_ns = ''"
    args: tuple[str, ...] = ()
    if thread_id is not None:
        sql, args = sql + " AND thread_id = ?", (thread_id,)
    try:
        with saver.lock:
            rows = saver.conn.execute(sql + " GROUP BY thread_id", args).fetchall()
    except (sqlite3.Error, AttributeError):
        return None
    return {str(t): str(c) for t, c in rows if c is not None}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def open_checkpointer(path: Path) -> Iterator[SqliteSaver]:
    """A SQLite checkpointer shared by the job's threads (the saver serializes with a lock).

    WAL with ``synchronous=NORMAL``: a killed process loses nothing committed."""
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


def default_gate(sandbox: Sandbox, library: Library) -> Gate | None:
    """The library's regression gate, when the installed library has one."""
    try:
        from library.gate import regression_gate
    except ImportError:  # pragma: no cover - older library without a gate
        return None
    return regression_gate(sandbox, library.store)


class _Tracker:
    """Counts for the progress display: accepted / rejected / in flight / errors, and cost."""

    def __init__(self, progress: Progress | None, total: int, client: ChatClient) -> None:
        self.progress = progress
        self.client = client
        self.lock = threading.Lock()
        self.counts = {"accepted": 0, "rejected": 0, "in_flight": 0, "errors": 0}
        self.task = progress.add_task("units", total=total, **self._fields()) if progress else None

    def _fields(self) -> dict[str, Any]:
        return {**self.counts, "dollars": self.client.ledger.total().dollars}

    def _refresh(self, advance: int = 0) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, advance=advance, **self._fields())

    def start(self) -> None:
        with self.lock:
            self.counts["in_flight"] += 1
            self._refresh()

    def step(self) -> None:
        with self.lock:
            self._refresh()

    def done(self, status: str, *, started: bool = True) -> None:
        with self.lock:
            if started:
                self.counts["in_flight"] -= 1
            key = status if status in ("accepted", "rejected") else "errors"
            self.counts[key] += 1
            self._refresh(advance=1 if key != "errors" else 0)


PROGRESS_WORDS = ("making", "accepted", "rejected")


def _progress(console: Console, words: Sequence[str] = PROGRESS_WORDS) -> Progress:
    """The bar: `words` name the job and its two outcomes (a strategy may give its own as
    ``progress_words``, e.g. the tool user's "solving", "answered", "no answer")."""
    verb, good, bad = words
    return Progress(
        TextColumn(f"[bold]{verb}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            f"[green]{{task.fields[accepted]}} {good}[/] "
            f"[red]{{task.fields[rejected]}} {bad}[/] "
            "[yellow]{task.fields[in_flight]} in flight[/] "
            "{task.fields[errors]} errors  ${task.fields[dollars]:.4f}"
        ),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def run_job(
    tasks: Sequence[Task],
    strategy: Strategy | str,
    *,
    library_dir: str | Path,
    job_dir: str | Path,
    client: ChatClient,
    sandbox: Sandbox,
    concurrency: int = 8,
    progress: bool = True,
    gate: Gate | bool | None = True,
    options: Options | None = None,
    task_errors: Sequence[TaskError] = (),
    console: Console | None = None,
    stop_after_errors: int | None = STOP_AFTER_ERRORS,
) -> JobReport:
    """Run `strategy` over `tasks`, publishing accepted tools into the library at `library_dir`.

    Args:
        tasks: the batch (see `maker.tasks.load_tasks`).
        strategy: a `Strategy` or a registered name ("creator").
        library_dir: the library to publish into (created if missing).
        job_dir: where progress lives; run again with the same dir to resume.
        client: the maker's `ChatClient` (its ledger feeds the progress bar and the report).
        sandbox: where every piece of model-written code runs.
        concurrency: units worked on at once (threads). Model requests in flight are limited
            separately, by the client's role concurrency; `default_units` gives twice that, so
            validation of some units overlaps waiting on the model for others.
        progress: show a progress bar (on stderr).
        gate: True for the library's regression gate, a gate function, or None/False for none.
        options: strategy knobs (repairs, retries, Hypothesis examples).
        task_errors: malformed task lines, carried into the report.
        stop_after_errors: after this many units in a row end in an error (e.g. the endpoint
            is down), start no new unit: the report says why (`JobReport.stopped`) and the
            units not started run on the next run. None: never stop early.

    Returns:
        The `JobReport`, also saved as ``report.json`` in the job dir. Units that raised
        (e.g. the endpoint kept failing) are reported as errors and retried on the next run.
    """
    strat = get_strategy(strategy) if isinstance(strategy, str) else strategy
    if concurrency < 1:
        raise JobError("concurrency must be at least 1")
    job = JobDir(Path(job_dir))
    with job.hold():
        return _run(
            job,
            tasks,
            strat,
            library_dir=library_dir,
            client=client,
            sandbox=sandbox,
            concurrency=concurrency,
            progress=progress,
            gate=gate,
            options=options,
            task_errors=task_errors,
            console=console,
            stop_after_errors=stop_after_errors,
        )


def _run(
    job: JobDir,
    tasks: Sequence[Task],
    strat: Strategy,
    *,
    library_dir: str | Path,
    client: ChatClient,
    sandbox: Sandbox,
    concurrency: int,
    progress: bool,
    gate: Gate | bool | None,
    options: Options | None,
    task_errors: Sequence[TaskError],
    console: Console | None,
    stop_after_errors: int | None,
) -> JobReport:
    """`run_job` with the job dir held."""
    started = time.monotonic()
    meta = job.init(strat.name, tasks, library_dir)
    job_id = meta["job_id"]
    console = console or Console(stderr=True)
    units = strat.units(tasks)
    outcomes: dict[str, UnitOutcome] = {}
    errors: dict[str, dict[str, Any]] = {}
    resumed = rerun_missing = 0
    with Library.open(library_dir) as library, open_checkpointer(job.checkpoints) as saver:
        gate_fn = default_gate(sandbox, library) if gate is True else (gate or None)
        ctx = Context(client, sandbox, library, gate_fn, options or Options())
        graph = strat.build(ctx).compile(checkpointer=saver)

        def config(unit: Unit) -> dict[str, Any]:
            return {
                "configurable": {"thread_id": f"{job_id}:{unit.id}"},
                "recursion_limit": RECURSION_LIMIT,
            }

        pending: list[tuple[Unit, bool]] = []
        known: dict[str, dict[int, str]] = {}  # name -> version -> content hash, read once
        checkpoint_ids: dict[str, str] = {}  # unit id -> the checkpoint its outcome is from
        recorded = job.finished_units()
        latest = latest_checkpoints(saver)
        for unit in units:
            tid = config(unit)["configurable"]["thread_id"]
            line = recorded.get(unit.id)
            cid: str | None
            if latest is not None and tid not in latest:
                pending.append((unit, False))  # never started (or its thread was deleted)
                continue
            if latest is not None and line and line.get("checkpoint_id") == latest[tid]:
                outcome, cid = _outcome_of_line(line), latest[tid]  # read from this checkpoint
            else:
                snap = graph.get_state(config(unit))
                if not snap.values:
                    pending.append((unit, False))
                    continue
                if snap.next or snap.values.get("status") == "running":
                    pending.append((unit, True))  # interrupted: continue from its checkpoint
                    continue
                outcome = strat.outcome(unit.id, dict(snap.values))
                cid = (snap.config or {}).get("configurable", {}).get("checkpoint_id")
            if not missing_tools(library, outcome, known):
                outcomes[unit.id] = outcome
                if cid:
                    checkpoint_ids[unit.id] = cid
                resumed += 1
                continue
            # finished, but what it published is not in this library: run it afresh
            saver.delete_thread(tid)
            rerun_missing += 1
            pending.append((unit, False))
        for uid, outcome in outcomes.items():  # finished, but killed before its line was written
            if uid not in recorded:
                job.append_unit(outcome, checkpoint_ids.get(uid))

        words = getattr(strat, "progress_words", PROGRESS_WORDS)
        bar = _progress(console, words) if progress else None
        tracker = _Tracker(bar, len(units), client)
        for outcome in outcomes.values():
            tracker.done(outcome.status, started=False)

        errors_in_a_row = 0
        stopped = ""  # why no new unit starts (set once)
        streak_lock = threading.Lock()
        durability = getattr(strat, "durability", "sync")
        interrupted = threading.Event()  # Ctrl-C: no unit starts or takes another step

        def run_unit(item: tuple[Unit, bool]) -> None:
            nonlocal errors_in_a_row, stopped
            unit, has_state = item
            if stopped or interrupted.is_set():
                return  # not started: the next run does it
            tracker.start()
            try:
                cfg = config(unit)
                values: dict[str, Any] | None = None  # the state after the last step
                for chunk in graph.stream(
                    None if has_state else unit.state,
                    cfg,
                    stream_mode="values",
                    durability=durability,
                ):
                    values = chunk
                    tracker.step()
                    if interrupted.is_set():
                        return  # checkpointed after this step: the next run continues it
                state = dict(values) if values is not None else dict(graph.get_state(cfg).values)
                outcome = strat.outcome(unit.id, state)
                if outcome.status not in ("accepted", "rejected"):
                    raise RuntimeError(f"unit ended in status {outcome.status!r}")
            except Exception as exc:  # noqa: BLE001 - one unit's failure must not stop the batch
                message = f"{type(exc).__name__}: {exc}"
                errors[unit.id] = {"unit_id": unit.id, "error": message}
                tracker.done("error")
                with streak_lock:
                    errors_in_a_row += 1
                    if stop_after_errors and errors_in_a_row >= stop_after_errors and not stopped:
                        stopped = (
                            f"{errors_in_a_row} units in a row ended in an error; "
                            f"the last: {message}"
                        )
                return
            with streak_lock:
                errors_in_a_row = 0
            tid = cfg["configurable"]["thread_id"]
            cid = (latest_checkpoints(saver, tid) or {}).get(tid)
            if cid:
                checkpoint_ids[unit.id] = cid
            job.append_unit(outcome, cid)
            outcomes[unit.id] = outcome
            tracker.done(outcome.status)

        if bar is not None:
            bar.start()
        try:
            if concurrency == 1 or len(pending) <= 1:
                for item in pending:
                    run_unit(item)
            else:
                # not a `with` block: its exit waits for the units in flight, which a second
                # Ctrl-C must not do (a local model's call takes tens of seconds)
                pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="maker-unit")
                wait = True
                try:
                    list(pool.map(run_unit, pending))
                except KeyboardInterrupt:
                    # without this the pool would run every queued unit before exiting
                    interrupted.set()
                    if bar is not None:
                        bar.stop()
                    console.print(
                        "stopping: the units in flight end after their current step "
                        "(a model call can take a while); Ctrl-C again to stop at once"
                    )
                    try:
                        pool.shutdown(wait=True, cancel_futures=True)
                    except KeyboardInterrupt:
                        wait = False  # the caller exits now
                    raise
                finally:  # on any way out, as the `with` block did
                    pool.shutdown(wait=wait, cancel_futures=True)
        finally:
            if bar is not None:
                bar.stop()
    report = _report(
        job,
        meta,
        strat.name,
        units,
        outcomes,
        errors,
        resumed,
        library_dir,
        client,
        time.monotonic() - started,
        task_errors,
        stopped,
        rerun_missing,
        checkpoint_ids,
    )
    return report


def _report(
    job: JobDir,
    meta: dict[str, Any],
    strategy: str,
    units: Sequence[Unit],
    outcomes: dict[str, UnitOutcome],
    errors: dict[str, dict[str, Any]],
    resumed: int,
    library_dir: str | Path,
    client: ChatClient,
    wall_s: float,
    task_errors: Sequence[TaskError],
    stopped: str = "",
    rerun_missing: int = 0,
    checkpoint_ids: dict[str, str] | None = None,
) -> JobReport:
    ordered = [outcomes[u.id] for u in units if u.id in outcomes]
    rejections = [r for o in ordered for r in o.rejections]
    _write_atomic(
        job.rejections_file,
        "".join(
            json.dumps({"unit_id": o.unit_id, **r}, ensure_ascii=False, default=str) + "\n"
            for o in ordered
            for r in o.rejections
        ),
    )
    ids = checkpoint_ids or {}
    _write_atomic(job.units_file, "".join(_unit_line(o, ids.get(o.unit_id)) for o in ordered))
    report = JobReport(
        job_id=meta["job_id"],
        strategy=strategy,
        job_dir=str(job.path),
        library_dir=str(library_dir),
        units=len(units),
        accepted=sum(o.status == "accepted" for o in ordered),
        rejected=sum(o.status == "rejected" for o in ordered),
        errors=len(errors),
        resumed=resumed,
        rerun_missing=rerun_missing,
        wall_s=round(wall_s, 4),
        tools=tuple({"unit_id": o.unit_id, **t} for o in ordered for t in o.tools),
        rejection_reasons=count_reasons(o.reason for o in ordered if o.status == "rejected"),
        draft_rejections=count_reasons(str(r.get("reason", "")) for r in rejections),
        fresh_starts=sum(1 for r in rejections if r.get("fresh_start")),
        error_details=tuple(errors[u.id] for u in units if u.id in errors),
        task_errors=tuple(e.to_json() for e in task_errors),
        phases=phase_table(client.ledger),
        stopped=stopped,
        not_started=len(units) - len(outcomes) - len(errors),
    )
    _write_atomic(job.report_file, report.dumps())
    return report
