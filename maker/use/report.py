"""The report of a solve job: accuracy, tool use, stage rates, reuse, cost; JSON and tables.

`summarize(records, ledger)` is a pure function of the per-problem records (`problem_record`)
and the cost ledger, so a test can check every figure against numbers worked out by hand.

- accuracy: correct / graded (problems with a gold answer; no answer counts as wrong).
- tool_use_rate: problems whose final answer came from code that really called a library tool
  (the sandbox call log) / finished problems.
- stage_rates: per stage, the share of problems where it succeeded among those where it applies
  (``n``); ``first_reply_well_formed`` looks at the first reply only.
- accuracy_with_tool / accuracy_without_tool: accuracy over graded problems that did / did not
  use a tool.
- refused_before: problems where a tool that takes the whole problem raised on it before the
  model was asked (`maker.use.probe`), so was not offered (with none left: abstained).
- reuse: per tool version, the problems it served and how many of those were correct.
- cost: model calls, tokens, seconds and dollars by role and by phase (from the ledger); host
  milliseconds per problem (retrieve, replay, render, parse, sandbox run, record).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from maker.llm import CostLedger, Totals
from maker.use.solver import STAGES


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _totals(t: Totals) -> dict[str, Any]:
    return {
        "calls": t.calls,
        "cache_hits": t.cache_hits,
        "requests": t.attempts,
        "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens,
        "seconds": round(t.seconds, 3),
        "dollars": round(t.dollars, 6),
        "errors": t.errors,
    }


def cost_tables(ledger: CostLedger) -> dict[str, dict[str, dict[str, Any]]]:
    """Tokens, seconds and dollars by role and by phase (plus ``total``)."""
    return {
        "by_role": {k: _totals(v) for k, v in sorted(ledger.totals("role").items())},
        "by_phase": {
            (k or "(none)"): _totals(v) for k, v in sorted(ledger.totals("phase").items())
        },
        "total": {"all": _totals(ledger.total())},
    }


@dataclass(frozen=True)
class SolveReport:
    """What a solve job did (counts cover the whole job, earlier runs' problems included)."""

    problems: int
    finished: int
    answered: int
    graded: int
    correct: int
    accuracy: float | None
    tool_use_rate: float | None
    abstained: int
    stage_rates: dict[str, dict[str, Any]]
    accuracy_with_tool: float | None
    accuracy_without_tool: float | None
    decisions: dict[str, int]
    reuse: dict[str, dict[str, int]]
    give_up_reasons: dict[str, int]
    mean_attempts: float | None
    host_ms_median: float | None
    # problems where a tool raised on the problem's whole text before the model was asked
    # (`maker.use.probe`), so was not offered
    refused_before: int = 0
    cost: dict[str, Any] = field(default_factory=dict)
    job: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False)


def summarize(
    records: Sequence[Mapping[str, Any]],
    ledger: CostLedger | None = None,
    *,
    problems: int | None = None,
    job: Mapping[str, Any] | None = None,
) -> SolveReport:
    """The report over finished problems' records (see the module docstring)."""
    graded = [r for r in records if r.get("gold") is not None and r.get("correct") is not None]
    used = [r for r in records if r["tools_used"]]
    stage_rates: dict[str, dict[str, Any]] = {}
    for stage in STAGES:
        vals = [r["stages"].get(stage) for r in records if r["stages"].get(stage) is not None]
        stage_rates[stage] = {"rate": _rate(sum(map(bool, vals)), len(vals)), "n": len(vals)}
    first = [r["first_reply_well_formed"] for r in records]
    stage_rates["first_reply_well_formed"] = {
        "rate": _rate(sum(first), len(first)),
        "n": len(first),
    }
    with_tool = [r for r in graded if r["tools_used"]]
    without = [r for r in graded if not r["tools_used"]]
    reuse: dict[str, dict[str, int]] = {}
    for r in used:
        for ref in r["tools_used"]:
            row = reuse.setdefault(ref, {"problems": 0, "correct": 0})
            row["problems"] += 1
            row["correct"] += int(r.get("correct") is True)
    host = [float(r["host_ms"]) for r in records]
    return SolveReport(
        problems=problems if problems is not None else len(records),
        finished=len(records),
        answered=sum(r["status"] == "answered" for r in records),
        graded=len(graded),
        correct=sum(r["correct"] is True for r in graded),
        accuracy=_rate(sum(r["correct"] is True for r in graded), len(graded)),
        tool_use_rate=_rate(len(used), len(records)),
        abstained=sum(bool(r["abstained"]) for r in records),
        stage_rates=stage_rates,
        accuracy_with_tool=_rate(sum(r["correct"] is True for r in with_tool), len(with_tool)),
        accuracy_without_tool=_rate(sum(r["correct"] is True for r in without), len(without)),
        decisions=dict(Counter(str(r.get("decision") or "none") for r in records)),
        reuse=dict(sorted(reuse.items(), key=lambda kv: (-kv[1]["problems"], kv[0]))),
        give_up_reasons=dict(Counter(r["reason"] for r in records if r["reason"])),
        mean_attempts=_rate(sum(r["attempts"] for r in records), len(records)),
        host_ms_median=round(statistics.median(host), 3) if host else None,
        refused_before=sum(bool(r.get("refused_before")) for r in records),
        cost=cost_tables(ledger) if ledger is not None else {},
        job=dict(job or {}),
    )


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def render_solve_report(report: SolveReport, console: Console | None = None) -> None:
    """Print the report as tables."""
    console = console or Console()
    summary = Table(title="maker solve", show_header=False)
    rows: list[tuple[str, Any]] = [
        ("problems", report.problems),
        ("finished", report.finished),
        ("answered", report.answered),
        ("accuracy", f"{_pct(report.accuracy)} ({report.correct} of {report.graded} graded)"),
        ("tool-use rate (from the code that ran)", _pct(report.tool_use_rate)),
        ("accuracy with a tool", _pct(report.accuracy_with_tool)),
        ("accuracy without a tool", _pct(report.accuracy_without_tool)),
        ("abstained (no tool relevant)", report.abstained),
        ("a tool refused the problem before it was asked", report.refused_before),
        ("decisions", ", ".join(f"{k} {v}" for k, v in sorted(report.decisions.items()))),
        ("mean replies per problem", report.mean_attempts),
        ("host ms per problem (median)", report.host_ms_median),
    ]
    for key in ("errors", "not_started", "resumed", "wall_s", "job_dir", "stopped"):
        if report.job.get(key):
            rows.append((key.replace("_", " "), report.job[key]))
    for label, value in rows:
        summary.add_row(label, str(value))
    console.print(summary)
    stages = Table(title="stages (share of problems where the stage applies)")
    for col in ("stage", "rate", "n"):
        stages.add_column(col, justify="left" if col == "stage" else "right")
    for stage, row in report.stage_rates.items():
        stages.add_row(stage, _pct(row["rate"]), str(row["n"]))
    console.print(stages)
    if report.reuse:
        reuse = Table(title="reuse per tool")
        for col in ("tool", "problems", "correct"):
            reuse.add_column(col, justify="left" if col == "tool" else "right")
        for ref, row in list(report.reuse.items())[:30]:
            reuse.add_row(ref, str(row["problems"]), str(row["correct"]))
        console.print(reuse)
    if report.give_up_reasons:
        why = Table(title="no usable answer: last problem")
        why.add_column("reason")
        why.add_column("problems", justify="right")
        for reason, n in report.give_up_reasons.items():
            why.add_row(reason, str(n))
        console.print(why)
    for key, title in (("by_role", "model calls by role"), ("by_phase", "model calls by phase")):
        data = report.cost.get(key) or {}
        if not data:
            continue
        table = Table(title=title)
        for col in (
            key[3:],
            "calls",
            "cache hits",
            "prompt tok",
            "completion tok",
            "seconds",
            "dollars",
        ):
            table.add_column(col, justify="left" if col == key[3:] else "right")
        for name, row in data.items():
            table.add_row(
                name,
                str(row["calls"]),
                str(row["cache_hits"]),
                str(row["prompt_tokens"]),
                str(row["completion_tokens"]),
                f"{row['seconds']:.2f}",
                f"{row['dollars']:.4f}",
            )
        console.print(table)
