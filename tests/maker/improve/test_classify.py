"""The classification rules on each kind of failure, and the thresholds."""

from __future__ import annotations

import pytest

from library import Library, MemoryStore
from maker.improve.classify import classify, findings
from tests.maker.improve.conftest import add_tool, use


@pytest.fixture
def lib() -> Library:
    lib = Library(MemoryStore())
    add_tool(lib)
    return lib


def kind_of(lib: Library, ep, good=()) -> tuple[str, str] | None:
    o = classify(ep, lib.resolve("abs_diff@1"), good)
    return None if o is None else (o.kind, o.reason)


def test_a_wrong_value_for_valid_arguments_is_a_bug(lib: Library) -> None:
    ep = use(lib, {"a": 3, "b": 5}, value=-2, gold="2", success=False)
    assert kind_of(lib, ep) == ("bug", "wrong answer")


def test_an_error_inside_the_tool_is_a_bug(lib: Library) -> None:
    err = {"type": "ZeroDivisionError", "message": "division by zero", "line": 7}
    ep = use(lib, {"a": 3, "b": 0}, ok=False, error=err)
    kind, reason = kind_of(lib, ep)
    assert kind == "bug" and "ZeroDivisionError" in reason and "line 7" in reason


@pytest.mark.parametrize(
    ("args", "error", "stages", "says"),
    [
        ({"a": "3", "b": 5}, None, None, "'3' is not of type 'integer'"),
        ({"a": 3}, None, None, "missing required argument(s) 'b'"),
        (
            {"a": 3, "b": 5},
            {"type": "bad_arguments", "message": "no", "line": None},
            {"well_formed": True, "tool_chosen": True, "args_valid": False},
            "stage:args_valid",
        ),
        (
            {"a": 3, "b": 5},
            {
                "type": "TypeError",
                "message": "abs_diff() missing 1 required positional argument: 'b'",
                "line": None,
            },
            None,
            "boundary:TypeError",
        ),
        (
            {"a": 3, "b": 5},
            {"type": "ArgumentError", "message": "not JSON", "line": None},
            None,
            "boundary:ArgumentError",
        ),
    ],
)
def test_arguments_that_do_not_fit_are_misuse(lib, args, error, stages, says) -> None:
    ep = use(
        lib,
        args,
        ok=error is None,
        value=1,
        error=error,
        stages=stages,
        gold="2" if error is None else None,
        success=False if error is None else None,
    )
    kind, reason = kind_of(lib, ep)
    assert kind == "misuse" and says in reason


def test_an_input_the_tool_refuses_on_purpose_is_misuse() -> None:
    from library import NewTool

    lib = Library(MemoryStore())
    src = (
        "def half(n: int) -> int:\n"
        '    """Half of an even number."""\n'
        "    if n % 2:\n"
        '        raise ValueError("n must be even")\n'
        "    return n // 2 + 0 * (1 // n)\n"
    )
    assert lib.publish(NewTool("half", src)).ok
    rec = lib.resolve("half")
    err = {"type": "ValueError", "message": "n must be even", "line": 4}
    refused = use(lib, {"n": 3}, ok=False, error=err, tool="half@1")
    assert classify(refused, rec).kind == "misuse"
    err = {"type": "ZeroDivisionError", "message": "integer division by zero", "line": 5}
    crashed = use(lib, {"n": 0}, ok=False, error=err, tool="half@1")
    assert classify(crashed, rec).kind == "bug"


def test_a_type_error_inside_the_tool_is_a_bug_not_misuse(lib: Library) -> None:
    err = {"type": "TypeError", "message": "unsupported operand", "line": 7}
    assert kind_of(lib, use(lib, {"a": 3, "b": 5}, ok=False, error=err))[0] == "bug"


def test_arguments_that_answer_another_problem_correctly_are_misuse(lib: Library) -> None:
    ep = use(lib, {"a": 10, "b": 4}, value=6, gold="7", success=False, query="10 - 3?")
    assert kind_of(lib, ep, {'{"a":10,"b":4}'})[0] == "misuse"
    assert kind_of(lib, ep)[0] == "bug"  # without that evidence, the tool's fault


@pytest.mark.parametrize(
    ("error", "limit"),
    [
        ({"type": "Timeout", "message": "took longer than 5 s", "line": None}, "timeout"),
        ({"type": "MemoryError", "message": "out of memory", "line": 3}, "memory"),
        ({"type": "WorkerCrashed", "message": "died", "line": None}, "crash"),
        ({"type": "APIConnectionError", "message": "connection refused", "line": None}, None),
    ],
)
def test_limits_and_endpoint_errors_are_the_environment(lib, error, limit) -> None:
    ep = use(lib, {"a": 3, "b": 5}, ok=False, error=error, limit=limit)
    assert kind_of(lib, ep)[0] == "environment"


def test_successes_unjudged_values_programs_and_pitfalls_are_no_failures(lib: Library) -> None:
    assert kind_of(lib, use(lib, {"a": 5, "b": 3}, value=2, gold="2", success=True)) is None
    assert kind_of(lib, use(lib, {"a": 5, "b": 3}, value=2)) is None
    from library.records import Call, Episode

    prog = lib.record(
        Episode(
            "q",
            ("abs_diff@1",),
            Call(program="answer = 1"),
            {"ok": False, "error": {"type": "ValueError"}},
        )
    )
    assert kind_of(lib, prog) is None
    pit = lib.record(
        Episode(
            "q",
            ("abs_diff@1",),
            Call("abs_diff@1", {"a": 1, "b": 2}),
            {"ok": False, "error": {"type": "Misuse"}},
            feedback="improve:pitfall of episode 1: x",
        )
    )
    assert kind_of(lib, pit) is None


def test_thresholds(lib: Library) -> None:
    err = {"type": "ZeroDivisionError", "message": "division by zero", "line": 7}
    use(lib, {"a": 3, "b": 0}, ok=False, error=err)
    rec = lib.resolve("abs_diff")
    one = findings(rec, lib.store.episodes(), min_failures=2)
    assert (one.examined, one.repair) == (False, False)  # one error: below the threshold
    use(lib, {"a": 4, "b": 0}, ok=False, error=err)
    two = findings(rec, lib.store.episodes(), min_failures=2)
    assert (two.examined, two.repair, two.counts()["bug"]) == (True, True, 2)
    # a single answer that disagrees with gold is examined (and repaired) at once
    fresh = Library(MemoryStore())
    add_tool(fresh)
    use(fresh, {"a": 3, "b": 5}, value=-2, gold="2", success=False)
    gold = findings(fresh.resolve("abs_diff"), fresh.store.episodes(), min_failures=2)
    assert (gold.examined, gold.repair) == (True, True)
    # misuse alone is examined past the threshold but never repaired
    mis = Library(MemoryStore())
    add_tool(mis)
    use(mis, {"a": "3", "b": 5}, value=1, gold="2", success=False)
    use(mis, {"a": "4", "b": 5}, value=1, gold="1", success=False)
    m = findings(mis.resolve("abs_diff"), mis.store.episodes(), min_failures=2)
    assert (m.examined, m.repair, m.counts()["misuse"]) == (True, False, 2)


# the real 1.5B's problems for its Chinese remainder tool, and two it imagined when exploring
MADE_FOR = (
    "There is a room of no more than 2696017 peaches. If we divide them equally among 61 "
    "monkeys, we have 44 left; if we divide them equally among 193 racoons, we have 185 left; "
    "if we divide them equally among 229 lemurs, we have 164 left. How many peaches are in the "
    "room?",
    "There is a truck of no more than 1409623 strawberries. If we divide them equally among 17 "
    "hippos, we have 13 left; if we divide them equally among 283 penguins, we have 226 left; "
    "if we divide them equally among 293 monkeys, we have 201 left. How many strawberries are "
    "in the truck?",
)
ON_TASK = "How many peaches are in the room of no more than 2696017 peaches?"
OFF_TASK = (
    "There is a large rectangular room that needs to be divided into 4 equal parts for "
    "painting. The length of the room is 30 meters, and the width is 20 meters. If we divide "
    "it equally among 6 different sections, what will be the size of each section?"
)


def test_a_wrong_answer_on_a_problem_the_tool_is_not_for_is_no_bug() -> None:
    from library import NewTool
    from library.records import Provenance
    from maker.improve.classify import off_task
    from tests.maker.improve.conftest import BUGGY, TESTS

    lib = Library(MemoryStore())
    made = NewTool("abs_diff", BUGGY, tests=TESTS, provenance=Provenance(problems=MADE_FOR))
    assert lib.publish(made).ok
    rec = lib.resolve("abs_diff@1")
    assert not off_task(ON_TASK, rec) and off_task(OFF_TASK, rec)
    wrong = use(lib, {"a": 3, "b": 5}, value=-2, gold="2", success=False, query=OFF_TASK)
    assert kind_of(lib, wrong)[0] == "misuse" and "off-task" in kind_of(lib, wrong)[1]
    here = use(lib, {"a": 3, "b": 5}, value=-2, gold="2", success=False, query=ON_TASK)
    assert kind_of(lib, here) == ("bug", "wrong answer")
    # a tool made from one problem (or none) gives no measure of nearness
    from dataclasses import replace

    one = replace(rec, provenance=(Provenance(problems=MADE_FOR[:1]),))
    assert not off_task(OFF_TASK, one) and not off_task(OFF_TASK, replace(rec, provenance=()))


def test_a_rerun_is_graded_with_the_episodes_answer_check() -> None:
    # a MATH gold answer is LaTeX: the repaired tool's 5.5 answers "\frac{11}{2}" only under the
    # "math" check the episode was first graded with (kept in the episode)
    from dataclasses import replace

    from library.records import Episode
    from maker.improve.evidence import grade
    from sandbox import RunResult

    ep = Episode(query="What is 11/2?", expected="\\frac{11}{2}")
    assert grade(ep, RunResult(True, 5.5)) == (False, 5.5)
    assert grade(replace(ep, answer_check="math"), RunResult(True, 5.5)) == (True, 5.5)
    assert grade(replace(ep, answer_check="math"), RunResult(True, 5.4))[0] is False
