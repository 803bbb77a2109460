"""One improve round end to end with a scripted maker: repair through the gate, refusal of a
repair that breaks a recorded success, misuse, environment, the round limit, malformed replies,
dry runs."""

from __future__ import annotations

import hashlib
from pathlib import Path

from library import Library, MemoryStore
from library.records import Status
from maker.improve import ImproveSettings, improve_library, rounds_used
from sandbox import Sandbox
from tests.maker.improve.conftest import (
    BREAKS_SUCCESS,
    BUGGY,
    FIXED,
    STILL_WRONG,
    add_tool,
    maker_for,
    tool_reply,
    use,
    wrong_uses,
)


def new_lib() -> Library:
    lib = Library(MemoryStore())
    add_tool(lib)
    return lib


def run(lib: Library, sb: Sandbox, script: list[str], **settings):
    client, model = maker_for(script)
    settings.setdefault("max_examples", 10)
    report = improve_library(lib, client, sb, settings=ImproveSettings(**settings))
    model.assert_consumed()
    return report, model


def test_a_failing_tool_is_repaired_through_the_gate_and_becomes_latest(sb: Sandbox) -> None:
    lib = new_lib()
    success, bad1, bad2 = wrong_uses(lib)
    report, model = run(lib, sb, [tool_reply(FIXED)])
    # the maker saw the failing uses as evidence: inputs, expected, actual
    prompt = model.calls[0].messages[-1]["content"]
    assert '"a": 3, "b": 5' in prompt and "expected: 2" in prompt and "returned -2" in prompt
    assert "def abs_diff" in prompt and "return a - b" in prompt
    (t,) = report.tools
    assert t.action == "repaired" and t.counts == {"bug": 2, "misuse": 0, "environment": 0}
    assert t.repair is not None and t.repair.gated and t.repair.new_ref == "abs_diff@2"
    assert set(t.repair.confirmed) == {bad1.id, bad2.id}
    latest = lib.resolve("abs_diff")
    assert latest.version == 2 and "abs(a - b)" in latest.source
    assert (
        latest.provenance[0].strategy == "improve"
        and rounds_used(lib.store.history("abs_diff")) == 1
    )
    # the triggering episodes were re-run on the new version and recorded
    reruns = [e for e in lib.store.episodes(tool="abs_diff@2")]
    assert {e.feedback for e in reruns} == {
        f"improve:rerun of episode {bad1.id}",
        f"improve:rerun of episode {bad2.id}",
    }
    assert all(e.success is True for e in reruns)
    s = report.summary()
    assert (s["examined"], s["bugs"], s["repaired"], s["gated"], s["rejected"]) == (1, 2, 1, 1, 0)
    assert s["maker_calls"] == 1 and s["maker_tokens_in"] > 0
    # next round: nothing left to repair
    again, _ = run(lib, sb, [])
    assert again.tools == ()


def test_a_repair_that_breaks_a_recorded_success_is_refused(sb: Sandbox) -> None:
    lib = new_lib()
    wrong_uses(lib)
    report, _ = run(lib, sb, [tool_reply(BREAKS_SUCCESS)])
    (t,) = report.tools
    assert t.action == "rejected" and not t.repair.gated
    assert "recorded uses changed" in t.reason and "expected 6, got 14" in t.reason
    assert lib.resolve("abs_diff").version == 1  # the old version stays latest
    rejected = lib.store.get("abs_diff", 2)
    assert rejected is not None and rejected.status.status is Status.REJECTED
    assert "expected 6, got 14" in rejected.status.reason
    assert report.summary()["rejected"] == 1


def test_misuse_becomes_a_pitfall_not_a_version(sb: Sandbox) -> None:
    lib = new_lib()
    bad = [
        use(lib, {"a": "3", "b": 5}, value=1, gold="2", success=False),
        use(
            lib,
            {"a": 3},
            ok=False,
            error={"type": "bad_arguments", "message": "missing b"},
            stages={"well_formed": True, "tool_chosen": True, "args_valid": False},
        ),
    ]
    report, _ = run(lib, sb, [])  # no maker call
    (t,) = report.tools
    assert t.action == "none" and t.counts["misuse"] == 2 and t.pitfalls == 2
    assert [r.version for r in lib.store.history("abs_diff")] == [1]
    pitfalls = [e for e in lib.store.episodes() if e.feedback.startswith("improve:pitfall")]
    assert {e.result["pitfall_of"] for e in pitfalls} == {b.id for b in bad}
    lesson = "misuse of abs_diff(a: int, b: int) -> int"
    assert all(e.result["error"]["message"].startswith(lesson) for e in pitfalls)
    # the replay shows the lesson among the tool's known failures
    replay = lib.replay("absolute difference between 3 and 5", ["abs_diff"]).render()
    assert "misuse of abs_diff" in replay
    from maker.use.prompt import experience_text

    text, _ = experience_text([], lib.replay("3 and 5", ["abs_diff"]).failures["abs_diff"], 2000)
    assert "Went wrong: Misuse: misuse of abs_diff" in text and text.count("misuse of") <= 2
    again, _ = run(lib, sb, [])  # recorded once only
    assert again.tools[0].pitfalls == 0


def test_environment_failures_are_reported_not_repaired(sb: Sandbox) -> None:
    lib = new_lib()
    for a in (3, 4):
        use(
            lib,
            {"a": a, "b": 5},
            ok=False,
            limit="timeout",
            error={"type": "Timeout", "message": "took longer than 5 s", "line": None},
        )
    report, _ = run(lib, sb, [])
    (t,) = report.tools
    assert t.action == "none" and t.counts["environment"] == 2 and len(t.environment) == 2
    assert "limit:timeout" in t.environment[0]
    assert [r.version for r in lib.store.history("abs_diff")] == [1]


def test_after_two_failed_rounds_the_tool_is_retired(sb: Sandbox) -> None:
    lib = new_lib()
    wrong_uses(lib)
    first, _ = run(lib, sb, [tool_reply(STILL_WRONG)], max_attempts=1)
    assert first.tools[0].action == "rejected" and "fixes none" in first.tools[0].reason
    assert first.tools[0].repair.stored_ref == "abs_diff@2"  # stored rejected, with the reason
    assert lib.store.get("abs_diff", 2).status.status is Status.REJECTED
    second, _ = run(lib, sb, [tool_reply(STILL_WRONG)], max_attempts=1)  # the same code again
    assert second.tools[0].action == "rejected" and second.tools[0].round == 2
    assert rounds_used(lib.store.history("abs_diff")) == 2
    third, _ = run(lib, sb, [])  # no third repair: retired with the reason
    (t,) = third.tools
    assert t.action == "retired" and "after 2 repair round(s)" in t.reason
    assert lib.store.get("abs_diff", 1).status.status is Status.RETIRED
    assert third.summary()["deprecated"] == 1
    assert lib.search("absolute difference").refs == []


def test_a_tool_sent_back_unchanged_is_asked_for_again_without_its_code(sb: Sandbox) -> None:
    lib = new_lib()
    wrong_uses(lib)
    report, model = run(lib, sb, [tool_reply(BUGGY), tool_reply(FIXED)])
    assert report.tools[0].action == "repaired" and report.tools[0].repair.attempts == 2
    assert "return a - b" in model.calls[0].messages[-1]["content"]
    blind = model.calls[1].messages
    assert "the body that failed is not shown" in blind[-1]["content"]
    assert "def abs_diff(a: int, b: int) -> int:" in blind[-1]["content"]
    assert '"a": 3, "b": 5' in blind[-1]["content"]  # the evidence is still there
    assert not any("return a - b" in m["content"] for m in blind)


def test_malformed_maker_replies_are_retried_then_given_up(sb: Sandbox) -> None:
    lib = new_lib()
    wrong_uses(lib)
    script = [
        "I would use abs().",
        "```python tool\ndef abs_diff(a: int, b: int) -> int:\n    return abs(a - b\n```",
        tool_reply(BUGGY),
    ]
    report, model = run(lib, sb, script)
    (t,) = report.tools
    assert t.action == "rejected" and t.repair.attempts == 3 and t.repair.stored_ref is None
    assert "unchanged" in t.reason
    assert "could not be used" in model.calls[1].messages[-1]["content"]
    assert [r.version for r in lib.store.history("abs_diff")] == [1]
    # a later usable reply within the bound is taken
    report2, _ = run(lib, sb, ["no code here", tool_reply(FIXED)])
    assert report2.tools[0].action == "repaired" and report2.tools[0].repair.attempts == 2


def test_a_maker_that_cannot_be_reached_is_an_error_not_a_crash(sb: Sandbox) -> None:
    from maker.llm.errors import ModelCallError

    lib = new_lib()
    wrong_uses(lib)
    client, model = maker_for([ModelCallError("connection refused", attempts=3)])
    report = improve_library(lib, client, sb, settings=ImproveSettings(max_examples=10))
    model.assert_consumed()
    assert report.tools[0].action == "error" and report.summary()["errors"] == 1
    assert lib.resolve("abs_diff").version == 1


def _digest(path: Path) -> str:
    return hashlib.sha256((path / "library.sqlite").read_bytes()).hexdigest()


def test_a_dry_run_changes_nothing(sb: Sandbox, tmp_path: Path) -> None:
    with Library.open(tmp_path) as lib:
        add_tool(lib)
        wrong_uses(lib)
        use(lib, {"a": "3", "b": 5}, value=1, gold="2", success=False)
    before = _digest(tmp_path)
    with Library.open(tmp_path, read_only=True) as lib:
        report = improve_library(lib, None, sb, settings=ImproveSettings(dry_run=True))
    assert _digest(tmp_path) == before
    (t,) = report.tools
    assert t.action == "would repair" and t.round == 1 and t.pitfalls == 1
    assert report.summary()["would_repair"] == 1 and report.summary()["maker_calls"] == 0


def test_the_explore_step_runs_first_and_never_in_a_dry_run(sb: Sandbox) -> None:
    lib = new_lib()
    seen: list[Library] = []

    def explore(library: Library) -> dict[str, int]:
        seen.append(library)
        for a in ("3", "4"):  # what exploration found: two misuses
            use(library, {"a": a, "b": 5}, value=1, gold="2", success=False)
        return {"trials": 2}

    dry = improve_library(lib, None, sb, settings=ImproveSettings(dry_run=True), explore=explore)
    assert seen == [] and dry.tools == () and dry.explored is None
    client, model = maker_for([])
    report = improve_library(lib, client, sb, explore=explore)
    assert seen == [lib] and report.explored == {"trials": 2}
    assert report.tools[0].counts["misuse"] == 2  # its findings were examined in the same round
