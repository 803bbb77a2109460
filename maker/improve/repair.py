"""One repair round of one tool: the maker fixes it from the failing uses, the candidate is
validated, must fix a triggering failure, passes the regression gate, and is confirmed.

A round is a short conversation with the maker (prompt ``repair``, with the failing episodes as
evidence: inputs, expected, actual). Each reply is parsed as `maker make` parses drafts; an
unusable reply, a candidate that fails validation (`maker.check.validation.validate`, on the
tool's stored examples and held-out cases) or one that fixes none of the triggering failures is
shown back with what is wrong, at most ``max_attempts`` replies in all. A candidate that gets
through is published through the regression gate (`library.gate.regression_gate`: signature,
previous tests, recorded successful uses replayed): refused, it is stored ``rejected`` with the
gate's reason and the old version stays latest. The last candidate that never got through is
stored ``rejected`` too, with its reason, so every round that produced code leaves a record.
After a new version is published, the triggering episodes are re-run on it in the sandbox and
recorded (feedback ``improve:rerun of episode N``).

Every stored candidate carries a provenance entry with strategy ``improve``: the rounds a tool
has had are counted from the library's records (`rounds_used`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from library import NewTool, Provenance, StoredSuite
from library.gate import regression_gate
from library.normalize import ast_hash
from library.records import Call, Episode, ToolRecord
from library.store.base import GateDecision
from library.verdict import Verdict
from maker.check.validation import repair_feedback, validate
from maker.check.wrongtests import without_wrong_tests
from maker.improve.classify import RERUN_TAG, Observation
from maker.improve.evidence import Rerun, evidence_text, grade, rerun, task_text
from maker.make import Context
from maker.make.steps import MAX_REPLY_SHOWN, ask, empty_usage, stored_suite, without_body
from maker.prompts import render, template_hash
from maker.text.drafts import Rejection, ToolDraft, parse_reply

STRATEGY = "improve"
"""The provenance strategy of every candidate this loop stores."""
PHASE = "improve_repair"


def rounds_used(history: Sequence[ToolRecord]) -> int:
    """Repair rounds a tool has had: provenance entries with strategy ``improve`` over all its
    versions (a published repair, a rejected candidate, or a credited duplicate)."""
    return sum(1 for rec in history for p in rec.provenance if p.strategy == STRATEGY)


@dataclass(frozen=True)
class RoundResult:
    """What one repair round did.

    ``status``: ``repaired`` (a new version is latest), ``rejected`` (a candidate was refused,
    stored with the reason unless the maker never gave usable code) or ``error`` (the maker
    could not be reached). ``gated`` is whether a candidate passed the regression gate.
    """

    tool: str
    status: str
    reason: str = ""
    new_ref: str | None = None
    stored_ref: str | None = None
    gated: bool = False
    attempts: int = 0
    confirmed: tuple[int, ...] = ()  # triggering episode ids the new version fixed on re-run
    unconfirmed: tuple[int, ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "status": self.status,
            "reason": self.reason,
            "new_ref": self.new_ref,
            "stored_ref": self.stored_ref,
            "gated": self.gated,
            "attempts": self.attempts,
            "confirmed": list(self.confirmed),
            "unconfirmed": list(self.unconfirmed),
            "usage": dict(self.usage),
        }


@dataclass(frozen=True)
class _Candidate:
    draft: ToolDraft
    verdict: dict[str, Any]
    reason: str


def _retry_messages(base: list[dict[str, str]], reply: str, problem: str) -> list[dict[str, str]]:
    follow = render(
        "retry",
        problem=problem[:3000],
        instruction="Reply again with the whole corrected tool in the format asked "
        "for above, changing what the message says is wrong.",
    )
    return [*base, {"role": "assistant", "content": reply[:MAX_REPLY_SHOWN]}, *follow]


def _tests(rec: ToolRecord, draft: ToolDraft) -> StoredSuite:
    """The new version's tests: the previous version's, plus the maker's new ones."""
    new = stored_suite(draft)
    old = rec.tests
    return StoredSuite(
        examples=old.examples,
        unit_tests=old.unit_tests + new.unit_tests,
        property_specs=old.property_specs + new.property_specs,
        held_out=old.held_out,
    )


def _provenance(
    rec: ToolRecord, observations: Sequence[Observation], usage: dict[str, Any], round_no: int
) -> Provenance:
    """The candidate's provenance; the round number keeps each round's entry distinct, so a
    candidate that repeats an earlier one still counts as a round."""
    ids = [f"episode:{o.episode_id}" for o in observations if o.episode_id is not None]
    return Provenance(
        task_ids=(f"repair-of:{rec.ref}", f"improve-round:{round_no}", *ids[:20]),
        strategy=STRATEGY,
        maker_model=str(usage.get("model", "")),
        prompt_hash=template_hash("repair"),
        tokens_in=int(usage.get("prompt_tokens", 0)),
        tokens_out=int(usage.get("completion_tokens", 0)),
        cost_usd=float(usage.get("dollars", 0.0)),
        problems=tuple(o.episode.query for o in observations)[:5],
        origin="made",
    )


def _store_rejected(
    ctx: Context,
    rec: ToolRecord,
    cand: _Candidate,
    observations: Sequence[Observation],
    usage: dict[str, Any],
    round_no: int,
) -> str | None:
    """Store a refused candidate with status ``rejected`` and its reason (a gate that says no)."""
    new = NewTool(
        rec.name,
        cand.draft.source,
        tests=_tests(rec, cand.draft),
        verdict=Verdict.from_json(cand.verdict),
        provenance=_provenance(rec, observations, usage, round_no),
        entry=cand.draft.name,
    )
    result = ctx.library.publish(new, gate=lambda _old, _new: GateDecision(False, cand.reason))
    return result.record.ref if result.record is not None else None


def record_reruns(ctx: Context, new: ToolRecord, reruns: Sequence[Rerun]) -> None:
    """Record each re-run of a triggering episode on the new version as an episode."""
    for r in reruns:
        ep = r.episode
        correct, answer = grade(ep, r.result)
        stages = {
            "well_formed": True,
            "tool_chosen": True,
            "args_valid": True,
            "executed": r.result.ok,
            "correct": correct,
        }
        result = {**r.result.to_json(), "calls": [new.ref] if r.result.ok else [], "stages": stages}
        ctx.library.record(
            Episode(
                query=ep.query,
                offered=(new.ref,),
                call=Call(new.ref, dict(ep.call.arguments)),
                result=result,
                answer=None if answer is None else _text(answer),
                success=correct,
                feedback=f"{RERUN_TAG} of episode {ep.id}",
                origin="use",
                expected=ep.expected,
                answer_check=ep.answer_check,
            )
        )


def _text(value: Any) -> str:
    from maker.use.answer import answer_text

    return answer_text(value)


def repair_round(
    ctx: Context,
    rec: ToolRecord,
    observations: Sequence[Observation],
    *,
    max_attempts: int = 3,
    max_examples: int = 50,
    round_no: int = 1,
) -> RoundResult:
    """One repair round of `rec` from its bug `observations` (see the module docstring).
    Raises the client's `ModelCallError` when the maker cannot be reached."""
    policy = ctx.sandbox.policy
    triggers = [o.episode for o in observations]
    task, evidence = task_text(rec), evidence_text(observations)

    def prompt(source: str) -> list[dict[str, str]]:
        return render("repair", policy=policy, task=task, source=source, feedback=evidence)

    base = prompt(rec.source)
    messages = base
    usage = empty_usage()
    candidate: _Candidate | None = None
    last_problem = "no reply"
    attempts = 0
    for attempt in range(max_attempts):
        attempts = attempt + 1
        text, usage = ask(ctx, usage, messages, PHASE, attempt)
        parsed = parse_reply(text, policy=policy, entry=rec.entry)
        if isinstance(parsed, Rejection):
            last_problem = f"unusable reply: {parsed}"
            if not parsed.recoverable:
                break
            messages = _retry_messages(base, text, str(parsed))
            continue
        if ast_hash(parsed.source) == rec.ast_hash:
            # stuck on its code: asked again without it (`maker.make.steps.stuck_on_code`)
            last_problem = "the reply gave the tool back unchanged"
            messages = prompt(without_body(parsed))
            continue
        verdict = validate(
            ctx.sandbox,
            parsed,
            examples=rec.tests.examples,
            held_out=rec.tests.held_out,
            task_text=rec.spec.description,
            max_examples=max_examples,
            memo=ctx.memo,
        )
        if not verdict.passed:
            feedback = repair_feedback(verdict, max_chars=2000, source=parsed.source)
            first = verdict.failures[0] if verdict.failures else None
            what = f"{first.kind}: {first.message}" if first else "no detail"
            candidate = _Candidate(parsed, verdict.to_json(), f"validation failed: {what}"[:500])
            last_problem = candidate.reason
            messages = _retry_messages(base, text, feedback)
            continue
        draft = without_wrong_tests(parsed, verdict)
        runs = rerun(ctx.sandbox, draft.source, draft.name, triggers)
        if not any(r.fixed for r in runs):
            still = "; ".join(r.describe() for r in runs[:4])
            reason = f"fixes none of the {len(runs)} triggering failures ({still})"[:500]
            candidate = _Candidate(draft, verdict.to_json(), reason)
            last_problem = reason
            messages = _retry_messages(
                base, text, f"The corrected tool still fails every use above when re-run: {still}."
            )
            continue
        return _publish(ctx, rec, observations, draft, verdict.to_json(), usage, attempts, round_no)
    stored = None
    if candidate is not None:
        stored = _store_rejected(ctx, rec, candidate, observations, usage, round_no)
    return RoundResult(
        rec.name, "rejected", last_problem[:500], stored_ref=stored, attempts=attempts, usage=usage
    )


def _publish(
    ctx: Context,
    rec: ToolRecord,
    observations: Sequence[Observation],
    draft: ToolDraft,
    verdict: dict[str, Any],
    usage: dict[str, Any],
    attempts: int,
    round_no: int,
) -> RoundResult:
    """Publish a candidate that validated and fixes a trigger: through the regression gate,
    then re-run and record the triggering episodes on the new version."""
    new = NewTool(
        rec.name,
        draft.source,
        tests=_tests(rec, draft),
        verdict=Verdict.from_json(verdict),
        provenance=_provenance(rec, observations, usage, round_no),
        entry=draft.name,
    )
    gate = ctx.gate or regression_gate(ctx.sandbox, ctx.library.store)
    result = ctx.library.publish(new, gate=gate)
    stored = result.record.ref if result.record is not None else None
    common = {"attempts": attempts, "usage": usage, "stored_ref": stored}
    if result.outcome == "rejected":
        return RoundResult(rec.name, "rejected", result.reason[:500], **common)
    if result.outcome != "created" or result.record is None:
        why = result.reason or result.outcome
        return RoundResult(
            rec.name, "rejected", f"not a new version ({result.outcome}: {why})", **common
        )
    new_rec = result.record
    runs = rerun(ctx.sandbox, new_rec.source, new_rec.entry, [o.episode for o in observations])
    record_reruns(ctx, new_rec, runs)
    ok = tuple(r.episode.id for r in runs if r.fixed and r.episode.id is not None)
    bad = tuple(r.episode.id for r in runs if not r.fixed and r.episode.id is not None)
    reason = f"{new_rec.ref}: fixed {len(ok)} of {len(runs)} triggering failures on re-run"
    return RoundResult(
        rec.name,
        "repaired",
        reason,
        new_ref=new_rec.ref,
        gated=True,
        confirmed=ok,
        unconfirmed=bad,
        **common,
    )
