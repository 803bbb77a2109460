"""Pieces shared by the per-task-type strategies (LATM, CRAFT): units, model calls, verification,
repair and publishing as plain functions over JSON state.

A unit is one task type (`type_units`). Its state holds the tasks as JSON, the current draft,
its verdict, counters and the accumulated usage; every model call goes through `ask` (which
names the phase for the ledger) and every run of model-written code through ``ctx.sandbox``.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from library import NewTool, Provenance, StoredSuite
from library.normalize import ast_hash
from library.store.base import Dedup
from library.suites import from_sandbox_suite
from library.verdict import Verdict
from maker.check.generality import ignored_inputs
from maker.check.validation import as_case, fit_keywords, repair_feedback
from maker.check.wrongtests import without_wrong_tests
from maker.llm.ledger import price_call
from maker.make import Context, Unit, UnitOutcome, routed_graph
from maker.prompts import render, template_hash, template_text, without_format_examples
from maker.tasks import Task
from maker.text.drafts import Rejection, ToolDraft, parse_reply
from sandbox import TestSuite
from sandbox.expression import is_expression

MAX_SHOWN = 5
"""The most worked examples (or verified solutions) shown to the maker in one prompt."""

ACCEPTED_OUTCOMES = ("created", "duplicate", "merged")


def empty_usage() -> dict[str, Any]:
    """A unit's model usage before its first call (`ask` adds each call to it)."""
    return {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "dollars": 0.0, "model": ""}


# -- units -----------------------------------------------------------------------------------
def group_by_type(tasks: Sequence[Task]) -> dict[str, list[Task]]:
    """Tasks grouped by their ``type``, in first-seen order."""
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        groups.setdefault(task.type, []).append(task)
    return groups


def type_units(
    tasks: Sequence[Task], initial: Callable[[str, list[Task]], dict[str, Any]]
) -> list[Unit]:
    """One unit per task type; its id is ``type:<type>``."""
    return [
        Unit(f"type:{kind}", tuple(t.id for t in group), initial(kind, group))
        for kind, group in group_by_type(tasks).items()
    ]


def base_state(kind: str, tasks: Sequence[Task], first: str) -> dict[str, Any]:
    """The fields every per-type unit state starts with."""
    return {
        "type": kind,
        "tasks": [t.to_json() for t in tasks],
        "next": first,
        "status": "running",
        "reason": "",
        "draft": None,
        "verdict": None,
        "retries": {},
        "repairs": 0,
        "tools": [],
        "rejections": [],
        "usage": empty_usage(),
        "last_reply": None,
    }


def tasks_of(state: Mapping[str, Any]) -> list[Task]:
    return [Task.from_json(t) for t in state["tasks"]]


def type_text(kind: str, tasks: Sequence[Task], limit: int = 2) -> str:
    """The task type as the maker sees it: its name, up to `limit` problem statements of the
    train split and the keyword names the examples call the tool with (never their values)."""
    shown = [t.text for t in tasks if t.split == "train"][:limit]
    text = kind
    if shown:
        body = "\n\n".join(f"Problem {i}:\n{p}" for i, p in enumerate(shown, 1))
        text = f"{kind}\n\nProblems of this type look like this:\n\n{body}"
    line = arguments_line([t for t in tasks if t.split != "test"])
    if line:  # names and shapes only, never the held-out values
        text += f"\n\n(The tool will be checked on other problems of this kind, {line}.)"
    return text


def arguments_line(tasks: Sequence[Task]) -> str:
    """``called with the keyword arguments: values (a list of numbers), ...``: the keyword
    names ``tasks``' examples call the tool with, each with its shape (`shape`), or ""."""
    shapes: dict[str, dict[str, None]] = {}
    for t in tasks:
        for ex in t.examples:
            for name, value in ex.input.items():
                shapes.setdefault(name, {})[shape(value, name=name)] = None
    if not shapes:
        return ""
    args = ", ".join(f"{n} ({' or '.join(list(k)[:3])})" for n, k in shapes.items())
    return f"called with the keyword arguments: {args}"


EXPRESSION_SHAPE = (
    "an expression of literals and operators as text, which safe_eval({name}) computes"
)
"""The shape of an expression string (`sandbox.expression.is_expression`): the real 1.5B,
asked for a tool that computes Boolean expressions given as text, wrote hand-made stack
evaluators through every repair and never reached for `safe_eval` unprompted."""


def shape(value: Any, depth: int = 0, *, name: str = "text") -> str:
    """What kind of value an argument is, without the value: ``a list of numbers``, ``a
    string``, ``a dict``; an expression string names `safe_eval` on the argument ``name``. The
    real 1.5B, told only the keyword name ``values``, abstracted a tool that read
    ``row["books"]`` where the cases pass a list of numbers.

    >>> shape([3, 9.5]), shape("a b"), shape([["x", 1]]), shape({"k": 1}), shape([])
    ('a list of numbers', 'a string', 'a list of lists', 'a dict', 'an empty list')
    """
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        if not depth and is_expression(value):
            return EXPRESSION_SHAPE.format(name=name)
        return "a string"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, list | tuple):
        if not value:
            return "an empty list"
        if depth:
            return "a list"
        inner = {shape(v, depth + 1).removeprefix("a ").removeprefix("an ") for v in value}
        if len(inner) == 1:
            (kind,) = inner
            return f"a list of {kind}s" if kind != "empty list" else "a list of empty lists"
        return "a list of mixed values"
    return "a value" if value is not None else "None"


# -- model calls -----------------------------------------------------------------------------
def sample_params(ctx: Context, sample: int) -> dict[str, Any]:
    """Sampling overrides for the ``sample``-th call of one step: none for the first; later ones
    at least `Options.retry_temperature` warm with the role's seed moved by ``sample`` (at
    temperature 0 a model asked again tends to repeat its reply word for word)."""
    return ctx.client.config.sampling.for_sample(sample, ctx.options.retry_temperature)


FRESH_SAMPLE_STRIDE = 1000
"""A fresh start's first step is sample 1000, 2000...: never one of the step's re-asks."""


def step_sample(state: Mapping[str, Any], phase: str) -> int:
    """The sample index of `phase`'s next call: its re-asks so far (``retries``), moved by the
    unit's fresh starts (`fresh_start`), so that starting over draws a new reply, not the first
    one again (and the response cache keeps each)."""
    retries = (state.get("retries") or {}).get(phase, 0)
    return retries + FRESH_SAMPLE_STRIDE * int(state.get("fresh") or 0)


DRAFT_SAMPLE_STRIDE = 100
"""Draft j of a drafting step (`Options.drafts`) is its sample + 100·j: never one of the step's
re-asks (below 100) nor a fresh start's (1000·k)."""


def add_usage(total: Mapping[str, Any] | None, more: Mapping[str, Any]) -> dict[str, Any]:
    """`total` with the calls, tokens and dollars of `more` added (the model: `more`'s)."""
    out = dict(total or empty_usage())
    for key in ("calls", "prompt_tokens", "completion_tokens"):
        out[key] = out.get(key, 0) + more.get(key, 0)
    out["dollars"] = round(out.get("dollars", 0.0) + more.get("dollars", 0.0), 8)
    out["model"] = more.get("model") or out.get("model", "")
    return out


def draft_score(verdict: Verdict) -> tuple[int, int, int]:
    """How good a draft looks (higher is better): passed, then the fewest shown examples
    failed, then the fewest failed checks."""
    shown = sum(1 for f in verdict.failures if f.kind == "example")
    return (int(verdict.passed), -shown, -len(verdict.failures))


def best_of_drafts(
    state: Mapping[str, Any],
    ctx: Context,
    phase: str,
    attempt: Callable[[Mapping[str, Any], int], dict[str, Any]],
    score: Callable[[dict[str, Any]], Verdict],
    on_ok: str,
) -> dict[str, Any]:
    """The update of a first drafting step drawn ``Options.drafts`` times at once.

    ``attempt(state, sample)`` is the step's one call and the update it makes; each update
    whose draft was taken (its ``next`` is `on_ok`) is checked by ``score`` (the checks the
    step's verify would run, so far as they are known: LATM text mode writes the held-out
    calls after this step) and the best (`draft_score`; ties to the earlier draw) goes on, as
    the only draft would: the first to pass is the one fresh starts would have stopped at.
    Draw 0 is the step's usual sample, so one draft is exactly the step as before; draws 1,
    2... are warm (`sample_params`). The others are recorded as ``not_chosen`` rejections
    with what their checks said, and every call is counted in the usage. A re-ask after an
    unusable reply is one call, as before.

    A weak maker's first idea is often wrong in the same way every time it is repaired; N
    ideas drawn together cost N times the tokens but well under N times the wall time on a
    server that decodes requests in flight together (the real 1.5B, 4 drafts: 1.43x)."""
    draws = max(1, ctx.options.drafts)
    first = step_sample(state, phase)
    if draws == 1 or (state.get("retries") or {}).get(phase):
        return attempt(state, first)
    alone = {**state, "usage": empty_usage()}
    samples = [first + DRAFT_SAMPLE_STRIDE * j for j in range(draws)]
    with ThreadPoolExecutor(max_workers=draws, thread_name_prefix=f"{phase}-draft") as pool:
        updates = list(pool.map(lambda sample: attempt(alone, sample), samples))
    verdicts = {
        j: score(update)
        for j, update in enumerate(updates)
        if update.get("next") == on_ok and update.get("draft")
    }
    chosen = max(verdicts, key=lambda j: (draft_score(verdicts[j]), -j)) if verdicts else 0
    usage = state.get("usage")
    records: list[dict[str, Any]] = []
    for j, update in enumerate(updates):
        usage = add_usage(usage, update.get("usage") or {})
        if j == chosen:
            continue
        records += update.get("rejections") or []
        if j in verdicts:
            verdict = verdicts[j]
            first_failure = verdict.failures[0].message if verdict.failures else "passed"
            records.append(
                rejection(
                    state,
                    phase,
                    "not_chosen",
                    f"draft {j + 1} of {draws} (draft {chosen + 1} was taken): {first_failure}"[
                        :1000
                    ],
                    source=(update.get("draft") or {}).get("source"),
                    draft=j + 1,
                    score=list(draft_score(verdict)),
                )
            )
    out = dict(updates[chosen])
    out["usage"] = usage
    out["rejections"] = list(out.get("rejections") or []) + records
    return out


def ask(
    ctx: Context,
    usage: Mapping[str, Any] | None,
    messages: list[dict[str, str]],
    phase: str,
    sample: int = 0,
    *,
    schema: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """One model call through the client (named `phase` in the ledger); returns the reply and
    the unit's usage with this call added. Sample 1, 2... of a cold role is drawn warmer
    (`sample_params`). ``schema``: a JSON schema the reply must match (the endpoint is asked
    for a constrained reply where it can give one, `maker.llm.structured`)."""
    response = ctx.client.complete(
        messages, phase=phase, sample=sample, schema=schema, **sample_params(ctx, sample)
    )
    dollars, _ = price_call(
        ctx.client.prices,
        response.model or "",
        response.usage,
        local=ctx.client.local,
        cache_hit=False,
    )
    call = {
        "calls": 1,
        "prompt_tokens": response.usage.prompt_tokens,
        "completion_tokens": response.usage.completion_tokens,
        "dollars": dollars,
        "model": response.model or "",
    }
    return response.text, add_usage(usage, call)


RETRY_INSTRUCTION = (
    "Reply again with the whole answer in the format asked for above, "
    "changing what the message says is wrong."
)
MAX_REPLY_SHOWN = 4_000


def last_reply(
    phase: str, text: str, message: str, instruction: str = "", reason: str = ""
) -> dict[str, Any]:
    """The state's record of an unusable reply, shown to the model when `phase` asks again."""
    return {
        "phase": phase,
        "reply": text[:MAX_REPLY_SHOWN],
        "message": message[:1_000],
        "instruction": instruction,
        "reason": reason,
    }


def copied_an_example(state: Mapping[str, Any]) -> bool:
    """Whether the unit's model has sent back the reply format's example as its tool."""
    return any(r.get("reason") == "copied_format_example" for r in state.get("rejections") or [])


def with_retry_feedback(
    messages: list[dict[str, str]], state: Mapping[str, Any], phase: str
) -> list[dict[str, str]]:
    """``messages``, followed, when the last reply of `phase` was unusable, by that reply and
    what was wrong with it (prompt ``retry``): asking again at temperature 0 without it would
    get the same reply.

    Once the unit's model has sent back the reply format's example as its tool, its prompts
    come without the format examples (`without_format_examples`), and that copy is not shown
    again: the prompt without the example is the change. The real 1.5B, asked again after a
    reply with two entry functions, sent the example's `gcd` back as its Dyck-language tool,
    and shown its copy with the feedback and the example still there, sent it back again.
    (Leaving the examples out of every re-ask that shows a reply with a tool block was tried:
    the real 1.5B then echoed the reply format's description, no code.)"""
    copied = copied_an_example(state)
    if copied:
        messages = without_format_examples(messages)
    last = state.get("last_reply") or {}
    if last.get("phase") != phase or not last.get("reply"):
        return messages
    if last.get("reason") == "copied_format_example":  # its record made `copied` true
        return messages
    follow = render(
        "retry", problem=last["message"], instruction=last.get("instruction") or RETRY_INSTRUCTION
    )
    return [*messages, {"role": "assistant", "content": last["reply"]}, *follow]


def rejection(
    state: Mapping[str, Any],
    stage: str,
    reason: str,
    message: str,
    *,
    source: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A rejected draft (or solution, or reply) as a JSON record with its reason; the unit is
    named by its task type (LATM, CRAFT) or, for a per-task unit (CREATOR), its task id."""
    unit = (
        {"task_id": state["task"]["id"]}
        if "task" in state and "type" not in state
        else {"task_type": state.get("type", "")}
    )
    return {
        **unit,
        "stage": stage,
        "reason": reason,
        "message": str(message)[:2000],
        "repairs": state.get("repairs", 0),
        "source": source,
        **extra,
    }


def type_name(state: Mapping[str, Any]) -> str | None:
    """The task type's last part as a function name (``bbh:chinese_remainder_theorem`` ->
    ``chinese_remainder_theorem``), the entry a first draft prefers when several of its
    functions could be the tool: the real 1.5B put a copy of the reply format's example `gcd`
    beside its `chinese_remainder_theorem` in three proposals running, and each was refused
    as ambiguous."""
    kind = state.get("type")
    if not isinstance(kind, str) or not kind:
        return None
    name = re.sub(r"\W+", "_", kind.rsplit(":", 1)[-1].strip().lower()).strip("_")
    return name if name.isidentifier() else None


def draft_name(state: Mapping[str, Any]) -> str | None:
    """The name of the state's current draft, if any."""
    draft = state.get("draft")
    return (draft.get("name") or None) if isinstance(draft, Mapping) else None


UNCHANGED_FIX = (
    "The corrected tool is the same code as the tool that failed (only names, formatting, "
    "comments or docstrings differ), so it fails the same way. Change how the tool computes "
    "its result."
)


# Failures of the tool's code alone: new tests cannot fix them.
TOOL_ONLY_FAILURES = frozenset(
    {"example", "held_out", "robustness", "constant_output", "hardcoded_constant", "example_branch"}
)


def unchanged_fix(state: Mapping[str, Any], fix: ToolDraft, *, tests: bool | None = None) -> bool:
    """Whether a repair's draft is the draft that failed again: the same tool code up to names,
    formatting, comments and docstrings (`library.normalize.ast_hash`), and with ``tests``
    the same tests too (a failure of the model's own tests is fixed by changing them). By
    default tests count unless every failure of the state's verdict is one of the tool's code
    alone (`TOOL_ONLY_FAILURES`). The real 1.5B sent its failing tool back unchanged three
    repairs in a row (once with only new tests, for a held-out and a robustness failure);
    running it again only repeats the failure."""
    old, new = state.get("draft"), fix.to_json()
    if not isinstance(old, Mapping) or not old.get("source"):
        return False
    if ast_hash(old["source"]) != ast_hash(new["source"]):
        return False
    if tests is None:
        failures = (state.get("verdict") or {}).get("failures") or []
        tests = not failures or any(f.get("kind") not in TOOL_ONLY_FAILURES for f in failures)
    if not tests:
        return True
    same_tests = ast_hash(old.get("unit_tests") or "") == ast_hash(new["unit_tests"])
    return same_tests and old.get("properties", []) == new["properties"]


def unchanged_retry(
    state: Mapping[str, Any],
    ctx: Context,
    phase: str,
    text: str,
    fix: ToolDraft,
    restart: str | None = None,
    *,
    warm: bool = True,
) -> dict[str, Any]:
    """After a fix that sent back the failing draft: start over at step `restart` (the one
    that wrote the first draft) if given, once per unit, so the model writes the tool afresh
    without the failing code in its prompt (shown its code, the real 1.5B kept it); else ask
    `phase` again (bounded), saying so. The restart takes the place of this repair, even the
    last one (a fresh draft is worth more than asking again for a fix the model will not make;
    if it fails too, no repair is left). ``warm``: the restarted step is sampled warm (as a
    re-ask), for a prompt that is the same as the first time."""
    if restart and not state.get("restarts"):
        retries = dict(state.get("retries") or {})
        if warm:
            retries[restart] = retries.get(restart, 0) + 1
        message = f"{UNCHANGED_FIX} Starting over from the {restart} step."
        return {
            "next": restart,
            "restarts": 1,
            "retries": retries,
            "rejections": [rejection(state, phase, "unchanged_fix", message, source=fix.source)],
            "last_reply": None,
        }
    return retry_or_give_up(
        state, ctx, phase, UNCHANGED_FIX, text, reason="unchanged_fix", source=fix.source
    )


@lru_cache(maxsize=1)
def format_example() -> tuple[str, str, tuple[str, ...]] | None:
    """(name, source, what it is about) of the tool the reply format shows as its example:
    ``gcd``, its source, and its name and its docstring's first three words (``greatest
    common divisor``), casefolded."""
    found = re.search(r"```python tool\n(.*?)```", template_text("_reply_format"), re.S)
    name = re.match(r"\s*def (\w+)", found[1]) if found else None
    if not found or not name:
        return None
    doc = re.search(r'"""(.*?)[(.\n]', found[1])
    about = (name[1], " ".join(doc[1].split()[:3]) if doc else "")
    return name[1], found[1], tuple(w.casefold() for w in about if w)


COPIED_FORMAT_EXAMPLE = (
    "The tool `{name}` is the reply format's example, not a tool for these problems: write "
    "one function that solves the problems shown above, named for what it computes."
)


def _about_text(state: Mapping[str, Any]) -> str:
    """The task type and problem texts of a unit's state (per-type or per-problem)."""
    tasks = [*(state.get("tasks") or []), state.get("task") or {}]
    texts = [str(state.get("type") or "")]
    texts += [
        f"{t.get('type') or ''} {t.get('text') or ''}" for t in tasks if isinstance(t, Mapping)
    ]
    return " ".join(texts).casefold()


def copied_format_example(state: Mapping[str, Any], draft: ToolDraft) -> str | None:
    """The problem with a draft that is the reply format's example tool (up to names,
    formatting and docstrings), unless the task is about what the example computes (its name
    or its docstring's first three words are in the task type or problems); else None. The real
    1.5B sent the example's `gcd` as its tool for Dyck-language completion, and its call
    ``gcd(a=12, b=18)`` for a Chinese-remainder question."""
    example = format_example()
    if example is None or ast_hash(draft.source) != ast_hash(example[1]):
        return None
    about = _about_text(state)
    if any(w in about for w in example[2]):
        return None
    return COPIED_FORMAT_EXAMPLE.format(name=draft.name)


@lru_cache(maxsize=1)
def format_example_properties() -> frozenset[str]:
    """The names of the Hypothesis properties the reply format's example shows
    (``prop_divides``)."""
    found = re.search(r"```python tests\n(.*?)```", template_text("_reply_format"), re.S)
    return frozenset(re.findall(r"^def (prop_\w+)\(", found[1], re.M)) if found else frozenset()


def without_format_properties(state: Mapping[str, Any], draft: ToolDraft) -> ToolDraft:
    """`draft` without the properties named like the reply format example's (`prop_divides`),
    with a note, unless the task is about what the example computes. The real 1.5B copied the
    example's divisibility property into its Boolean-expression and range tools
    (``evaluate_expression(f"gcd({a}, {b})")``), and its failures crowded the repair feedback."""
    names = format_example_properties()
    copied = [p.name for p in draft.properties if p.name in names]
    example = format_example()
    if not copied or example is None or any(w in _about_text(state) for w in example[2]):
        return draft
    return dataclasses.replace(
        draft,
        properties=tuple(p for p in draft.properties if p.name not in names),
        notes=(*draft.notes, f"dropped {', '.join(copied)}: the reply format example's property"),
    )


def take_draft(
    state: Mapping[str, Any],
    ctx: Context,
    text: str,
    phase: str,
    *,
    on_ok: str,
    usage: dict[str, Any],
    entry: str | None = None,
    count_repair: bool = False,
    refuse_unchanged: bool = True,
    restart: str | None = None,
) -> dict[str, Any]:
    """Parse a reply into the state's draft, or retry `phase` (bounded) / reject the unit.

    Retries are bounded by ``max_retries`` per phase (a repair reply also uses up a repair).
    A repair (`count_repair`) keeps the repaired tool's name as the entry when the reply
    defines it beside other candidate functions, and is asked again when it sends back the
    failing draft unchanged (`unchanged_fix`; or starts over at step ``restart``, see
    `unchanged_retry`) unless ``refuse_unchanged`` is off (a caller whose repair may change
    something besides the draft checks for itself).
    """
    prefer = draft_name(state) if count_repair else type_name(state)
    parsed = parse_reply(text, policy=ctx.sandbox.policy, entry=entry, prefer=prefer)
    update: dict[str, Any] = {"usage": usage}
    if count_repair:
        update["repairs"] = state.get("repairs", 0) + 1
    if isinstance(parsed, ToolDraft) and count_repair and refuse_unchanged:
        if unchanged_fix(state, parsed):
            return update | unchanged_retry(state, ctx, phase, text, parsed, restart)
    copied = copied_format_example(state, parsed) if isinstance(parsed, ToolDraft) else None
    if copied is not None:
        return update | retry_or_give_up(
            state, ctx, phase, copied, text, reason="copied_format_example", source=parsed.source
        )
    if isinstance(parsed, ToolDraft):
        parsed = without_format_properties(state, parsed)
        return update | {
            "draft": parsed.to_json(),
            "verdict": None,
            "next": on_ok,
            "last_reply": None,
        }
    return update | retry_or_give_up(state, ctx, phase, parsed, text)


DRAFTING_STEPS = ("propose", "abstract", "create")
"""The steps that write a unit's first draft (LATM, CRAFT, CREATOR): where a fresh start begins."""


def retry_or_give_up(
    state: Mapping[str, Any],
    ctx: Context,
    phase: str,
    rej: Rejection | str,
    reply: str = "",
    *,
    reason: str = "",
    instruction: str = "",
    source: str | None = None,
) -> dict[str, Any]:
    """After an unusable reply: ask again if allowed, showing the model its reply and what was
    wrong with it (`with_retry_feedback`); else, at a first drafting step (`DRAFTING_STEPS`)
    with a fresh start left, start over there (`fresh_start`); else reject the unit.

    ``rej`` is a draft's `Rejection`, or the problem with another reply (an unreadable call)
    as text, always recoverable, recorded under ``reason``; ``instruction`` replaces the
    default "reply again" line when the phase asks again; ``source`` is the draft the reply
    was about, kept in the rejection record.
    """
    retries = dict(state.get("retries") or {})
    used = retries.get(phase, 0)
    message = str(rej)
    code = rej.reason if isinstance(rej, Rejection) else reason
    recoverable = rej.recoverable if isinstance(rej, Rejection) else True
    record = rejection(state, phase, code, message, source=source)
    if recoverable and used < ctx.options.max_retries:
        retries[phase] = used + 1
        why = rej.message if isinstance(rej, Rejection) else message
        return {
            "retries": retries,
            "next": phase,
            "rejections": [record],
            "last_reply": last_reply(phase, reply, why, instruction, code),
        }
    if used:
        message = f"{message} (after {used} more attempt(s) with feedback)"
    if phase in DRAFTING_STEPS:  # the real 1.5B's fresh tracking draft: 3 syntax errors
        again = fresh_start(state, ctx, phase, {**record, "message": message[:2000]})
        if again is not None:
            return again
    why = message if isinstance(rej, Rejection) else f"{reason}: {message}"
    return {
        "retries": retries,
        "next": "end",
        "status": "rejected",
        "reason": f"{phase}:{why}"[:500],
        "rejections": [record],
    }


# -- verification and repair -----------------------------------------------------------------
def judge(
    state: Mapping[str, Any],
    ctx: Context,
    verdict: Verdict,
    *,
    on_pass: str,
    on_fail_end: str = "end",
    stage: str = "verify",
    start_over: str | None = None,
    reset: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Route on a verdict: pass -> `on_pass`; recoverable with repairs left -> ``repair``;
    with no repair left (or a terminal failure) and a fresh start left
    (``Options.fresh_starts``), start over at step `start_over` with a new sample, no repair
    used and the state's `reset` values (the draft's own, such as its calls); else reject the
    draft (and give up, or go to `on_fail_end`). Rejections are recorded under ``stage``.

    A weak maker that cannot repair a wrong first idea may still draw a right one: best of
    several drafts, each with its own repairs, every one held to the same checks."""
    update: dict[str, Any] = {"verdict": verdict.to_json()}
    if verdict.passed:
        return update | {"next": on_pass, **overruled_tests(state, verdict, stage)}
    first = verdict.failures[0] if verdict.failures else None
    reason = f"validation:{first.kind}" if first else "validation"
    record = rejection(
        state,
        stage,
        reason,
        repair_feedback(verdict, max_chars=1500, source=(state.get("draft") or {}).get("source")),
        source=(state.get("draft") or {}).get("source"),
        failures=[f.to_json() for f in verdict.failures[:8]],
    )
    if verdict.recoverable and state.get("repairs", 0) < ctx.options.max_repairs:
        return update | {"next": "repair", "rejections": [record]}
    why = "terminal failure" if not verdict.recoverable else "repairs exhausted"
    again = fresh_start(state, ctx, start_over, record, reset) if start_over else None
    if again is not None:
        return update | again
    message = f"{reason} ({why}): {first.message if first else ''}"[:500]
    out = update | {"next": on_fail_end, "rejections": [record], "reason": message}
    if on_fail_end == "end":
        out["status"] = "rejected"
    return out


def fresh_start(
    state: Mapping[str, Any],
    ctx: Context,
    step: str,
    record: dict[str, Any],
    reset: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The update that gives up the failing draft (its `record`, marked ``fresh_start``) and
    starts the unit over at `step` with a new sample, no repair used and the `reset` values;
    None when ``Options.fresh_starts`` are used up."""
    fresh = int(state.get("fresh") or 0)
    if fresh >= ctx.options.fresh_starts:
        return None
    return {
        "next": step,
        "fresh": fresh + 1,
        "repairs": 0,
        "restarts": 0,
        "retries": {},
        "draft": None,
        "last_reply": None,
        "rejections": [{**record, "fresh_start": fresh + 1}],
        **(reset or {}),
    }


def overruled_tests(
    state: Mapping[str, Any], verdict: Verdict, stage: str = "verify"
) -> dict[str, Any]:
    """For a passed verdict with tests the known examples overruled: the draft without them
    (they are not stored, so regression runs do not trip on them) and a ``wrong_test`` record
    each (with the draft's source)."""
    if not verdict.wrong_tests or not state.get("draft"):
        return {}
    draft = without_wrong_tests(ToolDraft.from_json(state["draft"]), verdict)
    source = state["draft"].get("source")
    records = [
        rejection(state, stage, "wrong_test", f"{f.name}: {f.message}", source=source)
        for f in verdict.wrong_tests
    ]
    return {"draft": draft.to_json(), "rejections": records}


def ask_repair(
    state: Mapping[str, Any], ctx: Context, task: str
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """Send the failing checks of the state's verdict (held-out inputs hidden) with the tool's
    source, or only its signature and docstring when the model is stuck on that code
    (`stuck_on_code`, then drawn by `ask_blind`); the reply, the usage so far and the records
    of blind drafts turned down."""
    draft = ToolDraft.from_json(state["draft"])
    verdict = Verdict.from_json(state["verdict"])
    blind = stuck_on_code(state)
    messages = render(
        "repair",
        policy=ctx.sandbox.policy,
        task=task,
        source=without_body(draft) if blind else draft.source,
        feedback=repair_feedback(verdict, source=draft.source),
    )
    return ask_fix(state, ctx, messages, "repair", state.get("repairs", 0), blind=blind)


def ask_fix(
    state: Mapping[str, Any],
    ctx: Context,
    messages: list[dict[str, str]],
    phase: str,
    sample: int,
    *,
    blind: bool,
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """A repair's (or rectify's) reply: blind, drawn by `ask_blind`; else a re-ask shows the
    last reply, which holds the code (`with_retry_feedback`). The reply, the usage so far and
    the records of blind drafts set aside."""
    if blind:
        return ask_blind(state, ctx, messages, phase, sample)
    messages = with_retry_feedback(messages, state, phase)
    return (*ask(ctx, state.get("usage"), messages, phase, sample), [])


BLIND_SAMPLE_STRIDE = 100  # redraws of repair k are samples k+100, k+200...: never another k's


def ask_blind(
    state: Mapping[str, Any],
    ctx: Context,
    messages: list[dict[str, str]],
    phase: str,
    sample: int,
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """A blind repair's reply (`without_body` shown): a draft that reads none of its parameters
    (`maker.check.generality.ignored_inputs`) is set aside and the same prompt drawn again,
    warm with the seed moved, at most `Options.blind_redraws` more times, without using up a
    repair; the last reply is taken when every draw ignores its input. Returns the reply, the
    usage and an ``ignored_input`` record per draft set aside.

    Blind, the real 1.5B either wrote a body that computes from the input or returned the
    value of the task's example expression as a constant (``return not (True and False) or
    False``); in the engine's LATM runs both blind repairs of a unit were such constants, and
    the unit ran out of repairs on them. A constant is caught before it is run, and another
    draw of the same prompt is as likely as the first to compute."""
    records: list[dict[str, Any]] = []
    text, usage = ask(ctx, state.get("usage"), messages, phase, sample)
    for redraw in range(1, ctx.options.blind_redraws + 1):
        parsed = parse_reply(text, policy=ctx.sandbox.policy, prefer=draft_name(state))
        ignored = (
            ignored_inputs(parsed.source, parsed.name) if isinstance(parsed, ToolDraft) else None
        )
        if ignored is None:
            break
        message = f"{ignored.message} (a blind draft, set aside and drawn again)"
        records.append(rejection(state, phase, "ignored_input", message, source=parsed.source))
        text, usage = ask(ctx, usage, messages, phase, sample + BLIND_SAMPLE_STRIDE * redraw)
    return text, usage, records


def stuck_on_code(state: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> bool:
    """Whether the next repair should not show the failing code: a repair of this unit sent its
    code back unchanged, or a repaired draft failed exactly as the one before it did (the same
    failing checks, or the same run error). Once stuck, always: after starting over, the real
    1.5B shown its new code kept that too. ``current``: the record of the failure being
    repaired, when it is not in the state's rejections yet.

    Shown its own failing code, the real 1.5B sent it back (or the same parser with a new bug)
    in 6 of 6 warm samples whatever the feedback said; shown only the signature and docstring
    (with the stub's comment: compute from the parameters, no made-up inputs) and the same
    feedback, it wrote a new body that evaluates the expression in 5 of 6."""
    records = [*(state.get("rejections") or []), *([current] if current else [])]
    if any(r.get("reason") == "unchanged_fix" for r in records):
        return True
    failed = [r for r in records if r.get("failures") or r.get("stage") == "execute"]
    return any(
        later.get("repairs", 0) > earlier.get("repairs", 0)
        and _failure_key(later) == _failure_key(earlier)
        for earlier, later in zip(failed, failed[1:], strict=False)
    )


def _failure_key(record: Mapping[str, Any]) -> Any:
    """What failed: the failing checks, or a failed run's error without its line number."""
    if not record.get("failures"):
        return record.get("reason"), re.sub(r" ?\(line \d+\)", "", record.get("message", ""))[:160]
    return sorted(
        (str(f.get("kind")), str(f.get("name")), str(f.get("error_type")), repr(f.get("actual")))
        for f in record["failures"]
    )


def without_body(draft: ToolDraft) -> str:
    """The draft's entry signature and docstring, its body (and helpers) left out."""
    doc = "\n    ".join(draft.docstring.strip().replace('"""', "'''").splitlines())
    return (
        f"{draft.signature}:\n"
        f'    """{doc}"""\n'
        "    ...  # the body that failed is not shown: write it anew, computing the result\n"
        "    ...  # from the parameters' values (no made-up or random inputs)\n"
    )


def repair_step(
    state: Mapping[str, Any],
    ctx: Context,
    task: str,
    *,
    on_ok: str = "verify",
    restart: str | None = None,
) -> dict[str, Any]:
    """Send the failing checks (held-out inputs hidden) with the tool; take the fixed draft
    (an unchanged one starts over at step `restart`, see `unchanged_retry`)."""
    text, usage, set_aside = ask_repair(state, ctx, task)
    update = take_draft(
        state, ctx, text, "repair", on_ok=on_ok, usage=usage, count_repair=True, restart=restart
    )
    return with_records(update, set_aside)


def with_records(update: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """`update` with `records` recorded before its own rejections."""
    if not records:
        return update
    return update | {"rejections": [*records, *update.get("rejections", [])]}


# -- publishing ------------------------------------------------------------------------------
def dedup_hook(ctx: Context) -> Dedup | None:
    """The library's behavioural de-duplication (`library.fingerprint.FingerprintIndex`), one
    per job and library (kept in `ctx.dedup`), serialized across threads; None when the library
    has none."""
    try:
        from library.fingerprint import FingerprintIndex
    except ImportError:  # pragma: no cover - a library without fingerprints
        return None
    with ctx.dedup.lock:
        hook = ctx.dedup.hook
        if hook is None:
            index = FingerprintIndex(ctx.sandbox, ctx.library.store)
            lock = threading.Lock()

            def hook(candidate: Any, _index: Any = index, _lock: threading.Lock = lock) -> Any:
                with _lock:
                    return _index(candidate)

            ctx.dedup.hook = hook
        return hook


def stored_suite(
    draft: ToolDraft,
    *,
    examples: Sequence[Mapping[str, Any]] = (),
    held_out: Sequence[Mapping[str, Any]] = (),
) -> StoredSuite:
    """The library's record of a draft's tests (examples as `ExampleCase` JSON, ``{"input",
    "expected"}``, annotations kept)."""
    suite = TestSuite(unit_tests=draft.unit_tests, properties=tuple(draft.properties))
    return from_sandbox_suite(
        suite, examples=_fitted(draft, examples), held_out=_fitted(draft, held_out)
    )


def _fitted(draft: ToolDraft, cases: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stored cases under the keyword the draft was validated with (`fit_keywords`), other
    fields (annotations) kept."""
    fitted, _ = fit_keywords(draft, [as_case(c, i) for i, c in enumerate(cases)])
    return [{**dict(c), "input": f.input} for c, f in zip(cases, fitted, strict=True)]


def publish_draft(
    state: Mapping[str, Any],
    ctx: Context,
    draft: ToolDraft,
    *,
    strategy: str,
    prompts: Sequence[str],
    tests: StoredSuite,
    task_ids: Sequence[str],
    problems: Sequence[str],
    dedup: bool = True,
) -> dict[str, Any]:
    """Publish a validated draft (idempotent by content hash, through the gate and, with
    `dedup`, the behavioural de-duplication); returns ``{"name", "ref", "content_hash",
    "outcome", "reason"}`` (ref and hash of the record now in the library, or None)."""
    usage = state.get("usage") or {}
    verdict = state.get("verdict") or {"passed": True}
    provenance = Provenance(
        task_ids=tuple(task_ids),
        strategy=strategy,
        maker_model=str(usage.get("model", "")),
        prompt_hash=",".join(template_hash(p) for p in prompts)[:200],
        tokens_in=int(usage.get("prompt_tokens", 0)),
        tokens_out=int(usage.get("completion_tokens", 0)),
        cost_usd=float(usage.get("dollars", 0.0)),
        problems=tuple(problems)[:20],
        origin="made",
    )
    result = ctx.library.publish(
        NewTool(
            draft.name,
            draft.source,
            tests=tests,
            verdict=Verdict.from_json(verdict),
            provenance=provenance,
            entry=draft.name,
        ),
        gate=ctx.gate,
        dedup=dedup_hook(ctx) if dedup else None,
    )
    rec = result.record
    return {
        "name": draft.name,
        "ref": rec.ref if rec is not None else None,
        "content_hash": rec.content_hash if rec is not None else None,
        "outcome": result.outcome,
        "reason": result.reason,
    }


def outcome_of(unit_id: str, state: Mapping[str, Any]) -> UnitOutcome:
    """A finished per-type unit's outcome: accepted when any tool was published."""
    tools = tuple(t for t in state.get("tools") or () if t.get("outcome") in ACCEPTED_OUTCOMES)
    return UnitOutcome(
        unit_id=unit_id,
        status=state.get("status", "running"),
        tools=tools,
        reason=state.get("reason", ""),
        rejections=tuple(state.get("rejections") or ()),
        usage=dict(state.get("usage") or {}),
    )


class TypeStrategy:
    """A strategy whose unit is one task type (LATM, CRAFT): a routed graph of plain nodes."""

    def __init__(
        self,
        name: str,
        state_type: type,
        nodes: Mapping[str, Callable[..., Any]],
        start: str,
        initial: Callable[[str, list[Task]], dict[str, Any]],
    ) -> None:
        self.name = name
        self.state_type = state_type
        self.nodes = nodes
        self.start = start
        self.initial = initial

    def units(self, tasks: Sequence[Task]) -> list[Unit]:
        return type_units(tasks, self.initial)

    def build(self, ctx: Context) -> Any:
        return routed_graph(self.state_type, self.nodes, self.start, ctx)

    def outcome(self, unit_id: str, state: dict[str, Any]) -> UnitOutcome:
        return outcome_of(unit_id, state)
