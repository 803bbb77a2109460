"""The numbers of a run's report, computed from its run directory (pure functions over rows).

Every figure comes from ``results.jsonl`` (what each item cost as first bought, so a run
replayed from the response cache reports the same numbers) except the "billed" section, which
is this run's ledger: what the calls actually cost, cache hits free.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from experiments.methods.base import Budget
from experiments.report.stats import (
    bootstrap_seeds,
    break_even,
    cost_per_solved,
    sign_test,
    wilson,
)
from experiments.runs.rundir import RunDir, RunDirError, read_json
from maker.llm import CostLedger

ALL = "all"
AMORTIZE_POINTS = (1, 10, 100, 1000, 10000)


def _accuracy(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_seed: dict[int, dict[str, bool]] = defaultdict(dict)
    for r in rows:
        by_seed[int(r["seed"])][f"{r['dataset']}:{r['id']}"] = bool(r["correct"])
    n = len(rows)
    correct = sum(bool(r["correct"]) for r in rows)
    out: dict[str, Any] = {"n": n, "correct": correct, "seeds": sorted(by_seed)}
    if len(by_seed) > 1:
        mean, lo, hi = bootstrap_seeds(by_seed)
        out.update(accuracy=mean, lo=lo, hi=hi, ci="bootstrap over seeds and items")
        out["per_seed"] = {
            str(s): sum(v.values()) / len(v) for s, v in sorted(by_seed.items()) if v
        }
        counts = {str(s): len(v) for s, v in sorted(by_seed.items())}
        if len(set(counts.values())) > 1:
            out["items_per_seed"] = counts
    else:
        lo, hi = wilson(correct, n)
        out.update(accuracy=correct / n if n else 0.0, lo=lo, hi=hi, ci="Wilson")
    mv = [r["grade"].get("math_verify") for r in rows if r["dataset"] == "math"]
    if mv:
        out["math_verify_accuracy"] = sum(v is True for v in mv) / len(mv)
    return out


def _costs(rows: Iterable[dict[str, Any]]) -> dict[str, float]:
    rows = list(rows)
    n = len(rows) or 1
    return {
        "tokens": sum(r["tokens"] for r in rows) / n,
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows) / n,
        "completion_tokens": sum(r["completion_tokens"] for r in rows) / n,
        "model_seconds": sum(r["model_seconds"] for r in rows) / n,
        "wall_seconds": sum(r.get("seconds", 0.0) for r in rows) / n,
        "dollars": sum(r["dollars"] for r in rows) / n,
        "calls": sum(len(r["calls"]) for r in rows) / n,
    }


def _by_role_phase(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], dict[str, float]] = {}
    for r in rows:
        for c in r["calls"]:
            key = (r["method"], c["role"], c["phase"])
            g = groups.setdefault(key, {"calls": 0, "tokens": 0, "seconds": 0.0, "dollars": 0.0})
            g["calls"] += 1
            g["tokens"] += c["prompt_tokens"] + c["completion_tokens"]
            g["seconds"] += c["seconds"]
            g["dollars"] += c["dollars"]
    return [
        {"method": m, "role": role, "phase": phase, **v}
        for (m, role, phase), v in sorted(groups.items())
    ]


def _tools(rows: list[dict[str, Any]], library_size: int | None) -> dict[str, Any]:
    used = [r for r in rows if r["tool_calls"]]
    items_per_tool: dict[str, set[str]] = defaultdict(set)
    for r in used:
        for call in r["tool_calls"]:
            items_per_tool[str(call.get("tool") or call.get("name") or "?")].add(
                f"{r['seed']}:{r['dataset']}:{r['id']}"
            )
    reused = sorted(t for t, items in items_per_tool.items() if len(items) >= 2)
    without = [r for r in rows if not r["tool_calls"]]
    return {
        "items": len(rows),
        "items_with_tool": len(used),
        "tool_use_rate": len(used) / len(rows) if rows else 0.0,
        "accuracy_with_tool": (sum(r["correct"] for r in used) / len(used)) if used else None,
        "accuracy_without_tool": (
            sum(r["correct"] for r in without) / len(without) if without else None
        ),
        "tools_used": len(items_per_tool),
        "tools_reused": len(reused),
        "reuse_rate": len(reused) / len(items_per_tool) if items_per_tool else 0.0,
        "library_size": library_size,
    }


STAGES = ("well_formed", "tool_chosen", "args_valid", "executed")


def _tool_user(items: list[dict[str, Any]], methods: Iterable[str]) -> list[dict[str, Any]]:
    """Per tool arm and task family, how far the tool user got (counts of items): a tool
    offered, the model asked, each stage passed (`STAGES`, the last reply's outcome), a tool
    ran (executed code), right with it; and model seconds per item (fallback included). Rows
    without the trace (runs before it was kept) count as unknown, None."""
    out = []
    for m in methods:
        mine = [r for r in items if r["method"] == m]
        for family in sorted({r["family"] for r in mine}):
            rows = [r for r in mine if r["family"] == family]
            traces = [(r.get("detail") or {}).get("tool_user") for r in rows]
            known = [t for t in traces if t]
            ran = [r for r in rows if r["tool_calls"]]
            row: dict[str, Any] = {
                "method": m,
                "family": family,
                "items": len(rows),
                "traced": len(known),
                "offered": sum(bool(t.get("offered")) for t in known) if known else None,
                "asked": sum((t.get("attempts") or 0) > 0 for t in known) if known else None,
                "tool_ran": len(ran),
                "right_with_tool": sum(bool(r["correct"]) for r in ran),
                "model_seconds_per_item": sum(r["model_seconds"] for r in rows) / len(rows),
            }
            for stage in STAGES:
                row[stage] = (
                    sum((t.get("stages") or {}).get(stage) is True for t in known)
                    if known
                    else None
                )
            out.append(row)
    return out


class _Pair(NamedTuple):
    """One item (and seed) of a method against the reference method's answer to it."""

    correct: bool
    base_correct: bool
    tool: bool
    seconds: float
    base_seconds: float


def _versus(
    items: list[dict[str, Any]], order: list[str], baseline: str | None
) -> list[dict[str, Any]]:
    """Each method against the baseline on the same items, per task family and overall: pairs
    (a sampled method's every seed against the baseline's answer to that item), both sides'
    accuracy and model seconds per item, wins and losses, and the exact sign test on them."""
    if baseline is None or baseline not in order:
        return []
    base: dict[tuple[str, str], dict[int, tuple[bool, float]]] = defaultdict(dict)
    for r in items:
        if r["method"] == baseline:
            seconds = float(r.get("model_seconds") or 0.0)
            base[(r["dataset"], str(r["id"]))][int(r["seed"])] = (bool(r["correct"]), seconds)
    by_method: dict[str, dict[str, list[_Pair]]] = defaultdict(lambda: defaultdict(list))
    for r in items:
        seeds = base.get((r["dataset"], str(r["id"])))
        if r["method"] == baseline or not seeds:
            continue
        b, b_seconds = seeds.get(int(r["seed"]), seeds[min(seeds)])
        seconds = float(r.get("model_seconds") or 0.0)
        pair = _Pair(bool(r["correct"]), b, bool(r["tool_calls"]), seconds, b_seconds)
        groups = by_method[r["method"]]
        groups[str(r.get("family") or r["dataset"])].append(pair)
        groups[ALL].append(pair)
    out = []
    for m in order:
        groups = by_method.get(m, {})
        for family in sorted(groups, key=lambda f: (f == ALL, f)):
            pairs = groups[family]
            n = len(pairs)
            wins = sum(p.correct and not p.base_correct for p in pairs)
            losses = sum(p.base_correct and not p.correct for p in pairs)
            out.append(
                {
                    "method": m,
                    "family": family,
                    "pairs": n,
                    "accuracy": sum(p.correct for p in pairs) / n,
                    "baseline_accuracy": sum(p.base_correct for p in pairs) / n,
                    "wins": wins,
                    "losses": losses,
                    "p": sign_test(wins, losses),
                    "with_tool": sum(p.tool for p in pairs),
                    "seconds": sum(p.seconds for p in pairs) / n,
                    "baseline_seconds": sum(p.base_seconds for p in pairs) / n,
                }
            )
    return out


def _billed(run: RunDir) -> dict[str, Any]:
    if not run.ledger_file.exists():
        return {}
    ledger = CostLedger.load(run.ledger_file)
    out = {}
    for role, t in sorted(ledger.totals("role").items()):
        out[role] = {
            "calls": t.calls,
            "cache_hits": t.cache_hits,
            "errors": t.errors,
            "tokens": t.prompt_tokens + t.completion_tokens,
            "dollars": t.dollars,
            "seconds": t.seconds,
        }
    return out


def summarize(run: RunDir, against: Sequence[str] = ()) -> dict[str, Any]:
    """Everything the report shows, as one JSON-ready dict (saved as ``report.json``).
    ``against``: further methods of the run to compare every method with, item by item, as
    with ``report.baseline`` (``versus_also``); `RunDirError` for a name that is not one."""
    config = read_json(run.config_file, {})
    rows = list(run.rows())
    items = [r for r in rows if r["kind"] == "item"]
    makes = {r["method"]: r for r in rows if r["kind"] == "make"}
    order = [
        m["name"] for m in config.get("methods", []) if m["name"] in {r["method"] for r in items}
    ]
    datasets = sorted({r["dataset"] for r in items})
    accuracy: dict[str, dict[str, Any]] = {}
    costs: dict[str, dict[str, Any]] = {}
    tools: dict[str, dict[str, Any]] = {}
    for m in order:
        mine = [r for r in items if r["method"] == m]
        accuracy[m] = {d: _accuracy([r for r in mine if r["dataset"] == d]) for d in datasets}
        accuracy[m][ALL] = _accuracy(mine)
        make = makes.get(m)
        costs[m] = {
            "per_item": _costs(mine),
            "making": {k: make[k] for k in ("tokens", "model_seconds", "dollars")}
            if make
            else None,
        }
        lock = read_json(run.lock_file(m))
        size = len(lock["tools"]) if isinstance(lock, dict) and "tools" in lock else None
        if make or size is not None or any(r["tool_calls"] for r in mine):
            tools[m] = _tools(mine, size)
    baseline = config.get("report", {}).get("baseline")
    amortized = _amortized(order, accuracy, costs, baseline)
    unknown = [a for a in against if a not in order]
    if unknown:
        raise RunDirError(
            f"--against {unknown[0]}: no such method in {run.path} (its methods: "
            f"{', '.join(order)})"
        )
    also = [a for a in dict.fromkeys(against) if a != baseline]
    return {
        "config": {
            "name": config.get("name"),
            "source": config.get("source"),
            "unavailable": config.get("unavailable", []),
        },
        "methods": order,
        "datasets": datasets,
        "data": {
            name: {k: v for k, v in info.items() if k != "selected"}
            | {"selected": len(info.get("selected", []))}
            for name, info in (read_json(run.path / "datasets.json", {}) or {}).items()
        },
        "accuracy": accuracy,
        "costs": costs,
        "by_role_phase": _by_role_phase(items),
        "tools": tools,
        "tool_user": _tool_user(items, tools),
        "amortized": amortized,
        "versus": {"baseline": baseline, "rows": _versus(items, order, baseline)},
        "versus_also": [{"baseline": a, "rows": _versus(items, order, a)} for a in also],
        "billed": _billed(run),
        "budgets": read_json(run.path / "budgets.json", {}),
        "samples": _samples(items),
    }


def _samples(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Samples per item of each sampled method, and what stopped the sampling (`stopped_by`)."""
    out = {}
    for m in sorted({r["method"] for r in items}):
        rows = [
            r
            for r in items
            if r["method"] == m and isinstance(r.get("detail"), dict) and "samples" in r["detail"]
        ]
        counts = [r["detail"]["samples"] for r in rows]
        if counts:
            out[m] = {
                "mean": statistics.fmean(counts),
                "min": min(counts),
                "max": max(counts),
                "histogram": dict(sorted(Counter(counts).items())),
                "stopped_by": dict(sorted(Counter(stopped_by(r) for r in rows).items())),
                "votes": dict(sorted(Counter(vote_outcome(r) for r in rows).items())),
            }
    return out


VOTE_OUTCOMES = ("decided", "tied", "agreed", "no answer")


def vote_outcome(row: Mapping[str, Any]) -> str:
    """How a self-consistency item's vote went, from its vote counts: ``"decided"`` (a majority
    among different answers), ``"tied"`` (different answers, the top ones level: the first
    drawn won), ``"agreed"`` (one answer), ``"no answer"`` (no sample answered). On the small
    run's 0.5B, with 2.7 warm programs per item, a third tied and 8% were decided."""
    counts = sorted(((row.get("detail") or {}).get("votes") or {}).values(), reverse=True)
    if not counts:
        return "no answer"
    if len(counts) == 1:
        return "agreed"
    return "decided" if counts[0] > counts[1] else "tied"


def stopped_by(row: Mapping[str, Any]) -> str:
    """What ended a self-consistency item's sampling, by the rule that drew it
    (`experiments.methods.program.SelfConsistencyMethod`): ``"tokens"`` when one more sample
    of the mean size would pass the budget's tokens, else ``"seconds"`` when it would pass its
    model seconds, else ``"limit"`` (the sample limit, or no budget). Seconds binding where
    tokens would not is the sign of a slowed machine (anything running beside a local model)."""
    detail = row.get("detail") or {}
    spec = detail.get("budget") or {}
    budget = Budget(tokens=spec.get("tokens"), seconds=spec.get("seconds"))
    n = max(int(detail.get("samples") or 0), 1)
    tokens, seconds = row.get("tokens") or 0, row.get("model_seconds") or 0.0
    return budget.passed_by_next(tokens, seconds, n) or "limit"


def _amortized(
    order: list[str], accuracy: Mapping[str, Any], costs: Mapping[str, Any], baseline: str | None
) -> dict[str, Any]:
    """Cost per solved problem against the number of problems, and break-even vs baseline."""
    unit = (
        "dollars"
        if any(
            c["per_item"]["dollars"] or (c["making"] or {}).get("dollars") for c in costs.values()
        )
        else "tokens"
    )
    out: dict[str, Any] = {
        "unit": unit,
        "baseline": baseline,
        "points": list(AMORTIZE_POINTS),
        "methods": {},
    }
    if baseline is not None and baseline not in costs:
        baseline = None
    for m in order:
        making = (costs[m]["making"] or {}).get(unit, 0.0)
        use = costs[m]["per_item"][unit]
        acc = accuracy[m][ALL]["accuracy"]
        entry = {
            "making": making,
            "use": use,
            "accuracy": acc,
            "cost_per_solved": cost_per_solved(making, use, acc, AMORTIZE_POINTS),
        }
        if baseline is not None and m != baseline:
            b_use = costs[baseline]["per_item"][unit]
            b_acc = accuracy[baseline][ALL]["accuracy"]
            entry["break_even"] = break_even(making, use, acc, b_use, b_acc)
        out["methods"][m] = entry
    return out


def dumps(summary: Mapping[str, Any]) -> str:
    """The summary as JSON (infinities as null)."""

    def clean(x: Any) -> Any:
        if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(summary), indent=2, sort_keys=True)
