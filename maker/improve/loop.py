"""`improve_library`: one round of the self-improvement loop over a library.

For each offered tool: classify the failures of its latest version (`maker.improve.classify`);
report environment failures; turn misuse into pitfalls (an episode with the lesson, which the
solver's replay shows among the tool's known failures); send bugs to the maker for one repair
round (`maker.improve.repair`), at most ``max_rounds`` rounds per tool counted from the
library's records, after which a tool that still fails is retired with the reason. An optional
exploration step (the STE explorer, injected) runs first. ``dry_run`` reads and reports what
would be done, without model calls or writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from library import Library
from library.records import Episode, Status, ToolRecord
from maker.improve.classify import PITFALL_TAG, Observation, ToolFindings, findings
from maker.improve.repair import RoundResult, repair_round, rounds_used
from maker.llm import ChatClient
from maker.llm.errors import ModelCallError
from maker.make import Context, Options
from maker.use.prompt import signature
from sandbox import Sandbox

Explore = Callable[[Library], Any]
"""The exploration step: explores the library (recording what it finds), returns a summary
(JSON-able, shown in the report)."""


@dataclass(frozen=True)
class ImproveSettings:
    """Knobs of one improve round (see `improve_library`)."""

    min_failures: int = 2
    max_rounds: int = 2
    max_attempts: int = 3  # maker replies per repair round
    max_examples: int = 50  # Hypothesis examples per property when validating a candidate
    dry_run: bool = False


@dataclass(frozen=True)
class ToolOutcome:
    """What the round did with one examined tool. ``action``: ``repaired``, ``rejected``,
    ``retired``, ``error``, ``none`` (nothing to repair), or in a dry run ``would repair`` /
    ``would retire``."""

    tool: str
    counts: dict[str, int]
    action: str
    reason: str = ""
    round: int | None = None
    repair: RoundResult | None = None
    pitfalls: int = 0
    environment: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "counts": dict(self.counts),
            "action": self.action,
            "reason": self.reason,
            "round": self.round,
            "repair": self.repair.to_json() if self.repair else None,
            "pitfalls": self.pitfalls,
            "environment": list(self.environment),
        }


@dataclass(frozen=True)
class ImproveReport:
    """Everything one round did, with the maker's cost."""

    tools: tuple[ToolOutcome, ...]
    seconds: float
    maker: dict[str, Any] = field(default_factory=dict)
    explored: Any = None
    dry_run: bool = False

    def summary(self) -> dict[str, Any]:
        """The one-line figures (the CLI prints them as JSON, last)."""

        def n(action: str) -> int:
            return sum(1 for t in self.tools if t.action == action)

        repairs = [t.repair for t in self.tools if t.repair is not None]
        return {
            "examined": len(self.tools),
            "bugs": sum(t.counts.get("bug", 0) for t in self.tools),
            "misuse": sum(t.counts.get("misuse", 0) for t in self.tools),
            "environment": sum(t.counts.get("environment", 0) for t in self.tools),
            "repaired": n("repaired"),
            "gated": sum(1 for r in repairs if r.gated),
            "rejected": n("rejected"),
            "deprecated": n("retired"),
            "pitfalls": sum(t.pitfalls for t in self.tools),
            "errors": n("error"),
            "would_repair": n("would repair"),
            "would_deprecate": n("would retire"),
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "maker_calls": self.maker.get("calls", 0),
            "maker_tokens_in": self.maker.get("prompt_tokens", 0),
            "maker_tokens_out": self.maker.get("completion_tokens", 0),
            "maker_seconds": round(self.maker.get("seconds", 0.0), 3),
            "maker_dollars": round(self.maker.get("dollars", 0.0), 6),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "tools": [t.to_json() for t in self.tools],
            "explored": self.explored,
        }


def pitfall_lesson(rec: ToolRecord, obs: Observation) -> str:
    """What the misuse teaches, in one line, for the replayed pitfall."""
    why = obs.reason
    if why.startswith("arguments:"):
        why = why.removeprefix("arguments:").strip()
    elif why.startswith("stage:"):
        stage = why.removeprefix("stage:")
        why = {
            "well_formed": "the reply was not a well-formed call",
            "tool_chosen": "the call named no offered tool",
            "args_valid": "the arguments did not fit the signature",
        }.get(stage, stage)
        err = obs.episode.result.get("error") or {}
        if err.get("message"):
            why += f" ({str(err['message'])[:200]})"
    elif why.startswith("refused:"):
        why = "the tool refused these arguments: " + why.removeprefix("refused:").strip()
    elif why.startswith("boundary:"):
        why = "the call did not match the signature: " + why.removeprefix("boundary:").strip()
    elif why == "arguments answer another problem correctly":
        why = (
            "the tool gives the right answer for these arguments on another problem: the "
            "arguments were wrong for this one"
        )
    return f"misuse of {signature(rec)}: {why}"[:500]


def _pitfall(rec: ToolRecord, obs: Observation) -> Episode:
    ep = obs.episode
    lesson = pitfall_lesson(rec, obs)
    result = {
        "ok": False,
        "value": None,
        "error": {"type": "Misuse", "message": lesson, "line": None},
        "stages": dict(ep.result.get("stages") or {}),
        "pitfall_of": ep.id,
    }
    if ep.result.get("ok") is True:
        result["actual_value"] = ep.result.get("value")
    return Episode(
        query=ep.query,
        offered=ep.offered,
        call=ep.call,
        result=result,
        answer=ep.answer,
        success=None,
        feedback=f"{PITFALL_TAG} of episode {ep.id}",
        origin="use",
        expected=ep.expected,
        answer_check=ep.answer_check,
    )


def _has_pitfall(episodes: Sequence[Episode]) -> set[int]:
    """Episode ids that already have a pitfall recorded."""
    out = set()
    for ep in episodes:
        if ep.feedback.startswith(PITFALL_TAG) and isinstance(ep.result.get("pitfall_of"), int):
            out.add(ep.result["pitfall_of"])
    return out


def _maker_totals(client: ChatClient | None) -> dict[str, Any]:
    if client is None:
        return {
            "calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "seconds": 0.0,
            "dollars": 0.0,
        }
    t = client.ledger.total()
    return {
        "calls": t.calls,
        "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens,
        "seconds": t.seconds,
        "dollars": t.dollars,
    }


def _diff(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    return {k: after[k] - before[k] for k in after}


def examine(library: Library, *, min_failures: int = 2) -> list[ToolFindings]:
    """The findings of every offered tool whose latest version passes the thresholds."""
    library.sync()
    out = []
    for rec in library.store.list():
        if rec.status.status is not Status.ACTIVE:
            continue
        f = findings(rec, library.store.episodes(tool=rec.ref), min_failures=min_failures)
        if f.examined:
            out.append(f)
    return out


def improve_library(
    library: Library,
    client: ChatClient | None,
    sandbox: Sandbox | None,
    *,
    settings: ImproveSettings = ImproveSettings(),
    explore: Explore | None = None,
    context: Context | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImproveReport:
    """One round of the loop over `library` (see the module docstring).

    Args:
        library: the library to improve (opened read-only for a dry run).
        client: the maker (strong model); None only for a dry run.
        sandbox: where candidates, re-runs and the gate run; None only for a dry run.
        settings: thresholds and bounds.
        explore: the exploration step, run first (None: skipped; never in a dry run).
        context: the maker's context (built from the others when None; tests pass one with
            their own gate).
        progress: called with one line per tool as it is done (None: silent).
    """
    started = time.perf_counter()
    if (client is None or sandbox is None) and not settings.dry_run:
        raise ValueError(
            "improve_library needs a maker client and a sandbox unless it is a dry run"
        )
    before = _maker_totals(client)
    explored = explore(library) if explore is not None and not settings.dry_run else None
    ctx = context
    if ctx is None and client is not None and sandbox is not None:
        ctx = Context(client, sandbox, library, options=Options(max_examples=settings.max_examples))
    outcomes = []
    for f in examine(library, min_failures=settings.min_failures):
        if progress is not None:
            counts = ", ".join(f"{k} {v}" for k, v in f.counts().items())
            progress(f"improve: {f.record.ref} ({counts})...")
        outcome = _improve_tool(library, ctx, f, settings)
        outcomes.append(outcome)
        if progress is not None:
            progress(f"improve: {outcome.tool} {outcome.action}: {outcome.reason[:200]}")
    return ImproveReport(
        tuple(outcomes),
        time.perf_counter() - started,
        _diff(_maker_totals(client), before),
        explored,
        settings.dry_run,
    )


def _improve_tool(
    library: Library, ctx: Context | None, f: ToolFindings, settings: ImproveSettings
) -> ToolOutcome:
    rec = f.record
    env = tuple(f"episode {o.episode_id}: {o.reason}" for o in f.of("environment"))
    pitfalls = 0
    misuse = f.of("misuse")
    if misuse:
        done = _has_pitfall(library.store.episodes(tool=rec.name))
        todo = [o for o in misuse if o.episode_id not in done]
        pitfalls = len(todo)
        if not settings.dry_run:
            for o in todo:
                library.record(_pitfall(rec, o))
    common = {"tool": rec.ref, "counts": f.counts(), "pitfalls": pitfalls, "environment": env}
    if not f.repair:
        why = "no bug to repair" if not f.of("bug") else "too few bug observations"
        return ToolOutcome(action="none", reason=why, **common)
    used = rounds_used(library.store.history(rec.name))
    bugs = f.of("bug")
    if used >= settings.max_rounds:
        reason = (
            f"improve: still failing after {used} repair round(s) "
            f"({len(bugs)} bug observation(s) on {rec.ref}; first: {bugs[0].reason})"
        )[:500]
        if settings.dry_run:
            return ToolOutcome(action="would retire", reason=reason, round=used, **common)
        library.retire(rec.name, reason)
        return ToolOutcome(action="retired", reason=reason, round=used, **common)
    if settings.dry_run or ctx is None:
        return ToolOutcome(
            action="would repair",
            reason=f"{len(bugs)} bug observation(s)",
            round=used + 1,
            **common,
        )
    try:
        result = repair_round(
            ctx,
            rec,
            bugs,
            max_attempts=settings.max_attempts,
            max_examples=settings.max_examples,
            round_no=used + 1,
        )
    except ModelCallError as exc:
        return ToolOutcome(
            action="error", reason=f"maker call failed: {exc}"[:500], round=used + 1, **common
        )
    return ToolOutcome(
        action=result.status, reason=result.reason, round=used + 1, repair=result, **common
    )
