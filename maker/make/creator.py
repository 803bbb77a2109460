"""CREATOR (Qian et al., 2023): per problem, create a tool, decide the call, execute, rectify.

One unit per task. The graph::

    create ──▶ decide ──▶ execute ──▶ validate ──▶ publish ──▶ END
      ▲ │        ▲ │        │ error or      │ failed, repairs left
      └─┘        └─┘        │ wrong answer  ▼
    (unparseable reply,     ▼             repair ──▶ execute (or decide if the signature changed)
     bounded retries)    rectify ──▶ execute (or decide if the signature changed)

Every node is a plain function ``node(state, ctx) -> update`` (tested one by one); routing reads
``state["next"]``. The state is JSON-only (dicts, lists, strings, numbers) so the checkpointer
stores it as data. Model-written code runs only in ``ctx.sandbox``. Rectification uses the gold
answer only on the train split; examples in the task are held out (never shown to the model).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any, TypedDict

from langgraph.graph import StateGraph

from library.calls import literal_assignment, parse_literal_call
from maker.check.validation import expression_note, validate
from maker.make import Context, Unit, UnitOutcome, routed_graph
from maker.make.steps import (
    ACCEPTED_OUTCOMES,
    arguments_line,
    ask,
    ask_fix,
    ask_repair,
    copied_format_example,
    draft_name,
    empty_usage,
    fresh_start,
    judge,
    last_reply,
    publish_draft,
    rejection,
    retry_or_give_up,
    step_sample,
    stored_suite,
    stuck_on_code,
    unchanged_fix,
    unchanged_retry,
    with_records,
    with_retry_feedback,
    without_body,
    without_format_properties,
)
from maker.prompts import render
from maker.tasks import Task
from maker.text.blocks import extract_blocks
from maker.text.drafts import Rejection, ToolDraft, parse_reply
from maker.use.answer import answers_right
from sandbox import ExampleCase, RunResult
from sandbox.parsing import parse_source
from sandbox.values import type_note

NAME = "creator"
PROMPTS = ("creator_create", "creator_decide", "creator_rectify", "repair")


class CreatorState(TypedDict, total=False):
    """The graph state: JSON values only."""

    task: dict[str, Any]
    problem: str
    next: str
    status: str  # running | accepted | rejected
    reason: str
    draft: dict[str, Any] | None
    call: dict[str, Any] | None  # {"text": "f(a=1)", "kwargs": {...}}
    run: dict[str, Any] | None  # RunResult.to_json()
    feedback: str
    verdict: dict[str, Any] | None
    retries: dict[str, int]  # per phase: replies re-asked after a parse failure
    repairs: int
    tool: dict[str, Any] | None
    rejections: Annotated[list[dict[str, Any]], operator.add]
    usage: dict[str, Any]
    last_reply: dict[str, Any] | None  # an unusable reply, shown when its phase asks again
    restarts: int  # 1 once a fix that sent the tool back unchanged started over
    fresh: int  # fresh starts so far (Options.fresh_starts)


# -- helpers ---------------------------------------------------------------------------------
def problem_text(task: Task) -> str:
    """The problem as the model sees it: the text, plus the keyword names the held-out examples
    will call the tool with and their shapes (never the examples' values)."""
    line = arguments_line([task])
    if not line:
        return task.text
    return f"{task.text}\n\n(The tool will also be checked on other problems of this kind, {line}.)"


def initial_state(task: Task) -> dict[str, Any]:
    return {
        "task": task.to_json(),
        "problem": problem_text(task),
        "next": "create",
        "status": "running",
        "reason": "",
        "draft": None,
        "call": None,
        "run": None,
        "feedback": "",
        "verdict": None,
        "retries": {},
        "repairs": 0,
        "tool": None,
        "rejections": [],
        "usage": empty_usage(),
        "last_reply": None,
        "restarts": 0,
    }


def parse_call(text: str, draft: ToolDraft) -> dict[str, Any] | str:
    """The tool call in a reply as ``{"text", "kwargs"}``, or why it is unusable.

    Accepts one call of the tool with literal arguments (positional ones are mapped to the
    parameters in order), anywhere in a line (``print(f(3))``, ``The answer is f(n=3).``), with
    arguments that are names bound to literals in the same block (``n = 36`` then ``f(n)``), or
    a JSON object of the arguments. Read with `ast` only; nothing is evaluated but literals and
    constant arithmetic on numbers.
    """
    blocks = [b for b in extract_blocks(text) if b.is_python or not b.lang]
    labelled = [b for b in blocks if "call" in b.label.split()]
    candidates = [b.text for b in (labelled or blocks)] or [text]
    if blocks and not labelled:
        candidates.append(text)  # a call written in the prose around the code
    problem = ""
    params = [n for n, _ in draft.params]
    for candidate in candidates:
        env = _literal_names(candidate)
        for line in reversed([ln.split("#")[0].strip() for ln in candidate.splitlines()]):
            if draft.name not in line:
                continue
            for snippet in _call_snippets(line, draft.name):
                found = parse_literal_call(snippet, draft.name, params, names=env)
                if isinstance(found, dict):
                    shown = ", ".join(f"{k}={v!r}" for k, v in found.items())
                    return {"text": f"{draft.name}({shown})", "kwargs": found}
                if found is not None:
                    problem = problem or f"the call: {found}"
    as_json = _json_arguments(text, draft)
    if as_json is not None:
        return as_json
    return problem or f"the reply holds no call of {draft.name}(...)"


def _call_snippets(line: str, name: str) -> list[str]:
    """Every ``name(...)`` in a line, up to its closing parenthesis.

    The closing parenthesis is the first ``)`` after which the snippet parses as one expression,
    so brackets inside string arguments (``f("a) or b")``) do not end it early; when no prefix
    parses, the bracket-counting end is taken, so the parser can say what is wrong with it."""
    out = []
    start = line.find(name + "(")
    while start != -1:
        if start == 0 or not (line[start - 1].isalnum() or line[start - 1] in "_."):
            out.extend(_parsing_call(line, start) or _bracket_call(line, start, len(name)))
        start = line.find(name + "(", start + 1)
    return out


def _parsing_call(line: str, start: int) -> list[str]:
    end = line.find(")", start)
    while end != -1:
        try:
            parse_source(line[start : end + 1], mode="eval")
            return [line[start : end + 1]]
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            end = line.find(")", end + 1)
    return []


def _bracket_call(line: str, start: int, skip: int) -> list[str]:
    depth = 0
    for i in range(start + skip, len(line)):
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(line[i], 0)
        if depth == 0:
            return [line[start : i + 1]]
    return []


def _literal_names(source: str) -> dict[str, Any]:
    """Names bound to literal values by ``name = literal`` lines of a block."""
    bindings = (literal_assignment(line) for line in source.splitlines())
    return dict(b for b in bindings if b is not None)


def _json_arguments(text: str, draft: ToolDraft) -> dict[str, Any] | None:
    """A reply that is (or holds) a JSON object of the tool's arguments."""
    names = {n for n, _ in draft.params}
    blocks = [b.text for b in extract_blocks(text) if b.is_json] or [text.strip()]
    for candidate in blocks:
        try:
            data = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict) and isinstance(data.get("arguments"), dict):
            data = data["arguments"]
        if isinstance(data, dict) and data and set(data) <= names:
            shown = ", ".join(f"{k}={v!r}" for k, v in data.items())
            return {"text": f"{draft.name}({shown})", "kwargs": dict(data)}
    return None


def _same_signature(old: dict[str, Any] | None, new: ToolDraft) -> bool:
    return bool(old) and old.get("signature") == new.signature  # type: ignore[union-attr]


# -- nodes -----------------------------------------------------------------------------------
FRESH_RESET = {"call": None, "run": None, "feedback": "", "verdict": None}
"""What a fresh start clears besides the draft: the call and run of the draft given up."""


def create(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Ask for a tool (docstring + code) for the problem; parse it into a draft."""
    sample = step_sample(state, "create")
    problem = state["problem"]
    task = Task.from_json(state["task"])
    if state.get("restarts") and task.has_gold:  # started over: shown the answer, not the code
        problem += (
            f"\n\nThe expected answer to this problem is {_short(task.answer)}: called with "
            "this problem's quantities, the tool must return exactly that (the same type too)."
        )
    messages = render("creator_create", policy=ctx.sandbox.policy, problem=problem)
    messages = with_retry_feedback(messages, state, "create")
    text, usage = ask(ctx, state.get("usage"), messages, "create", sample)
    state = {**state, "usage": usage}
    parsed = parse_reply(text, policy=ctx.sandbox.policy)
    if isinstance(parsed, Rejection):
        return {"usage": usage, **retry_or_give_up(state, ctx, "create", parsed, text)}
    copied = copied_format_example(state, parsed)
    if copied is not None:
        return {
            "usage": usage,
            **retry_or_give_up(state, ctx, "create", copied, text, reason="copied_format_example"),
        }
    parsed = without_format_properties(state, parsed)
    return {"usage": usage, "draft": parsed.to_json(), "next": "decide", "last_reply": None}


def decide(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Ask how to call the tool for this problem; parse the call's literal arguments."""
    draft = ToolDraft.from_json(state["draft"])
    sample = (state.get("retries") or {}).get("decide", 0)
    messages = render(
        "creator_decide",
        policy=ctx.sandbox.policy,
        problem=state["problem"],
        signature=draft.signature,
        docstring=draft.docstring,
        name=draft.name,
    )
    messages = with_retry_feedback(messages, state, "decide")
    text, usage = ask(ctx, state.get("usage"), messages, "decide", sample)
    call = parse_call(text, draft)
    if isinstance(call, str):
        # asked again in a stricter format: one line, the call alone
        example = ", ".join(f"{n}=..." for n, _ in draft.params)
        strict = (
            f"Reply with exactly one line and nothing else: the call "
            f"`{draft.name}({example})` with literal values (numbers, strings, lists) "
            "taken from the problem. No prose, no code fence, no variables."
        )
        return {
            "usage": usage,
            **retry_or_give_up(
                {**state, "usage": usage},
                ctx,
                "decide",
                call,
                text,
                reason="bad_call",
                instruction=strict,
                source=draft.source,
            ),
        }
    return {"usage": usage, "call": call, "next": "execute", "last_reply": None}


def execute(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Run the call in the sandbox; route to rectify on an error or (train split, gold answer
    known) a wrong answer, else to validation."""
    draft = ToolDraft.from_json(state["draft"])
    task = Task.from_json(state["task"])
    result = ctx.sandbox.run(draft.source, draft.name, kwargs=state["call"]["kwargs"])
    update: dict[str, Any] = {"run": result.to_json()}
    if result.ok and not (task.has_gold and not answers_right(result.value, task)):
        return update | {"feedback": "", "next": "validate"}
    kwargs = state["call"]["kwargs"]
    note = expression_note(
        [ExampleCase(kwargs, task.answer) if task.has_gold else kwargs], draft.source
    )
    note = f" {note}" if note else ""
    if not result.ok:
        return update | {"feedback": f"The call failed: {result.error}.{note}", "next": "rectify"}
    return update | {
        "feedback": f"The call ran and returned {_short(result.value)}"
        f"{type_note(result.value, task.answer)}, but the expected answer is "
        f"{_short(task.answer)}: the tool computes something else than the problem asks. "
        f"First say in one sentence how {_short(task.answer, 60)} follows from the call's "
        f"inputs; then change the tool to compute that.{note}",
        "next": "rectify",
    }


def rectify(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Show the model the failed run (as quoted data) and take its corrected tool."""
    repairs = state.get("repairs", 0)
    draft = ToolDraft.from_json(state["draft"])
    rejected = rejection(
        state,
        "execute",
        "execution_error" if not state["run"]["ok"] else "wrong_answer",
        state.get("feedback", ""),
        source=draft.source,
    )
    if repairs >= ctx.options.max_repairs:
        again = fresh_start(state, ctx, "create", rejected, FRESH_RESET)
        if again is not None:
            return again
        return {
            "next": "end",
            "status": "rejected",
            "rejections": [rejected],
            "reason": f"rectify:exhausted: no correct run after {repairs} repair(s): "
            f"{state.get('feedback')}",
        }
    run = RunResult.from_json(state["run"])
    blind = stuck_on_code(state, rejected)
    messages = render(
        "creator_rectify",
        policy=ctx.sandbox.policy,
        problem=state["problem"],
        source=without_body(draft) if blind else draft.source,
        call=state["call"]["text"],
        observation=run,
        feedback=state.get("feedback", ""),
    )
    text, usage, set_aside = ask_fix(state, ctx, messages, "rectify", repairs, blind=blind)
    fix = _take_fix(state, text, ctx, "rectify")
    return fix | {
        "usage": usage,
        "repairs": repairs + 1,
        "rejections": [rejected, *set_aside, *fix.get("rejections", [])],
    }


def check(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Validate the draft in the sandbox (`maker.check.validation.validate`)."""
    draft = ToolDraft.from_json(state["draft"])
    task = Task.from_json(state["task"])
    known = []
    if task.has_gold and state.get("call"):
        known.append({"input": state["call"]["kwargs"], "expected": task.answer})
    held_out = [e.to_json() for e in task.examples]
    verdict = validate(
        ctx.sandbox,
        draft,
        examples=known,
        held_out=held_out,
        task_text=task.text,
        max_examples=ctx.options.max_examples,
        memo=ctx.memo,
    )
    return judge(
        state,
        ctx,
        verdict,
        on_pass="publish",
        stage="validate",
        start_over="create",
        reset=FRESH_RESET,
    )


def repair(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Send the failing checks (minimal failing inputs, held-out inputs hidden) for a fix."""
    text, usage, set_aside = ask_repair(state, ctx, state["problem"])
    repairs = state.get("repairs", 0) + 1
    fix = {"usage": usage, "repairs": repairs, **_take_fix(state, text, ctx, "repair")}
    return with_records(fix, set_aside)


def _take_fix(state: dict[str, Any], text: str, ctx: Context, phase: str) -> dict[str, Any]:
    parsed = parse_reply(text, policy=ctx.sandbox.policy, prefer=draft_name(state))
    if isinstance(parsed, ToolDraft) and unchanged_fix(
        state, parsed, tests=None if phase == "repair" else False
    ):
        # start over from the create prompt, with the expected answer where there is one
        # (greedy: the prompt is new; else warm). Asked afresh so, the real 1.5B wrote
        # max - min for both range tasks; shown its code (greedy or warm, with or without a
        # type note) it kept (min, max)
        gold = Task.from_json(state["task"]).has_gold
        return unchanged_retry(state, ctx, phase, text, parsed, "create", warm=not gold)
    if isinstance(parsed, Rejection):
        record = rejection(state, phase, parsed.reason, str(parsed))
        left = state.get("repairs", 0) + 1 < ctx.options.max_repairs
        if parsed.recoverable and left:
            return {
                "next": phase,
                "rejections": [record],
                "last_reply": last_reply(phase, text, parsed.message),
            }
        return {
            "next": "end",
            "status": "rejected",
            "rejections": [record],
            "reason": f"{phase}:{parsed}"[:500],
        }
    parsed = without_format_properties(state, parsed)
    nxt = "execute" if _same_signature(state.get("draft"), parsed) else "decide"
    return {"draft": parsed.to_json(), "next": nxt, "verdict": None, "last_reply": None}


def publish(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Publish the validated tool (idempotent by content hash; through the gate if given)."""
    draft = ToolDraft.from_json(state["draft"])
    task = Task.from_json(state["task"])
    known = (
        [{"input": state["call"]["kwargs"], "expected": task.answer}]
        if task.has_gold and state.get("call")
        else []
    )
    tests = stored_suite(draft, examples=known, held_out=[e.to_json() for e in task.examples])
    tool = publish_draft(
        state,
        ctx,
        draft,
        strategy=NAME,
        prompts=PROMPTS,
        tests=tests,
        task_ids=(task.id,),
        problems=(task.text,),
    )
    if tool["outcome"] in ACCEPTED_OUTCOMES:
        return {"tool": tool, "status": "accepted", "next": "end"}
    return {
        "tool": tool,
        "status": "rejected",
        "next": "end",
        "reason": f"publish:{tool['outcome']}: {tool['reason']}"[:500],
        "rejections": [
            rejection(
                state, "publish", f"publish:{tool['outcome']}", tool["reason"], source=draft.source
            )
        ],
    }


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


NODES = {
    "create": create,
    "decide": decide,
    "execute": execute,
    "rectify": rectify,
    "validate": check,
    "repair": repair,
    "publish": publish,
}


# Nodes that make no model call and run on, in the same graph step, into the next such node:
# execute -> validate -> publish is one checkpointed step instead of three (each step costs a
# LangGraph tick and a checkpoint write). Steps still end at every model call (create, decide,
# rectify, repair), so a killed job resumes without repeating one; a step cut short repeats
# only sandbox work, and publishing is idempotent. The nodes stay separate functions (and graph
# nodes, so a checkpoint whose next node is "validate" or "publish" still resumes).
CHAINED = ("execute", "validate")
_RUNS_ON = ("validate", "publish")


def _chained(fn: Any, state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """``fn``, then the no-model-call nodes it routes to, as one update."""
    update = dict(fn(state, ctx))
    while update.get("next") in _RUNS_ON:
        current = {
            **state,
            **update,
            "rejections": [*(state.get("rejections") or ()), *(update.get("rejections") or ())],
        }
        more = NODES[update["next"]](current, ctx)
        rejections = [*(update.get("rejections") or ()), *(more.get("rejections") or ())]
        update.update(more)
        if rejections:
            update["rejections"] = rejections
    return update


class CreatorStrategy:
    """The CREATOR strategy object registered in `maker.make.REGISTRY`."""

    name = NAME

    def units(self, tasks: Sequence[Task]) -> list[Unit]:
        return [Unit(t.id, (t.id,), initial_state(t)) for t in tasks]

    def build(self, ctx: Context) -> StateGraph:
        nodes = {
            name: partial(_chained, fn) if name in CHAINED else fn for name, fn in NODES.items()
        }
        return routed_graph(CreatorState, nodes, "create", ctx)

    def outcome(self, unit_id: str, state: dict[str, Any]) -> UnitOutcome:
        tool = state.get("tool")
        return UnitOutcome(
            unit_id=unit_id,
            status=state.get("status", "running"),
            tools=(tool,) if tool and state.get("status") == "accepted" else (),
            reason=state.get("reason", ""),
            rejections=tuple(state.get("rejections") or ()),
            usage=dict(state.get("usage") or {}),
        )


STRATEGY = CreatorStrategy()

__all__ = [
    "NODES",
    "STRATEGY",
    "CreatorState",
    "CreatorStrategy",
    "check",
    "create",
    "decide",
    "execute",
    "initial_state",
    "parse_call",
    "problem_text",
    "publish",
    "rectify",
    "repair",
]
