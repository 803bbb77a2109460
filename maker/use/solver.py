"""The steps of solving one problem with the library's tools: retrieve, prompt, parse, check,
run, grade, record (the Python API over them is `maker.use.api.Solver`).

The steps are two plain functions of a JSON state (`ask`, `act`), so the same code runs one
problem (`Solver`) and a resumable batch as a LangGraph graph (`maker.use.strategy`):

    ask: (first time) retrieve <= k tools, abstain below the relevance threshold, replay
         experience, render the prompt; call the user model; parse and check the reply. A reply
         that cannot be used gets a corrective message and another turn (bounded retries).
    act: run the call or program in the sandbox (tool use logged by the code that ran), or take
         the direct answer; a failed run gets a corrective message and another turn while
         retries last; then format the answer, grade it and record the episode.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from library import Library
from library.records import Call, Episode, ToolRecord
from maker.llm import ChatClient
from maker.llm.ledger import price_call
from maker.tasks import Task
from maker.tasks.checks import CHECK_KEY
from maker.text.astutil import code_strings
from maker.text.clip import clip, same_text
from maker.text.grounding import (
    MAX_LISTED_NUMBERS,
    copied_from_examples,
    copied_numbers,
    copy_checked,
    example_numbers,
    ground_arguments,
    in_text,
    listed_numbers,
    problem_numbers,
    string_leaves,
    transfer_value,
    transferred_arguments,
    unread_numbers,
    word_share,
)
from maker.use import answer as answers
from maker.use.execute import execute
from maker.use.probe import refusal_error, whole_problem_probes
from maker.use.prompt import (
    PROBLEM_REF,
    card_examples,
    correction_message,
    experience_text,
    near_for,
    shown_examples,
    solve_messages,
)
from maker.use.reply import (
    Decision,
    Problem,
    check_call,
    check_program,
    decision_schema,
    parse_decision,
)
from sandbox import Sandbox

STAGES = ("well_formed", "tool_chosen", "args_valid", "executed", "correct")
PHASE_FIRST, PHASE_RETRY = "solve", "solve_retry"


@dataclass(frozen=True)
class SolveSettings:
    """Knobs of the solving loop (all data; see `Solver`)."""

    top_k: int = 3
    max_retries: int = 2
    min_relevance: float | None = None  # None: the library retriever's own threshold
    replay_k: int = 4
    replay_budget_chars: int = 1500
    prompt_budget_chars: int = 6000
    retry_temperature: float | None = 0.7  # a retry of a colder role is sampled this warm
    # a reply is a JSON call or a short program: the real 0.5B once ran on to a 1,024-token
    # reply (68 s); a role configured lower keeps its own limit
    max_reply_tokens: int | None = 512
    # a call that failed on a string argument copied (in part) from the problem is run once
    # more with the problem's full text there (see `whole_problem_call`)
    whole_problem_retry: bool = True
    # a call passing numbers the problem never states is asked again once, with the problem's
    # numbers listed; the second reply runs as it is (see `unread_problem`)
    check_numbers: bool = True
    # a call passing a shown example's values is given this problem's values from where the
    # example took its own (see `maker.text.grounding.transferred_arguments`), no retry
    transfer_copies: bool = True
    # a tool whose examples pass their whole problem is run on this one first, and not offered
    # when it raises on it (see `maker.use.probe`)
    probe_refusals: bool = True
    timeout_s: float | None = None
    record: bool = True
    answer_without_tools: bool = True  # False: no tool offered -> no answer, no model call

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SolveContext:
    """What the steps need, injected: the user model, the sandbox, the library and settings.
    `lock` serializes the library's host-side work (search, replay, recording) across threads."""

    client: ChatClient
    sandbox: Sandbox
    library: Library
    settings: SolveSettings = SolveSettings()
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: dict[str, ToolRecord] = field(default_factory=dict)  # "name@N" -> record


def initial_state(task: Task) -> dict[str, Any]:
    """The JSON state a problem starts from."""
    return {
        "task": task.to_json(),
        "next": "ask",
        "status": "running",
        "offered": [],
        "refused": [],  # tools that raised on the problem's whole text (`refusal`, `_probed`)
        "refused_before": [],  # those found before the model was asked: {"ref", "error"}
        "abstained": False,
        "abstain_reason": "",
        "shown": [],
        "messages": [],
        "schema": None,
        "example_values": [],
        "example_calls": [],
        "decision": None,
        "ready": False,
        "last_reply": "",
        "problems": [],
        "attempts": 0,
        "execution": None,
        "answer": None,
        "correct": None,
        "tools_used": [],
        "stages": dict.fromkeys(STAGES),
        "episode_id": None,
        "reason": "",
        "timing": {
            "retrieve_ms": 0.0,
            "render_ms": 0.0,
            "parse_ms": 0.0,
            "run_ms": 0.0,
            "record_ms": 0.0,
            "model_s": 0.0,
        },
        "usage": {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "dollars": 0.0},
    }


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def callable_refs(state: Mapping[str, Any]) -> list[str]:
    """The offered tools the model may still call: those that have not refused the problem."""
    refused = set(state.get("refused") or ())
    return [r for r in state["offered"] if r not in refused]


def _offered(ctx: SolveContext, refs: list[str]) -> dict[str, ToolRecord]:
    """The offered records by name (a version's source and spec never change: cached)."""
    missing = [r for r in refs if r not in ctx.records]
    if missing:
        with ctx.lock:
            for ref in missing:
                ctx.records[ref] = ctx.library.resolve(ref)
    recs = [ctx.records[r] for r in refs]
    return {r.name: r for r in recs}


def _prepare(state: dict[str, Any], ctx: SolveContext, timing: dict[str, float]) -> dict[str, Any]:
    """Retrieve the tools, replay experience and render the first prompt."""
    s = ctx.settings
    task = Task.from_json(state["task"])
    t0 = time.perf_counter()
    with ctx.lock:
        found = ctx.library.search(task.text, s.top_k)
        hits = [h for h in found.hits if s.min_relevance is None or h.relevance >= s.min_relevance][
            : s.top_k
        ]
        records = [ctx.library.resolve(h.ref) for h in hits]  # fresh: the card shows usage
        # a tool whose return type can name none of the task's options answers another question
        records = [
            r
            for r in records
            if answers.can_name_an_option(r.spec.returns, task.text, task.metadata)
        ]
    timing["retrieve_ms"] += _ms(t0)
    t0 = time.perf_counter()
    records, refused = _probed(ctx, records, task.text)
    timing["run_ms"] += _ms(t0)
    t0 = time.perf_counter()
    with ctx.lock:
        refs = [r.ref for r in records]
        ctx.records.update((r.ref, r) for r in records)
        names = [r.name for r in records]
        replay = (
            ctx.library.replay(
                task.text,
                names,
                k=s.replay_k,
                budget_chars=s.replay_budget_chars,
                offered_only=True,
            )
            if names
            else None
        )
    timing["retrieve_ms"] += _ms(t0)
    t0 = time.perf_counter()
    demos = list(replay.examples) if replay else []
    pitfalls = [e for eps in (replay.failures.values() if replay else ()) for e in eps]
    room = s.prompt_budget_chars - len(task.text) - 200 * len(records) - 1200
    budget = max(0, min(s.replay_budget_chars, room))
    fixes = replay.corrections if replay else None
    text, shown = experience_text(demos, pitfalls, budget, fixes)
    messages = solve_messages(task.text, records, text)
    pairs = shown_example_calls(task.text, records, replayed_calls((*demos, *pitfalls), shown))
    values = values_of(task.text, records, pairs)
    timing["render_ms"] += _ms(t0)
    reason = found.reason if found.abstained else ""
    if not refs and not reason and refused:
        said = "; ".join(f"{r['ref']} raised {r['error']}" for r in refused)
        reason = f"every tool refused the problem: {said}"
    elif not refs and not reason:
        reason = "no tool's return type can name an option" if hits else "below min_relevance"
    return {
        "offered": refs,
        "refused": [r["ref"] for r in refused],
        "refused_before": refused,
        "abstained": not refs,
        "abstain_reason": reason,
        "shown": shown,
        "messages": messages,
        "schema": decision_schema({r.name: r.spec.input_schema() for r in records}),
        "example_values": values,
        "example_calls": [[q, a] for q, a in pairs[:MAX_EXAMPLE_CALLS]],
    }


def _probed(
    ctx: SolveContext, records: list[ToolRecord], problem: str
) -> tuple[list[ToolRecord], list[dict[str, str]]]:
    """The records that do not refuse `problem` when run on its whole text, and the refusals
    ({"ref", "error"}) of the others (`maker.use.probe`; off with ``probe_refusals=False``)."""
    if not ctx.settings.probe_refusals or not problem.strip():
        return records, []
    kept: list[ToolRecord] = []
    refused: list[dict[str, str]] = []
    for rec in records:
        probes = whole_problem_probes(rec)
        error = (
            refusal_error(ctx.sandbox, rec, problem, probes, ctx.settings.timeout_s)
            if probes is not None
            else None
        )
        if error is None:
            kept.append(rec)
        else:
            refused.append({"ref": rec.ref, "error": clip(error, 200)})
    return kept, refused


MAX_EXAMPLE_VALUES = 500


def replayed_calls(
    episodes: Sequence[Episode], shown: Sequence[str]
) -> list[tuple[str, Mapping[str, Any]]]:
    """(problem, tool arguments) of the replayed episodes the prompt shows (ids in `shown`)."""
    seen = set(shown)
    return [(e.query, e.call.arguments) for e in episodes if e.id in seen and e.call.tool]


MAX_EXAMPLE_CALLS = 20
"""The most shown calls a problem's state keeps for mapping a copied call (`transferred`)."""


def shown_example_calls(
    problem: str,
    records: Sequence[ToolRecord],
    shown_calls: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    """(problem, arguments) of the calls shown in the prompt for other problems: the tool
    cards' problem -> call examples, then the replayed episodes."""
    calls = [pair for pairs in shown_examples(records, problem).values() for pair in pairs]
    return [
        (question, dict(args))
        for question, args in (*calls, *shown_calls)
        if isinstance(args, Mapping) and question != problem
    ]


def example_values(
    problem: str,
    records: Sequence[ToolRecord],
    shown_calls: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[str]:
    """The argument strings of the calls shown in the prompt for other problems
    (`shown_example_calls`) that are neither in `problem` nor in a string of a tool's code
    (see `values_of`)."""
    return values_of(problem, records, shown_example_calls(problem, records, shown_calls))


def values_of(
    problem: str, records: Sequence[ToolRecord], pairs: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[str]:
    """The argument strings of `pairs` that are neither in `problem` nor in a string of a
    tool's code (a mode such as ``"ascending"`` is not a copy; a docstring's demonstration is
    an example like any other), and their distinctive numbers `problem` does not state
    (`maker.text.grounding.example_numbers`)."""
    sources = "\n".join(text for rec in records for text in code_strings(rec.source))
    out: dict[str, None] = {}
    for _question, args in pairs:
        for value in string_leaves(dict(args)):
            if copy_checked(value) and not in_text(value, problem) and value not in sources:
                out[value] = None
        out.update(dict.fromkeys(example_numbers(dict(args), problem)))
    return list(out)[:MAX_EXAMPLE_VALUES]


def complete(
    client: ChatClient,
    messages: list[dict[str, str]],
    phase: str,
    schema: Mapping[str, Any] | None,
    *,
    sample: int = 0,
    warm: float | None = None,
    max_tokens: int | None = None,
) -> Any:
    """One model call; the reply's JSON schema goes along (the client asks the endpoint to
    constrain decoding to it where it can, see `maker.llm.structured`); the text is parsed
    either way. Call ``sample`` 1, 2... (a retry) of a cold role is drawn at `warm`
    (`Sampling.for_sample`): a greedy model asked again repeats its broken reply. `max_tokens`
    caps the reply unless the role's own limit is lower."""
    params = client.config.sampling.for_sample(sample, warm)
    own = client.config.sampling.max_tokens
    if max_tokens is not None and (own is None or own > max_tokens):
        params["max_tokens"] = max_tokens
    return client.complete(
        messages,
        phase=phase,
        schema=None if schema is None else dict(schema),
        sample=sample,
        **params,
    )


def _add_usage(usage: Mapping[str, Any], client: ChatClient, response: Any) -> dict[str, Any]:
    dollars, _ = price_call(
        client.prices, response.model or "", response.usage, local=client.local, cache_hit=False
    )
    return {
        "calls": usage["calls"] + 1,
        "prompt_tokens": usage["prompt_tokens"] + response.usage.prompt_tokens,
        "completion_tokens": usage["completion_tokens"] + response.usage.completion_tokens,
        "dollars": round(usage["dollars"] + dollars, 8),
    }


def _retry_or_act(
    state: Mapping[str, Any], update: dict[str, Any], reply: str, problem: Problem, max_retries: int
) -> dict[str, Any]:
    """Record `problem`; another turn with its correction while retries last, else act
    (which then gives up: no usable reply)."""
    attempt = update.get("attempts", state["attempts"])
    problems = [*state["problems"], {**problem.to_json(), "attempt": attempt}]
    update["problems"] = problems
    update["ready"] = False
    left = max_retries - (len(problems) - 1)
    if left > 0:
        update["messages"] = [
            *update.get("messages", state["messages"]),
            {"role": "assistant", "content": reply},
            correction_message(problem.message),
        ]
        update["next"] = "ask"
    else:
        update["next"] = "act"
    return update


def check(decision: Decision, offered: Mapping[str, ToolRecord]) -> Problem | None:
    """A decision's problem, if any, before it runs."""
    if decision.kind == "call":
        if not offered:
            return Problem(
                "tool_chosen",
                "no_tools",
                "No tool is offered for this problem: answer directly with "
                '{"tool": "none", "answer": ...}.',
            )
        return check_call(decision, offered)
    if decision.kind == "program":
        if not offered:
            return Problem(
                "tool_chosen", "no_tools", "No tool is offered for this problem: answer directly."
            )
        return check_program(decision.program, list(offered))
    return None


def without_examples(
    state: Mapping[str, Any], offered: Mapping[str, ToolRecord], problem: Problem
) -> list[dict[str, str]]:
    """A fresh chat for the problem with no example calls and no replayed experience, and a
    note (`COPIED_NOTE`) at the end: a model that copied an example once copies it again while the example
    is in its context (the real 0.5B, corrected, sent an example's words for 11 of 11 word
    lists)."""
    text = state["task"].get("text") or ""
    messages = solve_messages(text, list(offered.values()), "", examples=False)
    last = dict(messages[-1])
    last["content"] = f"{last['content']}\n\n{COPIED_NOTE}"
    return [*messages[:-1], last]


COPIED_NOTE = (
    "A reply before this one passed values from an example instead of this problem's. "
    "Take every argument from this problem's own text."
)
"""The fresh chat's note after a copied call. It names no copied value: given them, the real
0.5B copied the named values instead (9 of 15 word lists still ended as copied calls)."""


def transferred(
    decision: Decision, question: str, copied: Sequence[str], calls: Sequence[Sequence[Any]]
) -> Decision | None:
    """The call with this problem's values where it passed an example's (`copied`), taken from
    where the example took its own (`maker.text.grounding.transferred_arguments`), noted in
    `repairs`; None when a copied value has no such place."""
    pairs = [(str(q), a) for q, a in calls if isinstance(a, Mapping)]
    done = transferred_arguments(decision.arguments, question, copied, pairs)
    if done is None:
        return None
    arguments, notes = done
    return replace(
        decision,
        arguments=arguments,
        repairs=(
            *decision.repairs,
            *(f"an example's value, mapped to this problem: {n}" for n in notes),
        ),
    )


def copied_problem(copied: Sequence[str]) -> Problem | None:
    """The problem with a call that passes an example's values (`copied`, see
    `maker.text.grounding.copied_from_examples`) instead of this problem's."""
    if not copied:
        return None
    shown = ", ".join(repr(v if len(v) <= 40 else v[:37] + "...") for v in copied[:3])
    return Problem(
        "args_valid",
        "copied_example",
        f"The argument value(s) {shown} come from an example, not from this problem. "
        "Take every argument from this problem's own text.",
    )


def unread_problem(decision: Decision, question: str) -> Problem | None:
    """A call whose numbers are not the problem's (`maker.text.grounding.unread_numbers`), with
    the problem's numbers listed: asked for the remainders and divisors of a problem, the real
    0.5B passed divisors ``[3, 4, 5]`` and ``[3, 7]`` that the problem never states, and the
    tool answered or raised on them. Numbers can also be worked out from the problem (a sum, a
    converted unit), so this is asked once and never blocks a call (`ask`)."""
    unread = unread_numbers(decision.arguments, question)
    if not unread:
        return None
    stated = problem_numbers(question)
    listed = listed_numbers(stated)
    more = " ..." if len(stated) > MAX_LISTED_NUMBERS else ""
    where = f"Its numbers are: {listed}{more}." if stated else "It states no numbers."
    return Problem(
        "args_valid",
        "unread_numbers",
        f"The number(s) {listed_numbers(unread, 8)} in the arguments are not "
        f"in this problem. {where} Read each argument from the problem's text; keep a number "
        "only if you worked it out from the problem.",
    )


def dereferenced(
    decision: Decision, question: str, examples: Sequence[tuple[str, Mapping[str, Any]]] = ()
) -> Decision:
    """The call with the problem's text in each argument written as `PROBLEM_REF` (case and
    surrounding spaces aside): the episode records the arguments the tool ran with. Where the
    tool's shown calls (`examples`: its card's problem -> call pairs) pass a part of their
    problem in that argument and never the whole, the reference means that part: this
    problem's text standing where each example's stood (`maker.text.grounding.transfer_value`;
    a word list after its ``List:`` label), noted in `repairs`."""
    if not question.strip():
        return decision
    ref = PROBLEM_REF.lower()
    args = dict(decision.arguments)
    notes: list[str] = []
    for name, value in decision.arguments.items():
        if not (isinstance(value, str) and value.strip().lower() == ref):
            continue
        shown = [(q, a[name]) for q, a in examples if name in a]
        args[name] = question
        if shown and not any(isinstance(v, str) and same_text(v, q) for q, v in shown):
            part = next(
                (p for q, v in shown if (p := transfer_value(v, q, question)) is not None), None
            )
            if part is not None:
                args[name] = part
                notes.append(
                    f"{PROBLEM_REF} in {name!r}: the part of the problem its examples pass"
                )
    if args == decision.arguments:
        return decision
    return replace(decision, arguments=args, repairs=(*decision.repairs, *notes))


def grounded(decision: Decision, question: str) -> Decision:
    """A call whose string arguments nearly copy spans of the question, with the question's
    exact spans in their place (`maker.text.grounding`); each change is noted in `repairs`."""
    arguments, notes = ground_arguments(decision.arguments, question)
    if not notes:
        return decision
    return replace(
        decision,
        arguments=arguments,
        repairs=(*decision.repairs, *(f"copied from the problem: {n}" for n in notes)),
    )


def ask(state: dict[str, Any], ctx: SolveContext) -> dict[str, Any]:
    """Step 1: prepare (first time), call the user model, parse and check its reply."""
    timing = dict(state["timing"])
    update: dict[str, Any] = {}
    if not state["messages"]:
        update |= _prepare(state, ctx, timing)
        if update["abstained"] and not ctx.settings.answer_without_tools:
            return update | {"timing": timing, "next": "act", "ready": False}
    messages = update.get("messages", state["messages"])
    phase = PHASE_FIRST if state["attempts"] == 0 else PHASE_RETRY
    t0 = time.perf_counter()
    response = complete(
        ctx.client,
        messages,
        phase,
        update.get("schema", state["schema"]),
        sample=state["attempts"],
        warm=ctx.settings.retry_temperature,
        max_tokens=ctx.settings.max_reply_tokens,
    )
    timing["model_s"] += time.perf_counter() - t0
    update["usage"] = _add_usage(state["usage"], ctx.client, response)
    update["attempts"] = state["attempts"] + 1
    t0 = time.perf_counter()
    offered = _offered(ctx, callable_refs({**state, **update}))
    parsed = parse_decision(response.text)
    question = state["task"].get("text") or ""
    if isinstance(parsed, Decision) and parsed.kind == "call":
        rec = offered.get(parsed.tool.partition("@")[0])
        ranked = update.get("offered", state["offered"])  # as the prompt showed them
        rank = ranked.index(rec.ref) if rec is not None and rec.ref in ranked else -1
        shown = card_examples(rec, near=near_for(rank, question)) if rec is not None else []
        parsed = grounded(dereferenced(parsed, question, shown), question)
    problem = parsed if isinstance(parsed, Problem) else check(parsed, offered)
    values = frozenset(update.get("example_values", state.get("example_values") or []))
    if problem is None and isinstance(parsed, Decision) and parsed.kind == "call":
        copied = copied_from_examples(parsed.arguments, question, values)
        problem = copied_problem(copied)
        if problem is not None and ctx.settings.transfer_copies:
            calls = update.get("example_calls", state.get("example_calls") or [])
            mapped = transferred(parsed, question, copied, calls)
            if mapped is not None and check(mapped, offered) is None:
                parsed, problem = mapped, None
    asked = [p.get("code") for p in state["problems"]]
    is_call = problem is None and isinstance(parsed, Decision) and parsed.kind == "call"
    if (
        is_call
        and ctx.settings.check_numbers
        and copied_numbers(parsed.arguments, question, values)
    ):
        # an example's numbers: corrected each time, and never run (unlike numbers the model
        # may have worked out, asked about once)
        problem = unread_problem(parsed, question)
    if (
        problem is None
        and is_call
        and ctx.settings.check_numbers
        and "unread_numbers" not in asked
        and len(asked) < ctx.settings.max_retries  # a retry is left: this never ends a problem
    ):
        problem = unread_problem(parsed, question)
    timing["parse_ms"] += _ms(t0)
    update["timing"] = timing
    update["decision"] = parsed.to_json() if isinstance(parsed, Decision) else None
    update["last_reply"] = response.text
    if problem is not None:
        out = _retry_or_act(state, update, response.text, problem, ctx.settings.max_retries)
        if problem.code == "copied_example" and out["next"] == "ask":
            out["messages"] = without_examples(state, offered, problem)
        return out
    update["next"] = "act"
    update["ready"] = True
    return update


def stage_outcomes(
    state: Mapping[str, Any], ran: bool | None, correct: bool | None
) -> dict[str, bool | None]:
    """Each stage's outcome for the last reply: True, False, or None when it does not apply
    (no tool offered: tool_chosen; a direct answer: args_valid, executed; no gold: correct)."""
    last = state["problems"][-1]["stage"] if state["problems"] and not state["ready"] else None
    data = state["decision"]
    well = data is not None and last != "well_formed"
    uses_tool = well and data["kind"] in ("call", "program")
    chosen = None if not state["offered"] else (uses_tool and last != "tool_chosen")
    args = None if not (uses_tool and chosen) else last != "args_valid"
    executed = None if not (uses_tool and chosen and args) else bool(ran)
    return {
        "well_formed": well,
        "tool_chosen": chosen,
        "args_valid": args,
        "executed": executed,
        "correct": correct,
    }


MIN_COPIED_SHARE = 0.6
"""How much of a string argument's words must come from the problem for it to be taken as an
attempt to copy (part of) the problem."""
MIN_COPIED_WORDS = 4
"""How many words a string argument needs to be taken as an attempt to copy the problem: a
one-word argument beside it (a statistic's name such as ``"range"``, a name from the puzzle)
is a value read off the problem, not a copy of it."""


def whole_problem_call(
    decision: Decision, offered: Mapping[str, ToolRecord], problem: str
) -> Decision | None:
    """The call with the problem's full text in place of the one string argument that tried to
    copy it, or None. For a call that failed: asked for a puzzle's full text, the real 0.5B
    passed a few of its sentences (10 of 10 calls), or the objects' names, and the tool raised;
    a weak model copies a long text badly, the problem itself is at hand. Only a parameter
    typed ``str``, only when exactly one argument qualifies (`MIN_COPIED_WORDS` or more words,
    most of them the problem's) and is shorter than the problem; noted in `repairs`. The real
    0.5B passed a table without its question beside ``statistic="range"``, a word of the
    problem too: that one is not a copy."""
    if decision.kind != "call":
        return None
    rec = offered.get(decision.tool.partition("@")[0])
    if rec is None:
        return None
    types = {p.name: p.schema.get("type") for p in rec.spec.params}
    candidates = [
        name
        for name, value in decision.arguments.items()
        if types.get(name) == "string"
        and isinstance(value, str)
        and len(value.strip()) < len(problem.strip())
        and len(value.split()) >= MIN_COPIED_WORDS
        and word_share(value, problem) >= MIN_COPIED_SHARE
    ]
    if len(candidates) != 1:
        return None
    (name,) = candidates
    return replace(
        decision,
        arguments={**decision.arguments, name: problem},
        repairs=(
            *decision.repairs,
            f"the tool failed on a partial copy of the problem in {name!r}: "
            "ran with the problem's full text",
        ),
    )


def on_whole_problem(decision: Decision, problem: str) -> bool:
    """Whether a call passed the problem's whole text (whitespace aside) as an argument."""
    return (
        decision.kind == "call"
        and bool(problem.strip())
        and any(isinstance(v, str) and same_text(v, problem) for v in decision.arguments.values())
    )


def refusal(tool: str, error: Any, others: bool) -> Problem:
    """The problem with a tool that raised on the problem's own full text: it refused the
    problem, as a tool that parses its problem does when the problem is not its kind. It is no
    longer offered for this problem; with no other tool left, the model may answer directly
    (or, where no direct answer is wanted, the problem has no answer). The real 0.5B, offered
    a swap-tracking tool on TabMWP's "Does Krysta have enough money to buy ...?", called it
    three times, 26 seconds, before the fallback answered."""
    then = (
        "Call another listed tool, or, if none fits, answer directly with "
        if others
        else "No tool is left for it: answer directly with "
    )
    return Problem(
        "executed",
        "refused",
        f"{tool} raised {error} on this problem's full text: it does not answer this kind of "
        f'problem and is no longer offered. {then}{{"tool": "none", "answer": ...}}.',
    )


def no_option(value: Any, options: Sequence[str]) -> Problem:
    """The problem with a run whose output names none of a multiple-choice task's `options`
    (`maker.use.answer.unnamed_options`): the tool answered another question. The output is
    not the answer; the model is asked again, and when no retry is left the problem has no
    answer (an experiment arm's fallback answers it)."""
    shown = "; ".join(clip(o, 60) for o in options[:8])
    return Problem(
        "executed",
        "no_option",
        f"The tool returned {clip(json.dumps(value, ensure_ascii=False, default=str), 80)}, "
        f"which is none of the options ({shown}): this tool does not answer this question. "
        "Call a tool that does, or, if no listed tool fits, answer directly with "
        '{"tool": "none", "answer": ...}.',
    )


def act(state: dict[str, Any], ctx: SolveContext) -> dict[str, Any]:
    """Step 2: run the decision (or take the direct answer), grade it and record the episode."""
    timing = dict(state["timing"])
    task = Task.from_json(state["task"])
    decision = Decision.from_json(state["decision"]) if state["decision"] else None
    usable = state["ready"] and decision is not None
    offered = _offered(ctx, callable_refs(state))
    update: dict[str, Any] = {}
    execution = None
    value: Any = None
    has_value = False
    if usable and decision is not None and decision.kind == "answer":
        value, has_value = decision.answer, True
    elif usable and decision is not None:
        t0 = time.perf_counter()
        execution = execute(ctx.sandbox, decision, offered, timeout=ctx.settings.timeout_s)
        on_whole = on_whole_problem(decision, task.text)
        # the tool raised (a limit hit, such as a timeout, is not run again)
        if not execution.ok and execution.result.limit is None and ctx.settings.whole_problem_retry:
            whole = whole_problem_call(decision, offered, task.text)
            if whole is not None:
                on_whole = True
                again = execute(ctx.sandbox, whole, offered, timeout=ctx.settings.timeout_s)
                if again.ok:
                    decision, execution = whole, again
                    update["decision"] = whole.to_json()
        # raised on the problem's whole text (not a limit hit): the tool refused the problem
        refused = on_whole and not execution.ok and execution.result.limit is None
        timing["run_ms"] += _ms(t0)
        update["execution"] = execution.to_json()
        missed = (
            answers.unnamed_options(execution.value, task.text, task.metadata)
            if execution.ok
            else []
        )
        if missed:
            retried = _retry_or_act(
                state,
                update,
                state["last_reply"],
                no_option(execution.value, missed),
                ctx.settings.max_retries,
            )
            if retried["next"] == "ask":
                retried["timing"] = timing
                return retried
            update = retried
        elif execution.ok:
            value, has_value = execution.value, True
        else:
            err = execution.result.error
            retries = ctx.settings.max_retries
            if refused and decision is not None:
                # the problem's own full text is the best argument there is: the tool refused it
                name = decision.tool.partition("@")[0]
                update["refused"] = [*state.get("refused", []), offered[name].ref]
                rest = callable_refs({**state, **update})
                problem = refusal(name, err, bool(rest))
                if not rest and not ctx.settings.answer_without_tools:
                    retries = 0  # nothing left to call, and no direct answer wanted
            else:
                where = f" at line {err.line}" if err is not None and err.line else ""
                limit = f" [{execution.result.limit}]" if execution.result.limit else ""
                message = (
                    f"Running it failed{where}: {err}{limit}. Check the arguments against "
                    "the signature and the problem; if this tool does not fit the problem, "
                    "call another one or answer directly."
                )
                problem = Problem("executed", "run_error", message)
            retried = _retry_or_act(state, update, state["last_reply"], problem, retries)
            if retried["next"] == "ask":
                retried["timing"] = timing
                return retried
            update = retried
    answer = answers.final_answer(value, task.text, task.metadata) if has_value else None
    correct = (
        (answers.is_correct(answer, task.answer, task.metadata) if has_value else False)
        if task.answer is not None
        else None
    )
    calls = list(execution.calls) if execution is not None and has_value else []
    ran = execution.ok if execution is not None else None
    stages = stage_outcomes({**state, **update}, ran, correct)
    update |= {
        "answer": answer,
        "correct": correct,
        "tools_used": calls,
        "stages": stages,
        "status": "answered" if has_value else "no_answer",
        "next": "end",
        "reason": "" if has_value else _give_up_reason({**state, **update}),
    }
    if ctx.settings.record and state["attempts"]:
        t0 = time.perf_counter()
        episode = _episode(task, {**state, **update}, decision, execution, answer, has_value)
        with ctx.lock:
            stored = ctx.library.record(episode)
        update["episode_id"] = stored.id
        timing["record_ms"] += _ms(t0)
    update["timing"] = timing
    return update


def _give_up_reason(state: Mapping[str, Any]) -> str:
    if not state["attempts"]:
        return "no_tool_offered"
    if state["problems"]:
        p = state["problems"][-1]
        return f"{p['stage']}:{p['code']}"
    return "no_answer"


def _episode(
    task: Task,
    state: Mapping[str, Any],
    decision: Decision | None,
    execution: Any,
    answer: Any,
    has_value: bool,
) -> Episode:
    """The episode of a finished problem: the last decision tried, the run (with the stage
    outcomes under ``result["stages"]``), the outcome.
    `success` judges an answer against the gold one (None when there is none, or when no usable
    reply came: that is the model's failure, not the tool's)."""
    offered = tuple(state["offered"])
    call = Call()
    if decision is not None and decision.kind == "call":
        ref = next((r for r in offered if r.partition("@")[0] == decision.tool), decision.tool)
        call = Call(tool=ref, arguments=dict(decision.arguments))
    elif decision is not None and decision.kind == "program":
        call = Call(program=decision.program)
    result: dict[str, Any] = {}
    if execution is not None:
        result = execution.to_json()
    elif state["problems"] and not has_value:
        p = state["problems"][-1]
        result = {
            "ok": False,
            "value": None,
            "error": {"type": p["code"], "message": p["message"], "line": None},
        }
    result["stages"] = dict(state["stages"])  # the outcome of each stage, kept with the run
    notes = [f"{p['stage']}:{p['code']}" for p in state["problems"]]
    if decision is not None and decision.repairs:
        notes.append("read tolerantly: " + ", ".join(decision.repairs))
    feedback = "; ".join(notes)
    gold = None if task.answer is None else answers.answer_text(task.answer)
    return Episode(
        query=task.text,
        offered=offered,
        call=call,
        result=result,
        answer=None if answer is None else answers.answer_text(answer),
        success=state["correct"] if has_value else None,
        feedback=feedback,
        origin="use",
        expected=gold,
        answer_check=task.metadata.get(CHECK_KEY) or None,
    )


NODES = {"ask": ask, "act": act}


def run_steps(state: dict[str, Any], ctx: SolveContext, *, max_steps: int = 50) -> dict[str, Any]:
    """Run `ask`/`act` until the problem is finished (the graph's loop, without LangGraph)."""
    for _ in range(max_steps):
        step = NODES.get(state["next"])
        if step is None:
            return state
        state = {**state, **step(state, ctx)}
    raise RuntimeError(f"problem {state['task']['id']} did not finish in {max_steps} steps")
