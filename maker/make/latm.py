"""LATM (Cai et al., 2023, "Large Language Models as Tool Makers"): per task type, a strong model
makes one generic tool from a few worked examples, verifies it, and wraps it for a cheap model.

One unit per task type. The graph::

    propose ──▶ verify ──▶ wrap ──▶ publish ──▶ END
      ▲ │        │  ▲
      └─┘        ▼  │ (failed, repairs left)
    (unparseable  repair
     reply, bounded retries)

- propose: the train split's worked examples (at most `MAX_SHOWN`) and the type's problem
  statements go to the maker (prompt ``latm_propose``, phase ``propose``); the reply is parsed
  into a draft with its unit tests and properties.
- verify: `maker.check.validation.validate` in the sandbox on the shown examples, the maker's tests
  and the held-out examples (the validation split; without one, the train examples not shown).
- repair: the failing checks (`repair_feedback`, held-out inputs hidden) go back for a fix
  (phase ``repair``), at most ``options.max_repairs`` times.
- wrap: the LATM "wrapper" (prompt ``latm_wrap``, phase ``wrap``): usage demonstrations for the
  cheap model. Each demonstrated call is run in the sandbox and kept only if it returns what the
  demonstration says; kept ones are stored with the tool as named examples
  (``{"input", "expected", "name": "usage: <how the problem maps to the arguments>"}`` in
  ``ToolRecord.tests.examples``), so they are re-checked by every regression run. An unusable
  wrap reply falls back to the shown examples: the tool itself is already verified.
- publish: idempotent, through the regression gate and the behavioural de-duplication.

A task type whose train tasks have no worked examples, only a question and a gold answer
(BIG-Bench rows), is made in *text mode* (`maker.make.latm_text`)::

    propose ──▶ calls ──▶ verify ──▶ wrap ──▶ publish ──▶ END
                  ▲         │  ▲
                  │         ▼  │ (same signature)
                  └──────── repair
               (signature changed)

- propose (prompt ``latm_propose_text``): the shown (question, answer) pairs; the reply holds
  the tool and the literal call answering each shown question. No usable call: retry (bounded).
- calls (prompt ``latm_calls``, phase ``calls``): the maker writes calls for the held-out
  questions from the tool and the shown demonstrations, never seeing those answers.
- verify: the calls run in the sandbox and are matched to the gold answers with the task's
  answer checking (`maker.make.latm_text.ground`), becoming the shown and held-out examples.
- wrap: no model call; the verified shown calls are the usage demonstrations.

Tasks of the test split are never used. Nodes are plain ``node(state, ctx) -> update``
functions; the state is JSON only.
"""

from __future__ import annotations

import io
import json
import operator
import tokenize
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypedDict

from library.calls import NotLiteral, literal_value, parse_literal_call
from library.verdict import Verdict
from maker.check.validation import safe_eval_solves, validate
from maker.make import Context
from maker.make import latm_text as text_mode
from maker.make.steps import (
    ACCEPTED_OUTCOMES,
    MAX_SHOWN,
    TypeStrategy,
    ask,
    base_state,
    best_of_drafts,
    judge,
    publish_draft,
    rejection,
    repair_step,
    stored_suite,
    take_draft,
    tasks_of,
    type_text,
    with_retry_feedback,
)
from maker.prompts import format_examples, render
from maker.tasks import Task
from maker.text.blocks import extract_blocks
from maker.text.drafts import ToolDraft
from sandbox import ExampleCase
from sandbox.values import values_equal

NAME = "latm"
PROMPTS = ("latm_propose", "repair", "latm_wrap")
TEXT_PROMPTS = ("latm_propose_text", "repair", "latm_calls")
MAX_DEMOS = 5
MAX_NOTE_CHARS = 300


class LatmState(TypedDict, total=False):
    """The graph state: JSON values only."""

    type: str
    tasks: list[dict[str, Any]]
    shown: list[dict[str, Any]]  # examples the maker sees: {"input", "expected"}
    held_out: list[dict[str, Any]]  # examples it never sees
    next: str
    status: str  # running | accepted | rejected
    reason: str
    draft: dict[str, Any] | None
    verdict: dict[str, Any] | None
    retries: dict[str, int]
    restarts: int  # 1 once a repair that sent the tool back unchanged started over
    fresh: int  # fresh starts so far (Options.fresh_starts)
    repairs: int
    demos: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    rejections: Annotated[list[dict[str, Any]], operator.add]
    usage: dict[str, Any]
    last_reply: dict[str, Any] | None  # an unusable reply, shown when its phase asks again
    mode: str  # examples | text (see maker.make.latm_text)
    shown_ids: list[str]  # text mode: tasks whose question and answer the maker sees
    held_ids: list[str]  # text mode: tasks whose answers it never sees
    calls: dict[str, dict[str, Any]]  # text mode: task id -> the call's arguments
    call_sig: list[Any]  # text mode: [name, params] the calls were written for


# -- data ------------------------------------------------------------------------------------
def _unique(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for e in examples:
        key = json.dumps(e, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def split_examples(
    tasks: Sequence[Task], max_shown: int = MAX_SHOWN
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shown, held_out) worked examples of one task type.

    Shown: at most `max_shown` examples of the train split. Held out: the validation split's
    examples plus the train examples not shown; with no validation split, about a third of the
    train examples (at least one, when there are two or more) are held out. The test split is
    never touched.
    """
    train = _unique([e.to_json() for t in tasks if t.split == "train" for e in t.examples])
    val = _unique([e.to_json() for t in tasks if t.split == "validation" for e in t.examples])
    if val or len(train) < 2:
        k = min(max_shown, len(train))
    else:
        k = min(max_shown, len(train) - max(1, len(train) // 3))
    return train[:k], val + train[k:]


def cases(examples: Sequence[dict[str, Any]]) -> list[ExampleCase]:
    return [ExampleCase(dict(e["input"]), e["expected"]) for e in examples]


def initial_state(kind: str, tasks: list[Task]) -> dict[str, Any]:
    shown, held_out = split_examples(tasks)
    state = {
        **base_state(kind, tasks, "propose"),
        "shown": shown,
        "held_out": held_out,
        "demos": [],
        "mode": "examples",
    }
    if not shown and text_mode.is_text_type(tasks):
        shown_ids, held_ids = text_mode.text_split(tasks)
        state |= {
            "mode": "text",
            "shown_ids": shown_ids,
            "held_ids": held_ids,
            "calls": {},
            "call_sig": [],
        }
    return state


def _train_texts(state: dict[str, Any]) -> str:
    return "\n\n".join(t.text for t in tasks_of(state) if t.split == "train")


def _text_mode(state: dict[str, Any]) -> bool:
    return state.get("mode") == "text"


# -- usage demonstrations (read with ast/tokenize only, never evaluated) -----------------------
def _split_comment(line: str) -> tuple[str, str]:
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.COMMENT:
                return line[: tok.start[1]].rstrip(), tok.string[1:].strip()
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return line.rstrip(), ""


def _literal(text: str) -> tuple[bool, Any]:
    try:
        return True, literal_value(text)
    except NotLiteral:
        return False, None


def parse_usage(text: str, draft: ToolDraft) -> list[dict[str, Any]]:
    """The demonstrated calls in a wrap reply: ``{"input", "expected"?, "note"}`` each.

    A call is one line ``name(a=1, b=2)  # -> 3`` (positional literals map to the parameters in
    order); comment lines above it are its note; the ``# -> value`` comment, when it is a
    literal, is the value the call must return. Lines that are not such calls are skipped.
    """
    blocks = extract_blocks(text)
    usage = [b for b in blocks if "usage" in b.label.split()]
    python = [b for b in blocks if b.is_python or not b.lang]
    sources = [b.text for b in (usage or python)] or [text]
    names = [n for n, _ in draft.params]
    demos: list[dict[str, Any]] = []
    for source in sources:
        note: list[str] = []
        for raw in source.splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                note.append(line.lstrip("#").strip())
                continue
            code, comment = _split_comment(line)
            demo = _parse_call(code, draft.name, names)
            if demo is None:
                note = []
                continue
            demo["note"] = " ".join(note)[:MAX_NOTE_CHARS]
            note = []
            for arrow in ("->", "→", "=>", "returns", "=="):
                if arrow in comment:
                    ok, value = _literal(comment.split(arrow, 1)[1])
                    if ok:
                        demo["expected"] = value
                    break
            demos.append(demo)
    return demos[:MAX_DEMOS]


def _parse_call(code: str, name: str, names: list[str]) -> dict[str, Any] | None:
    if "=" in code.split("(")[0]:  # `result = f(...)`
        code = code.split("=", 1)[1].strip()
    kwargs = parse_literal_call(code, name, names)
    return {"input": kwargs} if isinstance(kwargs, dict) else None


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# -- nodes -----------------------------------------------------------------------------------
def propose(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Ask for one generic tool with unit tests from the shown examples (in text mode, from
    the shown questions and answers, with the call answering each)."""
    if _text_mode(state):
        return text_mode.propose(state, ctx)
    if not state.get("shown"):
        return {
            "next": "end",
            "status": "rejected",
            "reason": "propose:no_examples: no worked examples on the train split and no "
            "train task with a question and a gold answer; LATM needs a few "
            "to show",
            "rejections": [
                rejection(
                    state,
                    "propose",
                    "no_examples",
                    "no train-split task of this type has examples or a gold answer",
                )
            ],
        }
    shown = cases(state["shown"])
    examples = format_examples(shown)
    key = safe_eval_solves(shown)
    if key:
        examples += (
            f"\n\n(For every example above, safe_eval({key}) returns the expected output: in "
            "the sandbox, safe_eval(text) computes an expression of literals and operators "
            "given as text.)"
        )
    messages = render(
        "latm_propose",
        policy=ctx.sandbox.policy,
        task=type_text(state["type"], tasks_of(state)),
        examples=examples,
    )
    messages = with_retry_feedback(messages, state, "propose")

    def attempt(state: Mapping[str, Any], sample: int) -> dict[str, Any]:
        text, usage = ask(ctx, state.get("usage"), messages, "propose", sample)
        return take_draft(state, ctx, text, "propose", on_ok="verify", usage=usage)

    def score(update: dict[str, Any]) -> Verdict:
        draft = ToolDraft.from_json(update["draft"])
        return validate(
            ctx.sandbox,
            draft,
            examples=shown,
            held_out=state.get("held_out") or [],
            task_text=_train_texts(state),
            max_examples=ctx.options.max_examples,
            robustness=False,
            memo=ctx.memo,
        )

    return best_of_drafts(state, ctx, "propose", attempt, score, on_ok="verify")


def verify(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Validate the draft in the sandbox on shown, unit-test, property and held-out checks (in
    text mode, the examples are the calls, run and matched to the gold answers first)."""
    draft = ToolDraft.from_json(state["draft"])
    update: dict[str, Any] = {}
    if _text_mode(state):
        known = state.get("calls") or {}
        update = {
            "shown": text_mode.ground(
                ctx, draft, text_mode.tasks_by_ids(state, state["shown_ids"]), known, usage=True
            ),
            "held_out": text_mode.ground(
                ctx, draft, text_mode.tasks_by_ids(state, state["held_ids"]), known, usage=False
            ),
        }
        state = {**state, **update}
    verdict = validate(
        ctx.sandbox,
        draft,
        examples=state["shown"],
        held_out=state.get("held_out") or [],
        task_text=_train_texts(state),
        max_examples=ctx.options.max_examples,
        memo=ctx.memo,
    )
    reset = {"calls": {}, "call_sig": []} if _text_mode(state) else {}
    return update | judge(state, ctx, verdict, on_pass="wrap", start_over="propose", reset=reset)


def repair(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Send the failing checks back with the tool; take the corrected draft. In text mode the
    maker also sees the shown questions with their calls and may correct a miscopied call
    (`maker.make.latm_text.repair`)."""
    if _text_mode(state):
        return text_mode.repair(state, ctx, type_text(state["type"], tasks_of(state)))
    return repair_step(state, ctx, type_text(state["type"], tasks_of(state)), restart="propose")


def wrap(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Ask for usage demonstrations; keep those whose calls return what they claim. In text
    mode the verified calls of the shown questions are the demonstrations (no model call)."""
    if _text_mode(state):
        return {"demos": [dict(e) for e in state["shown"][:MAX_DEMOS]], "next": "publish"}
    draft = ToolDraft.from_json(state["draft"])
    messages = render(
        "latm_wrap",
        policy=ctx.sandbox.policy,
        source=draft.source,
        examples=cases(state["shown"]),
        name=draft.name,
    )
    text, usage = ask(ctx, state.get("usage"), messages, "wrap", 0)
    kept, dropped = check_demos(ctx, draft, parse_usage(text, draft))
    records = []
    if dropped:
        records.append(
            rejection(state, "wrap", "wrap:wrong_demo", "; ".join(dropped)[:2000], source=None)
        )
    if not kept:
        records.append(
            rejection(
                state,
                "wrap",
                "wrap:no_demo",
                "the wrap reply held no usable demonstration; the shown examples stand in for it",
            )
        )
        kept = [
            {**e, "name": f"usage: example {i}"}
            for i, e in enumerate(state["shown"][:MAX_DEMOS], 1)
        ]
    return {"usage": usage, "demos": kept, "next": "publish", "rejections": records}


def check_demos(
    ctx: Context, draft: ToolDraft, demos: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Run each demonstrated call in the sandbox: (kept demos as stored examples, why others
    were dropped)."""
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for demo in demos:
        result = ctx.sandbox.run(draft.source, draft.name, kwargs=demo["input"])
        call = json.dumps(demo["input"], default=str)[:120]
        if not result.ok:
            dropped.append(f"{call}: {result.error}")
        elif "expected" in demo and not values_equal(result.value, demo["expected"]):
            dropped.append(f"{call}: claims {demo['expected']!r:.60}, returns {result.value!r:.60}")
        else:
            note = demo.get("note") or "demonstration"
            kept.append(
                {
                    "input": demo["input"],
                    "expected": result.value,
                    "name": f"usage: {note}"[:MAX_NOTE_CHARS],
                }
            )
    return kept, dropped


def publish(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Publish the verified, wrapped tool with its tests and usage demonstrations."""
    draft = ToolDraft.from_json(state["draft"])
    tasks = [t for t in tasks_of(state) if t.split != "test"]
    demos = list(state.get("demos") or [])
    names = {_key(d["input"]): d["name"] for d in demos}
    shown_keys = {_key(e["input"]) for e in state["shown"]}
    examples = [
        {**e, "name": names[_key(e["input"])]} if _key(e["input"]) in names else e
        for e in state["shown"]
    ]
    examples += [d for d in demos if _key(d["input"]) not in shown_keys]
    tests = stored_suite(draft, examples=examples, held_out=state.get("held_out") or [])
    prompts = TEXT_PROMPTS if _text_mode(state) else PROMPTS
    tool = publish_draft(
        state,
        ctx,
        draft,
        strategy=NAME,
        prompts=prompts,
        tests=tests,
        task_ids=[t.id for t in tasks],
        problems=[t.text for t in tasks],
    )
    tool["demos"] = len(state.get("demos") or [])
    if tool["outcome"] in ACCEPTED_OUTCOMES:
        return {"tools": [tool], "status": "accepted", "next": "end"}
    return {
        "tools": [tool],
        "status": "rejected",
        "next": "end",
        "reason": f"publish:{tool['outcome']}: {tool['reason']}"[:500],
        "rejections": [
            rejection(
                state, "publish", f"publish:{tool['outcome']}", tool["reason"], source=draft.source
            )
        ],
    }


NODES = {
    "propose": propose,
    "calls": text_mode.calls,
    "verify": verify,
    "repair": repair,
    "wrap": wrap,
    "publish": publish,
}


STRATEGY = TypeStrategy(NAME, LatmState, NODES, "propose", initial_state)

__all__ = [
    "NODES",
    "STRATEGY",
    "TEXT_PROMPTS",
    "LatmState",
    "check_demos",
    "initial_state",
    "parse_usage",
    "propose",
    "publish",
    "repair",
    "split_examples",
    "verify",
    "wrap",
]
