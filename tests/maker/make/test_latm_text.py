"""LATM on text-only tasks (BIG-Bench rows: a question and a gold answer, no worked examples):
the maker writes the calls, the sandbox runs them, the answers check them."""

from __future__ import annotations

import re
from typing import Any

from library import Library, MemoryStore
from maker.llm import ChatClient, RoleConfig, ScriptedModel
from maker.make import Context, Options
from maker.make.latm import STRATEGY, initial_state
from maker.make.latm_text import (
    answers_right,
    copied_right,
    parse_calls,
    read_calls,
    read_their_numbers,
    text_split,
)
from maker.tasks import Task
from maker.tasks.loader import Split
from sandbox import Sandbox
from tests.maker.use.test_solver import CRT

Q = "Sort the following words alphabetically: List: "


def _ws(i: int, words: str, split: Split = "train") -> Task:
    return Task(
        f"bbh:word_sorting:{i}",
        Q + words,
        "bbh:word_sorting",
        answer=" ".join(sorted(words.split())),
        split=split,
    )


def _tasks() -> list[Task]:
    return [
        _ws(0, "pear apple"),
        _ws(1, "kiwi fig banana"),
        _ws(2, "cherry date"),
        _ws(5, "plum lime", "validation"),
        _ws(6, "yam oat nut", "validation"),
        _ws(10, "zebra ant", "test"),
    ]


TOOL = '''```python tool
def sort_words(words: list[str]) -> str:
    """Sort words alphabetically; return them joined by single spaces."""
    return " ".join(sorted(words))
```

```python tests
def test_sorts():
    assert sort_words(["b", "a"]) == "a b"
```
'''
# Right on rows whose words are already in order, wrong in general.
OVERFIT = TOOL.replace('" ".join(sorted(words))', '" ".join(words)').replace(
    '["b", "a"]) == "a b"', '["a", "b"]) == "a b"'
)


def _calls(*lists: list[str], name: str = "sort_words", arg: str = "words") -> str:
    lines = [f"# Question {i}\n{name}({arg}={words!r})" for i, words in enumerate(lists, 1)]
    return "```python calls\n" + "\n".join(lines) + "\n```\n"


SHOWN_CALLS = _calls(["pear", "apple"], ["kiwi", "fig", "banana"], ["cherry", "date"])
HELD_CALLS = _calls(["plum", "lime"], ["yam", "oat", "nut"])


def _ctx(sb: Sandbox, script: list[Any], **options: Any) -> tuple[Context, ScriptedModel]:
    model = ScriptedModel(script)
    client = ChatClient(model, RoleConfig("maker", model="scripted"), local=True)
    opts = Options(**{"max_examples": 10, **options})
    return Context(client, sb, Library(MemoryStore()), None, opts), model


def _run(ctx: Context, tasks: list[Task]) -> dict[str, Any]:
    graph = STRATEGY.build(ctx).compile()
    [unit] = STRATEGY.units(tasks)
    return graph.invoke(unit.state, {"recursion_limit": 60})


# -- plain functions -------------------------------------------------------------------------
def test_text_mode_only_without_worked_examples() -> None:
    state = initial_state("bbh:word_sorting", _tasks())
    assert state["mode"] == "text"
    assert state["shown_ids"] == [f"bbh:word_sorting:{i}" for i in (0, 1, 2)]
    assert state["held_ids"] == ["bbh:word_sorting:5", "bbh:word_sorting:6"]  # never test
    # without a validation split a third of the train tasks is held out
    shown, held = text_split([t for t in _tasks() if t.split == "train"])
    assert (len(shown), len(held)) == (2, 1)


def test_parse_calls_by_question_number_and_order_never_evaluated() -> None:
    reply = (
        "```python calls\n# Question 2\nf(x=[1, 2])  # the second\nf((3,))\n"
        "# Question 1\nf(x=y)\n__import__('os').system('rm -rf /')\n```"
    )
    calls, problems = parse_calls(reply, "f", ["x"], 4)
    assert calls == {1: {"x": [1, 2]}, 2: {"x": [3]}}  # tuple read as a JSON list
    assert problems[0].startswith("question 1: `f(x=y)`: argument 'x'")
    assert "not a call of f" in problems[0] or "not a literal" in problems[0]
    assert problems[1] == "question 4: no call given"
    multi = "```python calls\n# Question 1\nprint(f(x=[\n    'a',  # first\n    'b']))\n```"
    assert parse_calls(multi, "f", ["x"], 1) == ({0: {"x": ["a", "b"]}}, [])
    broken = "```python calls\n# Q2\nf(x='b')\n# Q1\nf(x='a'\n```"  # a line that is not code
    calls, problems = parse_calls(broken, "f", ["x"], 2)
    assert calls == {1: {"x": "b"}} and problems[0].startswith("question 1: `f(x='a'`")
    calls, problems = parse_calls("sorry, I cannot", "f", ["x"], 1)
    assert calls == {} and problems == ["question 1: no call given"]
    calls, problems = parse_calls("```python calls\ng(x='a # b')\n```", "f", ["x"], 1)
    assert calls == {} and "not a call of f; call it as f(x=...)" in problems[0]
    # the real 1.5B's dyck call, its brackets unquoted: says what is wrong with it
    calls, problems = parse_calls("```python calls\n# Question 1\nf(x=({{}))\n```", "f", ["x"], 1)
    assert problems == [
        "question 1: `f(x=({{}))` is not valid Python; call it as f(x=...), each value a "
        "literal (text in quotes)"
    ]


def test_calls_appended_to_the_tool_block_are_read() -> None:
    # the shape the local 1.5B maker replied with: calls after the function, in the tool block
    reply = (
        "```python tool\nfrom typing import *\n\ndef word_sorter(words: List[str]) -> "
        "List[str]:\n    return sorted(words)\n\n# python calls\n# Question 1\n"
        'word_sorter(["syndrome", "therefrom"])\n# Question 2\n'
        "word_sorter(['indifferent', 'trainman'])\n```\n\n```python tests\n"
        "def test_it():\n    assert word_sorter(['b', 'a']) == ['a', 'b']\n\ntest_it()\n```"
    )
    calls, problems = parse_calls(reply, "word_sorter", ["words"], 2)
    assert calls == {
        0: {"words": ["syndrome", "therefrom"]},
        1: {"words": ["indifferent", "trainman"]},
    }
    assert problems == []


def test_answers_are_matched_with_the_task_answer_checking() -> None:
    choice = Task("c", "Which number is largest?\nOptions:\n(A) 3\n(B) 7", "pick", answer="(B)")
    assert answers_right(7, choice) and answers_right("(b)", choice)
    assert not answers_right(3, choice)
    assert answers_right(14687, Task("n", "How many?", "crt", answer="14687"))
    assert answers_right(["a", "b"], Task("w", Q + "b a", "ws", answer="a b"))


# -- the graph -------------------------------------------------------------------------------
def test_text_tasks_publish_a_tool_whose_examples_are_the_verified_calls(sb: Sandbox) -> None:
    ctx, model = _ctx(sb, [TOOL + SHOWN_CALLS, HELD_CALLS])
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls"]
    assert state["status"] == "accepted", state["reason"]
    propose = model.calls[0].messages[-1]["content"]
    assert "Answer 1: apple pear" in propose and "plum" not in propose  # held out unseen
    asked = model.calls[1].messages[-1]["content"]
    assert "plum lime" in asked and "lime plum" not in asked and "nut oat yam" not in asked
    assert "sort_words(words=['pear', 'apple'])" in asked  # the shown calls demonstrate
    assert "zebra" not in propose + asked  # the test split is never used
    rec = ctx.library.resolve("sort_words")
    assert [(e["input"], e["expected"]) for e in rec.tests.examples] == [
        ({"words": ["pear", "apple"]}, "apple pear"),
        ({"words": ["kiwi", "fig", "banana"]}, "banana fig kiwi"),
        ({"words": ["cherry", "date"]}, "cherry date"),
    ]
    assert rec.tests.examples[0]["name"].startswith("usage: Sort the following words")
    # each demo keeps its question: the tool user's card shows problem -> call pairs
    from maker.use.prompt import tool_card

    assert rec.tests.examples[0]["question"].startswith("Sort the following words")
    card = tool_card(rec)
    assert "Problem: Sort the following words" in card and '"tool": "sort_words"' in card
    assert [e["input"] for e in rec.tests.held_out] == [
        {"words": ["plum", "lime"]},
        {"words": ["yam", "oat", "nut"]},
    ]
    assert "bbh:word_sorting:10" not in rec.provenance[0].task_ids
    assert {"propose", "calls"} <= set(ctx.client.ledger.totals("phase"))


def test_choice_answers_map_tool_values_to_option_labels(sb: Sandbox) -> None:
    def task(i: int, nums: list[int], split: Split = "train") -> Task:
        opts = "\n".join(f"({'ABC'[j]}) {n}" for j, n in enumerate(nums))
        gold = f"({'ABC'[nums.index(max(nums))]})"
        return Task(
            f"m{i}",
            f"Which number is largest?\nOptions:\n{opts}",
            "largest",
            answer=gold,
            split=split,
        )

    tool = '''```python tool
def largest(options: list[int]) -> int:
    """The largest of the option values."""
    if not options:
        raise ValueError("no options")
    return max(options)
```
'''
    tasks = [task(0, [3, 7]), task(1, [9, 2, 4]), task(5, [1, 5, 2], "validation")]
    ctx, model = _ctx(
        sb,
        [
            tool + _calls([3, 7], [9, 2, 4], name="largest", arg="options"),
            _calls([1, 5, 2], name="largest", arg="options"),
        ],
    )
    state = _run(ctx, tasks)
    model.assert_consumed()
    assert state["status"] == "accepted", state["reason"]
    rec = ctx.library.resolve("largest")
    assert [e["expected"] for e in rec.tests.examples] == [7, 9]  # the tool's values
    assert rec.tests.held_out[0]["expected"] == 5


def test_a_tool_fitting_only_the_shown_rows_is_caught_and_repaired(sb: Sandbox) -> None:
    sorted_rows = [_ws(0, "apple pear"), _ws(1, "fig kiwi"), _ws(5, "plum lime", "validation")]
    shown = _calls(["apple", "pear"], ["fig", "kiwi"])
    held = _calls(["plum", "lime"])
    ctx, model = _ctx(sb, [OVERFIT + shown, held, TOOL])
    state = _run(ctx, sorted_rows)
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls", "repair"]
    assert state["status"] == "accepted" and state["repairs"] == 1
    assert state["rejections"][0]["reason"] == "validation:held_out"
    feedback = model.calls[2].messages[-1]["content"]
    assert "held-out case failed" in feedback
    assert "plum" not in feedback and "lime" not in feedback  # held-out rows stay hidden
    assert ctx.library.resolve("sort_words").tests.held_out[0]["expected"] == "lime plum"


def test_a_tool_fitting_only_the_shown_rows_is_rejected_when_repairs_run_out(sb: Sandbox) -> None:
    rows = [_ws(0, "apple pear"), _ws(1, "fig kiwi"), _ws(5, "plum lime", "validation")]
    ctx, model = _ctx(
        sb,
        [
            OVERFIT + _calls(["apple", "pear"], ["fig", "kiwi"]),
            _calls(["plum", "lime"]),
            OVERFIT.replace('" ".join(words)', '" ".join(list(words))'),  # changed, still wrong
        ],
        max_repairs=1,
    )
    state = _run(ctx, rows)
    model.assert_consumed()
    assert state["status"] == "rejected" and "repairs exhausted" in state["reason"]
    assert ctx.library.store.list() == []


def test_a_repair_that_renames_the_parameters_gets_new_calls(sb: Sandbox) -> None:
    rows = [_ws(0, "apple pear"), _ws(1, "fig kiwi"), _ws(5, "plum lime", "validation")]
    renamed = TOOL.replace("words: list[str]", "items: list[str]").replace(
        "sorted(words)", "sorted(items)"
    )
    again = _calls(["apple", "pear"], ["fig", "kiwi"], ["plum", "lime"], arg="items")
    ctx, model = _ctx(
        sb,
        [
            OVERFIT + _calls(["apple", "pear"], ["fig", "kiwi"]),
            _calls(["plum", "lime"]),
            renamed,
            again,
        ],
    )
    state = _run(ctx, rows)
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls", "repair", "calls"]
    assert state["status"] == "accepted", state["reason"]
    assert ctx.library.resolve("sort_words").tests.held_out[0]["input"] == {
        "items": ["plum", "lime"]
    }


def test_malformed_calls_get_a_reason_and_a_bounded_retry(sb: Sandbox) -> None:
    bad = TOOL + "```python calls\nsort_words(words=x)\nprint('hi')\n```"
    held = ['{"words": ["plum", "lime"]}', '{"words": ["yam", "oat", "nut"]}']
    ctx, model = _ctx(sb, [bad, TOOL + SHOWN_CALLS, "no calls, sorry", *held])
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "propose", "calls", "calls", "calls"]
    assert state["status"] == "accepted", state["reason"]
    assert [(r["stage"], r["reason"]) for r in state["rejections"]] == [
        ("propose", "no_call"),
        ("calls", "no_call"),
    ]
    retry = model.calls[1].messages[-1]["content"]
    assert "argument 'words'" in retry and "# Question N" in retry
    # partly usable: the rest are recorded, the usable ones kept
    ctx, model = _ctx(sb, [TOOL + SHOWN_CALLS, _calls(["plum", "lime"]) + "\nsort_words(3, 4)"])
    state = _run(ctx, _tasks())
    assert state["status"] == "accepted"
    assert [(r["stage"], r["reason"]) for r in state["rejections"]] == [("calls", "bad_call")]
    assert "question 2" in state["rejections"][0]["message"]


def test_calls_that_never_parse_reject_the_unit(sb: Sandbox) -> None:
    # a proposal with no calls at all goes on to the calls step, whose replies hold none either
    # (the batched one, then the 5 questions one at a time, twice)
    ctx, model = _ctx(sb, [TOOL, TOOL, *[TOOL] * 10], max_retries=2)
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", *["calls"] * 11]
    assert state["status"] == "rejected"
    assert state["reason"].startswith(
        "calls:no_call: question 1: the reply is not a JSON object of the arguments"
    )
    assert "after 2 more attempt(s)" in state["reason"]
    assert ctx.library.store.list() == []


def test_a_proposal_cut_off_before_its_calls_gets_them_from_the_calls_step(sb: Sandbox) -> None:
    # the real 1.5B's dyck proposals ran to the 1,024-token limit before writing any call, three
    # times running; asked for the whole reply again, it was cut off again
    cut = TOOL + "```python tests\ndef test_more():\n    assert sort_words(['b', 'a'"
    ctx, model = _ctx(
        sb,
        [
            cut,
            SHOWN_CALLS
            + HELD_CALLS.replace("Question 1", "Question 4").replace("Question 2", "Question 5"),
        ],
    )
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls"]
    assert state["status"] == "accepted", state["reason"]
    asked = model.calls[1].messages[-1]["content"]
    assert "pear apple" in asked and "plum lime" in asked  # shown and held-out questions
    assert "pear\napple" not in asked and "apple pear" not in asked  # no answer is shown
    assert [(r["stage"], r["reason"]) for r in state["rejections"]] == [("propose", "no_call")]


def test_a_misspelt_word_in_a_call_is_copied_from_the_question(sb: Sandbox) -> None:
    # the local 1.5B maker wrote 'entirely' for the question's 'entirety' in a 20-word call,
    # and every repair then "fixed" a tool that was right (real LATM run, 1267 s, rejected)
    typo = _calls(["pear", "apple"], ["kiwi", "fig", "banan"], ["cherry", "date"])
    ctx, model = _ctx(sb, [TOOL + typo, HELD_CALLS])
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls"]
    assert state["status"] == "accepted", state["reason"]
    rec = ctx.library.resolve("sort_words")
    assert rec.tests.examples[1]["input"] == {"words": ["kiwi", "fig", "banana"]}


def test_a_miscopied_shown_call_is_corrected_in_the_repair(sb: Sandbox) -> None:
    # seen with the local 1.5B maker: the tool is right, the call leaves a word out (a
    # misspelt word is copied from the question; a missing one cannot be)
    typo = _calls(["pear", "apple"], ["kiwi", "banana"], ["cherry", "date"])
    fixed = "```python calls\n# Question 2\nsort_words(words=['kiwi', 'fig', 'banana'])\n```"
    ctx, model = _ctx(sb, [TOOL + typo, HELD_CALLS, TOOL + fixed])
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls", "repair"]
    assert state["status"] == "accepted", state["reason"]
    asked = model.calls[2].messages[-1]["content"]
    assert "the call is wrong, not the tool" in asked
    assert "Call: sort_words(words=['kiwi', 'banana'])" in asked
    assert "plum" not in asked  # held-out questions stay hidden
    rec = ctx.library.resolve("sort_words")
    assert rec.tests.examples[1]["input"] == {"words": ["kiwi", "fig", "banana"]}


def test_a_repair_that_changes_neither_the_tool_nor_a_call_starts_over(sb: Sandbox) -> None:
    typo = _calls(["pear", "apple"], ["kiwi", "banana"], ["cherry", "date"])
    script = [TOOL + typo, HELD_CALLS, TOOL, TOOL + SHOWN_CALLS, HELD_CALLS]
    ctx, model = _ctx(sb, script)
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls", "repair", "propose", "calls"]
    again = model.calls[3]
    assert again.messages == model.calls[0].messages  # afresh: no failing code, no feedback
    assert state["retries"]["propose"] == 1  # ... so sampled as a re-ask (warm)
    assert state["status"] == "accepted", state["reason"]
    assert "unchanged_fix" in [r["reason"] for r in state["rejections"]]


def test_a_second_unchanged_repair_is_asked_without_the_code(sb: Sandbox) -> None:
    typo = _calls(["pear", "apple"], ["kiwi", "banana"], ["cherry", "date"])
    fixed = "```python calls\n# Question 2\nsort_words(words=['kiwi', 'fig', 'banana'])\n```"
    script = [TOOL + typo, HELD_CALLS, TOOL, TOOL + typo, HELD_CALLS, TOOL, TOOL + fixed]
    ctx, model = _ctx(sb, script, max_repairs=4)
    state = _run(ctx, _tasks())
    model.assert_consumed()
    phases = [c.phase for c in model.calls]
    assert phases == ["propose", "calls", "repair", "propose", "calls", "repair", "repair"]
    # the first repair is shown the code; once the model is stuck on it (the fresh proposal
    # failed the same checks, then the repair sent it back), only its signature
    assert "join(sorted(words))" in model.calls[2].messages[-1]["content"]
    for call in model.calls[5:]:
        assert "the body that failed is not shown" in call.messages[-1]["content"]
        assert not any("join(sorted(words))" in m["content"] for m in call.messages)
    assert state["status"] == "accepted", state["reason"]


def test_a_call_of_names_bound_to_literals_before_it_is_read() -> None:
    # small models name the argument first: `words = "..."` then `word_sorter(words)`
    reply = (
        "```python calls\n# Question 2\nwords = 'thunderclap swab'\nword_sorter(words)\n"
        "# Question 1\nw = ['b', 'a']\nresult = word_sorter(words=w)\nprint(result)\n"
        "# Question 3\nword_sorter(missing)\n```"
    )
    calls, problems = parse_calls(reply, "word_sorter", ["words"], 3)
    assert calls == {1: {"words": "thunderclap swab"}, 0: {"words": ["b", "a"]}}
    assert problems == [
        "question 3: `word_sorter(missing)`: argument 'words': 'missing' is not a literal"
    ]
    # only literals bind: nothing is evaluated
    calls, _ = parse_calls("```python calls\nw = open('x').read()\nf(w)\n```", "f", ["x"], 1)
    assert calls == {}


def test_calls_with_constant_arithmetic_are_read() -> None:
    # the real 1.5B's calls reply for TabMWP decimal answers: the sums it means, not their values
    reply = (
        "```python\n# Question 1\n# Comment line: Cost of dill dip for Amy\n# Call:\n"
        "tabmwp_decimal_number(a=3.8, b=4.0)\n\n# Question 2\n# Comment line: Difference in "
        "cost between a blue sweater and a pair of sweat pants\n# Call:\n"
        "tabmwp_decimal_number(a=21.73 - 18.27, b=0.0)\n\n# Question 3\n# Call:\n"
        "tabmwp_decimal_number(a=42.30 * 7, b=0.0)\n\n# Question 4\n"
        "price = 17.39\ntabmwp_decimal_number(a=price - 16.35, b=0.0)\n```"
    )
    calls, problems = parse_calls(reply, "tabmwp_decimal_number", ["a", "b"], 4)
    assert calls == {
        0: {"a": 3.8, "b": 4.0},
        1: {"a": 3.46, "b": 0.0},
        2: {"a": 296.1, "b": 0.0},
        3: {"a": 1.04, "b": 0.0},
    }
    assert problems == []
    # the MATH geometry reply: math's constants and number functions are computed too
    reply = (
        "```python tool\nimport math\n\ndef solve_geometry_problem(volume: float, radius: "
        "float) -> float:\n    return volume\n\n# python calls\n# Question 1\n"
        "solve_geometry_problem(45 * math.pi, 3)\n# Question 2\n"
        "solve_geometry_problem(1 * math.pow(6.5, 2) / 6.5, 6.5)\n"
        "# Question 3\nsolve_geometry_problem(math.system(1), 1)\n```"
    )
    calls, problems = parse_calls(reply, "solve_geometry_problem", ["volume", "radius"], 3)
    assert calls == {
        0: {"volume": 141.371669411541, "radius": 3},
        1: {"volume": 6.5, "radius": 6.5},
    }
    assert len(problems) == 1 and "'math.system(1)' is not a literal" in problems[0]


def test_a_call_computed_from_the_question_numbers_reads_them() -> None:
    # the real 1.5B's TabMWP call `a=21.73 - 18.27`: the tool gets 3.46, which the question
    # does not state, but the call is written from its numbers, so it is not set aside
    questions = [
        "Table: blue sweater | $21.73 / sweat pants | $18.27. How much more does a blue sweater "
        "cost than a pair of sweat pants?",
        "Table: coffee table | $42.30. How much would it cost to buy 7 coffee tables?",
        "Table: lamp | $12.00. How much do 3 lamps cost?",
    ]
    reply = (
        "```python\n# Question 1\nf(a=21.73 - 18.27, b=0.0)\n# Question 2\nprice = 42.30\n"
        "f(a=price * 7, b=0.0)\n# Question 3\nf(a=99.5 * 2, b=0.0)\n```"
    )
    found = read_calls(reply, "f", ["a", "b"], 3, questions=questions)
    assert found.calls == {
        0: {"a": 3.46, "b": 0.0},
        1: {"a": 296.1, "b": 0.0},
        2: {"a": 199.0, "b": 0.0},
    }
    assert {i: sorted(n) for i, n in found.written.items()} == {
        0: [0.0, 18.27, 21.73],
        1: [0.0, 7.0, 42.3],
        2: [0.0, 2.0, 99.5],
    }
    tasks = [Task(f"q{i}", q, "tabmwp", answer="1") for i, q in enumerate(questions)]
    kept, problems = read_their_numbers(found.calls, tasks, found.written)
    assert sorted(kept) == [0, 1]  # the third computes from numbers question 3 does not state
    assert problems == [
        "question 3: the call passes 99.5, 2, which question 3 does not state (its numbers: "
        "12, 3); take each argument from the question's own text"
    ]
    # without the written numbers, the computed values are not the question's
    assert read_their_numbers(found.calls, tasks)[0] == {}


def test_a_string_call_closed_twice_is_read() -> None:
    # the real 1.5B's dyck calls: `'({{{}}'))`, one `)` too many (and one `{` too many: the
    # near copy is taken back to the question's own span)
    question = "Complete the rest of the sequence. Input: ({{}}"
    reply = "```python\n# Question 1\nbbh_dyck_languages(input_str='({{{}}'))\n```"
    calls, problems = parse_calls(
        reply,
        "bbh_dyck_languages",
        ["input_str"],
        1,
        questions=[question],
        string_param="input_str",
    )
    assert calls == {0: {"input_str": "({{{}}"}} and problems == []
    task = Task("d", question, "bbh:dyck_languages", answer=")")
    assert copied_right(calls, [task]) == {0: {"input_str": "({{}}"}}
    # a text the question does not hold stays refused
    reply = "```python\nbbh_dyck_languages(input_str='<<[[]]>>'))\n```"
    calls, problems = parse_calls(
        reply,
        "bbh_dyck_languages",
        ["input_str"],
        1,
        questions=[question],
        string_param="input_str",
    )
    assert calls == {} and "is not valid Python" in problems[0]


def test_a_run_of_question_markers_pairs_with_the_calls_after_it() -> None:
    # the real 1.5B's calls reply (tracking_shuffled_objects): five markers, then five calls
    people = [
        ["Alice", "Bob", "Claire", "Dave", "Eve"],
        ["Helga", "Jamie", "Ophelia", "Karl", "Rodrigo"],
        ["Green present", "Purple present", "Blue present", "Black ball", "White present"],
    ]
    reply = "# Question 1\n# Question 2\n# Question 3\n\n" + "\n\n".join(
        f"track_shuffled_objects_five_objects(partners={p!r})" for p in people
    )
    calls, problems = parse_calls(reply, "track_shuffled_objects_five_objects", ["partners"], 3)
    assert calls == {i: {"partners": p} for i, p in enumerate(people)} and problems == []
    # fewer calls than markers: the questions above the last marker were skipped
    reply = "# Question 1\n# Question 2\nf(x=2)\n# Question 3\nf(x=3)\n"
    calls, problems = parse_calls(reply, "f", ["x"], 3)
    assert calls == {1: {"x": 2}, 2: {"x": 3}} and problems == ["question 1: no call given"]


def test_calls_written_as_comments_are_read() -> None:
    # the real 1.5B's calls reply: every call commented out
    reply = (
        "```python\n# Question 1\n# word_sorter(words='conference apparition ignore')\n\n"
        "# Question 2\n# word_sorter(words='thunderclap swab built poland')\n```"
    )
    calls, problems = parse_calls(reply, "word_sorter", ["words"], 2)
    assert calls == {
        0: {"words": "conference apparition ignore"},
        1: {"words": "thunderclap swab built poland"},
    }
    assert problems == []
    # a real call wins over a commented one for the same question; prose comments stay prose
    mixed = (
        "```python calls\n# Question 1\n# f(x='old')\nf(x='new')\n# Question 2\n# f is easy\n```"
    )
    calls, problems = parse_calls(mixed, "f", ["x"], 2)
    assert calls == {0: {"x": "new"}} and problems == ["question 2: no call given"]


def test_an_unquoted_string_argument_copied_from_the_question_is_read() -> None:
    # the real 1.5B's dyck calls: the bracket sequences without quotes
    questions = [
        "Complete the rest of the sequence. Input: ([[[{}]]{<[<[{}]>]>}",
        "Complete the rest of the sequence. Input: ({{})",
        "Complete the rest of the sequence. Input: <((([{}])",
    ]
    reply = (
        "```python\n# Question 1\nbbh_dyck(sequence='([[[{}]]{<[<[{}]>]>}')\n\n"
        "# Question 2\nbbh_dyck(sequence=({{}))\n\n# Question 3\nbbh_dyck(sequence=<(((x)\n```"
    )
    calls, problems = parse_calls(
        reply, "bbh_dyck", ["sequence"], 3, questions=questions, string_param="sequence"
    )
    assert calls == {0: {"sequence": "([[[{}]]{<[<[{}]>]>}"}, 1: {"sequence": "({{})"}}
    # not in its question: not read, and said so
    assert problems == [
        "question 3: `bbh_dyck(sequence=<(((x)` is not valid Python; "
        "call it as bbh_dyck(sequence=...), each value a literal (text in quotes)"
    ]
    # only for a tool whose one parameter is a str
    calls, _ = parse_calls(reply, "bbh_dyck", ["sequence"], 3, questions=questions)
    assert calls == {0: {"sequence": "([[[{}]]{<[<[{}]>]>}"}}


def test_an_unquoted_near_copy_of_the_question_is_read_and_grounded() -> None:
    # the real 1.5B's call for 'Input: [<>][[<>]': unquoted, with a closer added
    tasks = [Task("d", "Complete the rest of the sequence. Input: [<>][[<>]", "bbh:dyck")]
    reply = "```python\n# Question 1\nbbh_dyck(sequence=[<>][[<>]])\n```"
    calls, problems = parse_calls(
        reply, "bbh_dyck", ["sequence"], 1, questions=[tasks[0].text], string_param="sequence"
    )
    assert calls == {0: {"sequence": "[<>][[<>]]"}} and problems == []
    assert copied_right(calls, tasks) == {0: {"sequence": "[<>][[<>]"}}


def test_calls_commented_after_a_question_label_or_with_a_capitalized_name_are_read() -> None:
    # the real 1.5B's calls replies on TabMWP rows: the tables echoed as comments, then every
    # call commented after its question's label; and elsewhere the tool's name capitalized
    labelled = (
        "```python\n# Question 1\n# Table:\n# hummus | $4 per lb\n# dill dip | $2 per lb\n\n"
        "# Question 2\n# Table:\n# blue sweater | $20.98\n\n"
        "# Question 1: price_of(values={'hummus': ['4'], 'dill dip': ['2']})\n"
        "# Question 2: price_of(values={'blue sweater': ['20.98']})\n```"
    )
    calls, problems = parse_calls(labelled, "price_of", ["values"], 2)
    assert calls == {
        0: {"values": {"hummus": ["4"], "dill dip": ["2"]}},
        1: {"values": {"blue sweater": ["20.98"]}},
    }
    assert problems == []
    capitalized = (
        "```python\n# Question 1\n# Extractive_text(table='a | b', location='Bay')\n\n"
        "# Question 2\n# Extractive_text(table='c | d', location='Port')\n```"
    )
    calls, problems = parse_calls(capitalized, "extractive_text", ["table", "location"], 2)
    assert calls == {
        0: {"table": "a | b", "location": "Bay"},
        1: {"table": "c | d", "location": "Port"},
    }
    assert problems == []
    # another function's commented call is still not the tool's
    other = "```python\n# Question 1\n# helper(x=1)\n```"
    assert parse_calls(other, "extractive_text", ["x"], 1)[0] == {}


# -- numbers: a call that reads none of its question's numbers ---------------------------------
def _mod(i: int, m: tuple[int, int], r: tuple[int, int], split: Split = "train") -> Task:
    answer = next(x for x in range(m[0] * m[1]) if x % m[0] == r[0] and x % m[1] == r[1])
    text = (
        f"If we divide the apples among {m[0]} boxes, {r[0]} are left; among {m[1]} bags, "
        f"{r[1]} are left. How many apples at least?"
    )
    return Task(f"bbh:crt:{i}", text, "bbh:crt", answer=answer, split=split)


CRT_TOOL = f"```python tool\n{CRT}```\n"  # the solver tests' tool for such problems


def _crt_calls(*pairs: tuple[tuple[int, int], tuple[int, int]]) -> str:
    lines = [
        f"# Question {i}\nsmallest_with_remainders(remainders={list(r)}, moduli={list(m)})"
        for i, (m, r) in enumerate(pairs, 1)
    ]
    return "```python calls\n" + "\n".join(lines) + "\n```\n"


def test_a_call_with_numbers_its_question_never_states_is_asked_again(sb: Sandbox) -> None:
    # the real 1.5B maker's calls for a Chinese-remainder question about 5, 107 and 179 passed
    # moduli [17, 283, 293]: a right tool, run on them, was judged wrong against the answer
    tasks = [
        _mod(0, (5, 7), (2, 3)),
        _mod(1, (11, 13), (4, 9)),
        _mod(2, (17, 19), (6, 8), "validation"),
    ]
    invented = _crt_calls(((23, 29), (15, 9)), ((11, 13), (4, 9)))
    shown = _crt_calls(((5, 7), (2, 3)), ((11, 13), (4, 9)))
    held = _crt_calls(((17, 19), (6, 8)))
    # the calls step is asked for the shown question left without a call and the held-out one
    rest = _crt_calls(((5, 7), (2, 3)), ((17, 19), (6, 8)))
    ctx, model = _ctx(sb, [CRT_TOOL + invented, rest])
    state = _run(ctx, tasks)
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls"]
    assert state["status"] == "accepted", state["reason"]
    (bad,) = [r for r in state["rejections"] if r["reason"] == "bad_call"]
    assert (
        "question 1: the call passes 15, 9, 23, 29, which question 1 does not state"
        in (bad["message"])
        and "(its numbers: 5, 2, 7, 3)" in bad["message"]
    )
    rec = ctx.library.resolve("smallest_with_remainders")
    assert sorted(e["input"]["moduli"] for e in rec.tests.examples) == [[5, 7], [11, 13]]
    # no call reads its numbers: asked again, with what was wrong
    ctx, model = _ctx(sb, [CRT_TOOL + _crt_calls(((23, 29), (15, 9))), CRT_TOOL + shown, held])
    state = _run(ctx, tasks)
    model.assert_consumed()
    assert state["status"] == "accepted", state["reason"]
    assert "which question 1 does not state" in model.calls[1].messages[-1]["content"]


def test_a_string_argument_missing_one_quote_is_read_from_its_question() -> None:
    # the real 1.5B's calls step for dyck_languages: three of ten calls had one quote only
    q1 = "Complete the rest of the sequence. Input: < ( ( ( [ { } ] )"
    q2 = "Complete the rest of the sequence. Input: [ [ [ { } ] ] { < [ < [ { } ] > ] >"
    q3 = "Complete the rest of the sequence. Input: ( ( ) ("
    reply = (
        '```python calls\n# Question 1\nbbh_dyck_languages("<((([{}])\n'
        '# Question 2\nbbh_dyck_languages([[[{}]]{<[<[{}]>]>")\n'
        '# Question 3\nbbh_dyck_languages("<<<>")\n```'
    )
    calls, problems = parse_calls(
        reply, "bbh_dyck_languages", ["s"], 3, questions=[q1, q2, q3], string_param="s"
    )
    assert calls == {0: {"s": "<((([{}])"}, 1: {"s": "[[[{}]]{<[<[{}]>]>"}, 2: {"s": "<<<>"}}
    # one quote and text that is not in its question: not read
    bad = '```python calls\n# Question 1\nbbh_dyck_languages("{{{)\n```'
    calls, problems = parse_calls(
        bad, "bbh_dyck_languages", ["s"], 1, questions=[q1], string_param="s"
    )
    assert calls == {} and "is not valid Python" in problems[0]


def test_a_fresh_start_drafts_the_tool_again_when_no_repair_is_left(sb: Sandbox) -> None:
    # a weak maker's first idea fails its checks; with no repair left the unit is rejected,
    # unless a fresh start draws a new draft (warm, with a new seed) with its own repairs
    script = [OVERFIT + SHOWN_CALLS, HELD_CALLS, TOOL + SHOWN_CALLS, HELD_CALLS]
    ctx, model = _ctx(sb, script[:2], max_repairs=0)
    state = _run(ctx, _tasks())
    assert state["status"] == "rejected" and "repairs exhausted" in state["reason"]

    from maker.llm.config import Sampling

    model = ScriptedModel(script)
    cold = RoleConfig("maker", model="scripted", sampling=Sampling(temperature=0.0, seed=5))
    opts = Options(max_examples=10, max_repairs=0, fresh_starts=1)
    ctx = Context(ChatClient(model, cold, local=True), sb, Library(MemoryStore()), None, opts)
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert state["status"] == "accepted", state["reason"]
    assert [c.phase for c in model.calls] == ["propose", "calls", "propose", "calls"]
    assert model.calls[0].params["temperature"] == 0.0
    assert model.calls[2].params["temperature"] == 0.7  # a new sample, not the first again
    assert model.calls[2].params.get("seed") != model.calls[0].params.get("seed")
    assert [(r["reason"], r.get("fresh_start")) for r in state["rejections"]] == [
        ("validation:example", 1)  # the first draft, given up for a fresh start
    ]
    # the calls were written again for the new draft
    asked = model.calls[3].messages[-1]["content"]
    assert "sort_words(words=['pear', 'apple'])" in asked
    assert ctx.library.resolve("sort_words").source.count("sorted(") == 1


def test_fresh_starts_are_bounded(sb: Sandbox) -> None:
    script = [OVERFIT + SHOWN_CALLS, HELD_CALLS] * 3
    ctx, model = _ctx(sb, script, max_repairs=0, fresh_starts=2)
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert state["status"] == "rejected"
    assert [r.get("fresh_start") for r in state["rejections"]] == [1, 2, None]


def test_a_jobs_report_counts_its_fresh_starts(sb: Sandbox, tmp_path: Any) -> None:
    import io

    from rich.console import Console

    from maker.jobs import run_job
    from maker.jobs.report import render_report

    model = ScriptedModel([OVERFIT + SHOWN_CALLS, HELD_CALLS, TOOL + SHOWN_CALLS, HELD_CALLS])
    report = run_job(
        _tasks(),
        "latm",
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        client=ChatClient(model, RoleConfig("maker", model="scripted"), local=True),
        sandbox=sb,
        progress=False,
        options=Options(max_examples=10, max_repairs=0, fresh_starts=1),
    )
    assert (report.accepted, report.fresh_starts) == (1, 1)
    out = io.StringIO()
    render_report(report, Console(file=out, width=120))
    assert re.search(r"fresh starts \(a new first draft\) +│ 1 ", out.getvalue())


def test_a_first_draft_that_never_parses_also_starts_over_fresh(sb: Sandbox) -> None:
    broken = "```python tool\ndef sort_words(words: list[str]) -> str:\n    return )\n```\n"
    ctx, model = _ctx(sb, [broken, TOOL + SHOWN_CALLS, HELD_CALLS], max_retries=0, fresh_starts=1)
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert state["status"] == "accepted", state["reason"]
    assert [(r["reason"], r.get("fresh_start")) for r in state["rejections"]] == [
        ("syntax_error", 1)
    ]
    ctx, model = _ctx(sb, [broken], max_retries=0)
    assert _run(ctx, _tasks())["status"] == "rejected"  # no fresh start: given up


def test_a_proposal_that_copies_the_format_example_is_asked_again_without_it(
    sb: Sandbox,
) -> None:
    # the real 1.5B sent the reply format's gcd back as its Dyck-language tool, and again when
    # shown its copy and the example; asked without the example, a model has no gcd to copy
    gcd = (
        '```python tool\ndef gcd(a: int, b: int) -> int:\n    """Greatest common divisor of two '
        'integers (non-negative; gcd(0, 0) is 0)."""\n    while b:\n        a, b = b, a % b\n'
        "    return abs(a)\n```\n\n```python calls\n# Question 1\ngcd(a=12, b=18)\n```\n"
    )
    ctx, model = _ctx(sb, [gcd, TOOL + SHOWN_CALLS, HELD_CALLS])
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert state["status"] == "accepted", state["reason"]
    assert [c.phase for c in model.calls] == ["propose", "propose", "calls"]
    first, again, calls = (c.messages for c in model.calls)
    assert "gcd(a=12, b=18)" in first[-1]["content"] and "def gcd" in first[-1]["content"]
    assert [m["role"] for m in again] == ["system", "user"]  # no copy shown back
    assert not any("gcd" in m["content"] for m in again + calls)
    # what the example showed is still asked for, in words
    assert "one block tagged `python calls`" in " ".join(again[-1]["content"].split())
    assert "Answer 1: apple pear" in again[-1]["content"]
    assert [r["reason"] for r in state["rejections"]] == ["copied_format_example"]


# The real 1.5B maker's calls reply for 7 MATH Prealgebra questions, three times running.
MARKERS_ONLY = "\n".join(f"# Question {i}" for i in range(1, 8))


def test_a_calls_reply_without_calls_is_asked_again_one_question_at_a_time(
    sb: Sandbox,
) -> None:
    held = [
        '{"words": ["plum", "lime"]}',
        '```json\n{"arguments": {"words": ["yam", "oat", "nut"]}}\n```',
    ]
    ctx, model = _ctx(sb, [TOOL + SHOWN_CALLS, MARKERS_ONLY, *held])
    state = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "calls", "calls", "calls"]
    assert state["status"] == "accepted", state["reason"]
    assert [(r["stage"], r["reason"]) for r in state["rejections"]] == [("calls", "no_call")]
    first, second = (c.messages[-1]["content"] for c in model.calls[2:])
    assert first.endswith("Question:\n" + Q + "plum lime") and "yam" not in first
    assert second.endswith("Question:\n" + Q + "yam oat nut") and "plum" not in second
    # the shown calls demonstrate, as JSON arguments; the answers are never shown
    assert 'Arguments of sort_words:\n{"words": ["pear", "apple"]}' in first
    assert "apple pear" not in first and "lime plum" not in first
    # the reply is constrained to the tool's arguments
    assert model.calls[2].params["schema"] == {
        "type": "object",
        "properties": {"words": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        "required": ["words"],
        "additionalProperties": False,
    }
    assert "schema" not in model.calls[1].params  # the batched reply is free text
    rec = ctx.library.resolve("sort_words")
    assert [e["input"] for e in rec.tests.held_out] == [
        {"words": ["plum", "lime"]},
        {"words": ["yam", "oat", "nut"]},
    ]


def test_one_question_replies_are_checked_like_any_call(sb: Sandbox) -> None:
    tasks = [
        _mod(0, (5, 7), (2, 3)),
        _mod(1, (11, 13), (4, 9)),
        _mod(2, (17, 19), (6, 8), "validation"),
        _mod(3, (3, 5), (1, 2), "validation"),
    ]
    shown = _crt_calls(((5, 7), (2, 3)), ((11, 13), (4, 9)))
    replies = [
        '{"remainders": [15, 9], "moduli": [23, 29]}',  # numbers question 3 never states
        '{"remainders": [1, 2]}',  # a parameter missing
    ]
    ctx, model = _ctx(sb, [CRT_TOOL + shown, "I cannot", *replies], max_retries=1)
    state = _run(ctx, tasks)
    model.assert_consumed()
    assert state["status"] == "rejected"
    assert state["reason"].startswith("calls:no_call: question 1: the call passes 15, 9, 23, 29")
    assert "question 2: the arguments do not fit the tool (missing moduli)" in state["reason"]
    # one usable: taken, the other recorded
    good = '{"moduli": [3, 5], "remainders": [1, 2]}'
    ctx, model = _ctx(sb, [CRT_TOOL + shown, "I cannot", replies[0], good])
    state = _run(ctx, tasks)
    model.assert_consumed()
    assert state["status"] == "accepted", state["reason"]
    assert [(r["stage"], r["reason"]) for r in state["rejections"]] == [
        ("calls", "no_call"),
        ("calls", "bad_call"),
    ]
    rec = ctx.library.resolve("smallest_with_remainders")
    assert [e["input"] for e in rec.tests.held_out] == [{"moduli": [3, 5], "remainders": [1, 2]}]


def test_read_arguments_names_what_does_not_fit() -> None:
    from maker.make.latm_text import read_arguments

    assert read_arguments('{"b": 2, "a": 1}', ["a", "b"]) == {"a": 1, "b": 2}
    assert read_arguments('Sure: {"arguments": {"a": 1, "b": 2}}', ["a", "b"]) == {"a": 1, "b": 2}
    assert read_arguments('{"a": 1, "c": 3}', ["a", "b"]) == (
        "the arguments do not fit the tool (missing b; unknown 'c')"
    )
    # a parameter with a default may be left out
    assert read_arguments('{"a": 1}', ["a", "b"], required=["a"]) == {"a": 1}
    # the real 1.5B's reply for a CRT question, where the endpoint did not rule it out
    assert read_arguments('{"congruences": [ ]}', ["congruences"]) == (
        "congruences empty: take each argument from the question's own text"
    )
    assert read_arguments("a=1, b=2", ["a", "b"]) == (
        "the reply is not a JSON object of the arguments"
    )


def test_a_call_passing_the_format_examples_numbers_is_set_aside() -> None:
    # the real 1.5B's call for a Chinese-remainder question: the format example's gcd(12, 18)
    # numbers, and the question's 9
    q = (
        "There is a ship of no more than 95765 apricots. If we divide them equally among 5 "
        "penguins, we have 2 left; if we divide them equally among 107 monkeys, we have 28 left; "
        "if we divide them equally among 179 racoons, we have 9 left. How many apricots?"
    )
    task = Task("bbh:crt:0", q, "bbh:crt", answer=14687)
    calls = {0: {"a": 12, "b": 18, "c": 9}, 1: {"a": 5, "b": 107, "c": 179}}
    kept, problems = read_their_numbers(calls, [task, task])
    assert list(kept) == [1]
    assert problems == [
        "question 1: the call passes 12, 18, the numbers of the reply format's example, which "
        "question 1 does not state (its numbers: 95765, 5, 2, 107, 28, 179, 9); take each "
        "argument from the question's own text"
    ]
    # one of them alone may be worked out: 12 inches in a foot
    feet = Task("math:0", "How many inches are in 3 feet?", "math:Prealgebra", answer=36)
    assert read_their_numbers({0: {"feet": 3, "per_foot": 12}}, [feet])[1] == []
    # a question that states them may pass them
    stated = Task("bbh:gcd:0", "What is the gcd of 12 and 18?", "bbh:gcd", answer=6)
    assert read_their_numbers({0: {"a": 12, "b": 18}}, [stated]) == ({0: {"a": 12, "b": 18}}, [])
