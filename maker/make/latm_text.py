"""LATM on tasks that are a question and a gold answer only (BIG-Bench rows): the maker writes
the calls, the sandbox runs them, the task's answer checking turns them into worked examples.

A task type whose train tasks have no worked examples but have text and an answer is made in
*text mode* (as in LATM's paper, which works on exactly such tasks):

- `text_split`: the shown tasks (at most `MAX_SHOWN` train tasks) and the held-out ones (the
  validation split, else the train tasks not shown; at most `MAX_HELD_OUT`). Test tasks never.
- propose: the maker sees the shown (question, answer) pairs (`pairs_text`) and replies with
  the tool and, for each shown question, the literal call that answers it (`parse_calls`:
  read with `library.calls`, never executed in the host).
- calls: for the held-out questions (and, after a repair that changed the tool's signature,
  for every question) the maker writes the calls from the tool and the shown demonstrations
  (`demos_text`) WITHOUT seeing the answers, as LATM's wrapper would have the user do. After
  a reply with no usable call, it is asked one question at a time for the arguments as JSON
  (`calls_one_by_one`, a constrained reply where the endpoint gives one).
- verify: `ground` runs each call in the sandbox and matches the result to the gold answer
  with the task's answer checking (`maker.use.answer`: options mapped to labels, normalized
  text and numbers); a call becomes a worked example ``{"input": call's arguments,
  "expected": the tool's value when it answers the question right, else the gold answer}``,
  so `maker.check.validation.validate` fails exactly the calls that answer wrongly.

The verified shown calls are the tool's usage demonstrations (named ``usage: <question>``).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from library.calls import literal_assignment, parse_literal_call
from library.records import ToolSpec
from library.spec import derive_spec
from library.verdict import Failure, Verdict
from maker.check.validation import validate
from maker.make import Context
from maker.make.steps import (
    MAX_SHOWN,
    ask,
    ask_repair,
    best_of_drafts,
    rejection,
    retry_or_give_up,
    take_draft,
    tasks_of,
    unchanged_fix,
    unchanged_retry,
    with_records,
    with_retry_feedback,
)
from maker.prompts import format_example_texts, render
from maker.tasks import Task
from maker.text.blocks import extract_blocks, first_json_object
from maker.text.drafts import ToolDraft
from maker.text.grounding import (
    FREE_NUMBERS,
    copied_numbers,
    copyable_number,
    ground_arguments,
    ground_text,
    listed_numbers,
    number_text,
    problem_numbers,
    unread_call,
)
from maker.use.answer import answers_right
from sandbox.parsing import parse_source, parses

MAX_HELD_OUT = MAX_SHOWN
"""The most held-out questions the maker writes calls for (one prompt)."""
MAX_NAME_CHARS = 300
MAX_QUESTION_CHARS = 1000

_LABEL = r"(?:question|q)\s*\.?\s*(\d+)"
"""A question's label in a comment: ``Question 3``, ``Q.3``."""
_QUESTION = re.compile(rf"^#\s*{_LABEL}\b", re.IGNORECASE)
_CALL_LIKE = re.compile(r"^[A-Za-z_][\w.]*\s*\(")
_CALL_LABELS = ("calls", "call", "usage")


def has_gold(task: Task) -> bool:
    """Whether a task can be a text-mode row: a question and a gold answer."""
    return task.answer is not None and bool(task.text.strip())


def is_text_type(tasks: Sequence[Task]) -> bool:
    """Whether a task type is made in text mode: no train task has worked examples, and some
    train task has a question and a gold answer."""
    train = [t for t in tasks if t.split == "train"]
    return not any(t.examples for t in train) and any(has_gold(t) for t in train)


def text_split(
    tasks: Sequence[Task], max_shown: int = MAX_SHOWN, max_held_out: int = MAX_HELD_OUT
) -> tuple[list[str], list[str]]:
    """(shown, held-out) task ids of one text-mode task type.

    Shown: at most `max_shown` train tasks. Held out: validation tasks, then train tasks not
    shown, at most `max_held_out`; with no validation split about a third of the train tasks
    (at least one, when there are two or more) is held out. The test split is never used.
    """
    train = [t.id for t in tasks if t.split == "train" and has_gold(t)]
    val = [t.id for t in tasks if t.split == "validation" and has_gold(t)]
    if val or len(train) < 2:
        k = min(max_shown, len(train))
    else:
        k = min(max_shown, len(train) - max(1, len(train) // 3))
    return train[:k], (val + train[k:])[:max_held_out]


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _answer(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def pairs_text(tasks: Sequence[Task]) -> str:
    """The shown questions with their answers, numbered, for the propose prompt."""
    return "\n\n".join(
        f"Question {i}:\n{_clip(t.text, MAX_QUESTION_CHARS)}\nAnswer {i}: {_answer(t.answer)}"
        for i, t in enumerate(tasks, 1)
    )


def questions_text(tasks: Sequence[Task]) -> str:
    """Questions only (never their answers), numbered, for the calls prompt."""
    return "\n\n".join(
        f"Question {i}:\n{_clip(t.text, MAX_QUESTION_CHARS)}" for i, t in enumerate(tasks, 1)
    )


def call_text(name: str, kwargs: Mapping[str, Any]) -> str:
    """A call as the maker writes it: ``name(a=1, b='x')`` (values as Python literals)."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def demos_text(name: str, tasks: Sequence[Task], calls: Mapping[str, Mapping[str, Any]]) -> str:
    """The shown questions with the calls that answer them (the wrapper's demonstrations)."""
    parts = [
        f"Question:\n{_clip(t.text, MAX_QUESTION_CHARS)}\nCall:\n{call_text(name, calls[t.id])}"
        for t in tasks
        if t.id in calls
    ]
    return "\n\n".join(parts) or "(no demonstration)"


# -- reading calls (ast only, never evaluated) -------------------------------------------------
def _sources(text: str) -> list[tuple[str, bool]]:
    """Where the calls are, and whether other calls there are mistakes (strict): the blocks
    labelled as calls; else every Python block, the tool's too (small models append the calls
    to it), where only calls of the tool count; else the whole reply."""
    blocks = extract_blocks(text)
    labelled = [b for b in blocks if any(w in b.label.split() for w in _CALL_LABELS)]
    if labelled:
        return [(b.text, True) for b in labelled]
    if blocks:
        return [(b.text, False) for b in blocks if b.is_python or not b.lang]
    return [(text, False)]


def _strip_comment(line: str) -> str:
    """A code line without a trailing ``# comment`` (a ``#`` inside a string literal stays)."""
    quote = ""
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif quote:
            if ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i].rstrip()
    return line.rstrip()


def _statements(source: str) -> list[tuple[int | None, str]]:
    """The code statements of a calls block with the ``# Question N`` marker before each (None
    when there is none): whole statements when the block parses (a call may span lines), else
    line by line. See `_paired` for several markers in a row."""
    lines = source.splitlines()
    markers = {
        i: int(m[1]) - 1 for i, line in enumerate(lines, 1) if (m := _QUESTION.match(line.strip()))
    }
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    out: list[tuple[list[int], str]] = []
    if tree is not None:
        last = 0
        for node in tree.body:
            before = [markers[i] for i in sorted(markers) if last < i < node.lineno]
            last = node.end_lineno or node.lineno
            out.append((before, ast.get_source_segment(source, node) or ""))
        return _paired(out)
    current: list[int] = []
    for i, raw in enumerate(lines, 1):
        line = raw.strip()
        if i in markers:
            current.append(markers[i])
        if line and not line.startswith("#"):
            out.append((current, _strip_comment(line)))
            current = []
    return _paired(out)


def _paired(statements: list[tuple[list[int], str]]) -> list[tuple[int | None, str]]:
    """Each statement with its question: the last marker above it, except that a run of k
    markers (``# Question 1`` ... ``# Question 5`` with nothing between them) followed by k
    statements without markers pairs them in order, as the real 1.5B wrote its calls. A run
    followed by fewer or more statements keeps the last marker (the questions before it were
    skipped)."""
    out: list[tuple[int | None, str]] = [(m[-1] if m else None, s) for m, s in statements]
    for start, (marks, _) in enumerate(statements):
        run = 1
        while start + run < len(statements) and not statements[start + run][0]:
            run += 1
        if len(marks) > 1 and run == len(marks):
            for offset, marker in enumerate(marks):
                out[start + offset] = (marker, statements[start + offset][1])
    return out


def _call_code(code: str) -> str:
    """The call inside ``answer = f(...)`` or ``print(f(...))``; other code unchanged."""
    code = code.strip()
    if re.match(r"^[A-Za-z_]\w*\s*=[^=]", code):
        code = code.split("=", 1)[1].strip()
    m = re.fullmatch(r"print\((.*)\)", code, re.DOTALL)
    return m[1].strip() if m else code


def _uncommented(source: str, name: str) -> str:
    """`source` with each commented-out call of `name` uncommented: small models write the
    calls as comments (the real 1.5B did, for all five questions), as ``# name(...)`` or
    ``# Question N: name(...)`` (then the marker goes on a line of its own above the call),
    and sometimes with the name capitalized (``# Name(...)``)."""
    pattern = re.compile(
        rf"^(\s*)#+\s*(?:{_LABEL}\s*[:.)-]\s*)?({re.escape(name)}\s*\(.*)$",
        re.IGNORECASE,
    )

    def fix(m: re.Match[str]) -> str:
        call = name + m[3][len(name) :]  # the tool's own spelling of its name
        return f"{m[1]}# Question {m[2]}\n{m[1]}{call}" if m[2] else f"{m[1]}{call}"

    return "\n".join(pattern.sub(fix, line) for line in source.splitlines())


def _raw_string(code: str, name: str, param: str, question: str) -> dict[str, Any] | None:
    """``name(param=<text>)`` whose text is not a literal but stands in `question` verbatim or
    nearly (`ground_text`: a string argument written without quotes, as the real 1.5B wrote
    bracket sequences, once with a closer added), or a quoted one followed by one ``)`` too
    many: ``{param: text}``, else None."""
    m = re.fullmatch(rf"{re.escape(name)}\s*\(\s*(?:{re.escape(param)}\s*=\s*)?(.*)\)", code, re.S)
    raw = m[1].strip() if m else ""
    if not raw or "\n" in raw:
        return None
    closed = re.fullmatch(r"""(['"])([^'"]*)\1\s*\)+""", raw)
    if closed:  # the real 1.5B closed the call twice: f(s='({{{}}'))
        text = closed[2]
        squeezed = "".join(text.split())
        near = squeezed and squeezed in "".join(question.split()) or ground_text(text, question)
        return {param: text} if near else None
    if raw[0] in "'\"" or raw[-1] in "'\"":
        return _half_quoted(raw, param, question)
    return {param: raw} if raw in question or ground_text(raw, question) else None


def _half_quoted(raw: str, param: str, question: str) -> dict[str, Any] | None:
    """A string argument with only one of its quotes, whose text (spaces aside) stands in
    `question`: the real 1.5B wrote ``f("<((([{}])`` and ``f([[{}]>")`` for bracket sequences.
    Without its closing quote, the call's own ``)`` may be the string's last character: the
    longer reading is taken when it stands in the question."""
    quote = raw[0] if raw[0] in "'\"" else raw[-1]
    if raw.count(quote) != 1:
        return None
    body = raw[1:] if raw[0] == quote else raw[:-1]
    squeezed = "".join(question.split())
    readings = (body + ")", body) if raw[0] == quote else (body,)
    for text in readings:
        if text.strip() and "".join(text.split()) in squeezed:
            return {param: text}
    return None


def _read_calls(
    text: str,
    name: str,
    params: Sequence[str],
    count: int,
    questions: Sequence[str],
    string_param: str | None,
    *,
    uncomment: bool = False,
    list_param: str | None = None,
) -> tuple[dict[int, dict[str, Any]], dict[int, str], dict[int, list[float]]]:
    """One reading of a reply for `read_calls`: the calls by question index, the problem of
    each question whose call is unusable, and the numbers each call writes."""
    calls: dict[int, dict[str, Any]] = {}
    problems: dict[int, str] = {}
    written: dict[int, list[float]] = {}
    own_call = re.compile(rf"{re.escape(name)}\s*\(")
    nxt = 0
    for source, strict in _sources(text):
        bound: dict[str, Any] = {}  # `words = "a b"` before `f(words)` in the same block
        bound_numbers: dict[str, list[float]] = {}  # the numbers written in each binding
        carried: int | None = None  # a `# Question N` above such a binding marks the call
        for marker, statement in _statements(_uncommented(source, name) if uncomment else source):
            binding = literal_assignment(statement, names=bound, as_json=True)
            if binding is not None:
                bound[binding[0]] = binding[1]
                bound_numbers[binding[0]] = _written_numbers(statement, bound_numbers)
                carried = marker if marker is not None else carried
                continue
            marker, carried = (marker if marker is not None else carried), None
            code = _call_code(statement)
            kwargs = parse_literal_call(
                code, name, params, as_json=True, names=bound, pack=list_param
            )
            of_tool = kwargs is not None or bool(own_call.match(code))
            if not (of_tool or (strict and _CALL_LIKE.match(code))):
                continue  # prose, other code, or (outside a calls block) another call
            index = marker if marker is not None else nxt
            nxt = index + 1
            if not 0 <= index < count or index in calls:
                continue
            if kwargs is None and string_param and index < len(questions):
                kwargs = _raw_string(code, name, string_param, questions[index])
            if isinstance(kwargs, dict):
                calls[index] = kwargs
                written[index] = _written_numbers(code, bound_numbers)
                problems.pop(index, None)
            elif kwargs is None:
                usage = f"{name}({', '.join(f'{p}=...' for p in params)})"
                problems[index] = (
                    f"`{_clip(code, 80)}` is not a call of {name}; call it as {usage}"
                    if parses(code.strip(), mode="eval")
                    else f"`{_clip(code, 80)}` is not valid Python; call it as {usage}, each "
                    "value a literal (text in quotes)"
                )
            else:
                problems[index] = f"`{_clip(code, 80)}`: {kwargs}"
    return calls, problems, written


def _written_numbers(code: str, bound_numbers: Mapping[str, list[float]]) -> list[float]:
    """The numbers written in a call or binding (its number literals, and those of the bindings
    whose names it uses): ``f(a=21.73 - 18.27)`` writes 21.73 and 18.27, the question's own
    numbers, though the tool is passed 3.46."""
    try:
        tree = parse_source(code.strip(), mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    out: list[float] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            out.append(float(node.value))
        elif isinstance(node, ast.Name):
            out.extend(bound_numbers.get(node.id, ()))
    return out


LIST_HINT = re.compile(r"(list|List|Sequence|tuple|Tuple)\b")


def list_param(draft: ToolDraft) -> str | None:
    """The one parameter of a tool that takes a list (its type hint a list, sequence or
    tuple), or None."""
    if len(draft.params) == 1 and LIST_HINT.match(draft.params[0][1] or ""):
        return draft.params[0][0]
    return None


def parse_calls(
    text: str, name: str, params: Sequence[str], count: int, **options: Any
) -> tuple[dict[int, dict[str, Any]], list[str]]:
    """The calls of tool `name` in a reply, by question index (0-based, below `count`), and a
    one-line problem for each question without a usable call: `read_calls` (which takes the
    same ``options``) without the numbers each call writes."""
    found = read_calls(text, name, params, count, **options)
    return found.calls, found.problems


class ReadCalls(NamedTuple):
    """What `read_calls` found: the calls by question index, the problem of each question
    without a usable call, and the numbers written in each call (`_written_numbers`)."""

    calls: dict[int, dict[str, Any]]
    problems: list[str]
    written: dict[int, list[float]]


def read_calls(
    text: str,
    name: str,
    params: Sequence[str],
    count: int,
    *,
    questions: Sequence[str] = (),
    string_param: str | None = None,
    list_param: str | None = None,
) -> ReadCalls:
    """The calls of tool `name` in a reply, by question index (0-based, below `count`), a
    one-line problem for each question without a usable call, and the numbers each call
    writes (so a call that computes its argument from the question's numbers reads them).

    A ``# Question N`` comment names the question of the call after it; calls without one
    take the next question in order. Calls are read from the blocks labelled ``calls`` (any
    other call there is a mistake), else from every Python block (only calls of `name`).
    Values must be literals (JSON-plain: tuples become lists) or constant arithmetic on numbers
    (``a=21.73 - 18.27``, ``45 * math.pi``, computed from its syntax tree; nothing else is
    evaluated); positional arguments map to `params` in order. Read tolerantly: calls written
    as comments (``# name(...)``, ``# Question N: name(...)``, the name's case aside) when the
    reply has no other call, and, for a tool whose one parameter `string_param` is a ``str``, an
    unquoted argument that stands in the question (``questions[i]``) verbatim or nearly; for a
    tool whose one parameter `list_param` is a list, positional arguments are that list (the
    real 1.5B called a tool it wrote with ``*args`` as ``f("quail", "owl", ...)``).
    """
    calls, problems, written = _read_calls(
        text, name, params, count, questions, string_param, list_param=list_param
    )
    if not calls:  # commented-out calls are read only from a reply with no other call
        calls, later, written = _read_calls(
            text,
            name,
            params,
            count,
            questions,
            string_param,
            uncomment=True,
            list_param=list_param,
        )
        problems = {i: p for i, p in {**later, **problems}.items() if i not in calls}
    out = [
        f"question {i + 1}: {problems.get(i, 'no call given')}"
        for i in range(count)
        if i not in calls
    ]
    return ReadCalls(calls, out, written)


def copied_right(
    calls: Mapping[int, Mapping[str, Any]], tasks: Sequence[Task]
) -> dict[int, dict[str, Any]]:
    """The calls (by question index) with near-copied strings replaced by the exact spans of
    their questions (`maker.text.grounding`: a word list with one word misspelt by the maker
    still gives the tool the question's words, so a right tool is not failed for a bad copy)."""
    return {i: ground_arguments(kw, tasks[i].text)[0] for i, kw in calls.items()}


def read_their_numbers(
    calls: Mapping[int, Mapping[str, Any]],
    tasks: Sequence[Task],
    written: Mapping[int, Sequence[float]] | None = None,
) -> tuple[dict[int, dict[str, Any]], list[str]]:
    """The calls (by question index) that read their question's numbers, and a problem line
    for each call that reads none of them (`maker.text.grounding.unread_call`): run on numbers
    of its own making, a right tool would be judged wrong against the question's answer. A
    call also reads the numbers it writes (``written``, from `read_calls`): ``a=21.73 - 18.27``
    passes 3.46 but reads the question's 21.73 and 18.27."""
    kept: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    for i, kwargs in calls.items():
        unread = unread_call(kwargs, tasks[i].text)
        numbers = list((written or {}).get(i) or ())
        if unread and any(n not in FREE_NUMBERS for n in numbers):
            unread = unread_call({"written": numbers}, tasks[i].text)
        copied = copied_numbers(kwargs, tasks[i].text, format_example_numbers())
        if len(copied) < 2:  # one may be worked out (12 inches in a foot); two are the example's
            copied = []
        if not unread and not copied:
            kept[i] = dict(kwargs)
            continue
        stated = listed_numbers(problem_numbers(tasks[i].text))
        passes = (
            f"{listed_numbers(unread, 8)},"
            if unread
            else f"{', '.join(copied)}, the numbers of the reply format's example,"
        )
        problems.append(
            f"question {i + 1}: the call passes {passes} which question {i + 1} does not "
            f"state (its numbers: {stated or 'none'}); take each argument from the question's "
            "own text"
        )
    return kept, problems


@functools.cache
def format_example_numbers() -> frozenset[str]:
    """The distinctive numbers (`copyable_number`, as `number_text`) in the Python code of the
    prompts' format examples (the ``gcd`` example's tests and calls: 12, 18, 45, 27). The real
    1.5B called a Chinese-remainder tool it wrote as ``f(a=12, b=18, c=9)`` for a question
    about 5, 107 and 179 with 2, 28 and 9 left, and a Precalculus tool with 45, 27 and 18: a
    call that also passes one of its question's numbers is otherwise kept. Two of them make a
    copy (`read_their_numbers`); one alone may be worked out (12 inches in a foot)."""
    return frozenset(
        number_text(n)
        for text in format_example_texts()
        for block in extract_blocks(text)
        if block.is_python
        for n in problem_numbers(block.text)
        if copyable_number(n)
    )


def _question_order(problem: str) -> int:
    m = re.match(r"question (\d+):", problem)
    return int(m[1]) if m else 0


# -- grounding: the calls run in the sandbox, matched to the gold answers ----------------------
def ground(
    ctx: Context,
    draft: ToolDraft,
    tasks: Sequence[Task],
    calls: Mapping[str, Mapping[str, Any]],
    *,
    usage: bool,
) -> list[dict[str, Any]]:
    """Worked examples from the calls of `tasks` (those with a call): each is run in the
    sandbox; ``expected`` is the tool's value when it answers the question right, else the
    gold answer (so the check fails). `usage` names each by its question (``usage: ...``) and
    keeps the question (``"question"``: `maker.use.prompt.example_calls` shows the pair)."""
    out: list[dict[str, Any]] = []
    for task in tasks:
        if task.id not in calls:
            continue
        kwargs = dict(calls[task.id])
        result = ctx.sandbox.run(draft.source, draft.name, kwargs=kwargs)
        right = result.ok and answers_right(result.value, task)
        label = f"usage: {' '.join(task.text.split())}" if usage else f"task: {task.id}"
        example = {
            "input": kwargs,
            "expected": result.value if right else task.answer,
            "name": _clip(label, MAX_NAME_CHARS),
        }
        if usage:  # the problem it answers: the tool user is shown problem -> call pairs
            example["question"] = _clip(" ".join(task.text.split()), MAX_QUESTION_CHARS)
        out.append(example)
    return out


# -- nodes ------------------------------------------------------------------------------------
def tasks_by_ids(state: dict[str, Any], ids: Sequence[str]) -> list[Task]:
    """The state's tasks with these ids, in this order."""
    by_id = {t.id: t for t in tasks_of(state)}
    return [by_id[i] for i in ids if i in by_id]


def signature(draft: ToolDraft) -> list[Any]:
    """What the calls depend on: the tool's name and parameter names."""
    return [draft.name, [n for n, _ in draft.params]]


def propose(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Text mode: ask for the tool and the call that answers each shown question."""
    shown = tasks_by_ids(state, state["shown_ids"])
    messages = render(
        "latm_propose_text",
        policy=ctx.sandbox.policy,
        task=state["type"],
        examples=pairs_text(shown),
    )
    messages = with_retry_feedback(messages, state, "propose")

    def attempt(state: Mapping[str, Any], sample: int) -> dict[str, Any]:
        text, usage = ask(ctx, state.get("usage"), messages, "propose", sample)
        update = take_draft(state, ctx, text, "propose", on_ok="calls", usage=usage)
        if update.get("next") != "calls":
            return update
        draft = ToolDraft.from_json(update["draft"])
        return update | take_calls(
            dict(state),
            ctx,
            draft,
            text,
            shown,
            "propose",
            on_ok="calls",
            known={},
            on_none="calls",
        )

    def score(update: dict[str, Any]) -> Verdict:
        """The draft on the shown questions it wrote calls for (a question without one
        counts as failed)."""
        draft = ToolDraft.from_json(update["draft"])
        calls = update.get("calls") or {}
        examples = ground(ctx, draft, shown, calls, usage=False)
        missing = [t for t in shown if t.id not in calls]
        verdict = validate(
            ctx.sandbox,
            draft,
            examples=examples,
            max_examples=ctx.options.max_examples,
            robustness=False,
            memo=ctx.memo,
        )
        lost = tuple(
            Failure("example", f"task: {t.id}", "no call was written for this question")
            for t in missing
        )
        return dataclasses.replace(
            verdict, passed=verdict.passed and not lost, failures=verdict.failures + lost
        )

    return best_of_drafts(state, ctx, "propose", attempt, score, on_ok="calls")


CALLS_INSTRUCTION = (
    "Reply again with the whole answer in the format asked for above, with one "
    "`# Question N` comment and one call with literal keyword arguments for "
    "every question, changing what the message says is wrong."
)


def take_calls(
    state: dict[str, Any],
    ctx: Context,
    draft: ToolDraft,
    text: str,
    tasks: Sequence[Task],
    phase: str,
    *,
    on_ok: str,
    known: dict[str, Any],
    on_none: str | None = None,
) -> dict[str, Any]:
    """Read the calls for `tasks` from a reply into the state (added to `known`); with none
    usable, retry `phase` (bounded) or reject the unit. Unusable ones are recorded.

    ``on_none``: the step to go on to when the reply writes no call at all (rather than calls
    that cannot be used), such as a tool reply cut off by the token limit before its calls (the
    real 1.5B's dyck proposals ran to 1,024 tokens three times): asking for the whole reply
    again would be cut off again; the calls step asks for the calls alone."""
    names = [n for n, _ in draft.params]
    string_param = names[0] if len(draft.params) == 1 and draft.params[0][1] == "str" else None
    found = read_calls(
        text,
        draft.name,
        names,
        len(tasks),
        questions=[t.text for t in tasks],
        string_param=string_param,
        list_param=list_param(draft),
    )
    return settle_calls(
        state, ctx, draft, found, tasks, phase, text, on_ok=on_ok, known=known, on_none=on_none
    )


def settle_calls(
    state: dict[str, Any],
    ctx: Context,
    draft: ToolDraft,
    found: ReadCalls,
    tasks: Sequence[Task],
    phase: str,
    reply: str,
    *,
    on_ok: str,
    known: dict[str, Any],
    on_none: str | None = None,
) -> dict[str, Any]:
    """The state update for the calls `found` for `tasks` (see `take_calls`): near-copied
    strings taken from their questions, calls that read none of their question's numbers set
    aside, the usable ones added to `known`; with none usable, `phase` again (bounded) or the
    unit rejected. ``reply``: the reply shown back when `phase` is asked again."""
    calls = copied_right(found.calls, tasks)
    calls, unread = read_their_numbers(calls, tasks, found.written)
    problems = sorted(found.problems + unread, key=_question_order)
    if not calls and on_none and all(p.endswith(": no call given") for p in problems):
        message = "; ".join(problems)[:1_000] + "; asking for the calls alone"
        return {
            "calls": dict(known),
            "call_sig": signature(draft),
            "next": on_none,
            "last_reply": None,
            "rejections": [rejection(state, phase, "no_call", message, source=draft.source)],
        }
    if not calls:
        return retry_or_give_up(
            state,
            ctx,
            phase,
            "; ".join(problems)[:1_000],
            reply,
            reason="no_call",
            instruction=CALLS_INSTRUCTION,
            source=draft.source,
        )
    merged = {**known, **{tasks[i].id: kwargs for i, kwargs in calls.items()}}
    out: dict[str, Any] = {
        "calls": merged,
        "call_sig": signature(draft),
        "next": on_ok,
        "last_reply": None,
    }
    if problems:
        out["rejections"] = [
            rejection(state, phase, "bad_call", "; ".join(problems), source=draft.source)
        ]
    return out


def arguments_schema(draft: ToolDraft) -> dict[str, Any]:
    """The JSON schema of the tool's keyword arguments, from its type hints (`derive_spec`);
    for hints without a schema, an object with the parameter names as its required keys. A
    list or string argument holds at least one item (`non_empty`)."""
    spec = derive_spec(draft.source, draft.name)
    names = [n for n, _ in draft.params]
    if isinstance(spec, ToolSpec):
        schema = spec.input_schema()
    else:
        schema = {"type": "object", "properties": {n: {} for n in names}}
        schema |= {"required": names, "additionalProperties": False}
    props = {n: non_empty(p) for n, p in schema["properties"].items()}
    return {**schema, "properties": props}


def non_empty(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A parameter's schema with an empty list or string ruled out: the real 1.5B, its
    replies constrained to a CRT tool's ``congruences: list[list[int]]``, sent
    ``{"congruences": [ ]}`` for 5 of 5 questions (the shortest reply the grammar allowed)."""
    out = dict(schema)
    if out.get("type") == "array" and "minItems" not in out:
        out["minItems"] = 1
    if out.get("type") == "string" and "minLength" not in out:
        out["minLength"] = 1
    return out


def demos_json(name: str, tasks: Sequence[Task], calls: Mapping[str, Mapping[str, Any]]) -> str:
    """The shown questions with the arguments (JSON) of the calls that answer them."""
    parts = [
        f"Question:\n{_clip(t.text, MAX_QUESTION_CHARS)}\nArguments of {name}:\n"
        f"{json.dumps(dict(calls[t.id]), ensure_ascii=False)}"
        for t in tasks
        if t.id in calls
    ]
    return "\n\n".join(parts) or "(no demonstration)"


def read_arguments(
    text: str, names: Sequence[str], required: Sequence[str] | None = None
) -> dict[str, Any] | str:
    """The keyword arguments in a one-question calls reply (a JSON object of the parameters,
    or one wrapping them under ``"arguments"``), or the problem with the reply. ``required``:
    the parameters it must give (default: all of `names`; one with a default may be left out)."""
    data = first_json_object(text)
    if data is None:
        return "the reply is not a JSON object of the arguments"
    inner = data.get("arguments")
    if set(data) == {"arguments"} and isinstance(inner, dict):
        data = inner
    missing = [n for n in (names if required is None else required) if n not in data]
    extra = [k for k in data if k not in names]
    if missing or extra:
        parts = [f"missing {', '.join(missing)}" if missing else ""]
        parts.append(f"unknown {', '.join(map(repr, extra))}" if extra else "")
        return f"the arguments do not fit the tool ({'; '.join(p for p in parts if p)})"
    empty = [n for n in names if data.get(n, None) in ("", [])]
    if empty:
        return f"{', '.join(empty)} empty: take each argument from the question's own text"
    return {n: data[n] for n in names if n in data}


def calls_one_by_one(
    state: dict[str, Any],
    ctx: Context,
    draft: ToolDraft,
    pending: Sequence[Task],
    known: dict[str, Any],
    sample: int,
) -> dict[str, Any]:
    """The calls step asked again after a reply with no usable call: one question per prompt,
    its arguments asked for as a JSON object matching the tool's parameters
    (`arguments_schema`; a constrained reply where the endpoint gives one).

    The real 1.5B maker, asked for the calls of 5 to 7 questions in one reply, sent back only
    the ``# Question N`` lines, or prose (``no call given`` for every question), on 9 of its 17
    task types in the engine's LATM run, three times running on 4: asking the same again got
    the same. A reply's form is fixed by the constraint; a question alone is a smaller task."""
    names = [n for n, _ in draft.params]
    schema = arguments_schema(draft)
    required = [n for n in schema.get("required", names) if n in names]
    demos = demos_json(draft.name, tasks_by_ids(state, state["shown_ids"]), known)
    usage = state.get("usage")
    calls: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    replies: list[str] = []
    for i, task in enumerate(pending):
        messages = render(
            "latm_call_one",
            policy=ctx.sandbox.policy,
            source=draft.source,
            examples=demos,
            name=draft.name,
            params=", ".join(f'"{n}"' for n in names),
            question=_clip(task.text, MAX_QUESTION_CHARS),
        )
        text, usage = ask(ctx, usage, messages, "calls", sample, schema=schema)
        replies.append(f"# Question {i + 1}\n{text.strip()}")
        arguments = read_arguments(text, names, required)
        if isinstance(arguments, str):
            problems.append(f"question {i + 1}: {arguments}")
        else:
            calls[i] = arguments
    found = ReadCalls(calls, problems, {})
    reply = "\n".join(replies)
    return {"usage": usage} | settle_calls(
        state, ctx, draft, found, pending, "calls", reply, on_ok="verify", known=known
    )


def calls(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Text mode: ask for the calls of the questions without one (held out: answers never
    shown), from the tool and the shown demonstrations."""
    draft = ToolDraft.from_json(state["draft"])
    known = dict(state.get("calls") or {})
    ids = [i for i in [*state["shown_ids"], *state["held_ids"]] if i not in known]
    pending = tasks_by_ids(state, ids)
    if not pending:
        return {"next": "verify"}
    demos = demos_text(draft.name, tasks_by_ids(state, state["shown_ids"]), known)
    messages = render(
        "latm_calls",
        policy=ctx.sandbox.policy,
        source=draft.source,
        examples=demos,
        problem=questions_text(pending),
        name=draft.name,
    )
    sample = (state.get("retries") or {}).get("calls", 0)
    if sample:  # the last calls reply had no usable call
        return calls_one_by_one(state, ctx, draft, pending, known, sample - 1)
    messages = with_retry_feedback(messages, state, "calls")
    text, usage = ask(ctx, state.get("usage"), messages, "calls", sample)
    return {"usage": usage} | take_calls(
        state, ctx, draft, text, pending, "calls", on_ok="verify", known=known
    )


REPAIR_NOTE = (
    "Each example above is a question answered by calling the tool as written for it. If an "
    "example fails because its call does not copy its question right (a misspelled word, a "
    "missing or extra value), the call is wrong, not the tool: then also give the corrected "
    "calls in a block tagged `python calls`, with `# Question N` numbered as here."
)


def repair_note(state: dict[str, Any]) -> str:
    """The shown questions, numbered, with the calls written for them (for the repair prompt:
    a failing shown example may be a miscopied call rather than a wrong tool)."""
    name = (state.get("call_sig") or ["tool"])[0]
    known = state.get("calls") or {}
    parts = [
        f"Question {i}: {_clip(' '.join(t.text.split()), MAX_NAME_CHARS)}\n"
        f"Call: {call_text(name, known[t.id])}"
        for i, t in enumerate(tasks_by_ids(state, state["shown_ids"]), 1)
        if t.id in known
    ]
    return f"\n\n{REPAIR_NOTE}\n\n" + "\n\n".join(parts) if parts else ""


def repair(state: dict[str, Any], ctx: Context, task: str) -> dict[str, Any]:
    """Text mode's repair: the failing checks and the shown questions with their calls go back
    with the tool; the reply's corrected calls (if any) replace the shown ones. A draft whose
    name or parameters changed gets every call written again (node ``calls``)."""
    text, usage, set_aside = ask_repair(state, ctx, task + repair_note(state))
    update = with_records(
        take_draft(
            state,
            ctx,
            text,
            "repair",
            on_ok="verify",
            usage=usage,
            count_repair=True,
            refuse_unchanged=False,
        ),
        set_aside,
    )
    if update.get("next") != "verify":
        return update
    draft = ToolDraft.from_json(update["draft"])
    if signature(draft) != state.get("call_sig"):
        return update | {"next": "calls", "calls": {}, "call_sig": signature(draft)}
    shown = tasks_by_ids(state, state["shown_ids"])
    fixed, _ = parse_calls(
        text, draft.name, [n for n, _ in draft.params], len(shown), list_param=list_param(draft)
    )
    fixed = copied_right(fixed, shown)
    if not fixed and unchanged_fix(state, draft):  # neither the tool nor a call changed
        kept = {k: update[k] for k in ("usage", "repairs")}  # not the draft: it failed
        return kept | unchanged_retry(state, ctx, "repair", text, draft, "propose")
    if fixed:
        calls = {**(state.get("calls") or {}), **{shown[i].id: kw for i, kw in fixed.items()}}
        update["calls"] = calls
    return update


__all__ = [
    "MAX_HELD_OUT",
    "answers_right",
    "call_text",
    "calls",
    "copied_right",
    "demos_text",
    "ground",
    "has_gold",
    "is_text_type",
    "pairs_text",
    "parse_calls",
    "propose",
    "questions_text",
    "repair",
    "repair_note",
    "signature",
    "take_calls",
    "tasks_by_ids",
    "text_split",
]
