"""Replay of similar successes, failure memory, and tool evidence from episodes."""

from __future__ import annotations

from library.experience import ExperienceMemory, Replay, render_episode
from library.records import Call, Episode
from library.store import Store


def _ep(
    query: str, tool: str, success: bool | None, ok: bool = True, a: int = 1, **kw: object
) -> Episode:
    result = (
        {"ok": True, "value": 1}
        if ok
        else {"ok": False, "error": {"type": "ZeroDivisionError", "message": "division by zero"}}
    )
    return Episode(
        query=query, call=Call(tool, {"a": a}), result=result, answer="1", success=success, **kw
    )  # type: ignore[arg-type]


def _fill(store: Store) -> None:
    for ep in [
        _ep("greatest common divisor of 12 and 18", "gcd@1", True),
        _ep("greatest common divisor of 12 and 18 please", "gcd@1", True),  # near duplicate
        _ep("common divisor of two big integers", "gcd@2", True),
        _ep("gcd of 7 and 21, the greatest common divisor", "gcd@1", True),
        _ep("least common multiple of 4 and 6", "lcm@1", True),
        _ep("divide apples among children", "div@1", False, ok=False, a=0),
        _ep("divide the pie evenly", "div@1", False, a=7, expected="3", feedback="off by one"),
        _ep("divide the pie evenly", "div@1", False, a=7),  # the same call again
        _ep("area of a circle", "area@1", None),
        Episode(query="a program for divisors", call=Call(program="print(1)"), success=True),
    ]:
        store.add_episode(ep)


def test_similar_successes_are_diverse_and_bounded(store: Store) -> None:
    _fill(store)
    mem = ExperienceMemory(store)
    assert len(mem) == 0  # no I/O until refresh
    assert len(mem.refresh()) == 10 and mem.refresh() == []
    assert len(mem.successes()) == 6  # five tool calls and one program
    got = mem.similar("greatest common divisor of 30 and 45", k=5, budget_chars=10_000)
    queries = [e.query for e in got]
    assert queries[0] == "greatest common divisor of 12 and 18"
    assert "greatest common divisor of 12 and 18 please" not in queries  # near duplicate dropped
    assert sum(e.call.tool == "gcd@1" for e in got) <= 2
    assert all(e.success for e in got)
    small = mem.similar(
        "greatest common divisor", k=5, budget_chars=len(render_episode(got[0])) + 5
    )
    assert len(small) == 1
    assert mem.similar("weather in paris") == []


def test_failure_memory_and_replay(store: Store) -> None:
    _fill(store)
    mem = ExperienceMemory(store)
    mem.refresh()
    fails = mem.failures("div")
    assert [e.call.arguments["a"] for e in fails] == [7, 0]  # newest first, distinct calls
    assert mem.failures("div@1") and mem.failures("gcd") == []
    replay = mem.replay("common divisor of 8 and 12", tools=["gcd", "div"])
    assert isinstance(replay, Replay) and replay.examples and list(replay.failures) == ["div"]
    assert len(replay.failures["div"]) == 1  # one failure per offered tool by default
    replay = mem.replay("common divisor of 8 and 12", tools=["gcd", "div"], failures_per_tool=2)
    text = replay.render()
    assert "Worked examples" in text and "Known failures of div" in text
    assert "ZeroDivisionError" in text or "Expected: 3" in text
    assert len(text) < 3500


def test_tool_evidence_weights_similar_outcomes(store: Store) -> None:
    _fill(store)
    mem = ExperienceMemory(store)
    mem.refresh()
    ev = mem.tool_evidence("greatest common divisor")
    assert ev["gcd"][0] > 0 and ev["gcd"][1] == 0
    s, f = mem.tool_evidence("divide the pie")["div"]
    assert s == 0.0 and f > 0
    store.add_episode(_ep("divide the pie evenly again", "div@1", True))
    mem.refresh()
    assert mem.tool_evidence("divide the pie")["div"][0] > 0


def test_a_failure_on_a_problem_the_tool_is_not_for_is_not_replayed(store: Store) -> None:
    # real: the 1.5B imagined "a room divided into equal parts" problems for a remainder solver;
    # the 0.5B's failed call there, replayed as a pitfall on remainder problems, was copied
    made_for = [
        "There is a ship of no more than 95765 apricots. If we divide them equally among 5 "
        "penguins, we have 2 left; if we divide them equally among 107 monkeys, we have 28 left."
    ]
    off_task = (
        "There is a large rectangular room that needs to be divided into 4 equal parts for "
        "painting. The length of the room is 30 meters. If we divide it equally among 6 "
        "different sections, what will be the size of each section?"
    )
    on_task = (
        "There is a crate of no more than 9000 plums. If we divide them equally among 7 goats, "
        "we have 3 left; if we divide them equally among 11 bears, we have 5 left."
    )
    store.add_episode(_ep(off_task, "crt@1", False, a=30))
    mem = ExperienceMemory(store)
    mem.refresh()
    query = (
        "There is a basket of no more than 15599809 bananas. If we divide them equally among "
        "199 horses, we have 119 left; if we divide them equally among 277 racoons, we have "
        "121 left. How many bananas are in the basket?"
    )
    # without the tool's own problems to weigh it against, the failure is shown as before
    assert mem.replay(query, tools=["crt"]).failures.get("crt")
    assert not mem.replay(query, tools=["crt"], made_for={"crt": made_for}).failures
    # a failure on a problem of the tool's kind is still a pitfall
    store.add_episode(_ep(on_task, "crt@1", False, a=7))
    mem.refresh()
    (shown,) = mem.replay(query, tools=["crt"], made_for={"crt": made_for}).failures["crt"]
    assert shown.query == on_task
