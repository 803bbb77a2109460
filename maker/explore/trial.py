"""Trials of one imagined problem within one episode, each judged, each recorded raw.

A trial is the solver's own steps (`maker.use.solver.ask` / `act`: the strict JSON decision,
its checks and corrections, the sandbox run with tool use logged by the code that ran) with only
the explored tool offered and no direct-answer form in the reply schema. Each later trial sees
the earlier replies with their real results or errors (short-term memory). A trial whose call
ran goes to the judge (`maker.explore.judge`); verified, it ends the episode.

Recorded episodes (origin ``exploration``): a verified trial with ``success=True``, the real
call and the real output (so replay serves it as a demonstration); a refuted or failed one with
``success=False`` (failure memory); a reply that never became a valid call with
``success=None`` (a pitfall of the tool's use, not counted against the tool). The judge's
verdict and the program-of-thought answer go in ``result["exploration"]``, the verdict in
``feedback`` and the answer in ``expected``. Nothing rewrites a trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from library import Library
from library.records import Call, Episode, ToolRecord
from maker.explore.judge import Judgement, PotAnswer, agrees, judge_output, program_of_thought
from maker.explore.prompts import call_text, trial_feedback
from maker.llm import ChatClient
from maker.tasks import Task
from maker.use.answer import answer_text, final_answer
from maker.use.prompt import correction_message, experience_text, solve_messages
from maker.use.reply import decision_schema
from maker.use.solver import (
    SolveContext,
    example_values,
    initial_state,
    replayed_calls,
    run_steps,
)
from sandbox import RunResult, Sandbox

Kind = Literal[
    "verified",
    "refuted",
    "disagreed",
    "overruled",
    "unconfirmed",
    "run_failed",
    "unusable",
    "no_tool",
    "unjudged",
]


@dataclass(frozen=True)
class TrialOutcome:
    """One trial: how it ended (`kind`), the episode recorded for it (None when nothing was
    worth recording), and the judge's and the program's answers when they were asked."""

    trial: int
    kind: Kind
    episode_id: int | None = None
    judgement: Judgement | None = None
    pot: PotAnswer | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "kind": self.kind,
            "episode_id": self.episode_id,
            "judgement": self.judgement.to_json() if self.judgement else None,
            "pot": self.pot.to_json() if self.pot else None,
        }


@dataclass(frozen=True)
class QueryOutcome:
    """The trials of one problem."""

    query: str
    trials: tuple[TrialOutcome, ...] = field(default_factory=tuple)

    @property
    def verified(self) -> bool:
        return any(t.kind == "verified" for t in self.trials)

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "trials": [t.to_json() for t in self.trials]}


@dataclass
class TrialContext:
    """What the trials need: the solver's context (explorer client, sandbox, library, settings
    with recording off), the judge's client and the knobs of the judging."""

    solve: SolveContext
    judge: ChatClient
    trials: int = 2
    judge_attempts: int = 2
    pot: bool = True
    pot_attempts: int = 2
    retry_temperature: float = 0.7
    replay_k: int = 2
    replay_budget_chars: int = 1200

    @property
    def library(self) -> Library:
        return self.solve.library

    @property
    def sandbox(self) -> Sandbox:
        return self.solve.sandbox


def explore_schema(rec: ToolRecord) -> dict[str, Any]:
    """The decision schema with only the tool's call (its arguments constrained to its spec)
    and a program: no direct answer."""
    return decision_schema({rec.name: rec.spec.input_schema()}, answer=False)


def first_messages(
    ctx: TrialContext, rec: ToolRecord, query: str
) -> tuple[list[dict[str, str]], list[str]]:
    """The solver's prompt with the one tool (its card shows example calls) and its replayed
    experience, and the argument values shown there for other problems (`example_values`: a
    call that copies them is turned down as in `maker solve`; the real 0.5B called the tool
    with the first explored problem's words for every later problem, copied from the failure
    memory)."""
    parts: list[str] = []
    shown_calls: list[tuple[str, Mapping[str, Any]]] = []
    if ctx.replay_budget_chars > 0:
        replay = ctx.library.replay(
            query,
            [rec.name],
            k=ctx.replay_k,
            budget_chars=ctx.replay_budget_chars,
            offered_only=True,
        )
        pitfalls = [e for eps in replay.failures.values() for e in eps]
        text, shown = experience_text(
            list(replay.examples), pitfalls, ctx.replay_budget_chars, replay.corrections
        )
        parts.append(text)
        shown_calls = replayed_calls((*replay.examples, *pitfalls), shown)
    messages = solve_messages(query, [rec], "\n\n".join(p for p in parts if p))
    return messages, example_values(query, [rec], shown_calls)


def _state(
    task: Task, rec: ToolRecord, messages: list[dict[str, str]], values: list[str]
) -> dict[str, Any]:
    state = initial_state(task)
    state.update(
        offered=[rec.ref], messages=messages, schema=explore_schema(rec), example_values=values
    )
    return state


def _observation(execution: dict[str, Any]) -> RunResult:
    return RunResult.from_json({k: v for k, v in execution.items() if k != "calls"})


def same_answer(st: dict[str, Any], pot_value: Any, query: str) -> bool:
    """Whether the trial's output and the program's answer agree: as raw values, or once both
    are in the problem's answer format (a multiple-choice option label)."""
    raw = (st["execution"] or {}).get("value")
    return agrees(raw, pot_value) or agrees(st["answer"], final_answer(pot_value, query))


def _episode(
    rec: ToolRecord,
    query: str,
    st: dict[str, Any],
    *,
    trial: int,
    success: bool | None,
    judgement: Judgement | None = None,
    pot: PotAnswer | None = None,
) -> Episode:
    data = st["decision"] or {}
    if data.get("kind") == "call":
        call = Call(tool=rec.ref, arguments=dict(data.get("arguments") or {}))
    else:
        call = Call(program=data.get("program") or None)
    if st["execution"] is not None:
        result = dict(st["execution"])
    else:
        p = st["problems"][-1] if st["problems"] else {"code": "no_reply", "message": ""}
        result = {
            "ok": False,
            "value": None,
            "error": {"type": p["code"], "message": p["message"], "line": None},
        }
    result["stages"] = dict(st["stages"])
    result["exploration"] = {
        "trial": trial,
        "judge": judgement.to_json() if judgement else None,
        "pot": pot.to_json() if pot else None,
    }
    notes = [f"{p['stage']}:{p['code']}" for p in st["problems"]]
    if judgement is not None and judgement.verdict is not None:
        verdict = "yes" if judgement.verdict else "no"
        notes.append(f"judge: {verdict}" + (f" ({judgement.reason})" if judgement.reason else ""))
    if pot is not None and pot.status == "ok":
        same = same_answer(st, pot.value, query)
        notes.append(
            f"program of thought: {answer_text(pot.value)[:80]} "
            f"({'agrees' if same else 'disagrees'})"
        )
    expected = None
    if pot is not None and pot.status == "ok":
        expected = answer_text(pot.value)
    elif judgement is not None and judgement.answer is not None:
        expected = judgement.answer
    return Episode(
        query=query,
        offered=(rec.ref,),
        call=call,
        result=result,
        answer=None if st["answer"] is None else answer_text(st["answer"]),
        success=success,
        feedback="; ".join(notes),
        origin="exploration",
        expected=expected,
    )


def explore_query(ctx: TrialContext, rec: ToolRecord, query: str, *, qid: str) -> QueryOutcome:
    """Up to ``ctx.trials`` trials of `query` with `rec` (see the module docstring)."""
    task = Task(qid, query, split="test")
    messages, values = first_messages(ctx, rec, query)
    pot: PotAnswer | None = None
    outcomes: list[TrialOutcome] = []
    for trial in range(1, max(1, ctx.trials) + 1):
        st = run_steps(_state(task, rec, messages, values), ctx.solve)
        decision = st["decision"] or {}
        execution = st["execution"]
        judgement: Judgement | None = None
        feedback = ""
        success: bool | None
        if execution is None:
            if st["ready"] and decision.get("kind") == "answer":
                kind: Kind = "no_tool"
                feedback = trial_feedback("no_tool", rec.name)
                success, record = None, False
            else:
                kind, success, record = "unusable", None, decision.get("kind") == "call"
                last = st["problems"][-1]["message"] if st["problems"] else ""
                feedback = correction_message(last)["content"]
        elif not execution["ok"]:
            kind, success, record = "run_failed", False, True
            feedback = trial_feedback(
                "run_failed", rec.name, _observation(execution).as_observation()
            )
        elif rec.ref not in st["tools_used"]:
            kind, success, record = "no_tool", None, False
            feedback = trial_feedback("no_tool", rec.name)
        else:
            observation = _observation(execution)
            shown = (
                call_text(rec.name, decision.get("arguments") or {})
                if decision.get("kind") == "call"
                else decision.get("program", "")
            )
            judgement = judge_output(
                ctx.judge,
                rec,
                query,
                shown,
                observation,
                attempts=ctx.judge_attempts,
                retry_temperature=ctx.retry_temperature,
            )
            record = True
            if judgement.verdict is not None and ctx.pot and pot is None:
                pot = program_of_thought(
                    ctx.judge,
                    ctx.sandbox,
                    rec,
                    query,
                    attempts=ctx.pot_attempts,
                    timeout=ctx.solve.settings.timeout_s,
                    retry_temperature=ctx.retry_temperature,
                )
            pot_ok = pot is not None and pot.status == "ok"
            agrees_pot = pot_ok and same_answer(st, pot.value, query)
            if judgement.verdict is None:
                kind, success = "unjudged", None
            elif not judgement.verdict and agrees_pot:
                # the real 1.5B judge called right sorts unsorted (8 of 8, then 3 of 3 that its
                # own program sorted the same): a "no" that the independent program's answer
                # contradicts is overruled, and the agreement verifies the trial
                kind, success = "overruled", True
            elif not judgement.verdict and ctx.pot and not pot_ok:
                # a "no" that no program answer backs: the real 1.5B judge was wrong on every
                # "no" it gave string outputs, and replaying such "pitfalls" lowered accuracy
                kind, success = "unconfirmed", None
            elif not judgement.verdict:
                kind, success = "refuted", False
                feedback = trial_feedback(
                    "refuted", rec.name, observation.as_observation(), judgement.reason
                )
            elif pot_ok and not agrees_pot:
                kind, success = "disagreed", False
                feedback = trial_feedback("disagreed", rec.name, observation.as_observation())
            else:
                kind, success = "verified", True
        used_pot = pot if judgement is not None and judgement.verdict is not None else None
        eid = None
        if record:
            ep = _episode(
                rec, query, st, trial=trial, success=success, judgement=judgement, pot=used_pot
            )
            eid = ctx.library.record(ep).id
        outcomes.append(TrialOutcome(trial, kind, eid, judgement, used_pot))
        if kind in ("verified", "unjudged", "overruled", "unconfirmed"):
            break
        messages = [
            *st["messages"],
            {"role": "assistant", "content": st["last_reply"]},
            {"role": "user", "content": feedback},
        ]
    return QueryOutcome(query, tuple(outcomes))
