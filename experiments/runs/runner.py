"""Run an experiment: every method x seed x test item, graded, one results line each, resumable.

>>> from experiments.runs import load_config, run_experiment      # doctest: +SKIP
>>> run_experiment(load_config("small.toml", {"math": "math500.jsonl"}), "runs/small",
...                clients={"user": cheap, "maker": strong})      # doctest: +SKIP
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.data import Dataset, Item, load_bbh, load_math, load_tabmwp
from experiments.grading import RecordError, grade_record
from experiments.methods import (
    Attempt,
    Budget,
    CallRecord,
    Meter,
    Method,
    MethodError,
    MethodUnavailable,
    SolveContext,
    ToolMethod,
    build_method,
)
from experiments.runs.config import DataSpec, ExperimentConfig
from experiments.runs.rundir import RunDir, RunDirError, read_json, write_json
from maker.llm import ChatClient
from sandbox import Sandbox

OUTPUT_CHARS = 4000  # raw model output kept per item


def load_data(spec: DataSpec) -> Dataset:
    """Load one dataset as its spec says (`experiments.data.DataError` names a bad path)."""
    if spec.name == "bbh":
        return load_bbh(spec.path, tasks=spec.tasks)
    if spec.name == "tabmwp":
        return load_tabmwp(spec.path, spec.extra.get("making_path"))
    return load_math(spec.path, spec.extra.get("train_path"))


def select_items(spec: DataSpec, dataset: Dataset, seed: int) -> list[Item]:
    """The test items a run uses: the first ``per_task`` rows of each BIG-Bench task, and a
    seeded sample of ``limit`` items (in dataset order) otherwise."""
    items = list(dataset.test)
    if spec.per_task is not None:
        taken: dict[str, int] = {}
        kept = []
        for it in items:
            task = str(it.metadata.get("task") or it.metadata.get("family") or "")
            if taken.get(task, 0) < spec.per_task:
                taken[task] = taken.get(task, 0) + 1
                kept.append(it)
        items = kept
    if spec.limit is not None and spec.limit < len(items):
        keep = set(random.Random(seed).sample(range(len(items)), spec.limit))
        items = [it for i, it in enumerate(items) if i in keep]
    return items


def grade_item(item: Item, pred: str | None) -> dict[str, Any]:
    """Grade a prediction with the item's dataset grader (a bad record is graded wrong)."""
    record: dict[str, Any] = {"gold": item.gold, "pred": pred}
    if item.choices is not None:
        record["choices"] = list(item.choices)
    if item.dataset == "tabmwp" and item.metadata.get("unit"):
        record["unit"] = item.metadata["unit"]
    if item.dataset == "bbh" and item.metadata.get("task"):
        record["task"] = item.metadata["task"]
    try:
        return grade_record(item.dataset, record)
    except RecordError as exc:
        return {"correct": False, "pred": None, "gold": item.gold, "reason": f"ungradable: {exc}"}


def cost_fields(calls: Sequence[CallRecord]) -> dict[str, Any]:
    return {
        "calls": [c.to_json() for c in calls],
        "prompt_tokens": sum(c.prompt_tokens for c in calls),
        "completion_tokens": sum(c.completion_tokens for c in calls),
        "tokens": sum(c.tokens for c in calls),
        "model_seconds": round(sum(c.seconds for c in calls), 4),
        "dollars": sum(c.dollars for c in calls),
    }


def item_row(
    method: Method, seed: int, item: Item, attempt: Attempt, meter: Meter, seconds: float
) -> dict[str, Any]:
    graded = grade_item(item, attempt.pred)
    return {
        "kind": "item",
        "method": method.name,
        "seed": seed,
        "dataset": item.dataset,
        "id": item.id,
        "family": str(item.metadata.get("family") or item.dataset),
        "answer": attempt.pred,
        "error": attempt.error,
        "grade": graded,
        "correct": bool(graded["correct"]),
        "tool_calls": [dict(c) for c in attempt.tool_calls],
        "seconds": round(seconds, 4),
        "detail": dict(attempt.detail),
        "output": attempt.output[:OUTPUT_CHARS],
        **cost_fields(meter.calls),
    }


@dataclass(frozen=True)
class RunSummary:
    """What one invocation did: items run now, skipped as already done, arms left out."""

    ran: int
    skipped: int
    unavailable: tuple[str, ...]
    out: Path


class _Progress:
    def __init__(self, enabled: bool, total: int) -> None:
        self.bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("correct {task.fields[correct]}  tokens {task.fields[tokens]}"),
                console=Console(file=sys.stderr),
            )
            self.task = self.bar.add_task("experiment", total=total, correct=0, tokens=0)
        self.correct = 0
        self.tokens = 0

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def block_done(self, label: str, rows: Sequence[Mapping[str, Any]], of: int) -> None:
        """Without a progress bar (a run in the background, its output in a log), one line per
        method, seed and dataset done: how many items ran now, and how they did."""
        if self.bar is not None or not rows:
            return
        right = sum(bool(r["correct"]) for r in rows)
        seconds = sum(r.get("model_seconds") or 0.0 for r in rows) / len(rows)
        print(
            f"{time.strftime('%H:%M:%S')} {label}: {len(rows)} of {of} items run now, "
            f"{right} right ({100 * right / len(rows):.1f}%), {seconds:.1f} model s per item",
            file=sys.stderr,
            flush=True,
        )

    def advance(self, label: str, row: dict[str, Any] | None = None) -> None:
        if row is not None:
            self.correct += row["correct"]
            self.tokens += row["tokens"]
        if self.bar is not None:
            self.bar.update(
                self.task, advance=1, description=label, correct=self.correct, tokens=self.tokens
            )


def _budget(
    run: RunDir, method: Method, spec: Mapping[str, Any], dataset: str, n_items: int, local: bool
) -> Budget | None:
    """The frozen per-item budget of a matched method on ``dataset`` (set on first use)."""
    match = spec.get("match")
    if match is None:
        return None
    path = run.path / "budgets.json"
    budgets = read_json(path, {})
    key = f"{method.name}/{dataset}"
    if key not in budgets:
        refs = [match] if isinstance(match, str) else list(match)
        rows: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        reference = ""
        for reference in refs:
            rows = [r for r in run.rows() if r["method"] == reference]
            items = [r for r in rows if r["kind"] == "item" and r["dataset"] == dataset]
            if items:
                break
        if not items:
            raise MethodError(
                f"method {method.name!r}: none of {', '.join(refs)} has results "
                f"on {dataset} to match compute to"
            )
        make = [r for r in rows if r["kind"] == "make"]
        make_tokens = sum(r["tokens"] for r in make) / max(n_items, 1)
        make_seconds = sum(r["model_seconds"] for r in make) / max(n_items, 1)
        seconds_on = spec.get("match_seconds")
        seconds_on = local if seconds_on is None else seconds_on
        budgets[key] = {
            "tokens": statistics.fmean(r["tokens"] for r in items) + make_tokens,
            "seconds": (
                statistics.fmean(r["model_seconds"] for r in items) + make_seconds
                if seconds_on
                else None
            ),
            "reference": reference,
            "reference_items": len(items),
        }
        write_json(path, budgets)
    b = budgets[key]
    return Budget(tokens=b["tokens"], seconds=b["seconds"], reference=b["reference"])


def _lock(run: RunDir, method: Method) -> None:
    """Write the arm's library lock, or, resuming, check the library still matches it: a
    resumed arm answering from other tools than its first items did would mix two libraries
    under one name."""
    from library import Library

    with Library.open(str(method.library_dir), read_only=True) as lib:
        lock = lib.snapshot()
    path = run.lock_file(method.name)
    old = read_json(path)
    if isinstance(old, dict) and "digest" in old:
        if old["digest"] != lock.digest:
            raise RunDirError(
                f"{run.path}: the library of {method.name!r} ({method.library_dir}) is not the "
                f"one this run began with (locks/{method.name}.json); restore it, or use a new "
                "--out"
            )
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(lock.to_text() + "\n", encoding="utf-8")


def _solve_one(
    method: Method,
    item: Item,
    clients: Mapping[str, ChatClient],
    sandbox: Sandbox,
    seed: int,
    budget: Budget | None,
) -> dict[str, Any]:
    meter = Meter(clients, phase_prefix=method.name)
    started = time.monotonic()
    ctx = SolveContext(meter=meter, sandbox=sandbox, seed=seed, budget=budget)
    attempt = method.solve(item, ctx)
    return item_row(method, seed, item, attempt, meter, time.monotonic() - started)


def _solve_all(
    method: Method,
    items: Sequence[Item],
    clients: Mapping[str, ChatClient],
    sandbox: Sandbox,
    seed: int,
    budget: Budget | None,
    jobs: int,
) -> Iterator[dict[str, Any]]:
    """Rows of ``items`` as they finish, ``jobs`` at a time. If one fails, the rows that
    finished are still yielded (so they are saved), no new item starts, and the error is
    raised after them."""
    if jobs <= 1:
        for item in items:
            yield _solve_one(method, item, clients, sandbox, seed, budget)
        return
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(_solve_one, method, it, clients, sandbox, seed, budget) for it in items
        ]
        for future in as_completed(futures):
            try:
                row = future.result()
            except BaseException as exc:  # re-raised once the finished rows are out
                if error is None:
                    error = exc
                    for f in futures:
                        f.cancel()
                continue
            yield row
    if error is not None:
        raise error


def usable_methods(
    config: ExperimentConfig, *, skip_unavailable: bool = False
) -> tuple[list[tuple[Method, Mapping[str, Any]]], list[str]]:
    """The config's methods, built and checked, and the names of those left out.

    A tool arm whose solver is not installed raises `MethodUnavailable`, or with
    ``skip_unavailable`` is left out; any other unusable setting raises `MethodError`.
    """
    methods: list[tuple[Method, Mapping[str, Any]]] = []
    unavailable: list[str] = []
    for spec in config.methods:
        method = build_method(spec)
        if isinstance(method, ToolMethod):
            try:
                method.check()
            except MethodUnavailable:
                if not skip_unavailable:
                    raise
                unavailable.append(method.name)
                continue
        methods.append((method, spec))
    left = {m.name for m, _ in methods}
    built = {m.name: m for m, _ in methods}
    for method, _ in methods:
        if isinstance(method, ToolMethod):
            method.bind_fallback(built)
    for method, spec in methods:
        match = spec.get("match")
        refs = [match] if isinstance(match, str) else list(match or [])
        if refs and not any(r in left for r in refs):
            raise MethodError(
                f"method {method.name!r}: every method it matches compute to "
                f"({', '.join(refs)}) is left out"
            )
    return methods, unavailable


def run_experiment(
    config: ExperimentConfig,
    out: str | Path,
    *,
    clients: Mapping[str, ChatClient],
    sandbox: Sandbox | None = None,
    progress: bool = False,
    skip_unavailable: bool = False,
    llm_info: Mapping[str, Any] | None = None,
    jobs: int = 1,
) -> RunSummary:
    """Run every method of ``config`` on its test items into the run dir ``out``.

    Items already in ``out/results.jsonl`` are skipped (resume after a kill). Each method's
    calls go through ``clients`` by role ("user" cheap, "maker" strong), so their cache and
    ledger apply. Tool arms whose solver is missing raise `MethodUnavailable` before anything
    runs, or with ``skip_unavailable`` are left out and named in ``config.json``. ``jobs``
    items are worked on at once (threads; model requests are further limited per role).
    """
    run = RunDir(out)
    methods, unavailable = usable_methods(config, skip_unavailable=skip_unavailable)
    datasets = {spec.name: load_data(spec) for spec in config.data}
    chosen = {
        spec.name: select_items(spec, datasets[spec.name], config.seed) for spec in config.data
    }
    resolved = config.to_json() | {"unavailable": unavailable, "llm": dict(llm_info or {})}
    run.init(resolved)
    write_json(
        run.path / "datasets.json",
        {
            name: datasets[name].summary() | {"selected": [it.id for it in items]}
            for name, items in chosen.items()
        },
    )
    done = run.done()
    n_total = sum(len(v) for v in chosen.values())
    total = sum(len(config.method_seeds(s)) * n_total for _, s in methods)
    ran = skipped = 0
    with ExitStack() as stack:
        sb = sandbox
        if sb is None:  # started on its first program: a run without programs needs none
            sb = Sandbox(workers=2)
            stack.callback(sb.close)
        bar = stack.enter_context(_Progress(progress, total))
        for method, spec in methods:
            if method.library_dir:
                _lock(run, method)
            if isinstance(method, ToolMethod) and ("make", method.name) not in done:
                calls = method.making()
                run.append(
                    {
                        "kind": "make",
                        "method": method.name,
                        "strategy": method.strategy,
                        "library": method.library_dir,
                        **cost_fields(calls),
                    }
                )
            local = bool(getattr(clients.get(method.role), "local", False))
            for seed in config.method_seeds(spec):
                for name, items in chosen.items():
                    todo = [
                        it
                        for it in items
                        if ("item", method.name, str(seed), name, str(it.id)) not in done
                    ]
                    for _ in range(len(items) - len(todo)):
                        skipped += 1
                        bar.advance(method.name)
                    if not todo:
                        continue
                    budget = _budget(run, method, spec, name, n_total, local)
                    block: list[dict[str, Any]] = []
                    for row in _solve_all(method, todo, clients, sb, seed, budget, jobs):
                        run.append(row)
                        ran += 1
                        block.append(row)
                        bar.advance(method.name, row)
                    bar.block_done(f"{method.name} seed {seed} {name}", block, len(items))
    return RunSummary(ran=ran, skipped=skipped, unavailable=tuple(unavailable), out=run.path)
