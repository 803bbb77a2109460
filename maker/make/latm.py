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

Tasks of the test split are never used. Nodes are plain ``node(state, ctx) -> update``
functions; the state is JSON only.
"""

from __future__ import annotations

import io
import json
import operator
import tokenize
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from library.calls import NotLiteral, literal_value, parse_literal_call
from maker.check.validation import validate
from maker.make import Context
from maker.make.steps import (
    ACCEPTED_OUTCOMES,
    MAX_SHOWN,
    TypeStrategy,
    ask,
    base_state,
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
from maker.prompts import render
from maker.tasks import Task
from maker.text.blocks import extract_blocks
from maker.text.drafts import ToolDraft
from sandbox import ExampleCase
from sandbox.values import values_equal

NAME = "latm"
PROMPTS = ("latm_propose", "repair", "latm_wrap")
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
    repairs: int
    demos: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    rejections: Annotated[list[dict[str, Any]], operator.add]
    usage: dict[str, Any]
    last_reply: dict[str, Any] | None  # an unusable reply, shown when its phase asks again


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


def split_examples(tasks: Sequence[Task], max_shown: int = MAX_SHOWN
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
    return {**base_state(kind, tasks, "propose"), "shown": shown, "held_out": held_out,
            "demos": []}


def _train_texts(state: dict[str, Any]) -> str:
    return "\n\n".join(t.text for t in tasks_of(state) if t.split == "train")


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
    """Ask for one generic tool with unit tests from the shown examples."""
    if not state.get("shown"):
        return {"next": "end", "status": "rejected",
                "reason": "propose:no_examples: no worked examples on the train split; LATM "
                          "needs a few to show",
                "rejections": [rejection(state, "propose", "no_examples",
                                         "no train-split task of this type has examples")]}
    sample = (state.get("retries") or {}).get("propose", 0)
    messages = render("latm_propose", policy=ctx.sandbox.policy,
                      task=type_text(state["type"], tasks_of(state)),
                      examples=cases(state["shown"]))
    messages = with_retry_feedback(messages, state, "propose")
    text, usage = ask(ctx, state.get("usage"), messages, "propose", sample)
    return take_draft(state, ctx, text, "propose", on_ok="verify", usage=usage)


def verify(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Validate the draft in the sandbox on shown, unit-test, property and held-out checks."""
    draft = ToolDraft.from_json(state["draft"])
    verdict = validate(ctx.sandbox, draft, examples=state["shown"],
                       held_out=state.get("held_out") or [], task_text=_train_texts(state),
                       max_examples=ctx.options.max_examples, memo=ctx.memo)
    return judge(state, ctx, verdict, on_pass="wrap")


def repair(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Send the failing checks back with the tool; take the corrected draft."""
    return repair_step(state, ctx, type_text(state["type"], tasks_of(state)))


def wrap(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Ask for usage demonstrations; keep those whose calls return what they claim."""
    draft = ToolDraft.from_json(state["draft"])
    messages = render("latm_wrap", policy=ctx.sandbox.policy, source=draft.source,
                      examples=cases(state["shown"]), name=draft.name)
    text, usage = ask(ctx, state.get("usage"), messages, "wrap", 0)
    kept, dropped = check_demos(ctx, draft, parse_usage(text, draft))
    records = []
    if dropped:
        records.append(rejection(state, "wrap", "wrap:wrong_demo",
                                 "; ".join(dropped)[:2000], source=None))
    if not kept:
        records.append(rejection(state, "wrap", "wrap:no_demo",
                                 "the wrap reply held no usable demonstration; the shown "
                                 "examples stand in for it"))
        kept = [{**e, "name": f"usage: example {i}"}
                for i, e in enumerate(state["shown"][:MAX_DEMOS], 1)]
    return {"usage": usage, "demos": kept, "next": "publish", "rejections": records}


def check_demos(ctx: Context, draft: ToolDraft, demos: Sequence[dict[str, Any]]
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
            kept.append({"input": demo["input"], "expected": result.value,
                         "name": f"usage: {note}"[:MAX_NOTE_CHARS]})
    return kept, dropped


def publish(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Publish the verified, wrapped tool with its tests and usage demonstrations."""
    draft = ToolDraft.from_json(state["draft"])
    tasks = [t for t in tasks_of(state) if t.split != "test"]
    demos = list(state.get("demos") or [])
    names = {_key(d["input"]): d["name"] for d in demos}
    shown_keys = {_key(e["input"]) for e in state["shown"]}
    examples = [{**e, "name": names[_key(e["input"])]} if _key(e["input"]) in names else e
                for e in state["shown"]]
    examples += [d for d in demos if _key(d["input"]) not in shown_keys]
    tests = stored_suite(draft, examples=examples, held_out=state.get("held_out") or [])
    tool = publish_draft(state, ctx, draft, strategy=NAME, prompts=PROMPTS, tests=tests,
                         task_ids=[t.id for t in tasks], problems=[t.text for t in tasks])
    tool["demos"] = len(state.get("demos") or [])
    if tool["outcome"] in ACCEPTED_OUTCOMES:
        return {"tools": [tool], "status": "accepted", "next": "end"}
    return {"tools": [tool], "status": "rejected", "next": "end",
            "reason": f"publish:{tool['outcome']}: {tool['reason']}"[:500],
            "rejections": [rejection(state, "publish", f"publish:{tool['outcome']}",
                                     tool["reason"], source=draft.source)]}


NODES = {"propose": propose, "verify": verify, "repair": repair, "wrap": wrap,
         "publish": publish}



STRATEGY = TypeStrategy(NAME, LatmState, NODES, "propose", initial_state)

__all__ = ["NODES", "STRATEGY", "LatmState", "check_demos", "initial_state",
           "parse_usage", "propose", "publish", "repair", "split_examples", "verify",
           "wrap"]
