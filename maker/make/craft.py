"""CRAFT (Yuan et al., 2024): solve training problems with code, keep the verified solutions,
abstract them into generic tools, validate, de-duplicate against the library, publish.

One unit per task type. The graph::

    solve ──▶ solve ... ──▶ abstract ──▶ verify ──▶ publish ──▶ abstract (next group) | END
    (one train problem       ▲ │          │  ▲
     per step)               └─┘          ▼  │ (failed, repairs left)
                      (unparseable,     repair
                       bounded retries)

- solve: each train-split problem with a gold answer gets a program ``solution()`` (prompt
  ``craft_solve``, phase ``solve``), run in the sandbox and kept only if it returns the gold
  answer (under the task's answer checking, `maker.use.answer`: options mapped to labels,
  normalized text and numbers, so ``14687`` answers a gold ``"14687"``; the verified answer
  kept is the program's value); the others are dropped with the reason (wrong answer, error, unparseable). With
  ``Options.solve_samples`` > 1 a program that failed or missed is followed by a new sample
  that sees its program and what it returned (never the gold answer), up to that many programs
  per problem.
- abstract: the verified solutions, grouped by method (`group_solutions`: what their programs
  call and compute, never their data; at most `MAX_SHOWN` per group and `MAX_GROUPS` groups),
  go to the maker (prompt ``craft_abstract``, phase ``abstract``) for one generic tool per
  group, with unit tests that re-solve the group's problems.
- verify: `maker.check.validation.validate` in the sandbox: the unit tests, properties and generality
  checks (the source problems' text for hard-coded constants), the worked examples of every
  task of the type as held-out cases (never shown to the maker), and a source check: the unit
  tests must state each source problem's gold answer (they re-solve the source problems).
- repair: as in LATM (phase ``repair``).
- publish: idempotent by content hash; de-duplicated against the library by AST hash (the store)
  and by behaviour (`library.fingerprint.FingerprintIndex`, when present): a tool that behaves
  like an existing one is merged into it (outcome ``merged``) instead of stored twice.

The unit is accepted when at least one tool was published (or already in the library).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, TypedDict

from library.calls import parse_literal_call
from library.lexical import tokenize
from library.verdict import Failure, Verdict, verdict_from
from maker.check.validation import validate
from maker.make import Context
from maker.make.latm_text import MAX_NAME_CHARS, MAX_QUESTION_CHARS
from maker.make.steps import (
    ACCEPTED_OUTCOMES,
    MAX_SHOWN,
    TypeStrategy,
    ask,
    base_state,
    judge,
    last_reply,
    publish_draft,
    rejection,
    repair_step,
    retry_or_give_up,
    step_sample,
    stored_suite,
    take_draft,
    tasks_of,
    type_text,
    with_retry_feedback,
)
from maker.prompts import render
from maker.tasks import Task
from maker.text.blocks import extract_blocks
from maker.text.clip import clip
from maker.text.drafts import Rejection, ToolDraft, parse_reply
from maker.use.answer import final_answer, is_correct
from sandbox import RunResult
from sandbox.parsing import parse_source
from sandbox.values import values_equal

NAME = "craft"
PROMPTS = ("craft_solve", "craft_abstract", "repair", "craft_calls")
SOLUTION_ENTRY = "solution"


class CraftState(TypedDict, total=False):
    """The graph state: JSON values only."""

    type: str
    tasks: list[dict[str, Any]]
    queue: list[str]  # train task ids still to solve
    attempts: dict[str, int]  # per task id: replies re-asked after a parse failure
    missed: dict[str, Any] | None  # the current problem's last program that missed the gold
    # answer: task_id, tries (programs so far that missed), source, observation
    solutions: list[dict[str, Any]]  # {"task_id", "problem", "source", "answer"}
    groups: list[list[int]]  # indexes into solutions, one tool per group
    group: int
    next: str
    status: str  # running | accepted | rejected
    reason: str
    draft: dict[str, Any] | None
    verdict: dict[str, Any] | None
    retries: dict[str, int]
    restarts: int  # 1 once a repair that sent the tool back unchanged started over
    fresh: int  # fresh starts of the current group so far (Options.fresh_starts)
    repairs: int
    tools: list[dict[str, Any]]
    rejections: Annotated[list[dict[str, Any]], operator.add]
    usage: dict[str, Any]
    last_reply: dict[str, Any] | None  # an unusable reply, shown when its phase asks again
    calls_asked: str  # the draft's source whose source-problem calls were asked for


def initial_state(kind: str, tasks: list[Task]) -> dict[str, Any]:
    queue = [t.id for t in tasks if t.has_gold]
    return {
        **base_state(kind, tasks, "solve"),
        "queue": queue,
        "attempts": {},
        "solutions": [],
        "groups": [],
        "group": 0,
    }


def _task(state: dict[str, Any], task_id: str) -> Task:
    return Task.from_json(next(t for t in state["tasks"] if t["id"] == task_id))


def held_out_examples(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The worked examples of every train and validation task of the type (test split aside)."""
    return [e.to_json() for t in tasks_of(state) if t.split != "test" for e in t.examples]


METHOD_SIMILARITY = 0.35
"""The least share of method features (`method_features`) two verified solutions must share to
be abstracted into one tool."""

MAX_GROUPS = 5
"""The most abstractions (tools tried) per task type; the largest groups go first."""


SHAPES = (
    ast.For,
    ast.While,
    ast.If,
    ast.Try,
    ast.comprehension,
    ast.Compare,
    ast.Subscript,
    ast.Dict,
    ast.List,
    ast.Tuple,
)
"""The control flow and containers a method feature names (not statements every program has)."""


def method_features(source: str) -> frozenset[str]:
    """What a solution program does, with its data left out: the functions and methods it
    calls, its operators, its control flow and containers, and the words of its names (never
    its constants). Two programs that sort, or that take a median, share most of them whatever
    the table or the words they work on."""
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if name:
                out.add(f"call:{name}")
        elif isinstance(node, ast.BinOp | ast.AugAssign):
            out.add(f"op:{type(node.op).__name__}")
        elif isinstance(node, ast.Name):
            out.update(f"name:{t}" for t in tokenize(node.id))
        elif isinstance(node, SHAPES):
            out.add(f"node:{type(node).__name__}")
    return frozenset(out)


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def group_solutions(
    sources: Sequence[str],
    size: int = MAX_SHOWN,
    *,
    min_similarity: float = METHOD_SIMILARITY,
    max_groups: int = MAX_GROUPS,
) -> list[list[int]]:
    """Indexes of verified solutions grouped by method, one abstraction per group: each group
    starts at the first solution not yet grouped and takes the (at most ``size - 1``) most
    similar others that share `min_similarity` of its method features (`method_features`).
    Largest groups first, at most `max_groups`. A task type is not always one task: TabMWP's
    "integer answer" holds medians, differences and products, and one tool asked to re-solve
    five of them at once solves none."""
    feats = [method_features(s) for s in sources]
    left = list(range(len(sources)))
    groups: list[list[int]] = []
    while left:
        seed = left.pop(0)
        near = sorted((-_similarity(feats[seed], feats[j]), j) for j in left)
        members = [j for sim, j in near[: max(size - 1, 0)] if -sim >= min_similarity]
        left = [j for j in left if j not in members]
        groups.append([seed, *sorted(members)])
    groups.sort(key=lambda g: (-len(g), g[0]))
    return groups[:max_groups]


def format_solutions(solutions: Sequence[dict[str, Any]]) -> str:
    """Verified solutions as the abstraction prompt shows them: problem, program, answer."""
    parts = []
    for i, s in enumerate(solutions, 1):
        parts.append(
            f"Solution {i}.\nProblem: {s['problem']}\n\n```python\n"
            f"{s['source'].rstrip()}\n```\nAnswer (verified): {s['answer']!r}"
        )
    return "\n\n".join(parts)


def _group(state: dict[str, Any]) -> list[dict[str, Any]]:
    groups = state.get("groups") or []
    idx = state.get("group", 0)
    return [state["solutions"][i] for i in groups[idx]] if idx < len(groups) else []


# -- solving ---------------------------------------------------------------------------------
def solve(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Solve the next train problem with a program; keep it only if it returns the gold answer."""
    queue = list(state.get("queue") or [])
    if not queue:
        return _after_solving(state, [], {})
    task = _task(state, queue[0])
    attempts = dict(state.get("attempts") or {})
    used = attempts.get(task.id, 0)
    last = state.get("missed") or {}
    missed = last.get("tries", 0) if last.get("task_id") == task.id else 0
    messages = render("craft_solve", policy=ctx.sandbox.policy, problem=task.text)
    if missed:  # a new sample that sees the last miss
        messages += [
            {"role": "assistant", "content": f"```python solution\n{last['source']}```"},
            {
                "role": "user",
                "content": f"{last['observation']}\n\nFind the mistake "
                "and reply with a corrected `python solution` block.",
            },
        ]
    if (state.get("last_reply") or {}).get("task_id") == task.id:
        messages = with_retry_feedback(messages, state, "solve")
    text, usage = ask(ctx, state.get("usage"), messages, "solve", used + missed)
    parsed = parse_reply(text, policy=ctx.sandbox.policy, entry=SOLUTION_ENTRY, program=True)
    update: dict[str, Any] = {"usage": usage, "last_reply": None}
    if isinstance(parsed, Rejection):
        record = rejection(state, "solve", f"solve:{parsed.reason}", str(parsed), task_id=task.id)
        if parsed.recoverable and used < ctx.options.max_retries:
            attempts[task.id] = used + 1
            retry = {**last_reply("solve", text, parsed.message), "task_id": task.id}
            return update | {
                "attempts": attempts,
                "next": "solve",
                "rejections": [record],
                "last_reply": retry,
            }
        return update | _after_solving({**state, "queue": queue[1:]}, [record], {})
    value, checked = run_solution(ctx, parsed, task)
    if isinstance(checked, dict):  # dropped: the reason; sampled again while allowed
        record = rejection(
            state,
            "solve",
            checked["reason"],
            checked["message"],
            source=parsed.source,
            task_id=task.id,
        )
        if missed + 1 < ctx.options.solve_samples:
            last = {
                "task_id": task.id,
                "tries": missed + 1,
                "source": parsed.source,
                "observation": checked["observation"],
            }
            return update | {"missed": last, "next": "solve", "rejections": [record]}
        return update | _after_solving({**state, "queue": queue[1:]}, [record], {})
    solution = {"task_id": task.id, "problem": task.text, "source": parsed.source, "answer": value}
    return update | _after_solving({**state, "queue": queue[1:]}, [], solution)


def check_solution(ctx: Context, draft: ToolDraft, task: Task) -> dict[str, str] | None:
    """Run ``solution()`` in the sandbox: None when it answers the task right (see
    `run_solution`), else ``{"reason", "message", "observation"}``: the message (for the
    record) names the gold answer; the observation (for a new sample) shows only what the
    program did, as quoted data."""
    return run_solution(ctx, draft, task)[1]


def run_solution(ctx: Context, draft: ToolDraft, task: Task) -> tuple[Any, dict[str, str] | None]:
    """(the program's value, None) when ``solution()`` answers the task right under its answer
    checking (`maker.use.answer`), else (None, why; see `check_solution`)."""
    if draft.params:
        message = f"solution() must take no arguments, it takes {draft.signature}"
        return None, {
            "reason": "solve:bad_signature",
            "message": message,
            "observation": f"The program's {message}.",
        }
    result = ctx.sandbox.run(draft.source, draft.name, kwargs={})
    if not result.ok:
        return None, {
            "reason": "solve:error",
            "message": f"the program failed: {result.error}",
            "observation": f"The program failed:\n{result.as_observation()}",
        }
    answer = final_answer(result.value, task.text, task.metadata)
    if not is_correct(answer, task.answer, task.metadata):
        return None, {
            "reason": "solve:wrong_answer",
            "message": f"returned {result.value!r:.200}, the gold answer is {task.answer!r:.200}",
            "observation": "The program ran, but its answer is not correct. It "
            f"returned:\n{result.as_observation()}",
        }
    return result.value, None


def _after_solving(
    state: dict[str, Any], records: list[dict[str, Any]], solution: dict[str, Any]
) -> dict[str, Any]:
    solutions = list(state.get("solutions") or []) + ([solution] if solution else [])
    update: dict[str, Any] = {
        "queue": state.get("queue") or [],
        "solutions": solutions,
        "rejections": records,
    }
    if update["queue"]:
        return update | {"next": "solve"}
    if not solutions:
        return update | {
            "next": "end",
            "status": "rejected",
            "reason": "solve:no_verified_solutions: no train problem with a gold "
            "answer was solved by a program that reproduces it",
        }
    groups = group_solutions([s["source"] for s in solutions])
    return update | {"next": "abstract", "groups": groups, "group": 0}


# -- abstraction, verification, repair, publishing -------------------------------------------
def abstract(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Ask for one generic tool that solves the current group of verified solutions."""
    sample = step_sample(state, "abstract") + 10 * state.get("group", 0)
    messages = render(
        "craft_abstract",
        policy=ctx.sandbox.policy,
        task=type_text(state["type"], tasks_of(state)),
        solutions=format_solutions(_group(state)),
    )
    messages = with_retry_feedback(messages, state, "abstract")
    text, usage = ask(ctx, state.get("usage"), messages, "abstract", sample)
    update = take_draft(state, ctx, text, "abstract", on_ok="verify", usage=usage)
    draft = update.get("draft")
    if isinstance(draft, dict) and draft.get("name") == SOLUTION_ENTRY:
        # the real 1.5B kept the one-off program's name for a general tool
        update = {"usage": usage} | retry_or_give_up(
            state, ctx, "abstract", ONE_OFF_NAME, text, reason="one_off_name"
        )
    return _next_group(state, update)


ONE_OFF_NAME = (
    f"the tool is named `{SOLUTION_ENTRY}`, the name of a one-off program; a tool is reused by "
    "name, so name it after what it computes, in snake_case"
)


def source_failures(draft: ToolDraft, solutions: Sequence[dict[str, Any]]) -> list[Failure]:
    """Source problems whose gold answer the unit tests never state (they must re-solve them)."""
    missing = missing_sources(draft, solutions)
    if not missing:
        return []
    lines = "\n".join(
        f"    assert {draft.name}(...) == {s['answer']!r:.40}  # {clip(s['problem'], 100)}"
        for s in missing[:3]
    )
    return [
        Failure(
            "unit",
            "source_problems",
            f"the unit tests do not re-solve {len(missing)} source problem(s) by "
            "calling the tool and checking the verified answer; add a test with one line per "
            "problem, the call with that problem's values in place of `...`:\n" + lines,
        )
    ]


def missing_sources(draft: ToolDraft, solutions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The source problems whose verified answer the draft's unit tests never state."""
    literals = _test_literals(draft.unit_tests) or []
    return [s for s in solutions if not any(values_equal(v, s["answer"]) for v in literals)]


def _test_literals(source: str) -> list[Any] | None:
    try:
        tree = parse_source(source or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    out: list[Any] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant | ast.UnaryOp | ast.List | ast.Tuple | ast.Dict):
            try:
                out.append(ast.literal_eval(node))
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                continue
    return out


def _asserted_calls(source: str, entry: str) -> list[tuple[ast.Call, Any]]:
    """``(call, value)`` of each ``assert entry(...) == value`` (either side) in `source`, where
    value is a literal."""
    try:
        tree = parse_source(source or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    out: list[tuple[ast.Call, Any]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)):
            continue
        test = node.test
        if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
            continue
        for call, other in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == entry
            ):
                continue
            try:
                out.append((call, ast.literal_eval(other)))
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                pass
    return out


def _run_asserted(ctx: Context, draft: ToolDraft, call: ast.Call) -> tuple[Any, RunResult | None]:
    """The arguments of an asserted call of the tool (a dict, or why it is none) and its result
    when run in the sandbox (None when it has no literal arguments)."""
    names = [p for p, _ in draft.params]
    args = parse_literal_call(ast.unparse(call), draft.name, names, as_json=True)
    if not isinstance(args, dict):
        return args, None
    return args, ctx.sandbox.run(draft.source, draft.name, kwargs=args)


def usage_examples(
    ctx: Context, draft: ToolDraft, solutions: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Problem -> call demonstrations from the unit tests that re-solve the source problems
    (`source_failures` requires them): each ``assert tool(literals) == answer`` whose answer is
    the verified answer of exactly one source problem, and whose call returns it when run in the
    sandbox, becomes a worked example that keeps its problem (``"question"``): the tool user is
    shown problem -> call pairs (`maker.use.prompt.example_calls`), as LATM's wrapped tools
    carry their usage demonstrations. At most one per source problem."""
    out: list[dict[str, Any]] = []
    done: set[str] = set()
    for call, value in _asserted_calls(draft.unit_tests, draft.name):
        sources = [s for s in solutions if values_equal(value, s["answer"])]
        if len(sources) != 1 or sources[0]["task_id"] in done:
            continue
        args, result = _run_asserted(ctx, draft, call)
        if result is None or not (result.ok and values_equal(result.value, value)):
            continue
        (source,) = sources
        done.add(source["task_id"])
        question = " ".join(source["problem"].split())
        out.append(
            {
                "input": args,
                "expected": result.value,
                "name": f"usage: {question}"[:MAX_NAME_CHARS],
                "question": question[:MAX_QUESTION_CHARS],
            }
        )
    return out


def verify(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Validate the tool on its source problems and on the type's held-out examples."""
    draft = ToolDraft.from_json(state["draft"])
    group = _group(state)
    verdict = validate(
        ctx.sandbox,
        draft,
        examples=[],
        held_out=held_out_examples(state),
        task_text="\n\n".join(s["problem"] for s in group),
        max_examples=ctx.options.max_examples,
        memo=ctx.memo,
    )
    extra = source_failures(draft, group)
    if extra:
        verdict = _with_failures(verdict, extra)
    return _next_group(state, judge(state, ctx, verdict, on_pass="publish", start_over="abstract"))


def _with_failures(verdict: Verdict, extra: list[Failure]) -> Verdict:
    counts = dict(verdict.counts)
    counts["source"] = counts.get("source", 0) + 1
    return verdict_from(
        [*verdict.failures, *extra],
        ran=True,
        timings=verdict.timings,
        counts=counts,
        notes=verdict.notes,
        wrong_tests=verdict.wrong_tests,
    )


def only_source_failures(state: Mapping[str, Any]) -> bool:
    """Whether the tool failed nothing but `source_failures`: it passes its checks, and only
    its tests lack the calls that re-solve the source problems."""
    failures = (state.get("verdict") or {}).get("failures") or []
    return bool(failures) and all(f.get("name") == "source_problems" for f in failures)


SOURCE_CALL_ASKS = 2
"""How many replies `source_calls` asks for (the second sees what each call of the first did)."""


def source_calls(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Ask for the calls that re-solve the source problems (prompt ``craft_calls``, phase
    ``repair``, using up a repair), run each in the sandbox and add those that return their
    problem's answer to the tool's tests as a new test. A second reply, in the same chat, sees
    what each call of the first returned or raised. The real 1.5B wrote a right
    Chinese-remainder tool whose tests re-solved none of its problems; asked for a whole
    repair twice, it sent the tool and its tests back unchanged. Without a new draft (no call
    returned its answer) the usual repair follows."""
    draft = ToolDraft.from_json(state["draft"])
    missing = missing_sources(draft, _group(state))
    problems = "\n\n".join(
        f"Problem {i}: {' '.join(s['problem'].split())}\nAnswer: {s['answer']!r}"
        for i, s in enumerate(missing, 1)
    )
    messages = render("craft_calls", source=draft.source, name=draft.name, problems=problems)
    usage = state.get("usage")
    lines: list[str] = []
    for attempt in range(SOURCE_CALL_ASKS):
        text, usage = ask(ctx, usage, messages, "repair", state.get("repairs", 0) + attempt)
        lines, report = _right_calls(ctx, draft, text, missing)
        if lines or not report:
            break
        messages = [
            *messages,
            {"role": "assistant", "content": text},
            {
                "role": "user",
                "content": "None of these calls returns its answer:\n"
                + "\n".join(report)
                + f"\nCall `{draft.name}` as its signature and docstring say, with all of the "
                "problem's values. Reply with the corrected tests block only.",
            },
        ]
    update: dict[str, Any] = {"usage": usage, "repairs": state.get("repairs", 0) + 1}
    if not lines:
        return update
    name = "test_re_solves_source_problems"
    head = draft.unit_tests.rstrip()
    tests = (head + "\n\n\n" if head else "") + f"def {name}():\n" + "\n".join(lines) + "\n"
    return update | {"draft": replace(draft, unit_tests=tests).to_json(), "next": "verify"}


def _right_calls(
    ctx: Context, draft: ToolDraft, text: str, missing: Sequence[dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """The assert lines of `text` whose call, run in the sandbox, returns one of the `missing`
    answers it states; and, for the others, what each did (for the next ask)."""
    right: list[str] = []
    report: list[str] = []
    for block in extract_blocks(text):
        for call, value in _asserted_calls(block.text, draft.name):
            if not any(values_equal(value, s["answer"]) for s in missing):
                continue
            shown = ast.unparse(call)
            args, result = _run_asserted(ctx, draft, call)
            if result is None:
                report.append(f"- {shown}: {args or 'not a call with literal arguments'}")
            elif result.ok and values_equal(result.value, value):
                right.append(f"    assert {shown} == {value!r}")
            elif result.ok:
                report.append(f"- {shown} returned {result.value!r:.80}, not {value!r}")
            else:
                report.append(f"- {shown} raised {result.error}")
    return right, report


def repair(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Send the failing checks back with the tool; take the corrected draft. A tool that failed
    only for tests that do not re-solve its source problems is asked for those calls alone,
    once per draft (`source_calls`)."""
    asked: dict[str, Any] = {}
    source = (state.get("draft") or {}).get("source")
    if only_source_failures(state) and state.get("calls_asked") != source:
        asked = {"calls_asked": source} | source_calls(state, ctx)
        if "draft" in asked:
            return _next_group(state, asked)
        state = {**state, **asked}
    task = (
        f"{type_text(state['type'], tasks_of(state))}\n\nVerified solutions the tool must "
        f"generalize:\n\n{format_solutions(_group(state))}"
    )
    return _next_group(state, asked | repair_step(state, ctx, task, restart="abstract"))


def publish(state: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Publish the validated tool (de-duplicated against the library), then the next group."""
    draft = ToolDraft.from_json(state["draft"])
    group = _group(state)
    task_ids = [s["task_id"] for s in group]
    tests = stored_suite(
        draft, examples=usage_examples(ctx, draft, group), held_out=held_out_examples(state)
    )
    tool = publish_draft(
        state,
        ctx,
        draft,
        strategy=NAME,
        prompts=PROMPTS,
        tests=tests,
        task_ids=task_ids,
        problems=[s["problem"] for s in group],
    )
    update: dict[str, Any] = {"tools": [*state.get("tools", []), tool], "next": "end"}
    if tool["outcome"] not in ACCEPTED_OUTCOMES:
        update["reason"] = f"publish:{tool['outcome']}: {tool['reason']}"[:500]
        update["rejections"] = [
            rejection(
                state, "publish", f"publish:{tool['outcome']}", tool["reason"], source=draft.source
            )
        ]
    return _next_group({**state, **update}, update)


def _next_group(state: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """When a group is done (published or given up), move to the next group or finish."""
    if update.get("next") != "end":
        return update
    groups = state.get("groups") or []
    idx = state.get("group", 0) + 1
    if idx < len(groups):
        return update | {
            "next": "abstract",
            "group": idx,
            "repairs": 0,
            "restarts": 0,
            "fresh": 0,
            "retries": {},
            "draft": None,
            "verdict": None,
            "status": "running",
        }
    tools = update.get("tools", state.get("tools") or [])
    if any(t.get("outcome") in ACCEPTED_OUTCOMES for t in tools):
        return update | {"status": "accepted", "reason": ""}
    return update | {
        "status": "rejected",
        "reason": update.get("reason") or state.get("reason") or "no tool accepted",
    }


NODES = {
    "solve": solve,
    "abstract": abstract,
    "verify": verify,
    "repair": repair,
    "publish": publish,
}


STRATEGY = TypeStrategy(NAME, CraftState, NODES, "solve", initial_state)

__all__ = [
    "NODES",
    "STRATEGY",
    "CraftState",
    "abstract",
    "check_solution",
    "format_solutions",
    "group_solutions",
    "held_out_examples",
    "initial_state",
    "publish",
    "repair",
    "run_solution",
    "solve",
    "source_failures",
    "usage_examples",
    "verify",
]
