"""The final report of a batch job: a frozen record saved as JSON, and its rendering as tables."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from maker.llm import CostLedger, Totals

_CODE = re.compile(r"^[\w:.\-]+")


def reason_code(reason: str) -> str:
    """The leading code of a reason text (``validation:held_out (...)`` -> that code)."""
    m = _CODE.match(reason.strip())
    return m.group(0).rstrip(":") if m else (reason[:40] or "unknown")


def phase_table(ledger: CostLedger) -> dict[str, dict[str, Any]]:
    """Tokens, dollars and calls by phase (plus ``total``), from a cost ledger."""

    def row(t: Totals) -> dict[str, Any]:
        return {
            "calls": t.calls,
            "cache_hits": t.cache_hits,
            "requests": t.attempts,
            "prompt_tokens": t.prompt_tokens,
            "completion_tokens": t.completion_tokens,
            "dollars": round(t.dollars, 6),
            "errors": t.errors,
        }

    out = {phase or "(none)": row(t) for phase, t in sorted(ledger.totals("phase").items())}
    out["total"] = row(ledger.total())
    return out


@dataclass(frozen=True)
class JobReport:
    """What a job did. Counts cover the whole job (units finished by earlier runs included);
    ``resumed`` is how many were already finished when this run started (their tools in the
    library); ``rerun_missing`` how many had finished but ran again because the library did not
    hold what they published; ``wall_s`` is this run's time; ``phases`` comes from the cost
    ledger the client was given."""

    job_id: str
    strategy: str
    job_dir: str
    library_dir: str
    units: int
    accepted: int
    rejected: int
    errors: int
    resumed: int
    wall_s: float
    tools: tuple[dict[str, Any], ...] = ()
    rejection_reasons: dict[str, int] = field(default_factory=dict)
    draft_rejections: dict[str, int] = field(default_factory=dict)
    error_details: tuple[dict[str, Any], ...] = ()
    task_errors: tuple[dict[str, Any], ...] = ()
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: str = ""  # why the run started no more units (empty: it ran them all)
    not_started: int = 0  # units left for the next run
    rerun_missing: int = 0  # finished before, run again: their tools were not in the library
    fresh_starts: int = 0  # units begun again from a new first draft (`--fresh-starts`)

    @property
    def finished(self) -> int:
        return self.accepted + self.rejected

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("tools", "error_details", "task_errors"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobReport:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("tools", "error_details", "task_errors"):
            known[key] = tuple(known.get(key, ()))
        return cls(**known)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False)


def count_reasons(reasons: Iterable[str]) -> dict[str, int]:
    return dict(Counter(reason_code(r) for r in reasons).most_common())


def render_report(report: JobReport, console: Console | None = None) -> None:
    """Print the report as tables (summary, tools, rejection reasons, cost by phase)."""
    console = console or Console()
    summary = Table(title=f"job {report.job_id} ({report.strategy})", show_header=False)
    summary.add_column(overflow="fold")
    summary.add_column(overflow="fold")  # paths wrap, never cut
    for label, value in (
        ("units", report.units),
        ("accepted", report.accepted),
        ("rejected", report.rejected),
        ("errors (retried on the next run)", report.errors),
        ("not started (run again to continue)", report.not_started),
        ("already finished before this run", report.resumed),
        ("run again (their tools were gone from the library)", report.rerun_missing),
        ("malformed task lines", len(report.task_errors)),
        *(
            (("fresh starts (a new first draft)", report.fresh_starts),)
            if report.fresh_starts
            else ()
        ),
        ("wall time (this run)", f"{report.wall_s:.2f} s"),
        ("job dir", report.job_dir),
        ("library", report.library_dir),
    ):
        summary.add_row(label, str(value))
    console.print(summary)
    if report.tools:
        tools = Table(title="tools accepted")
        for col in ("unit", "tool", "outcome"):
            tools.add_column(col, overflow="fold")
        for t in report.tools[:50]:
            tools.add_row(str(t.get("unit_id")), str(t.get("ref")), str(t.get("outcome")))
        if len(report.tools) > 50:
            tools.add_row("...", f"{len(report.tools) - 50} more", "")
        console.print(tools)
    if report.rejection_reasons or report.draft_rejections:
        reasons = Table(title="rejections")
        reasons.add_column("reason")
        reasons.add_column("units given up", justify="right")
        reasons.add_column("drafts turned down", justify="right")
        for code in dict.fromkeys([*report.rejection_reasons, *report.draft_rejections]):
            reasons.add_row(
                code,
                str(report.rejection_reasons.get(code, 0)),
                str(report.draft_rejections.get(code, 0)),
            )
        console.print(reasons)
    if report.error_details:
        errors = Table(title="unit errors (the unit is retried on the next run)")
        errors.add_column("unit")
        errors.add_column("error")
        for e in report.error_details[:20]:
            errors.add_row(str(e.get("unit_id")), str(e.get("error"))[:400])
        console.print(errors)
    if report.task_errors:
        bad = Table(title="malformed task lines (skipped)")
        bad.add_column("line", justify="right")
        bad.add_column("field")
        bad.add_column("problem")
        for e in report.task_errors[:20]:
            bad.add_row(str(e.get("line")), str(e.get("field")), str(e.get("message"))[:120])
        console.print(bad)
    if report.phases:
        cost = Table(title="model calls by phase")
        for col in (
            "phase",
            "calls",
            "cache hits",
            "requests",
            "prompt tok",
            "completion tok",
            "dollars",
        ):
            cost.add_column(col, justify="left" if col == "phase" else "right")
        for phase, row in report.phases.items():
            cost.add_row(
                phase,
                str(row["calls"]),
                str(row["cache_hits"]),
                str(row["requests"]),
                str(row["prompt_tokens"]),
                str(row["completion_tokens"]),
                f"{row['dollars']:.4f}",
            )
        console.print(cost)
