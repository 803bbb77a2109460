"""Exploration: imagined problems, trials judged by the strong model and a program of thought,
demonstrations and failure memory recorded raw, replayed at solve time; malformed replies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from library import Library
from maker.explore import ExploreError, ExploreSettings, explore_library
from maker.explore.imagine import parse_query, similarity
from maker.explore.judge import parse_judgement, parse_program
from maker.llm import ChatClient, RoleConfig, ScriptedModel
from maker.llm.config import Sampling
from maker.use import Solver
from sandbox import Sandbox
from tests.maker.use.conftest import new_library

ROPES = "Two ropes are 24 m and 36 m long. What is the longest length that cuts both evenly?"
PENCILS = "A teacher shares 18 pencils and 27 erasers in equal kits; how many kits at most?"


def query(text: str) -> str:
    return json.dumps({"query": text})


def call(tool: str, **args: Any) -> str:
    return json.dumps({"kind": "call", "tool": tool, "arguments": args})


def verdict(yes: bool, answer: str = "", reason: str = "checked") -> str:
    return json.dumps({"verdict": "yes" if yes else "no", "reason": reason, "answer": answer})


def pot(value: int) -> str:
    return f"Here:\n```python\ndef solve():\n    x = {value}\n    return x\n```\n"


def clients(
    user: list[Any], judge: list[Any]
) -> tuple[ChatClient, ChatClient, ScriptedModel, ScriptedModel]:
    um, jm = ScriptedModel(user), ScriptedModel(judge)
    return (
        ChatClient(um, RoleConfig("user", model="scripted-user")),
        ChatClient(jm, RoleConfig("maker", model="scripted-maker")),
        um,
        jm,
    )


def explore(lib: Library, sb: Sandbox, user: list[Any], judge: list[Any], **settings: Any):
    u, j, um, jm = clients(user, judge)
    s = ExploreSettings(**{"tools": ("gcd",), "queries_per_tool": 1, **settings})
    ticks: list[tuple[int, int]] = []
    summary = explore_library(lib, u, j, sb, s, progress=lambda _, d, t: ticks.append((d, t)))
    assert ticks == [(i + 1, len(summary.tools) * s.queries_per_tool) for i in range(len(ticks))]
    assert len(ticks) == len(summary.tools) * s.queries_per_tool
    um.assert_consumed()
    jm.assert_consumed()
    return summary, um, jm


def test_exploration_makes_demonstrations_and_failure_memory(sb: Sandbox) -> None:
    lib = new_library()
    summary, um, jm = explore(
        lib,
        sb,
        [
            query(ROPES),
            call("gcd", a=24, b=30),  # trial 1: a wrong value -> 6
            call("gcd", a=24, b=36),  # trial 2: right -> 12
            query(ROPES.replace("24 m", "25 m")),  # a near-duplicate: turned down
            query(PENCILS),
            call("gcd", a=18, b=27),
        ],
        [
            verdict(False, "12", "the second rope is 36 m, not 30"),
            pot(12),  # asked once the judge has spoken: 12 is not the tool's 6, so refuted
            verdict(True, "12"),
            verdict(True, "9"),
            pot(9),
        ],
        queries_per_tool=2,
    )
    eps = lib.store.episodes()
    assert [(e.origin, e.success) for e in eps] == [
        ("exploration", False),
        ("exploration", True),
        ("exploration", True),
    ]
    wrong, fixed, kits = eps
    assert wrong.call.tool == "gcd@1" and wrong.call.arguments == {"a": 24, "b": 30}
    assert wrong.result["value"] == 6 and wrong.expected == "12"  # the judge's answer
    assert "judge: no (the second rope is 36 m, not 30)" in wrong.feedback
    assert fixed.result["value"] == 12 and fixed.answer == "12" and fixed.expected == "12"
    assert fixed.result["exploration"]["pot"]["value"] == 12
    assert fixed.result["exploration"]["judge"]["verdict"] is True
    assert "agrees" in fixed.feedback and kits.result["value"] == 9
    # short-term memory: trial 2 saw trial 1's reply, its real output and the judge's reason
    second = um.calls[2].messages
    assert second[-2] == {"role": "assistant", "content": call("gcd", a=24, b=30)}
    assert "<tool_output status='ok'>" in second[-1]["content"] and "\n6\n" in second[-1]["content"]
    assert "36 m, not 30" in second[-1]["content"]
    # the second problem had to differ: the earlier one was listed, the repeat turned down
    assert ROPES in um.calls[3].messages[-1]["content"]
    assert "nearly repeats an earlier problem" in um.calls[4].messages[-1]["content"]
    # the judge saw the real call and output, never the explorer's chat
    judge_prompt = jm.calls[0].messages[-1]["content"]
    assert "gcd(a=24, b=30)" in judge_prompt and "<tool_output" in judge_prompt
    assert all(m["role"] != "assistant" for m in jm.calls[0].messages)
    (tool,) = summary.tools
    assert (tool.queries, tool.trials, tool.verified, tool.failed, tool.rejected_queries) == (
        2,
        3,
        2,
        1,
        1,
    )
    line = json.loads(summary.line())
    assert line["verified"] == 2 and line["failed"] == 1 and line["queries"] == 2
    assert set(line["tokens"]) == {"user", "maker"}
    phases = summary.costs["by_phase"]
    assert {"explore_imagine", "explore_solve", "explore_judge", "explore_pot"} <= set(phases)
    assert lib.resolve("gcd").usage.successes == 2 and lib.resolve("gcd").usage.failures == 1

    # replay at solve time: the verified demonstrations with the tool's real output, and the
    # failure with the reply that corrected it
    model = ScriptedModel([call("gcd", a=30, b=45)])
    client = ChatClient(model, RoleConfig("user", model="scripted-user"))
    with Solver(lib, client, sandbox=sb) as solver:
        assert solver.solve(
            "Longest length that cuts ropes of 30 m and 45 m evenly?", gold=15
        ).correct
    prompt = model.calls[0].messages[-1]["content"]
    assert "Solved before (real tool outputs):" in prompt and "Tool output: 12" in prompt
    assert "Known pitfalls" in prompt and '"b": 30' in prompt
    assert 'Corrected reply: {"tool": "gcd", "arguments": {"a": 24, "b": 36}}' in (prompt)


def test_a_judge_that_the_program_contradicts_does_not_verify(sb: Sandbox) -> None:
    lib = new_library()
    summary, um, _ = explore(
        lib,
        sb,
        [query(ROPES), call("gcd", a=24, b=30), call("gcd", a=24, b=36)],
        [verdict(True, "6"), pot(12), verdict(True, "12")],  # the program is asked once
        trials=2,
    )
    first, second = lib.store.episodes()
    assert first.success is False and first.expected == "12"
    assert "disagrees" in first.feedback and first.result["exploration"]["pot"]["value"] == 12
    assert second.success is True
    assert "independent computation" in um.calls[2].messages[-1]["content"]
    assert "12" not in um.calls[2].messages[-1]["content"].split("</tool_output>")[1]
    (tool,) = summary.tools
    assert (tool.disagreements, tool.verified, tool.failed) == (1, 1, 1)


def test_no_program_means_the_judge_decides_and_a_failing_run_is_failure_memory(
    sb: Sandbox,
) -> None:
    lib = new_library()
    words = "Put these words in dictionary order: pear, Apple, fig."
    summary, _, jm = explore(
        lib,
        sb,
        [
            query(words),
            call("sort_words", words=[]),
            call("sort_words", words=["pear", "Apple", "fig"]),
        ],
        [verdict(True, "Apple fig pear"), "NO_PROGRAM"],
        tools=("sort_words",),
        max_retries=0,
    )
    failed, ok = lib.store.episodes()
    assert failed.success is False and failed.result["error"]["message"] == "no words to sort"
    assert ok.success is True and ok.result["value"] == ["Apple", "fig", "pear"]
    assert ok.result["exploration"]["pot"]["status"] == "none" and ok.expected == "Apple fig pear"
    assert summary.tools[0].run_failures == 1 and summary.tools[0].no_pot == 1
    assert "Problem:" in jm.calls[1].messages[-1]["content"]  # the program writer's prompt


def test_malformed_explorer_and_judge_replies_are_turned_down_with_a_reason(sb: Sandbox) -> None:
    lib = new_library()
    summary, um, jm = explore(
        lib,
        sb,
        [
            "A good problem would be about ropes.",  # not JSON
            query("gcd?"),  # too short
            json.dumps({"problem": ROPES}),  # another key, accepted
            "I would call gcd with 24 and 36",  # not JSON: the solver's correction
            call("gcd", a=24, b=36),
            # second problem: every reply turned down, bounded
            "no",
            json.dumps({"query": 5}),
            query(ROPES),  # a repeat of the first
        ],
        ["Looks right to me.", json.dumps({"verdict": "maybe"})],
        queries_per_tool=2,
        imagine_attempts=3,
        judge_attempts=2,
    )
    assert "not a JSON object" in um.calls[1].messages[-1]["content"]
    assert "too short" in um.calls[2].messages[-1]["content"]
    assert "not a JSON object" in um.calls[4].messages[-1]["content"]  # the solver's own words
    assert len(jm.calls) == 2  # the judge was asked again once, then given up on
    assert "not a JSON object" in jm.calls[1].messages[-1]["content"]
    (ep,) = lib.store.episodes()
    assert ep.success is None and ep.result["exploration"]["judge"]["verdict"] is None
    (tool,) = summary.tools
    assert (tool.queries, tool.no_query, tool.unjudged, tool.verified) == (1, 1, 1, 0)
    assert tool.rejected_queries == 5 and summary.errors == 0


def test_tools_with_enough_experience_are_skipped(sb: Sandbox) -> None:
    lib = new_library()
    summary, _, _ = explore(lib, sb, [], [], tools=(), min_experience=0)
    assert summary.tools == () and {t.tool for t in summary.skipped} == {"gcd@1", "sort_words@1"}


def test_the_parsers_read_tolerantly_and_never_raise() -> None:
    assert parse_query(f"Sure!\n```json\n{query(ROPES)}\n```", [], 0.75) == ROPES
    assert parse_query("{", [], 0.75) == ("it is not a JSON object (no parsable {...} found)",)
    assert isinstance(parse_query(query(ROPES), [ROPES.upper()], 0.75), tuple)
    assert similarity(ROPES, PENCILS) < 0.3
    j = parse_judgement('The verdict: {"verdict": "Yes.", "answer": 12}')
    assert not isinstance(j, str) and j.verdict is True and j.answer == "12"
    assert isinstance(parse_judgement('{"verdict": "perhaps"}'), str)
    assert parse_program("```python\ndef solve():\n    return 1\n```") == (
        "def solve():\n    return 1\n"
    )
    assert parse_program("NO_PROGRAM") == ("NO_PROGRAM",)
    assert parse_program("```python\ndef solve(x):\n    return x\n```") == (
        "`solve()` must take no arguments",
    )
    for junk in ("", "{" * 5000, "```python\ndef solve(:\n```", "\x00"):
        assert isinstance(parse_program(junk), tuple)
        assert isinstance(parse_query(junk, [], 0.75), tuple)
        assert isinstance(parse_judgement(junk), str)


def test_a_later_run_sees_the_problems_explored_before_and_must_differ(sb: Sandbox) -> None:
    lib = new_library()
    explore(lib, sb, [query(ROPES), call("gcd", a=24, b=36)], [verdict(True, "12"), pot(12)])
    _, um, _ = explore(
        lib,
        sb,
        [query(ROPES), query(PENCILS), call("gcd", a=18, b=27)],
        [verdict(True, "9"), pot(9)],
    )
    assert ROPES in um.calls[0].messages[-1]["content"]  # listed from the library's episodes
    assert "nearly repeats an earlier problem" in um.calls[1].messages[-1]["content"]
    assert [e.query for e in lib.store.episodes()] == [ROPES, PENCILS]


def test_an_unknown_tool_is_bad_input(sb: Sandbox) -> None:
    u, j, _, _ = clients([], [])
    with pytest.raises(ExploreError, match="--tools nope: unknown tool 'nope'"):
        explore_library(new_library(), u, j, sb, ExploreSettings(tools=("nope",)))


ROOT = Path(__file__).resolve().parents[3]


def test_the_explorers_prompts_show_no_placeholder_a_small_model_would_copy() -> None:
    """Shown {"query": "THE PROBLEM"} and then {"query": "..."}, the real 0.5B replied exactly
    those: the imagine prompt and its re-ask describe the value instead."""
    from maker.explore.prompts import IMAGINE_FIX, JUDGE_FIX
    from maker.prompts import render

    system = render("explore_imagine", tool="t(n: int) -> int", examples="", explored="")[0]
    judge = {"content": (ROOT / "maker" / "prompts" / "explore_judge.md").read_text()}
    for text in (system["content"], judge["content"], IMAGINE_FIX, JUDGE_FIX):
        assert '"..."' not in text and "THE PROBLEM" not in text and "ONE SENTENCE" not in text


def test_each_imagining_of_a_tool_draws_new_samples(sb: Sandbox) -> None:
    # The real 0.5B imagined the tool's own example problem again and again: with nothing
    # accepted the prompt stays the same, so the 2nd imagining must not repeat the 1st's samples
    # (at temperature 0 and through the response cache they would be the same replies).
    lib = new_library()
    um, jm = ScriptedModel(["no"] * 4), ScriptedModel([])
    cold = Sampling(temperature=0.0, seed=0)
    user = ChatClient(um, RoleConfig("user", model="scripted-user", sampling=cold))
    judge = ChatClient(jm, RoleConfig("maker", model="scripted-maker"))
    settings = ExploreSettings(tools=("gcd",), queries_per_tool=2, imagine_attempts=2)
    summary = explore_library(lib, user, judge, sb, settings)
    imagine = [c for c in um.calls if c.phase == "explore_imagine"]
    assert len(imagine) == 4
    # first imagining: samples 0 (cold) and 1; second: samples 2 and 3, never 0 and 1 again
    assert [c.params.get("seed") for c in imagine] == [0, 1, 2, 3]
    assert imagine[2].messages == imagine[0].messages  # the same prompt: only sampling differs
    (tool,) = summary.tools
    assert tool.no_query == 2 and tool.rejected_queries == 4


def test_the_maker_can_imagine_the_problems_the_user_then_tries(sb: Sandbox) -> None:
    # the real 0.5B imagined problems its word-sorting tool does not answer (4 of 4 trials
    # judged wrong); --imagine-with maker lets the strong model write the problems
    lib = new_library()
    summary, um, jm = explore(
        lib,
        sb,
        [call("gcd", a=24, b=36)],  # the user only solves
        [query(ROPES), verdict(True, "12"), pot(12)],  # the maker imagines, then judges
        imagine_with="maker",
        trials=1,
    )
    assert [c.phase for c in jm.calls][0] == "explore_imagine"
    assert all(c.phase != "explore_imagine" for c in um.calls)
    assert ROPES in um.calls[0].messages[-1]["content"]
    (tool,) = summary.tools
    assert (tool.queries, tool.verified) == (1, 1)


def test_a_trial_that_copies_the_shown_memory_is_turned_down(sb: Sandbox) -> None:
    # the real 0.5B called the tool with the first explored problem's words for every later
    # problem, copied from the experience replayed into its prompt
    lib = new_library()
    first = "Sort these words alphabetically: pear apple fig"
    second = "Sort these words alphabetically: kiwi lime date"
    summary, um, _ = explore(
        lib,
        sb,
        [
            query(first),
            call("sort_words", words=["pear", "apple", "fig"]),
            query(second),
            call("sort_words", words=["pear", "apple", "fig"]),  # copied from the memory
            call("sort_words", words=["kiwi", "lime", "date"]),
        ],
        [verdict(True, "apple fig pear"), pot(0), verdict(True, "date kiwi lime"), pot(0)],
        tools=("sort_words",),
        queries_per_tool=2,
        trials=1,
    )
    retry = um.calls[4].messages[-1]["content"]
    assert "pear" not in retry  # the correction names no copied value
    (tool,) = summary.tools
    assert (tool.queries, tool.trials) == (2, 2)
    eps = lib.store.episodes()
    assert [e.call.arguments for e in eps] == [
        {"words": ["pear", "apple", "fig"]},
        {"words": ["kiwi", "lime", "date"]},
    ]


def test_a_judges_no_that_the_program_contradicts_is_overruled_and_verifies(sb: Sandbox) -> None:
    # the real 1.5B judge said "no" to 8 of 8 right word sorts; recorded as failures they were
    # replayed as pitfalls and the tools arm fell from 20.0% to 16.0% on the same rows. Kept as
    # neither, exploration with that judge verified nothing (0 of 4, 3 of them sorts its own
    # program got the same): the program's agreement is the verification
    lib = new_library()
    summary, _, jm = explore(
        lib,
        sb,
        [query(ROPES), call("gcd", a=24, b=36)],
        [verdict(False, "6", "looks wrong"), pot(12)],  # the program agrees with the tool's 12
    )
    (ep,) = lib.store.episodes()
    assert ep.success is True and ep.result["exploration"]["pot"]["value"] == 12
    assert "judge: no" in ep.feedback and "agrees" in ep.feedback  # the dissent is kept
    (tool,) = summary.tools
    assert (tool.failed, tool.verified, tool.disagreements) == (0, 1, 1)
    assert summary.demonstrations == (ep.id,)
    assert len(jm.calls) == 2  # one trial: an overruled "no" is not tried again


def test_a_judges_no_with_no_program_answer_behind_it_is_no_failure_memory(
    sb: Sandbox,
) -> None:
    # the real 1.5B judge was wrong on every "no" it gave word sorts; where no program answer
    # came back, the "no" went to failure memory and was replayed as a pitfall
    lib = new_library()
    summary, _, jm = explore(
        lib,
        sb,
        [query(ROPES), call("gcd", a=24, b=36)],
        [verdict(False, "6", "looks wrong"), "NO_PROGRAM"],
    )
    (ep,) = lib.store.episodes()
    assert ep.success is None
    (tool,) = summary.tools
    assert (tool.failed, tool.verified, tool.unconfirmed, tool.trials) == (0, 0, 1, 1)
    assert len(jm.calls) == 2  # not tried again: nothing says the use was wrong
    # judged alone (--no-pot), a "no" is still a failure
    lib2 = new_library()
    alone, _, _ = explore(
        lib2,
        sb,
        [query(ROPES), call("gcd", a=24, b=36)],
        [verdict(False, "6", "no")],
        pot=False,
        trials=1,
    )
    assert [e.success for e in lib2.store.episodes()] == [False]
    assert alone.tools[0].failed == 1
