"""Solving one problem: a good call, every kind of malformed plan, abstention, tool use counted
from the code that ran, the reply schema, replayed experience within budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from library import Episode, Library
from library.records import Call
from maker.bench.solve import problem_of
from maker.llm import ScriptedModel
from maker.use import Solver, SolveSettings
from maker.use.prompt import (
    PROBLEM_HEADING,
    demo_text,
    experience_text,
    solve_messages,
    tools_text,
)
from sandbox import Sandbox
from tests.maker.use.conftest import client_for

GCD_Q = "What is the greatest common divisor of 12 and 18?"


def call(tool: str, **args: Any) -> str:
    return json.dumps({"kind": "call", "tool": tool, "arguments": args})


def program(src: str) -> str:
    return json.dumps({"kind": "program", "program": src})


def solve(
    lib: Library, sb: Sandbox, script: list[str], text: str = GCD_Q, gold: Any = 6, **settings: Any
):
    client, model = client_for(script)
    with Solver(lib, client, sandbox=sb, settings=SolveSettings(**settings)) as solver:
        solution = solver.solve(text, gold=gold)
    model.assert_consumed()  # exactly as many model calls as the script has replies
    return solution, model


def last_user(model: ScriptedModel, i: int) -> str:
    return model.calls[i].messages[-1]["content"]


def test_a_correct_call_is_executed_graded_and_recorded(lib: Library, sb: Sandbox) -> None:
    sol, model = solve(lib, sb, [call("gcd", a=12, b=18)])
    assert (sol.answer, sol.correct, sol.tools_used, sol.attempts) == (6, True, ("gcd@1",), 1)
    assert sol.stages == dict.fromkeys(
        ("well_formed", "tool_chosen", "args_valid", "executed", "correct"), True
    )
    prompt = last_user(model, 0)
    assert "gcd(a: int, b: int) -> int" in prompt and "Greatest common divisor" in prompt
    assert "no judged uses yet" in prompt
    (ep,) = lib.store.episodes()
    assert ep.id == sol.episode_id and ep.call == Call("gcd@1", {"a": 12, "b": 18})
    assert ep.success is True and ep.result["value"] == 6 and ep.expected == "6"
    assert ep.result["stages"] == sol.stages and ep.result["calls"] == ["gcd@1"]
    assert lib.resolve("gcd").usage.successes == 1
    # the measured success rate reaches the next prompt
    _, model2 = solve(
        lib, sb, [call("gcd", a=4, b=6)], "greatest common divisor of 4 and 6", gold=2
    )
    assert "1 of 1 judged uses correct (100%)" in last_user(model2, 0)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("Sure! The gcd tool will do it.", "not a JSON object"),
        (call("greatest_divisor", a=12, b=18), "no tool named 'greatest_divisor'"),
        (call("gcd", a="12", b=18), "a: '12' is not of type 'integer'"),
        (call("gcd", a=12), "missing required argument(s) 'b'"),
        (call("gcd", a=12, b=18, c=1), "unknown argument(s) 'c'"),
        (
            json.dumps({"kind": "call", "tool": "gcd", "arguments": [12, 18]}),
            "must be a JSON object",
        ),
        (program("def solve(:\n    return gcd(12, 18)"), "does not parse"),
        (program("x = gcd(12, 18)"), "must define `def solve():`"),
        (program("def solve():\n    return gcd(12, 0) // 0"), "ZeroDivisionError"),
        (json.dumps({"kind": "guess"}), 'Unknown reply form (kind "guess")'),
    ],
)
def test_each_malformed_plan_gets_its_correction_and_a_retry(
    lib: Library, sb: Sandbox, bad: str, says: str
) -> None:
    sol, model = solve(lib, sb, [bad, call("gcd", a=12, b=18)])
    correction = last_user(model, 1)
    assert says in correction and "Reply again" in correction
    assert model.calls[1].messages[-2] == {"role": "assistant", "content": bad}
    assert sol.correct is True and sol.attempts == 2 and sol.tools_used == ("gcd@1",)
    (ep,) = lib.store.episodes()
    assert ep.feedback  # the problem on the way is kept with the episode


def test_retries_are_bounded_and_a_hopeless_model_does_not_crash(lib: Library, sb: Sandbox) -> None:
    sol, model = solve(lib, sb, ["no", "still no", "nope"], max_retries=2)
    assert len(model.calls) == 3 and sol.answer is None and sol.correct is False
    assert sol.stages["well_formed"] is False and sol.tools_used == ()
    assert sol.state["reason"] == "well_formed:not_json"
    (ep,) = lib.store.episodes()
    assert ep.success is None and ep.result["ok"] is False  # the model's failure, not a tool's
    sol, model = solve(lib, sb, [call("gcd", a="x", b=1)], max_retries=0)
    assert sol.stages == {
        "well_formed": True,
        "tool_chosen": True,
        "args_valid": False,
        "executed": None,
        "correct": False,
    }
    # a call that runs but raises, with no retry left: executed is False
    sol, _ = solve(
        lib,
        sb,
        [call("sort_words", words=[])],
        "sort these words alphabetically",
        gold="",
        max_retries=0,
    )
    assert sol.stages["executed"] is False and "no words to sort" in str(
        sol.state["problems"][-1]["message"]
    )


def test_no_tool_fits_so_the_model_answers_directly(lib: Library, sb: Sandbox) -> None:
    sol, model = solve(
        lib,
        sb,
        [json.dumps({"kind": "answer", "answer": "Paris"})],
        "What is the capital city of France?",
        gold="paris",
    )
    assert sol.offered == () and sol.state["abstained"]
    prompt = last_user(model, 0)
    assert "none of the library's tools fits" in prompt and "gcd(" not in prompt
    assert sol.correct is True and sol.tools_used == ()
    assert sol.stages["tool_chosen"] is None and sol.stages["executed"] is None
    # and a call without any tool offered is refused with a correction
    sol, model = solve(
        lib,
        sb,
        [call("gcd", a=1, b=2), json.dumps({"answer": "Paris"})],
        "What is the capital city of France?",
        gold="Paris",
    )
    assert "No tool is offered" in last_user(model, 1) and sol.correct is True


def gcd_as_text() -> Library:
    """A library whose `gcd` returns its number as text: a return type that could name an
    option, so the tool is offered on multiple choice."""
    from library import MemoryStore, NewTool
    from tests.maker.use.conftest import GCD

    src = GCD.replace("b: int) -> int:", "b: int) -> str:").replace("abs(a)", "str(abs(a))")
    lib = Library(MemoryStore())
    assert lib.publish(NewTool("gcd", src)).ok
    return lib


def test_a_tool_output_that_is_none_of_the_options_is_no_answer(sb: Sandbox) -> None:
    # the real 0.5B called a table-statistics tool on "is there a shortage or a surplus?"; its
    # number answered neither option and was graded as the answer
    lib = gcd_as_text()
    text = "Is the greatest common divisor of 12 and 18 even or odd?\nOptions: even; odd"
    meta = {"choices": ["even", "odd"]}
    none = json.dumps({"kind": "answer", "answer": "even"})
    client, model = client_for([call("gcd", a=12, b=18), none])
    with Solver(lib, client, sandbox=sb) as solver:
        sol = solver.solve(text, gold="even", metadata=meta)
    correction = last_user(model, 1)
    assert 'returned "6", which is none of the options (even; odd)' in correction
    assert '"tool": "none"' in correction
    assert (sol.answer, sol.correct, sol.tools_used) == ("even", True, ())
    assert sol.state["problems"][0]["code"] == "no_option"
    # no retry left: no answer, and no tool counted as used (the arms' fallback answers)
    client, _ = client_for([call("gcd", a=12, b=18)])
    with Solver(lib, client, sandbox=sb, settings=SolveSettings(max_retries=0)) as solver:
        sol = solver.solve(text, gold="even", metadata=meta)
    assert (sol.answer, sol.correct, sol.tools_used) == (None, False, ())
    assert sol.state["reason"] == "executed:no_option" and sol.stages["executed"] is True
    # a value naming an option is the option's text
    client, _ = client_for([call("gcd", a=12, b=18)])
    with Solver(lib, client, sandbox=sb) as solver:
        sol = solver.solve(
            "What is the gcd of 12 and 18?", gold="6", metadata={"choices": ["6", "3"]}
        )
    assert (sol.answer, sol.correct, sol.tools_used) == ("6", True, ("gcd@1",))


def test_a_tool_whose_return_type_names_no_option_is_not_offered(lib: Library, sb: Sandbox) -> None:
    # the real 0.5B, offered price and statistics tools (numbers) for TabMWP's "Is there a
    # shortage or a surplus?", spent two or three replies before answering "none"
    text = "Is the greatest common divisor of 12 and 18 even or odd?\nOptions: even; odd"
    client, model = client_for([json.dumps({"kind": "answer", "answer": "even"})])
    with Solver(lib, client, sandbox=sb) as solver:
        sol = solver.solve(text, gold="even", metadata={"choices": ["even", "odd"]})
    assert (sol.offered, sol.correct, sol.attempts) == ((), True, 1)
    assert sol.state["abstain_reason"] == "no tool's return type can name an option"
    assert "none of the library's tools fits" in last_user(model, 0)
    # options a number can name, or a tool returning text: offered
    none = json.dumps({"kind": "answer", "answer": "even"})
    for library, choices, script in (
        (lib, ["6", "3"], [call("gcd", a=12, b=18)]),
        (gcd_as_text(), ["even", "odd"], [call("gcd", a=12, b=18), none]),  # "6": no option
    ):
        client, model = client_for(script)
        with Solver(library, client, sandbox=sb) as solver:
            sol = solver.solve(text, gold=choices[0], metadata={"choices": choices})
        assert sol.offered == ("gcd@1",), choices
        assert "gcd(a: int, b: int)" in last_user(model, 0)


def test_tool_use_is_counted_from_the_code_that_ran(lib: Library, sb: Sandbox) -> None:
    claims = program("# uses gcd\ndef solve():\n    return 6")
    sol, _ = solve(lib, sb, [claims])
    assert sol.correct is True and sol.tools_used == () and not sol.used_tool
    really = program("def solve():\n    g = gcd(12, 18)\n    return gcd(g, 12)")
    sol, _ = solve(lib, sb, [really])
    assert sol.correct is True and sol.tools_used == ("gcd@1",)
    top_level = program("answer = gcd(a=36, b=18) // 3")
    sol, _ = solve(lib, sb, [top_level])
    assert sol.answer == 6 and sol.tools_used == ("gcd@1",)
    faked = program("def solve():\n    maker_call_log.append('gcd@1')\n    return 6")
    sol, model = solve(lib, sb, [faked, claims])
    assert "reserved" in last_user(model, 1) and sol.tools_used == ()


def test_the_reply_schema_goes_with_every_request(lib: Library, sb: Sandbox) -> None:
    """The decision schema (offered tool names as an enum) rides along with the request, so an
    endpoint that constrains decoding gets it; the reply text is parsed the same either way."""
    client, model = client_for([call("gcd", a=12, b=18)])
    with Solver(lib, client, sandbox=sb) as solver:
        assert solver.solve(GCD_Q, gold=6).correct
    schema = model.calls[0].params["schema"]
    tools = [f["properties"]["tool"]["const"] for f in schema["anyOf"]]
    assert "gcd" in tools and set(tools) <= {"gcd", "sort_words", "program", "none"}
    gcd = schema["anyOf"][tools.index("gcd")]["properties"]["arguments"]
    assert gcd["required"] == ["a", "b"] and gcd["properties"]["a"]["type"] == "integer"


def _seed_experience(lib: Library) -> None:
    texts = [
        "What is the greatest common divisor of {a} and {b}?",
        "Two ropes of {a} m and {b} m are cut into equal pieces: longest piece (divisor)?",
        "Find the largest number dividing both {a} and {b} (common divisor).",
    ]
    for i, (a, b) in enumerate([(8, 12), (9, 6), (14, 21)]):
        lib.record(
            Episode(
                texts[i].format(a=a, b=b),
                ("gcd@1",),
                Call("gcd@1", {"a": a, "b": b}),
                {"ok": True, "value": 1000 + i},
                str(1000 + i),
                True,
            )
        )
    lib.record(
        Episode(
            "greatest common divisor of a list 4 6 8",
            ("gcd@1",),
            Call("gcd@1", {"a": [4, 6, 8]}),
            {"ok": False, "error": {"type": "TypeError", "message": "bad operand"}},
            None,
            False,
        )
    )


def test_replayed_demonstrations_reach_the_prompt_within_budget(lib: Library, sb: Sandbox) -> None:
    _seed_experience(lib)
    _, model = solve(lib, sb, [call("gcd", a=12, b=18)], replay_budget_chars=1500)
    prompt = last_user(model, 0)
    assert "Solved before (real tool outputs):" in prompt
    assert 'Reply: {"tool": "gcd", "arguments": {' in prompt
    assert "Tool output: 100" in prompt  # the tool's real recorded output
    assert "Known pitfalls of these tools:" in prompt and "TypeError: bad operand" in prompt
    shown = len([line for line in prompt.splitlines() if line.startswith("Tool output:")])
    _, small = solve(lib, sb, [call("gcd", a=12, b=18)], replay_budget_chars=300)
    small_prompt = last_user(small, 0)
    small_shown = len([x for x in small_prompt.splitlines() if x.startswith("Tool output:")])
    assert 1 <= small_shown < shown
    _, none = solve(lib, sb, [call("gcd", a=12, b=18)], replay_budget_chars=0)
    assert "Solved before" not in last_user(none, 0)


def test_the_problem_comes_last_so_problems_share_the_prompts_head(
    lib: Library, sb: Sandbox
) -> None:
    # a server's prefix cache skips a prompt's head when the previous prompt shares it: on the
    # real 0.5B, prompt reading was most of a tool call's seconds (537 prompt tokens, 20 made)
    _seed_experience(lib)
    other = "Two ropes of 24 m and 36 m are cut into equal pieces; longest piece?"
    _, first = solve(lib, sb, [call("gcd", a=12, b=18)], record=False)
    _, second = solve(lib, sb, [call("gcd", a=24, b=36)], text=other, gold=12, record=False)
    a, b = (m.calls[0].messages for m in (first, second))
    assert a[0] == b[0]  # the system message
    head_a, _, problem_a = a[1]["content"].partition(PROBLEM_HEADING)
    head_b, _, problem_b = b[1]["content"].partition(PROBLEM_HEADING)
    # the tools' cards come first: only what was replayed for each problem differs
    tools_a, tools_b = (h.partition("Solved before")[0] for h in (head_a, head_b))
    assert tools_a == tools_b and "gcd(a: int, b: int)" in tools_a
    assert problem_a.startswith(GCD_Q) and problem_b.startswith(other)
    assert problem_of(a) == GCD_Q and problem_of(b) == other


def test_the_most_relevant_tools_card_is_the_last_one_nearest_the_problem(lib: Library) -> None:
    # ranked gcd first: its card comes last, right above the problem (the real 0.5B called the
    # last card's tool on ordering puzzles when the best tool's card came first)
    ranked = [lib.resolve("gcd@1"), lib.resolve("sort_words@1")]
    text = tools_text(ranked)
    assert text.index("sort_words(") < text.index("gcd(")
    prompt = solve_messages("GCD of 4 and 6?", ranked, "")[1]["content"]
    assert prompt.rindex("gcd(") < prompt.index(PROBLEM_HEADING) < prompt.index("GCD of 4 and 6?")


def test_replayed_episodes_are_chosen_by_relevance_and_shown_in_recorded_order() -> None:
    eps = {
        i: Episode(
            f"problem {i}", ("gcd@1",), Call("gcd@1", {"a": i}), {"ok": True}, str(i), True, id=i
        )
        for i in (1, 2, 3)
    }
    budget = len(demo_text(eps[3])) + len(demo_text(eps[1])) + 60
    text, shown = experience_text([eps[3], eps[1], eps[2]], [], budget)  # by relevance
    assert shown == [1, 3]  # the two most relevant, in the order they were recorded
    assert text.index("problem 1") < text.index("problem 3") and "problem 2" not in text


def test_experience_text_never_exceeds_its_budget() -> None:
    eps = [
        Episode(
            f"problem {i} " + "x" * (20 * i),
            ("gcd@1",),
            Call("gcd@1", {"a": i}),
            {"ok": True, "value": i},
            str(i),
            True,
            id=i,
        )
        for i in range(1, 12)
    ]
    for budget in (0, 50, 200, 500, 2000):
        text, shown = experience_text(eps, eps[:2], budget)
        assert len(text) <= budget
        assert len(shown) == text.count("Problem:")


def test_a_read_only_view_solves_without_recording(tmp_path, sb: Sandbox) -> None:
    from library import NewTool, open_library
    from tests.maker.use.conftest import GCD

    with Library.open(tmp_path) as lib:
        lib.publish(NewTool("gcd", GCD))
    client, _ = client_for([call("gcd", a=12, b=18)])
    with open_library(tmp_path) as view, Solver(view, client, sandbox=sb) as solver:
        sol = solver.solve(GCD_Q, gold=6)
        assert sol.correct and sol.episode_id is None
        assert view.library.store.episodes() == []


# A real Qwen2.5-Coder-0.5B reply under the JSON grammar: the object's closing brace ended up
# inside the program string, so the program ended with an unmatched "}" (3 of 3 attempts).
REAL_05B_PROGRAM = '{"kind": "program", "program": "def solve():\\n    return gcd(12, 18)}"}'


def test_a_stray_closing_bracket_at_the_end_of_a_program_is_dropped_with_a_note(
    lib: Library, sb: Sandbox
) -> None:
    sol, _ = solve(lib, sb, [REAL_05B_PROGRAM])
    assert (sol.correct, sol.attempts, sol.tools_used) == (True, 1, ("gcd@1",))
    (ep,) = lib.store.episodes()
    assert ep.call.program == "def solve():\n    return gcd(12, 18)"
    assert "read tolerantly: dropped 1 unmatched closing bracket(s) '}'" in ep.feedback


def test_a_near_copy_of_the_problem_in_an_argument_is_replaced_by_the_exact_span(
    lib: Library, sb: Sandbox
) -> None:
    # the local 0.5B user appended a closer to the sequence it was asked to complete, and
    # misspelt one word of a list; the tool ran on data that was not the problem's
    q = "Sort the following words alphabetically: List: thrill entirety barn"
    sol, _ = solve(
        lib,
        sb,
        [call("sort_words", words=["thrill", "entirely", "barn"])],
        q,
        "barn entirety thrill",
    )
    assert (sol.correct, sol.attempts) == (True, 1)
    (ep,) = lib.store.episodes()
    assert ep.call.arguments == {"words": ["thrill", "entirety", "barn"]}
    assert "copied from the problem: 'entirely' -> 'entirety'" in ep.feedback


@pytest.mark.parametrize(
    ("sent", "program", "note"),
    [
        (
            "def solve():\\n    return gcd(12, 18)",
            "def solve():\n    return gcd(12, 18)",
            "literal",
        ),
        ("```python\ndef solve():\n    return gcd(12, 18)\n```", None, "Markdown fence"),
        ("def solve():\n    return gcd(12, 18)))", None, "'))'"),
    ],
)
def test_the_tolerant_program_reader_mends_only_what_then_parses(
    sent: str, program: str | None, note: str
) -> None:
    from maker.use.reply import tidy_program

    fixed, notes = tidy_program(sent)
    assert fixed.strip() == (program or "def solve():\n    return gcd(12, 18)")
    assert len(notes) == 1 and note in notes[0]
    # beyond repair: the program comes back as sent, with no note (the syntax error is reported)
    broken = "def solve(:\n    return gcd(12, 18)}"
    assert tidy_program(broken) == (broken, ())
    assert tidy_program("def solve():\n    return gcd(1, 2)}}}}") == (
        "def solve():\n    return gcd(1, 2)}}}}",
        (),
    )


def test_a_retry_of_a_greedy_model_is_sampled_warmer_with_another_seed(
    lib: Library, sb: Sandbox
) -> None:
    from maker.llm import ChatClient
    from maker.llm.config import RoleConfig, Sampling

    model = ScriptedModel(["not json", "still not json", call("gcd", a=12, b=18)])
    client = ChatClient(
        model, RoleConfig("user", model="scripted-user", sampling=Sampling(temperature=0, seed=5))
    )
    with Solver(lib, client, sandbox=sb) as solver:
        sol = solver.solve(GCD_Q, gold=6)
    model.assert_consumed()
    temps = [(c.params.get("temperature"), c.params.get("seed")) for c in model.calls]
    assert temps == [(0, 5), (0.7, 6), (0.7, 7)]
    assert sol.correct is True and sol.attempts == 3
    # a role already sampled warm keeps its own settings
    model = ScriptedModel(["not json", call("gcd", a=12, b=18)])
    client = ChatClient(model, RoleConfig("user", model="m", sampling=Sampling(temperature=1.0)))
    with Solver(lib, client, sandbox=sb) as solver:
        solver.solve(GCD_Q, gold=6)
    assert [c.params.get("temperature") for c in model.calls] == [1.0, 1.0]


def test_a_reply_is_capped_unless_the_role_caps_it_lower(lib: Library, sb: Sandbox) -> None:
    # the real 0.5B once ran on to a 1,024-token reply (68 s) where a call takes ~30 tokens
    from maker.llm import ChatClient
    from maker.llm.config import RoleConfig, Sampling

    caps = []
    for own in (None, 4096, 200):
        model = ScriptedModel([call("gcd", a=12, b=18)])
        role = RoleConfig("user", model="m", sampling=Sampling(temperature=0, max_tokens=own))
        with Solver(lib, ChatClient(model, role), sandbox=sb) as solver:
            assert solver.solve(GCD_Q, gold=6).correct is True
        caps.append(model.calls[0].params.get("max_tokens"))
    assert caps == [512, 512, 200]


def test_a_tools_verified_examples_show_the_model_how_to_call_it(sb: Sandbox) -> None:
    """Only examples that carry their problem are shown, as problem -> reply pairs: a bare
    example call, or an output, the real 0.5B copied into its replies."""
    from library import MemoryStore, NewTool
    from library.records import StoredSuite
    from tests.maker.use.conftest import GCD

    lib = Library(MemoryStore())
    examples = (
        {"input": {"a": 12, "b": 18}, "expected": 6, "question": "GCD of 12 and 18?"},
        {"input": {"a": 5, "b": 10}, "expected": 5},  # no problem: not shown
        {"input": {"a": 7, "c": 1}, "expected": 1, "question": "q"},  # not its parameters
        {"input": {"a": 9, "b": 6}, "expected": 3, "question": "Largest divisor of 9 and 6?"},
        {"input": {"a": 2, "b": 4}, "expected": 2, "question": "2 and 4?"},  # beyond the two
    )
    assert lib.publish(NewTool("gcd", GCD, tests=StoredSuite(examples=examples))).ok
    _, model = solve(lib, sb, [call("gcd", a=12, b=18)])
    prompt = last_user(model, 0)
    # the two nearest the problem ("...greatest common divisor..."): the one sharing the word
    # "divisor" first, then the first of the others (the one without words comes after it)
    assert (
        "    Examples:\n"
        "      Problem: Largest divisor of 9 and 6?\n"
        '      Reply: {"tool": "gcd", "arguments": {"a": 9, "b": 6}}\n'
        "      Problem: GCD of 12 and 18?\n"
        '      Reply: {"tool": "gcd", "arguments": {"a": 12, "b": 18}}\n'
    ) in prompt
    assert '"a": 5' not in prompt and '"c": 1' not in prompt and '"a": 2,' not in prompt
    assert "-> 6" not in prompt


def test_the_card_says_what_each_argument_is(lib: Library, sb: Sandbox) -> None:
    # shown only `order_objects(puzzle: str)` and its summary, the real 0.5B passed the
    # objects' names where the docstring's Args asked for the whole puzzle (10 of 10 calls)
    _, model = solve(lib, sb, [call("gcd", a=12, b=18)])
    prompt = last_user(model, 0)
    assert "gcd(a: int, b: int) -> int\n    Greatest common divisor of two integers.\n" in prompt
    assert "    a: first integer.\n    b: second integer.\n    Measured:" in prompt
    from library import MemoryStore, NewTool
    from tests.maker.use.conftest import GCD

    wrapped = GCD.replace(
        "Greatest common divisor of two integers.",
        "Greatest common divisor of two integers, the largest\n    number dividing both.",
    )
    lib2 = Library(MemoryStore())
    assert lib2.publish(NewTool("gcd", wrapped)).ok
    _, model = solve(lib2, sb, [call("gcd", a=12, b=18)])
    assert "    Greatest common divisor of two integers, the largest number dividing both.\n" in (
        last_user(model, 0)
    )  # a summary wrapped over two lines is shown whole


def sort_words_with_a_demo() -> Library:
    """A library with `sort_words`, its card showing one problem -> call demonstration."""
    from library import MemoryStore, NewTool, StoredSuite
    from tests.maker.use.conftest import SORT_WORDS

    demo = {
        "input": {"words": ["pear", "apple"]},
        "expected": ["apple", "pear"],
        "question": "Sort the following words alphabetically: List: pear apple",
    }
    lib = Library(MemoryStore())
    assert lib.publish(NewTool("sort_words", SORT_WORDS, tests=StoredSuite(examples=(demo,)))).ok
    return lib


def test_a_call_with_an_examples_values_gets_a_correction(sb: Sandbox) -> None:
    # the real 0.5B, shown a tool's example call, sent that call's arguments for 6 new problems
    # of 6; a call whose strings come from an example and not from its problem is corrected
    lib = sort_words_with_a_demo()
    q = "Sort the following words alphabetically: List: thrill barn"
    sol, model = solve(
        lib,
        sb,
        [call("sort_words", words=["pear", "apple"]), call("sort_words", words=["thrill", "barn"])],
        q,
        ["barn", "thrill"],
        transfer_copies=False,
    )
    assert (sol.correct, sol.attempts) == (True, 2)
    retry = last_user(model, 1)
    (ep,) = [e for e in lib.store.episodes() if e.query == q]
    assert "args_valid:copied_example" in ep.feedback
    # the fresh chat says what went wrong without naming the values (the 0.5B copied those)
    assert "passed values from an example" in retry and "pear" not in retry
    # asked afresh without the example (corrected with it in view, the real 0.5B copied again)
    assert "Examples:" in last_user(model, 0) and "Examples:" not in retry
    assert len(model.calls[1].messages) == 2
    # a value that is in this problem too is not a copy
    sol, _ = solve(lib, sb, [call("sort_words", words=["pear", "kiwi"])], q + " pear kiwi", None)
    assert sol.attempts == 1


def test_a_copied_example_call_is_mapped_to_this_problem(sb: Sandbox) -> None:
    # the real 0.5B sent a shown call's words on its first reply for 28 of 30 word lists, and
    # fixed them on the retry; the example's problem says where its words came from, so the
    # host takes this problem's words from the same place, without a second model call
    lib = sort_words_with_a_demo()
    q = "Sort the following words alphabetically: List: thrill barn kiwi"
    sol, _ = solve(
        lib, sb, [call("sort_words", words=["pear", "apple"])], q, ["barn", "kiwi", "thrill"]
    )
    assert (sol.correct, sol.attempts, sol.state["problems"]) == (True, 1, [])
    (ep,) = [e for e in lib.store.episodes() if e.query == q]
    assert ep.call.arguments == {"words": ["thrill", "barn", "kiwi"]}
    assert "an example's value, mapped to this problem" in ep.feedback
    # another template (no 'List' before the words): nothing to map, asked again as before
    other = "Put these in alphabetical order: thrill barn"
    sol, _ = solve(
        lib,
        sb,
        [call("sort_words", words=["pear", "apple"]), call("sort_words", words=["thrill", "barn"])],
        other,
        ["barn", "thrill"],
    )
    assert (sol.attempts, sol.state["problems"][0]["code"]) == (2, "copied_example")


CONGRUENCES = """def solve_congruences(remainders: list[int], moduli: list[int]) -> int:
    \"\"\"Smallest number of things left over as given when shared out equally.\"\"\"
    n = 0
    while any(n % m != r for r, m in zip(remainders, moduli)):
        n += 1
    return n
"""

CONGRUENCE_DEMO = {
    "input": {"remainders": [2, 28, 10], "moduli": [5, 107, 179]},
    "expected": 12477,
    "question": "If we share the pears equally among 5 horses, 2 are left; among 107 bears, "
    "28 are left; among 179 racoons, 10 are left. How many pears are in the basket?",
}


def test_a_call_with_an_examples_numbers_is_never_run(sb: Sandbox) -> None:
    # real: the 0.5B called a remainder solver on 4 TabMWP table problems with its card
    # example's divisors [5, 107, 179], numbers those problems never state; asked about them
    # once, it sent the same call again, the tool answered, and all 4 were wrong
    from library import MemoryStore, NewTool, StoredSuite

    lib = Library(MemoryStore())
    suite = StoredSuite(examples=(CONGRUENCE_DEMO,))
    assert lib.publish(NewTool("solve_congruences", CONGRUENCES, tests=suite)).ok
    q = (
        "If we share the plums equally among 3 horses, 2 are left; among 11 bears, 5 are "
        "left. How many plums are in the basket?"
    )
    copied = call("solve_congruences", remainders=[2, 28, 10], moduli=[5, 107, 179])
    fixed = call("solve_congruences", remainders=[2, 5], moduli=[3, 11])
    sol, model = solve(lib, sb, [copied, copied, fixed], q, 5)
    assert (sol.correct, sol.attempts) == (True, 3)
    assert [p["code"] for p in sol.state["problems"]] == ["unread_numbers"] * 2
    assert "The number(s) 28, 10, 107, 179 in the arguments are not in this problem" in (
        last_user(model, 1)
    )
    # sent again with no retry left: no answer and no tool used, not the copy's answer
    sol, _ = solve(lib, sb, [copied, copied], q, 5, max_retries=1)
    assert (sol.answer, sol.tools_used) == (None, ())
    # numbers the problem does not state but no example shows are asked about once, then run
    made_up = call("solve_congruences", remainders=[2, 6], moduli=[3, 13])
    sol, _ = solve(lib, sb, [made_up, made_up], q, 5, max_retries=1)
    assert (sol.answer, sol.tools_used) == (32, ("solve_congruences@1",))
    # the example's numbers where the problem states them too are no copy
    own = q.replace("3 horses", "5 horses").replace("11 bears", "107 bears")
    sol, _ = solve(
        lib, sb, [call("solve_congruences", remainders=[2, 5], moduli=[5, 107])], own, 112
    )
    assert (sol.correct, sol.attempts) == (True, 1)


SWAPS = """def last_holder(puzzle: str) -> str:
    \"\"\"Who holds the ball after the passes in a passing puzzle.

    Args:
        puzzle: the problem's full text.
    \"\"\"
    import re
    start = re.search(r"(\\w+) starts with the ball", puzzle)
    if start is None:
        raise ValueError("who starts is not given")
    holder = start.group(1)
    for giver, taker in re.findall(r"(\\w+) passes to (\\w+)", puzzle):
        if giver == holder:
            holder = taker
    return holder
"""
PASSES = "Ann starts with the ball. Ann passes to Bo. Bo passes to Cy. Who has the ball?"


def test_a_call_that_failed_on_a_partial_copy_of_the_problem_runs_with_the_whole(
    sb: Sandbox,
) -> None:
    # asked for a puzzle's full text, the real 0.5B passed a few of its sentences and the tool
    # raised; the problem is at hand, so the call is run once more with all of it
    from library import MemoryStore, NewTool

    lib = Library(MemoryStore())
    assert lib.publish(NewTool("last_holder", SWAPS)).ok
    sol, model = solve(
        lib,
        sb,
        [call("last_holder", puzzle="Ann passes to Bo. Bo passes to Cy.")],
        text=PASSES,
        gold="Cy",
    )
    assert sol.correct is True and sol.tools_used == ("last_holder@1",)
    assert len(model.calls) == 1  # no model call spent on it
    decision = sol.state["decision"]
    assert decision["arguments"] == {"puzzle": PASSES}
    assert any("partial copy" in r for r in decision["repairs"])
    # an argument that is not a copy of the problem gets the usual correction instead
    sol, model = solve(
        lib,
        sb,
        [call("last_holder", puzzle="no names here at all"), call("last_holder", puzzle=PASSES)],
        text=PASSES,
        gold="Cy",
    )
    assert sol.correct is True and len(model.calls) == 2
    assert "Running it failed" in last_user(model, 1)


def test_a_tool_that_raises_on_the_whole_problem_is_not_offered_again(sb: Sandbox) -> None:
    # the real 0.5B, offered a swap-tracking tool on TabMWP's "Does Krysta have enough money
    # to buy ...?", called it three times (26 s) though it raised on the problem's full text
    from library import MemoryStore, NewTool

    lib = Library(MemoryStore())
    assert lib.publish(NewTool("last_holder", SWAPS)).ok
    q = "Ann holds the ball and Bo holds the bat. Who holds the ball?"
    ref = call("last_holder", puzzle="<problem>")
    direct = json.dumps({"kind": "answer", "answer": "Ann"})
    sol, model = solve(lib, sb, [ref, direct], text=q, gold="Ann")
    assert (sol.correct, sol.attempts, sol.tools_used) == (True, 2, ())
    assert sol.state["problems"][0]["code"] == "refused"
    assert (sol.offered, sol.state["refused"]) == (("last_holder@1",), ["last_holder@1"])
    retry = last_user(model, 1)
    assert "last_holder raised ValueError: who starts is not given" in retry
    assert "no longer offered" in retry and "No tool is left" in retry
    # called again anyway: not offered any more
    sol, model = solve(lib, sb, [ref, ref, direct], text=q, gold="Ann")
    assert sol.correct is True and "No tool is offered" in last_user(model, 2)
    # where no direct answer is wanted (an experiment arm's fallback answers), it ends there
    sol, _ = solve(lib, sb, [ref], text=q, gold="Ann", answer_without_tools=False)
    assert (sol.answer, sol.attempts, sol.state["reason"]) == (None, 1, "executed:refused")
    # a tool that raised on arguments other than the whole problem is asked about as before
    sol, model = solve(
        lib,
        sb,
        [call("last_holder", puzzle="no names here at all"), direct],
        text=q,
        gold="Ann",
    )
    assert "Running it failed" in last_user(model, 1) and sol.state["refused"] == []


def test_a_tool_that_refuses_the_problem_is_found_before_the_model_is_asked(
    sb: Sandbox,
) -> None:
    # the real 0.5B, offered whole-problem tools that raised on 42 of 100 TabMWP items, spent
    # 2.7 calls (26 s) per item on them before the fallback answered; a run of the tool on
    # the problem takes milliseconds
    from library import MemoryStore, NewTool, StoredSuite

    shown = "Cy starts with the ball. Cy passes to Ann. Who has the ball?"
    demo = {"input": {"puzzle": shown}, "expected": "Ann", "question": shown}
    lib = Library(MemoryStore())
    assert lib.publish(NewTool("last_holder", SWAPS, tests=StoredSuite(examples=(demo,)))).ok
    other = "Ann holds the ball and Bo holds the bat. Who holds the ball?"
    direct = json.dumps({"tool": "none", "answer": "Ann"})
    sol, model = solve(lib, sb, [direct], text=other, gold="Ann")
    assert sol.offered == () and sol.state["refused"] == ["last_holder@1"]
    (refusal,) = sol.state["refused_before"]
    assert refusal == {"ref": "last_holder@1", "error": "ValueError: who starts is not given"}
    assert "last_holder" not in model.calls[0].messages[-1]["content"]
    assert sol.state["abstain_reason"].startswith("every tool refused the problem: last_holder@1")
    # where no direct answer is wanted (an experiment arm's fallback), no model call at all
    sol, _ = solve(lib, sb, [], text=other, gold="Ann", answer_without_tools=False)
    assert (sol.answer, sol.attempts) == (None, 0)
    # a problem of its kind: offered and called as before
    sol, _ = solve(lib, sb, [call("last_holder", puzzle="<problem>")], text=PASSES, gold="Cy")
    assert (sol.correct, sol.offered, sol.state["refused"]) == (True, ("last_holder@1",), [])
    # off: offered, called, and refused after the call
    ref = call("last_holder", puzzle="<problem>")
    sol, _ = solve(lib, sb, [ref, direct], text=other, gold="Ann", probe_refusals=False)
    assert sol.offered == ("last_holder@1",) and sol.state["problems"][0]["code"] == "refused"
    # a tool whose examples pass a part of their problem is never probed (called on a whole
    # problem it may raise and still fit a part of it)
    part = {"input": {"puzzle": "Cy starts with the ball."}, "expected": "Cy", "question": shown}
    lib2 = Library(MemoryStore())
    assert lib2.publish(NewTool("last_holder", SWAPS, tests=StoredSuite(examples=(part,)))).ok
    sol, _ = solve(lib2, sb, [direct], text=other, gold="Ann")
    assert sol.offered == ("last_holder@1",) and sol.state["refused"] == []


PASSES_BY = """def passes_by(puzzle: str, name: str) -> int:
    \"\"\"How many times one player passes the ball in a passing puzzle.

    Args:
        puzzle: the problem's full text.
        name: the player.
    \"\"\"
    import re
    if name not in puzzle:
        raise ValueError(name + " is not in the puzzle")
    return len(re.findall(name + r" passes to", puzzle))
"""


def test_a_probe_tries_the_other_arguments_its_examples_pass(sb: Sandbox) -> None:
    # a "statistic of the table" tool raises unless the question asks for the statistic it is
    # given: it refuses a problem only when it raises with every value its examples pass there,
    # those of examples shown without their problem too (a curated docstring's later calls)
    from library import MemoryStore, NewTool, StoredSuite
    from maker.use.probe import whole_problem_probes

    q1 = "Ann passes to Bo. How often does Ann pass the ball?"
    q2 = "Bo passes to Cy. How often does Bo pass the ball?"
    with_problem = {"input": {"puzzle": q1, "name": "Ann"}, "expected": 1, "question": q1}
    without = {"input": {"puzzle": q2, "name": "Bo"}, "expected": 1}
    lib = Library(MemoryStore())
    suite = StoredSuite(examples=(with_problem, without, with_problem))
    assert lib.publish(NewTool("passes_by", PASSES_BY, tests=suite)).ok
    assert whole_problem_probes(lib.resolve("passes_by")) == (
        "puzzle",
        [{"name": "Ann"}, {"name": "Bo"}],
    )
    odd = "Cy passes to Di, then Di passes to Ed. How often does Cy pass the ball?"
    sol, _ = solve(lib, sb, [], text=odd, gold=None, answer_without_tools=False)
    assert sol.state["refused"] == ["passes_by@1"] and sol.attempts == 0
    # raises with name="Ann" but not with name="Bo": not refused
    only_bo = "Bo passes to Cy, then Cy passes to Bo. How often does Bo pass the ball?"
    sol, _ = solve(lib, sb, [call("passes_by", puzzle="<problem>", name="Bo")], only_bo, 1)
    assert sol.correct is True and sol.state["refused"] == []


PASSES_OF = """def passes_of(puzzle: str, name: str) -> int:
    \"\"\"How many times one player passes the ball in a passing puzzle.

    Args:
        puzzle: the problem's full text.
        name: the player.
    \"\"\"
    import re
    if "starts with the ball" not in puzzle:
        raise ValueError("who starts is not given: pass the whole puzzle")
    return len(re.findall(name + r" passes to", puzzle))
"""


def test_a_short_argument_beside_a_partial_copy_is_not_taken_for_the_copy(sb: Sandbox) -> None:
    # the real 0.5B passed a table without its question and statistic="range", a word of the
    # problem as well: the table is the partial copy, the one word is a value
    from library import MemoryStore, NewTool

    lib = Library(MemoryStore())
    assert lib.publish(NewTool("passes_of", PASSES_OF)).ok
    partial = call("passes_of", puzzle="Ann passes to Bo. Bo passes to Cy.", name="Bo")
    sol, model = solve(lib, sb, [partial], text=PASSES, gold=1)
    assert sol.correct is True and len(model.calls) == 1
    assert sol.state["decision"]["arguments"] == {"puzzle": PASSES, "name": "Bo"}


def test_an_argument_that_is_the_whole_problem_is_written_as_a_reference(sb: Sandbox) -> None:
    # asked for a puzzle's full text, the real 0.5B spent most of its seconds retyping it: the
    # reply writes "<problem>" and the host puts the problem there; demonstrations show it so
    from library import MemoryStore, NewTool, StoredSuite
    from maker.use.reply import parse_decision
    from maker.use.solver import dereferenced

    shown = "Cy starts with the ball. Cy passes to Ann.\nAnn passes to Bo. Who has the ball?"
    demo = {"input": {"puzzle": shown}, "expected": "Bo", "question": " ".join(shown.split())}
    lib = Library(MemoryStore())
    assert lib.publish(NewTool("last_holder", SWAPS, tests=StoredSuite(examples=(demo,)))).ok
    sol, model = solve(lib, sb, [call("last_holder", puzzle=" <Problem> ")], PASSES, "Cy")
    assert (sol.correct, sol.attempts) == (True, 1)
    system, prompt = (m["content"] for m in model.calls[0].messages)
    assert 'whole text is written "<problem>"' in system
    assert '      Reply: {"tool": "last_holder", "arguments": {"puzzle": "<problem>"}}' in prompt
    (ep,) = lib.store.episodes()
    assert ep.call.arguments == {"puzzle": PASSES}  # the episode keeps what the tool ran with
    assert '"arguments": {"puzzle": "<problem>"}' in demo_text(ep)  # and replays the reference
    # only an argument that is the reference itself is replaced
    mixed = parse_decision(call("last_holder", puzzle="<problem> and more", other="x"))
    assert dereferenced(mixed, PASSES) == mixed
    # a tool whose shown calls pass a part of their problem (the words after "List:") gets
    # that part of this problem for the reference, not the whole text
    q = "Sort the following words alphabetically: List: thrill barn kiwi"
    sol, _ = solve(sort_words_with_a_demo(), sb, [call("sort_words", words="<problem>")], q, None)
    assert sol.state["decision"]["arguments"] == {"words": ["thrill", "barn", "kiwi"]}
    assert any(
        "the part of the problem its examples pass" in r for r in sol.state["decision"]["repairs"]
    )
    # a long problem whose call would be too long to show is shown with the reference
    long_q = PASSES + " Nobody else plays." * 20
    long_demo = {"input": {"puzzle": long_q}, "expected": "Cy", "question": long_q}
    lib2 = Library(MemoryStore())
    assert lib2.publish(NewTool("last_holder", SWAPS, tests=StoredSuite(examples=(long_demo,)))).ok
    assert '{"puzzle": "<problem>"}' in tools_text([lib2.resolve("last_holder")])


CRT = '''def smallest_with_remainders(remainders: list[int], moduli: list[int]) -> int:
    """How many things there are, when divided equally among groups of each size in `moduli`
    they leave `remainders` left: the smallest x >= 0 with x % moduli[i] == remainders[i]."""
    if len(remainders) != len(moduli):
        raise ValueError("as many remainders as moduli")
    x, step = 0, 1
    for r, m in zip(remainders, moduli):
        for _ in range(m):
            if x % m == r % m:
                break
            x += step
        else:
            raise ValueError("no common solution")
        step *= m
    return x
'''
BANANAS = (
    "There is a basket of no more than 15599809 bananas. If we divide them equally among 199 "
    "horses, we have 119 left; if we divide them equally among 277 racoons, we have 121 left; "
    "if we divide them equally among 283 crocodiles, we have 175 left. How many bananas are "
    "in the basket?"
)


def test_a_call_with_numbers_the_problem_never_states_is_asked_again_once(sb: Sandbox) -> None:
    # the real 0.5B's reply to this problem: divisors [3, 4, 5], in no sentence of it; the
    # tool answered 5 (gold 6739254)
    from library import MemoryStore, NewTool

    lib = Library(MemoryStore())
    assert lib.publish(NewTool("smallest_with_remainders", CRT)).ok
    made_up = call("smallest_with_remainders", remainders=[119, 121, 175], moduli=[3, 4, 5])
    right = call("smallest_with_remainders", remainders=[119, 121, 175], moduli=[199, 277, 283])
    sol, model = solve(lib, sb, [made_up, right], text=BANANAS, gold=6739254)
    assert sol.correct is True and len(model.calls) == 2
    note = last_user(model, 1)
    assert "3, 4, 5 in the arguments are not in this problem" in note
    assert "Its numbers are: 15599809, 199, 119, 277, 121, 283, 175." in note
    assert sol.stages["args_valid"] is True and sol.state["problems"][0]["code"] == "unread_numbers"
    # asked once only: a number worked out from the problem still runs on the second reply
    sol, model = solve(lib, sb, [made_up, made_up], text=BANANAS, gold=6739254)
    assert len(model.calls) == 2 and sol.tools_used == ("smallest_with_remainders@1",)
    assert sol.answer == 5 and sol.correct is False
    # and never with the last retry: the call runs rather than the problem ending unanswered
    sol, model = solve(lib, sb, [made_up], text=BANANAS, gold=6739254, max_retries=0)
    assert len(model.calls) == 1 and sol.answer == 5
    # a call whose numbers are all the problem's (or 0 and 1, or a stated percentage) runs at once
    sol, model = solve(lib, sb, [right], text=BANANAS, gold=6739254, check_numbers=True)
    assert len(model.calls) == 1 and sol.correct is True


def test_unread_numbers_reads_digits_words_and_percentages() -> None:
    from maker.text.grounding import problem_numbers, unread_numbers

    text = "A dozen eggs cost $3.50; 25% are broken and -4 degrees. Twice 1,200 is what?"
    assert problem_numbers(text) == [12.0, 3.5, 25.0, -4.0, 2.0, 1200.0]
    args = {"n": 12, "price": 3.5, "share": 0.25, "t": 4, "k": [2, 1200], "flag": True}
    assert unread_numbers(args, text) == []
    assert unread_numbers({"n": 13, "x": {"y": [0, 1, 2.5]}, "s": "7"}, text) == [13, 2.5]


def hand_written(sb: Sandbox, tmp_path: Any, source: str) -> Library:
    """A library holding the tool `source` (a hand-written file, its doctests validated)."""
    from library import MemoryStore
    from library.authoring import add_file

    path = tmp_path / "tool.py"
    path.write_text(source)
    lib = Library(MemoryStore())
    assert add_file(lib, path, sb).ok
    return lib


def test_a_demonstration_in_a_hand_written_tools_docstring_is_an_example_to_not_copy(
    sb: Sandbox, tmp_path
) -> None:
    # a docstring's `Problem:` demonstration is in the tool's source: its values are still an
    # example's (only strings of the tool's code, such as a mode it checks, are not copies)
    lib = hand_written(
        sb,
        tmp_path,
        'def sort_words(words: list[str], order: str = "ascending") -> list[str]:\n'
        '    """Sort words alphabetically.\n\n'
        "    Problem: Sort the following words alphabetically: List: pear apple\n"
        '    >>> sort_words(["pear", "apple"])\n'
        "    ['apple', 'pear']\n"
        '    """\n'
        '    return sorted(words, reverse=order != "ascending")\n',
    )
    q = "Sort the following words alphabetically: List: thrill barn"
    sol, model = solve(
        lib,
        sb,
        [
            call("sort_words", words=["pear", "apple"], order="ascending"),
            call("sort_words", words=["thrill", "barn"], order="ascending"),
        ],
        q,
        ["barn", "thrill"],
        transfer_copies=False,
    )
    assert "Problem: Sort the following words alphabetically: List: pear apple" in (
        last_user(model, 0)
    )
    assert (sol.correct, sol.attempts) == (True, 2)
    assert sol.state["problems"][0]["code"] == "copied_example"


def test_an_example_expression_passed_for_another_problem_is_a_copy(sb: Sandbox, tmp_path) -> None:
    # the real 0.5B, offered a hand-written expression tool whose docstring demonstrates
    # "(26^2 - 24^2 - 10)^2 - 10^2", passed that expression for a probability question: its
    # digits kept it out of the copy check, and the tool's 8000 was taken for the answer
    lib = hand_written(
        sb,
        tmp_path,
        "def evaluate(expression: str) -> int:\n"
        '    """The value of a sum or difference of whole numbers.\n\n'
        "    Problem: What is the value of $26 - 24 + 10$?\n"
        '    >>> evaluate("26 - 24 + 10")\n'
        "    12\n"
        '    """\n'
        "    total, sign = 0, 1\n"
        "    for part in expression.split():\n"
        "        if part in '+-':\n"
        "            sign = 1 if part == '+' else -1\n"
        "        else:\n"
        "            total += sign * int(part)\n"
        "    return total\n",
    )
    q = "What is the value of the sum and difference of whole numbers $7 + 5 - 2$?"
    sol, _ = solve(
        lib,
        sb,
        [call("evaluate", expression="26 - 24 + 10"), call("evaluate", expression="7 + 5 - 2")],
        q,
        10,
        transfer_copies=False,
    )
    assert (sol.correct, sol.attempts) == (True, 2)
    assert sol.state["problems"][0]["code"] == "copied_example"
    assert "'26 - 24 + 10' come from an example" in sol.state["problems"][0]["message"]
    # a short string with digits is not taken for a copy ("x^2" may well be this problem's)
    from maker.text.grounding import copied_from_examples

    assert copied_from_examples({"e": "x^2"}, "Solve y = 3", frozenset({"x^2"})) == []


def test_the_tasks_answer_check_grades_and_is_recorded(lib: Library, sb: Sandbox) -> None:
    client, _ = client_for([call("gcd", a=12, b=18), call("gcd", a=12, b=18)])
    with Solver(lib, client, sandbox=sb) as solver:
        plain = solver.solve(GCD_Q, gold="\\boxed{6}")
        checked = solver.solve(GCD_Q, gold="\\boxed{6}", metadata={"answer_check": "math"})
    assert (plain.correct, checked.correct) == (False, True)
    assert [e.answer_check for e in lib.store.episodes()] == [None, "math"]
