"""Baseline methods: reading answers, running programs in the sandbox, voting, budgets."""

from __future__ import annotations

import re

import pytest

from experiments.data import Item
from experiments.methods import (
    Budget,
    Meter,
    MethodError,
    MethodUnavailable,
    SelfConsistencyMethod,
    SolveContext,
    answer_text,
    build_method,
    final_answer,
    get_solver,
    program_of,
    run_program,
    vote,
)
from maker.llm import ChatClient, ChatResponse, RoleConfig, ScriptedModel, Usage


@pytest.mark.parametrize(
    ("text", "dataset", "expected"),
    [
        ("Step 1.\nThe answer is (B).", "bbh", "(B)"),
        ("**Answer:** 1,000", "tabmwp", "1,000"),
        (
            "so x = 2 and the answer is $\\boxed{2}$",
            "math",
            "so x = 2 and the answer is $\\boxed{2}$",
        ),
        ("Answer: 7\nTo answer this, I summed.", "tabmwp", "7"),
        ("just 12", "tabmwp", "just 12"),
        ("   ", "bbh", None),
    ],
)
def test_final_answer(text, dataset, expected):
    assert final_answer(text, dataset) == expected


def test_answer_text():
    assert [answer_text(v) for v in (3.0, 0.5, [1, "b"], None, True, " x ")] == [
        "3",
        "0.5",
        "1 b",
        None,
        "True",
        "x",
    ]
    # MATH writes ordered pairs as (a, b): a program returning (-1, 6) answers "(-1,6)"
    assert answer_text((-1, 6.0), "math") == "(-1, 6)" and answer_text([], "math") == "()"
    # the tool user stores a list as JSON text
    from experiments.methods.use_solver import pred_text

    assert pred_text("[-1, 6]", "math") == "(-1, 6)" and pred_text("[-1, 6]", "bbh") == "[-1, 6]"
    assert pred_text("[1, 2", "math") == "[1, 2" and pred_text(None, "math") is None
    assert (
        pred_text([-1, 6], "math") == "(-1, 6)"
    )  # the tool's value itself, as the solver keeps it


def test_program_of_takes_the_last_python_block_even_unclosed():
    assert program_of("no code") is None
    assert program_of("```python\nx = 1\n```\n```python\ny = 2").strip() == "y = 2"


def test_programs_run_in_the_sandbox(sb):
    assert run_program(sb, "def solution():\n    return 6 * 7\n")[0] == "42"
    assert run_program(sb, "print('a')\nprint(3 + 4)\n")[0] == "7"
    assert run_program(sb, "def solution():\n    print(5)\n")[0] == "5"
    answer, error, _ = run_program(sb, "import os\nos.system('echo hi')\n")
    assert answer is None and "program failed" in error
    loop = "def solution():\n    while True:\n        pass\n"
    answer, error, facts = run_program(sb, loop, timeout=0.5)
    assert answer is None and facts["limit"] is not None
    assert run_program(sb, "x = 1\n")[1] == "the program returned and printed nothing"


def test_a_module_a_program_uses_but_never_imports_is_imported(sb):
    # real: the 1.5B's TabMWP programs called statistics.median and collections.Counter with no
    # import (3 of 100 failed so, all three right once imported)
    src = "def solution():\n    return statistics.median([9, 5, 7])\n"
    answer, error, facts = run_program(sb, src)
    assert (answer, error) == ("7", None)
    assert facts["imports_added"] == ["added `import statistics` (used, never imported)"]
    # a name only its import would give, and a module the policy does not allow, stay missing
    assert "NameError" in run_program(sb, "def solution():\n    return undefined_total\n")[1]
    assert "NameError" in run_program(sb, "def solution():\n    return os.getcwd()\n")[1]


def test_vote_majority_first_drawn_breaks_ties():
    assert vote(["1", "2", "2", None]) == ("2", {"1": 1, "2": 2})
    assert vote(["b", "a"]) == ("b", {"a": 1, "b": 1})
    assert vote([None, " "]) == (None, {})


def _item():
    return Item("q1", "tabmwp", "What is 2 + 3?", "5", "test")


def _sc_client(replies):
    model = ScriptedModel([ChatResponse(r, "stop", Usage(40, 10), "cheap") for r in replies])
    return model, {"user": ChatClient(model, RoleConfig("user", model="cheap"))}


@pytest.mark.parametrize(("tokens", "drawn"), [(None, 4), (49, 1), (100, 2), (149, 2), (150, 3)])
def test_self_consistency_draws_until_the_budget_is_spent(sb, tokens, drawn):
    progs = ["```python\ndef solution():\n    return 5\n```"] * 4
    model, clients = _sc_client(progs[:drawn])
    method = SelfConsistencyMethod("sc", max_samples=4)
    budget = Budget(tokens=tokens) if tokens is not None else None
    ctx = SolveContext(meter=Meter(clients, "sc"), sandbox=sb, seed=1, budget=budget)
    attempt = method.solve(_item(), ctx)
    model.assert_consumed()
    assert attempt.pred == "5" and attempt.detail["samples"] == drawn
    assert ctx.meter.tokens == 50 * drawn
    samples = [c.params.get("seed") for c in model.calls]
    assert samples == [10_000 + i for i in range(drawn)]  # distinct per seed and sample


def test_self_consistency_can_start_from_the_greedy_program(sb, tmp_path):
    # the small run's 0.5B: with 2.7 warm programs per item the vote tied on 35% of items and
    # fell to a warm program; greedy_first draws the greedy one first, and ties go to it
    from maker.llm import ResponseCache

    def prog(n: int) -> str:
        return f"```python\ndef solution():\n    return {n}\n```"

    cache = ResponseCache(tmp_path / "cache")
    model = ScriptedModel(
        [ChatResponse(r, "stop", Usage(40, 10), "cheap") for r in (prog(5), prog(4), prog(6))]
    )
    clients = {"user": ChatClient(model, RoleConfig("user", model="cheap"), cache=cache)}
    method = build_method({"name": "sc", "kind": "pot_sc", "greedy_first": True, "max_samples": 2})
    first = method.solve(_item(), SolveContext(meter=Meter(clients, "sc"), sandbox=sb, seed=1))
    assert first.pred == "5" and first.detail["votes"] == {"5": 1, "4": 1}  # a tie: greedy's
    assert [c.params.get("temperature") for c in model.calls] == [0.0, 0.7]
    assert "seed" not in model.calls[0].params and model.calls[1].params["seed"] == 10_001
    # the greedy program is the same for every seed: seed 2 gets it from the cache
    meter = Meter(clients, "sc")
    second = method.solve(_item(), SolveContext(meter=meter, sandbox=sb, seed=2))
    model.assert_consumed()
    assert len(model.calls) == 3 and second.pred == "5" and meter.calls[0].cache_hit
    # and a greedy PoT arm asking the same from that cache gets the same program, free
    pot = build_method({"name": "pot", "kind": "pot"})
    meter = Meter(clients, "pot")
    assert pot.solve(_item(), SolveContext(meter=meter, sandbox=sb, seed=0)).pred == "5"
    assert meter.calls[0].cache_hit and len(model.calls) == 3


def test_self_consistency_counts_malformed_samples_as_abstentions(sb):
    model, clients = _sc_client(["no code", "```python\ndef solution():\n    return 4\n```"])
    ctx = SolveContext(meter=Meter(clients, "sc"), sandbox=sb, seed=0)
    attempt = SelfConsistencyMethod("sc", max_samples=2).solve(_item(), ctx)
    assert attempt.pred == "4" and attempt.detail["errors"] == {"no code block in the reply": 1}


def test_build_method_names_bad_settings():
    with pytest.raises(MethodError, match="kind must be one of"):
        build_method({"name": "x", "kind": "magic"})
    with pytest.raises(MethodError, match="role must be"):
        build_method({"name": "x", "kind": "cot", "role": "boss"})
    with pytest.raises(MethodError, match=r"method 'x' \(pot\).*temprature"):
        build_method({"name": "x", "kind": "pot", "temprature": 0.2})
    assert build_method({"name": "x", "kind": "cot", "temperature": 0.5}).sampled


def test_tool_arms_use_maker_use_and_name_unknown_solvers():
    from experiments.methods.use_solver import solve_with_maker_use

    assert get_solver("maker.use", "latm") is solve_with_maker_use
    with pytest.raises(MethodUnavailable, match="unknown solver 'nope'"):
        get_solver("nope", "latm")


GCD_TOOL = (
    "def gcd(a: int, b: int) -> int:\n"
    '    """Greatest common divisor of two integers."""\n'
    "    while b:\n"
    "        a, b = b, a % b\n"
    "    return abs(a)\n"
)


def test_a_tool_arm_solves_through_maker_use_without_seeing_gold(sb, tmp_path):
    from library import Library, NewTool

    with Library.open(tmp_path / "lib") as lib:
        assert lib.publish(NewTool("gcd", GCD_TOOL)).ok
    call = '{"kind": "call", "tool": "gcd", "arguments": {"a": 12, "b": 18}}'
    model = ScriptedModel([ChatResponse(call, "stop", Usage(30, 12), "cheap")])
    clients = {"user": ChatClient(model, RoleConfig("user", model="cheap"))}
    item = Item("g1", "tabmwp", "What is the greatest common divisor of 12 and 18?", "6", "test")
    method = build_method({"name": "curated", "kind": "tools", "library": str(tmp_path / "lib")})
    attempt = method.solve(item, SolveContext(meter=Meter(clients, "curated"), sandbox=sb, seed=0))
    assert attempt.pred == "6" and attempt.error is None
    assert [c["tool"] for c in attempt.tool_calls] == ["gcd@1"]
    prompt = "\n".join(m["content"] for m in model.calls[0].messages)
    assert "gcd(a: int, b: int)" in prompt and not re.search(r"\b6\b", prompt)  # no gold


def _gcd_library(path):
    from library import Library, NewTool

    with Library.open(path) as lib:
        assert lib.publish(NewTool("gcd", GCD_TOOL)).ok
    return str(path)


def _arm_with_fallback(library: str, replies: list[str]):
    model = ScriptedModel([ChatResponse(r, "stop", Usage(30, 12), "cheap") for r in replies])
    clients = {"user": ChatClient(model, RoleConfig("user", model="cheap"))}
    pot = build_method({"name": "cheap_pot", "kind": "pot", "role": "user"})
    arm = build_method(
        {"name": "latm", "kind": "tools", "library": library, "fallback": "cheap_pot"}
    )
    arm.bind_fallback({"cheap_pot": pot})
    return arm, model, Meter(clients, "latm")


POT_REPLY = "```python\ndef solution():\n    return 2 + 2\n```"


def test_a_tool_arm_falls_back_when_no_tool_is_offered_without_asking_the_solver(sb, tmp_path):
    arm, model, meter = _arm_with_fallback(_gcd_library(tmp_path / "lib"), [POT_REPLY])
    item = Item("t1", "tabmwp", "Ducks on a pond: two plus two swim in the park.", "4", "test")
    attempt = arm.solve(item, SolveContext(meter=meter, sandbox=sb, seed=0))
    assert attempt.pred == "4" and attempt.tool_calls == ()
    assert attempt.detail["fallback"] == "cheap_pot"
    assert "no_tool_offered" in attempt.detail["no_tool"]
    trace = attempt.detail["tool_user"]  # the report counts how far the tool user got
    assert trace["offered"] == [] and trace["attempts"] == 0
    assert len(model.calls) == 1  # the fallback's program only: no direct-answer call
    assert [c.phase for c in meter.calls] == ["latm/program"]


def test_a_tool_arm_falls_back_when_the_model_answers_without_the_offered_tool(sb, tmp_path):
    direct = '{"tool": "none", "answer": "5"}'
    arm, model, meter = _arm_with_fallback(_gcd_library(tmp_path / "lib"), [direct, POT_REPLY])
    item = Item("g2", "tabmwp", "What is the greatest common divisor of 12 and 18?", "6", "test")
    attempt = arm.solve(item, SolveContext(meter=meter, sandbox=sb, seed=0))
    assert attempt.pred == "4" and attempt.detail["no_tool"] == "answered directly"
    trace = attempt.detail["tool_user"]
    assert trace["offered"] == ["gcd@1"] and trace["attempts"] == 1
    assert trace["stages"]["well_formed"] is True and trace["stages"]["tool_chosen"] is False
    assert [c.phase for c in meter.calls] == [
        "solve",
        "latm/program",
    ]  # both count in the arm's cost


def test_a_tool_arm_keeps_the_tool_answer_when_a_tool_ran(sb, tmp_path):
    call = '{"kind": "call", "tool": "gcd", "arguments": {"a": 12, "b": 18}}'
    arm, model, meter = _arm_with_fallback(_gcd_library(tmp_path / "lib"), [call])
    item = Item("g3", "tabmwp", "What is the greatest common divisor of 12 and 18?", "6", "test")
    attempt = arm.solve(item, SolveContext(meter=meter, sandbox=sb, seed=0))
    assert attempt.pred == "6" and [c["tool"] for c in attempt.tool_calls] == ["gcd@1"]
    assert "fallback" not in attempt.detail and len(model.calls) == 1
    stages = attempt.detail["tool_user"]["stages"]
    assert stages == {
        "well_formed": True,
        "tool_chosen": True,
        "args_valid": True,
        "executed": True,
    }


def test_an_unbound_or_unknown_fallback_is_an_error(tmp_path):
    arm = build_method({"name": "latm", "kind": "tools", "library": "x", "fallback": "pot"})
    with pytest.raises(MethodError, match="fallback 'pot' is not a method"):
        arm.bind_fallback({"latm": arm})


def test_meter_keeps_what_a_cached_answer_first_cost(tmp_path):
    from maker.llm import ResponseCache
    from maker.llm.prices import Price, PriceTable

    slow = ChatResponse("hi", "stop", Usage(100, 20), "m", latency_s=2.5)
    model = ScriptedModel([slow])
    prices = PriceTable("t", {"m": Price(1.0, 2.0)})
    with ResponseCache(tmp_path / "c") as cache:
        client = ChatClient(model, RoleConfig("user", model="m"), cache=cache, prices=prices)
        first, again = Meter({"user": client}, "p"), Meter({"user": client}, "p")
        first.ask("user", [{"role": "user", "content": "x"}], phase="answer", temperature=0)
        again.ask("user", [{"role": "user", "content": "x"}], phase="answer", temperature=0)
    (a,), (b,) = first.calls, again.calls
    assert (a.cache_hit, b.cache_hit) == (False, True)
    assert a.seconds == b.seconds == 2.5 and a.tokens == b.tokens == 120
    assert a.dollars == b.dollars == pytest.approx((100 * 1 + 20 * 2) / 1e6)
    assert a.phase == "p/answer"
    assert client.ledger.total().dollars == pytest.approx(a.dollars)  # the hit billed nothing
    with pytest.raises(MethodError, match="no model client for role 'maker'"):
        first.ask("maker", [], phase="x")


def test_self_consistency_can_match_seconds(sb):
    replies = [
        ChatResponse(
            "```python\ndef solution():\n    return 5\n```",
            "stop",
            Usage(1, 1),
            "cheap",
            latency_s=1.0,
        )
    ] * 2
    model = ScriptedModel(replies)
    clients = {"user": ChatClient(model, RoleConfig("user", model="cheap"))}
    ctx = SolveContext(meter=Meter(clients, "sc"), sandbox=sb, budget=Budget(seconds=2.5))
    attempt = SelfConsistencyMethod("sc", max_samples=8).solve(_item(), ctx)
    assert attempt.detail["samples"] == 2 and ctx.meter.seconds == 2.0


def test_the_pot_prompt_ends_on_the_code_instruction() -> None:
    # ending on the answer hint ('For options return the label, like "(A)"'), the real 0.5B
    # replied "(A)" with no program to 15 of 30 BIG-Bench items
    from experiments.methods.prompts import pot_messages

    for dataset in ("bbh", "tabmwp", "math"):
        item = Item("x", dataset, "Sort the words: b a", "a b", "test")
        last = pot_messages(item)[-1]["content"].splitlines()[-1]
        assert last.startswith("Reply with one ```python block that defines `solution()`")
        assert "do not answer without the program" in last


def test_only_a_question_with_options_is_told_about_option_labels() -> None:
    # told 'For options return the label, like "(A)"', the real 0.5B returned "(A)" for 25 of
    # 30 word-sorting items, which have no options
    from experiments.methods.prompts import cot_messages, direct_messages, pot_messages

    free = Item("w", "bbh", "Sort the following words alphabetically: List: b a", "a b", "test")
    choice = Item("c", "bbh", "Which is first?\nOptions:\n(A) b\n(B) a", "(B)", "test")
    listed = Item("l", "bbh", "Which is first?", "(B)", "test", choices=("(A) b", "(B) a"))
    for messages in (pot_messages, direct_messages, cot_messages):
        assert "(A)" not in messages(free)[-1]["content"]
        assert (
            'like "(A)"' in messages(choice)[-1]["content"]
            or "like (A)" in (messages(choice)[-1]["content"])
        )
        assert "(A)" in messages(listed)[-1]["content"]
    assert "Return the exact answer text." in pot_messages(free)[-1]["content"]


def _ledger(path, *tokens: int) -> None:
    from maker.llm import CostLedger, LedgerEntry

    path.parent.mkdir(parents=True, exist_ok=True)
    for n in tokens:
        CostLedger(path).record(
            LedgerEntry(
                role="maker",
                phase="propose",
                model="strong",
                prompt_tokens=n,
                completion_tokens=1,
                cached_tokens=0,
                latency_s=1.0,
                cache_hit=False,
                attempts=1,
                dollars=0.0,
                pricing="table",
            )
        )


def test_making_ledgers_may_be_a_directory_of_the_jobs_that_built_the_library(tmp_path):
    # the full loop's library: the make job, then solve / explore / improve runs that wrote
    # their ledgers into it; other JSONL files (rejections, episodes) are not ledgers
    from experiments.methods.tools import ledger_files, making_calls

    lib = tmp_path / "lib"
    _ledger(lib / "jobs" / "latm-abc" / "ledger.jsonl", 100, 200)
    _ledger(lib / "jobs" / "solve-def" / "ledger.jsonl", 10)
    _ledger(lib / "ledgers" / "improve-20261206T000000.jsonl", 1000)
    _ledger(lib / "jobs" / "latm-abc" / "rejections.jsonl", 5)
    files = ledger_files([lib, lib / "ledgers" / "improve-20261206T000000.jsonl"])
    assert [f.relative_to(lib).as_posix() for f in files] == [
        "jobs/latm-abc/ledger.jsonl",
        "jobs/solve-def/ledger.jsonl",
        "ledgers/improve-20261206T000000.jsonl",
    ]  # a ledger named twice counts once
    assert sorted(c.prompt_tokens for c in making_calls([lib])) == [10, 100, 200, 1000]
    (tmp_path / "empty").mkdir()
    with pytest.raises(MethodError, match="empty: a directory with no cost ledger in it"):
        making_calls([tmp_path / "empty"])
    arm = build_method(
        {"name": "loop", "kind": "tools", "library": str(lib), "make_ledger": [str(lib / "x")]}
    )
    with pytest.raises(MethodError, match="method 'loop': make ledger .*x: no such file"):
        arm.check()
