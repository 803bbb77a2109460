"""The report of an exploration: per tool, problems, verified trials, failures and judge/program
disagreements; tokens and seconds by role; a table and one JSON line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rich.console import Console
from rich.table import Table

from maker.explore.imagine import Imagined
from maker.explore.trial import QueryOutcome
from maker.llm import LedgerEntry, Totals


@dataclass(frozen=True)
class ToolSummary:
    """What exploring one tool did. `queries` counts problems accepted and tried;
    `rejected_queries` the explorer's replies turned down (malformed, near-duplicate); `failed`
    the trials recorded as failures (refuted, disagreeing, failed runs); `unusable` the trials
    with no valid call; `disagreements` the trials where the judge and the program differ
    (passed and refuted: a failure; refuted but the program gets the tool's answer:
    "overruled", a demonstration counted in `verified`); `unconfirmed` the judge's "no"s that
    no program answer backed (neither failure nor demonstration)."""

    tool: str
    judged_before: int = 0
    queries: int = 0
    no_query: int = 0
    rejected_queries: int = 0
    trials: int = 0
    verified: int = 0
    failed: int = 0
    refuted: int = 0
    disagreements: int = 0
    run_failures: int = 0
    unusable: int = 0
    unjudged: int = 0
    unconfirmed: int = 0
    no_pot: int = 0
    episodes: tuple[int, ...] = ()
    errors: tuple[str, ...] = ()
    skipped: str = ""
    outcomes: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def add(self, imagined: Imagined, outcome: QueryOutcome | None) -> ToolSummary:
        """This summary with one imagined problem (and its trials, if it was tried) added."""
        out = replace(self, rejected_queries=self.rejected_queries + len(imagined.rejections))
        if outcome is None:
            return replace(out, no_query=out.no_query + 1)
        kinds = [t.kind for t in outcome.trials]
        pots = [t.pot for t in outcome.trials if t.pot is not None]
        return replace(
            out,
            queries=out.queries + 1,
            trials=out.trials + len(kinds),
            verified=out.verified + kinds.count("verified") + kinds.count("overruled"),
            failed=out.failed + sum(k in ("refuted", "disagreed", "run_failed") for k in kinds),
            refuted=out.refuted + kinds.count("refuted"),
            disagreements=out.disagreements + kinds.count("disagreed") + kinds.count("overruled"),
            run_failures=out.run_failures + kinds.count("run_failed"),
            unusable=out.unusable + sum(k in ("unusable", "no_tool") for k in kinds),
            unjudged=out.unjudged + kinds.count("unjudged"),
            unconfirmed=out.unconfirmed + kinds.count("unconfirmed"),
            no_pot=out.no_pot + sum(p.status != "ok" for p in pots[:1]),
            episodes=out.episodes
            + tuple(t.episode_id for t in outcome.trials if t.episode_id is not None),
            outcomes=(
                *out.outcomes,
                {**outcome.to_json(), "rejections": list(imagined.rejections)},
            ),
        )

    def error(self, message: str) -> ToolSummary:
        return replace(self, errors=(*self.errors, message[:300]))

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["episodes"] = list(self.episodes)
        data["errors"] = list(self.errors)
        data["outcomes"] = list(self.outcomes)
        return data


def _row(t: Totals) -> dict[str, Any]:
    return {
        "calls": t.calls,
        "cache_hits": t.cache_hits,
        "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens,
        "seconds": round(t.seconds, 3),
        "dollars": round(t.dollars, 6),
        "errors": t.errors,
    }


def role_costs(entries: Sequence[LedgerEntry]) -> dict[str, dict[str, dict[str, Any]]]:
    """Calls, tokens, seconds and dollars by role and by phase, over `entries`."""
    out: dict[str, dict[str, dict[str, Any]]] = {"by_role": {}, "by_phase": {}}
    for by in ("role", "phase"):
        groups: dict[str, Totals] = {}
        for e in entries:
            key = getattr(e, by) or "(none)"
            groups[key] = groups.get(key, Totals()).add(e)
        out[f"by_{by}"] = {k: _row(v) for k, v in sorted(groups.items())}
    return out


COUNTS = (
    "queries",
    "verified",
    "failed",
    "disagreements",
    "unconfirmed",
    "unusable",
    "rejected_queries",
)
HEADERS = {
    "judged before": "judged",
    "queries": "problems",
    "disagreements": "judge≠PoT",
    "unconfirmed": "no unbacked",
    "rejected_queries": "turned down",
}


@dataclass(frozen=True)
class ExploreSummary:
    """What an exploration did, per tool, with costs by role; `line()` is one JSON line."""

    tools: tuple[ToolSummary, ...] = ()
    skipped: tuple[ToolSummary, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    costs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def total(self, name: str) -> int:
        return sum(getattr(t, name) for t in self.tools)

    @property
    def errors(self) -> int:
        return sum(len(t.errors) for t in self.tools)

    @property
    def demonstrations(self) -> tuple[int, ...]:
        """Ids of the episodes recorded as verified demonstrations."""
        out = []
        for t in self.tools:
            for q in t.outcomes:
                out += [
                    x["episode_id"] for x in q["trials"] if x["kind"] in ("verified", "overruled")
                ]
        return tuple(i for i in out if i is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "tools": [t.to_json() for t in self.tools],
            "skipped": [{"tool": t.tool, "reason": t.skipped} for t in self.skipped],
            "settings": self.settings,
            "wall_s": self.wall_s,
            "costs": self.costs,
            "errors": self.errors,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, default=str)

    def line(self) -> str:
        """One JSON line of the figures."""
        by_role = self.costs.get("by_role", {})
        data: dict[str, Any] = {
            "tools": len(self.tools),
            "skipped": len(self.skipped),
            **{name: self.total(name) for name in (*COUNTS, "trials")},
            "errors": self.errors,
            "wall_s": self.wall_s,
            "tokens": {r: v["prompt_tokens"] + v["completion_tokens"] for r, v in by_role.items()},
            "seconds": {r: v["seconds"] for r, v in by_role.items()},
        }
        return json.dumps(data, sort_keys=True)


def render_explore_report(summary: ExploreSummary, console: Console) -> None:
    """The per-tool table and the cost table."""
    table = Table(title="Exploration")
    table.add_column("tool")
    for name in ("judged before", *COUNTS):
        table.add_column(HEADERS.get(name, name), justify="right")
    for t in summary.tools:
        table.add_row(t.tool, str(t.judged_before), *(str(getattr(t, n)) for n in COUNTS))
    for t in summary.skipped:
        table.add_row(
            t.tool, str(t.judged_before), f"skipped: {t.skipped}", *[""] * (len(COUNTS) - 1)
        )
    console.print(table)
    costs = Table(title="Model calls by role")
    for col in ("role", "calls", "cache hits", "prompt tokens", "completion tokens", "seconds"):
        costs.add_column(col, justify="left" if col == "role" else "right")
    for role, row in summary.costs.get("by_role", {}).items():
        costs.add_row(
            role,
            str(row["calls"]),
            str(row["cache_hits"]),
            str(row["prompt_tokens"]),
            str(row["completion_tokens"]),
            f"{row['seconds']:.1f}",
        )
    console.print(costs)
    for t in summary.tools:
        for err in t.errors:
            console.print(f"[red]error[/] {t.tool}: {err}")
