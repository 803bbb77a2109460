"""Replay at solve time: verified demonstrations of the offered tools within the budget, one
corrected failure, and no forgetting (a newly explored tool does not crowd out an old one)."""

from __future__ import annotations

import json
from typing import Any

from library import Episode, Library, MemoryStore, NewTool
from library.records import Call
from maker.llm import ChatClient, RoleConfig, ScriptedModel
from maker.use import Solver, SolveSettings
from maker.use.prompt import experience_text
from sandbox import Sandbox
from tests.maker.use.conftest import GCD, SORT_WORDS

LCM = '''def lcm(a: int, b: int) -> int:
    """Least common multiple of two integers."""
    x, y = a, b
    while y:
        x, y = y, x % y
    return abs(a * b) // x if x else 0
'''


def _ep(
    query: str,
    ref: str,
    value: Any,
    *,
    success: bool | None = True,
    origin: str = "use",
    ok: bool = True,
    **args: Any,
) -> Episode:
    result = (
        {"ok": ok, "value": value}
        if ok
        else {"ok": False, "value": None, "error": {"type": "TypeError", "message": "bad operand"}}
    )
    return Episode(
        query, (ref,), Call(ref, args), result, json.dumps(value), success, origin=origin
    )  # type: ignore[arg-type]


def library_with_an_old_and_a_new_tool() -> Library:
    lib = Library(MemoryStore())
    for name, src in (("gcd", GCD), ("lcm", LCM), ("sort_words", SORT_WORDS)):
        assert lib.publish(NewTool(name, src)).ok
    topics = "fruit birds rivers cities colours tools games stars trees songs".split()
    for i, topic in enumerate(topics * 4):  # other experience, so that word weights are sane
        lib.record(
            _ep(
                f"Sort the names of {topic} alphabetically, list {i}",
                "sort_words@1",
                [topic],
                words=[topic],
            )
        )
    lib.record(_ep("Largest divisor shared by 8 and 12?", "gcd@1", 4, a=8, b=12))
    for text, a, b in [
        ("Smallest common multiple of two numbers, 4 and 6", 4, 6),
        ("Buses leave every 12 and 18 minutes: the smallest common multiple of the two?", 12, 18),
        ("Lights blink every 4 and 10 seconds; first common multiple of both numbers", 4, 10),
        ("Least common multiple of the two numbers 9 and 15 for a schedule", 9, 15),
        ("Gears with 8 and 12 teeth: smallest common multiple of the two counts", 8, 12),
        ("Smallest number that both 7 and 3 divide, a common multiple", 7, 3),
    ]:
        lib.record(_ep(text, "lcm@1", a * b, origin="exploration", a=a, b=b))
    return lib


QUERY = "For the two numbers 30 and 45, what is the smallest common multiple or divisor?"


def test_a_new_tool_with_many_demonstrations_does_not_crowd_out_an_old_one() -> None:
    lib = library_with_an_old_and_a_new_tool()
    mem = lib.experience
    lib.sync()
    plain = mem.similar(QUERY, k=2)  # by similarity alone: only the new tool's
    assert {e.call.tool for e in plain} == {"lcm@1"}
    for offered_only in (False, True):
        replay = lib.replay(QUERY, ["gcd", "lcm"], k=2, offered_only=offered_only)
        assert {e.call.tool for e in replay.examples} == {"gcd@1", "lcm@1"}
    # the solver's replay shows no demonstration of a tool it does not offer
    assert {e.call.tool for e in lib.replay(QUERY, ["lcm"], k=4).examples} == {"lcm@1", "gcd@1"}
    only = lib.replay(QUERY, ["lcm"], k=4, offered_only=True)
    assert {e.call.tool for e in only.examples} == {"lcm@1"}


def test_the_solve_prompt_gets_both_tools_demonstrations_within_the_budget(sb: Sandbox) -> None:
    lib = library_with_an_old_and_a_new_tool()
    model = ScriptedModel([json.dumps({"tool": "lcm", "arguments": {"a": 30, "b": 45}})])
    client = ChatClient(model, RoleConfig("user", model="scripted-user"))
    settings = SolveSettings(top_k=3, replay_k=3, replay_budget_chars=700)
    with Solver(lib, client, sandbox=sb, settings=settings) as solver:
        sol = solver.solve(QUERY, gold=90)
    assert set(sol.offered) == {"gcd@1", "lcm@1"} and sol.correct
    prompt = model.calls[0].messages[-1]["content"]
    section = prompt[prompt.index("Solved before") : prompt.rindex("Reply with the JSON object")]
    assert len(section.strip()) <= 700
    assert '"tool": "gcd"' in section and '"tool": "lcm"' in section
    assert "Tool output: 4" in section  # the old tool's real recorded output
    assert section.count("Problem:") <= 3


def test_one_corrected_failure_keeps_its_room_in_a_tight_budget() -> None:
    demos = [
        _ep(f"demo problem number {i} about common multiples", "lcm@1", i, a=i, b=1)
        for i in range(1, 9)
    ]
    demos = [Episode(**{**d.__dict__, "id": i}) for i, d in enumerate(demos, 1)]
    failure = Episode(
        **{
            **_ep("multiple of a list", "lcm@1", None, success=False, ok=False, a=[1, 2]).__dict__,
            "id": 20,
        }
    )
    fix = Episode(**{**_ep("multiple of a list", "lcm@1", 2, a=1, b=2).__dict__, "id": 21})
    for budget in (600, 900, 1500):  # room is kept for a pitfall of at most half the budget
        text, shown = experience_text(demos, [failure], budget, {20: fix})
        assert len(text) <= budget and 20 in shown
        assert 'Corrected reply: {"tool": "lcm", "arguments": {"a": 1, "b": 2}}' in (text)
        assert text.count("Solved before") == 1 and len(shown) >= 2


def test_the_failure_shown_is_one_that_was_corrected() -> None:
    lib = Library(MemoryStore())
    assert lib.publish(NewTool("gcd", GCD)).ok
    lib.record(_ep("gcd of a list 4 6 8", "gcd@1", None, success=False, ok=False, a=[4, 6, 8]))
    wrong = lib.record(
        _ep(
            "greatest common divisor of 12 and 18",
            "gcd@1",
            3,
            success=False,
            origin="exploration",
            a=12,
            b=9,
        )
    )
    right = lib.record(
        _ep("greatest common divisor of 12 and 18", "gcd@1", 6, origin="exploration", a=12, b=18)
    )
    lib.record(_ep("gcd of 0 and x", "gcd@1", None, success=False, ok=False, a=0))  # newest
    replay = lib.replay("greatest common divisor of 30 and 45", ["gcd"])
    (shown,) = replay.failures["gcd"]
    assert shown.id == wrong.id and replay.corrections[wrong.id].id == right.id
