"""What the user model sees: tool cards, replayed experience, corrections (the words are here
and in ``maker/prompts/use_solve.md``).

A tool card is the typed signature, the one-line doc and the measured success rate. Experience
is replayed from the library's memory: similar solved problems with the reply that solved them
and the tool's real output, and the recorded failures (pitfalls) of the offered tools, all
within a character budget. Nothing here calls a model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from library.lexical import jaccard, tokenize
from library.records import Episode, ToolRecord
from library.spec import call_signature
from maker.prompts import render
from maker.text.clip import clip, same_text

MAX_QUERY_CHARS = 300
MAX_VALUE_CHARS = 200

PROBLEM_REF = "<problem>"
"""What a reply writes for a string argument that is the problem's whole text: the host puts
the problem in its place (`maker.use.solver.dereferenced`), so the model need not write the
problem out again. Demonstrations show such arguments this way (`referenced`). The real 0.5B,
asked for a puzzle's full text, spent most of its seconds per problem retyping it."""


def referenced(args: Mapping[str, Any], problem: str) -> dict[str, Any]:
    """`args` with each string argument that is the problem's whole text (whitespace aside)
    written as `PROBLEM_REF`, as a demonstration shows it."""
    return {
        k: PROBLEM_REF if isinstance(v, str) and problem.strip() and same_text(v, problem) else v
        for k, v in args.items()
    }


def signature(rec: ToolRecord) -> str:
    """``name(a: int, b: int = 1) -> int``, from the stored spec (defaults as JSON, the form the
    model writes its call arguments in)."""
    return call_signature(rec.name, rec.spec, json.dumps)


def success_line(rec: ToolRecord) -> str:
    """The measured success rate of this version, from the episodes recorded with it."""
    u = rec.usage
    judged = u.successes + u.failures
    if not judged:
        return "Measured: no judged uses yet."
    return (
        f"Measured: {u.successes} of {judged} judged uses correct ({100 * u.successes // judged}%)."
    )


MAX_CARD_EXAMPLES = 2
MAX_PARAM_CHARS = 200
MAX_SUMMARY_CHARS = 240
MAX_EXAMPLE_CHARS = 240


def card_examples(
    rec: ToolRecord, limit: int = MAX_CARD_EXAMPLES, near: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """The (question, arguments) pairs a tool card shows (see `example_calls`): the first
    `limit` in the tool's order or, given a problem (`near`), those whose problems share most
    words with it (`nearest`)."""
    params = {p.name for p in rec.spec.params}
    out: list[tuple[str, dict[str, Any]]] = []
    for ex in (*rec.tests.examples, *rec.tests.held_out):
        if not isinstance(ex, dict):
            continue
        args, question = ex.get("input"), ex.get("question")
        if not isinstance(args, dict) or not set(args) <= params or not isinstance(question, str):
            continue
        if len(_reply(rec, referenced(args, question))) <= MAX_EXAMPLE_CHARS:
            out.append((question, args))
        if len(out) >= limit and not near:
            break
    return nearest(out, near)[:limit] if near else out


def nearest(
    pairs: Sequence[tuple[str, dict[str, Any]]], problem: str
) -> list[tuple[str, dict[str, Any]]]:
    """`pairs` (question, arguments) ordered by how many words their question shares with
    `problem` (word-set overlap, `library.lexical.jaccard`), most first, ties in their order.

    A card's first examples are one use of a tool; a problem may need another. Shown a number
    theory tool's first example (``"sum of divisors"``), the real 0.5B asked for the sum of
    divisors on 10 of 11 MATH problems it called that tool on, whatever they asked."""
    words = set(tokenize(problem))
    return sorted(pairs, key=lambda p: -jaccard(set(tokenize(p[0])), words))


def near_for(rank: int, problem: str) -> str:
    """What the card of the tool ranked `rank` (0: the most relevant) shows its examples near:
    the problem for the most relevant card, nothing (its first examples) for the others. Only
    the last card (the most relevant, see `tools_text`) changes with the problem, so
    consecutive prompts still share every card before it in a prefix cache."""
    return problem if rank == 0 else ""


def shown_examples(
    records: Sequence[ToolRecord], problem: str
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """By tool name, the examples each offered tool's card shows for `problem` (`records`
    ranked most relevant first; see `near_for`)."""
    return {r.name: card_examples(r, near=near_for(i, problem)) for i, r in enumerate(records)}


def _reply(rec: ToolRecord, args: Mapping[str, Any]) -> str:
    return json.dumps({"tool": rec.name, "arguments": args}, ensure_ascii=False)


def example_calls(rec: ToolRecord, limit: int = MAX_CARD_EXAMPLES, near: str = "") -> list[str]:
    """Up to `limit` of the tool's verified cases (its worked examples, then its held-out cases:
    its tests passed on them) that carry the problem they answer (``"question"``), each as
    ``Problem: ...`` and the exact reply that calls the tool on it: a demonstration of how a
    problem maps to the arguments, for tools nobody has used yet.

    Never a bare call, nor an output: the real 0.5B copied them. Shown ``{"tool": "close_dyck",
    "arguments": {"sequence": "[ { ["}}`` it sent that call for 6 of 6 new problems (1 of 12
    BIG-Bench rows right with bare example calls, 3 of 12 without), and shown ``... -> 12`` it
    answered 12 to every problem. An argument that is the whole problem is shown as
    `PROBLEM_REF`. Cases whose keys are not the tool's parameters, or too long to show, are
    skipped; given a problem (`near`), the cases nearest it are shown (`card_examples`)."""
    return [
        f"Problem: {clip(question, MAX_QUERY_CHARS)}\n"
        f"      Reply: {_reply(rec, referenced(args, question))}"
        for question, args in card_examples(rec, limit, near)
    ]


def tool_card(rec: ToolRecord, *, examples: bool = True, near: str = "") -> str:
    """Signature, one-line doc, measured success rate and (unless `examples` is False)
    example calls of one tool."""
    summary = rec.spec.summary.strip()
    paragraph = rec.spec.description.strip().split("\n\n")[0]
    if not summary or " ".join(paragraph.split()).startswith(" ".join(summary.split())):
        summary = paragraph  # a summary wrapped over lines: its whole first paragraph
    first = clip(summary, MAX_SUMMARY_CHARS) if summary.strip() else "(no description)"
    lines = [signature(rec), f"    {first}"]
    # what each argument is, from the docstring's Args section: shown only the signature
    # `order_objects(puzzle: str)`, the real 0.5B passed the objects' names (10 of 10)
    lines += [
        f"    {p.name}: {clip(p.description, MAX_PARAM_CHARS)}"
        for p in rec.spec.params
        if p.description.strip()
    ]
    lines.append(f"    {success_line(rec)}")
    examples = example_calls(rec, near=near) if examples else []
    if examples:
        lines.append("    Examples:")
        lines.extend(f"      {e}" for e in examples)
    return "\n".join(lines)


def tools_text(records: Sequence[ToolRecord], *, examples: bool = True, problem: str = "") -> str:
    """The offered tools' cards, `records` ranked most relevant first and shown in reverse: the
    most relevant card is the last, nearest the problem (which comes after it). With the most
    relevant first, the real 0.5B called the last card's tool, copying its example call, on 6
    of 6 ordering puzzles (`solve_congruences` with the example's numbers, not `order_objects`).
    Given the `problem`, the most relevant card shows its examples nearest it (`shown_examples`)."""
    if not records:
        return (
            "Tools: none of the library's tools fits this problem; answer directly with "
            '{"tool": "none", "answer": ...}.'
        )
    cards = reversed(
        [tool_card(r, examples=examples, near=near_for(i, problem)) for i, r in enumerate(records)]
    )
    return "Tools:\n\n" + "\n\n".join(cards)


def _reply_of(ep: Episode) -> str | None:
    """The reply an episode ran, as the model would write it (the problem's whole text as
    `PROBLEM_REF`)."""
    if ep.call.tool:
        args = referenced(ep.call.arguments, ep.query)
        return json.dumps(
            {"tool": ep.call.tool.partition("@")[0], "arguments": args}, ensure_ascii=False
        )
    if ep.call.program:
        return json.dumps({"tool": "program", "program": ep.call.program}, ensure_ascii=False)
    return None


def demo_text(ep: Episode) -> str:
    """A solved problem: the reply that solved it and the tool's real output."""
    lines = [f"Problem: {clip(ep.query, MAX_QUERY_CHARS)}", f"Reply: {_reply_of(ep)}"]
    if ep.result.get("ok", True) and "value" in ep.result:
        value = json.dumps(ep.result.get("value"), ensure_ascii=False)
        lines.append(f"Tool output: {clip(value, MAX_VALUE_CHARS)}")
    if ep.answer is not None:
        lines.append(f"Answer: {clip(ep.answer, MAX_VALUE_CHARS)}")
    return "\n".join(lines)


def pitfall_text(ep: Episode, correction: Episode | None = None) -> str:
    """A recorded failure: the reply, what went wrong (the error, or the expected answer) and,
    when the same problem was solved later with the tool, the reply that solved it."""
    lines = [f"Problem: {clip(ep.query, MAX_QUERY_CHARS)}", f"Reply: {_reply_of(ep)}"]
    if ep.result.get("ok") is False:
        err: dict[str, Any] = ep.result.get("error") or {}
        lines.append(
            f"Went wrong: {err.get('type', 'Error')}: "
            f"{clip(err.get('message', ''), MAX_VALUE_CHARS)}"
        )
    elif ep.expected is not None:
        lines.append(
            f"Went wrong: answered {clip(ep.answer, 80)}, the right answer was "
            f"{clip(ep.expected, 80)}"
        )
    if ep.feedback:
        lines.append(f"Note: {clip(ep.feedback, MAX_VALUE_CHARS)}")
    fixed = _reply_of(correction) if correction is not None else None
    if correction is not None and fixed is not None:
        lines.append(f"Corrected reply: {fixed}")
        if correction.result.get("ok", True) and "value" in correction.result:
            value = json.dumps(correction.result.get("value"), ensure_ascii=False)
            lines.append(f"Tool output: {clip(value, MAX_VALUE_CHARS)}")
    return "\n".join(lines)


def experience_text(
    demos: Sequence[Episode],
    pitfalls: Sequence[Episode],
    budget_chars: int,
    corrections: Mapping[int, Episode] | None = None,
) -> tuple[str, list[int]]:
    """Replayed demonstrations, then pitfalls (each with its correction, if any), as long as
    they fit in `budget_chars`; room for the first pitfall is kept when it takes at most half
    the budget. The most relevant are chosen; they are shown in the order they were recorded.
    Returns the text and the ids of the episodes shown."""
    fixes = corrections or {}

    def pitfall(ep: Episode) -> str:
        return pitfall_text(ep, fixes.get(ep.id) if ep.id is not None else None)

    first = next((pitfall(ep) for ep in pitfalls if _reply_of(ep) is not None), "")
    title_pit = "Known pitfalls of these tools:"
    reserve = len(first) + len(title_pit) + 6 if first else 0
    reserve = reserve if reserve <= budget_chars // 2 else 0
    parts: list[str] = []
    shown: list[int] = []
    used = 0
    for title, eps, render_one, limit in (
        ("Solved before (real tool outputs):", demos, demo_text, budget_chars - reserve),
        (title_pit, pitfalls, pitfall, budget_chars),
    ):
        if _reply_of_any(eps):
            chosen: list[tuple[Episode, str]] = []
            for ep in eps:
                if _reply_of(ep) is None:
                    continue
                text = render_one(ep)
                cost = len(text) + 2 + (0 if chosen else len(title) + 2)
                if used + cost > limit:
                    continue
                chosen.append((ep, text))
                used += cost
            # chosen by relevance, shown in the order they were recorded: problems that replay
            # the same episodes get the same prompt head (see `PROBLEM_HEADING`)
            chosen.sort(key=lambda c: (c[0].id is None, c[0].id or 0))
            shown.extend(ep.id for ep, _ in chosen if ep.id is not None)
            if chosen:
                parts.append(title + "\n\n" + "\n\n".join(text for _, text in chosen))
    return "\n\n".join(parts), shown


def _reply_of_any(eps: Sequence[Episode]) -> bool:
    return any(_reply_of(e) is not None for e in eps)


PROBLEM_HEADING = "Problem to solve:\n\n"
"""Where the problem starts in a `use_solve` prompt: last, after the tools and the experience,
so consecutive problems share the prompt's whole head and a server's prefix cache skips it
(the same tools and demonstrations are offered for most problems of a task)."""
REPLY_REMINDER = "\n\nReply with the JSON object only."


def solve_messages(
    problem: str, records: Sequence[ToolRecord], experience: str, *, examples: bool = True
) -> list[dict[str, str]]:
    """The chat for one problem (template ``use_solve``: the tools, the experience, then the
    problem under `PROBLEM_HEADING`); `examples` False leaves the tools' example calls out (see
    `maker.use.solver.copied_problem`)."""
    return render(
        "use_solve",
        problem=problem,
        tools=tools_text(records, examples=examples, problem=problem),
        experience=experience or "",
    )


def correction_message(message: str) -> dict[str, str]:
    """The user turn after a reply that could not be used (another reply follows)."""
    return {
        "role": "user",
        "content": f"That reply could not be used. {message} Reply again "
        "with one corrected JSON object.",
    }
