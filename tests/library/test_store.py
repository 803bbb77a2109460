"""The store contract: every backend (SQLite and the in-memory twin) passes this module."""

from __future__ import annotations

import json

import pytest

from library.contract import library_problems, record_problems
from library.errors import LibraryError, UnknownToolError
from library.records import (
    Call,
    Episode,
    Lock,
    NewTool,
    Provenance,
    Status,
    StatusInfo,
    ToolRecord,
)
from library.store import GateDecision, Store
from tests.library.conftest import new_tool, tool_source


def test_publish_derives_spec_and_resolves(store: Store) -> None:
    res = store.publish(new_tool("add"))
    assert res.outcome == "created" and res.ok
    rec = res.record
    assert rec is not None and rec.ref == "add@1" and rec.parent_version is None
    assert rec.spec.params[0].description == "The first number."
    for ref in ("add", "add@latest", "add@1", " add@1 "):
        assert store.resolve(ref) == rec
    assert ToolRecord.from_json(json.loads(json.dumps(rec.to_json()))) == rec


def test_publish_is_idempotent_by_content(store: Store) -> None:
    first = store.publish(new_tool("add", task="t1")).record
    again = store.publish(new_tool("add", task="t1"))
    assert again.outcome == "duplicate" and again.record is not None
    assert again.record.ref == "add@1" and len(again.record.provenance) == 1
    other = store.publish(new_tool("add", task="t2"))
    assert other.outcome == "duplicate"
    assert other.record is not None
    assert [p.task_ids for p in other.record.provenance] == [("t1",), ("t2",)]
    assert [r.version for r in store.history("add")] == [1]
    assert first is not None and first.content_hash == other.record.content_hash


def test_new_content_is_a_new_version_with_lineage(store: Store) -> None:
    store.publish(new_tool("add"))
    res = store.publish(new_tool("add", expr="b + a + 0"))
    assert res.outcome == "created" and res.record is not None
    assert res.record.version == 2 and res.record.parent_version == 1
    assert store.resolve("add").version == 2
    assert store.resolve("add@1").source == tool_source("add")
    assert [r.version for r in store.history("add")] == [1, 2]


def test_renamed_duplicate_merges_provenance(store: Store) -> None:
    store.publish(new_tool("add", task="t1"))
    renamed = NewTool(
        name="sum_two",
        source='def sum_two(x: int, y: int) -> int:\n    """Sum."""\n    # comment\n    return x+y\n',
        provenance=Provenance(task_ids=("t9",)),
    )
    res = store.publish(renamed)
    assert res.outcome == "merged" and res.record is not None and res.record.ref == "add@1"
    assert ("t9",) in [p.task_ids for p in res.record.provenance]
    assert store.history("sum_two") == []
    rewritten = store.publish(new_tool("sum_two", expr="a - -b"))
    assert rewritten.outcome == "created"


@pytest.mark.parametrize(
    ("new", "needle"),
    [
        (NewTool(name="bad-name", source=tool_source("f")), "'bad-name'"),
        (NewTool(name="f", source="def f(a: int) -> int:\n    return a\n"), "no docstring"),
        (NewTool(name="f", source=tool_source("g")), "no top-level function named 'f'"),
    ],
)
def test_invalid_tools_are_values_and_store_nothing(
    store: Store, new: NewTool, needle: str
) -> None:
    res = store.publish(new)
    assert res.outcome == "invalid" and res.record is None and needle in res.reason
    assert store.list() == []


def test_resolve_errors_are_one_line(store: Store) -> None:
    store.publish(new_tool("add"))
    with pytest.raises(UnknownToolError, match="unknown tool 'nope'"):
        store.resolve("nope")
    with pytest.raises(UnknownToolError, match="'add@7'"):
        store.resolve("add@7")
    for bad in ("add@0", "add@x", "a b"):
        with pytest.raises(LibraryError, match="bad tool reference"):
            store.resolve(bad)
    assert store.get("add", 7) is None


def test_deprecate_and_retire(store: Store) -> None:
    store.publish(new_tool("add"))
    store.publish(new_tool("plus", expr="a + b + 0"))
    with pytest.raises(LibraryError, match="needs a replacement"):
        store.set_status("add", Status.DEPRECATED, "old")
    with pytest.raises(UnknownToolError):
        store.deprecate("add", "missing_tool")
    changed = store.deprecate("add", "plus")
    assert [r.status.status for r in changed] == [Status.DEPRECATED]
    dep = store.resolve("add")
    assert dep.status.replacement == "plus" and dep.status.time > 0
    store.retire("plus", "wrong on negatives")
    with pytest.raises(UnknownToolError, match="'plus' is retired: wrong on negatives"):
        store.resolve("plus")
    assert store.resolve("plus@1").status.status is Status.RETIRED  # kept for lineage
    assert [r.name for r in store.list()] == ["add"]
    assert [r.name for r in store.list(statuses=[Status.RETIRED])] == ["plus"]
    # re-inventing a retired tool does not bring it back
    res = store.publish(new_tool("plus2", expr="a + b + 0"))
    assert res.outcome == "merged" and res.record is not None
    assert res.record.status.status is Status.RETIRED


def test_retiring_one_version_falls_back_to_the_previous(store: Store) -> None:
    store.publish(new_tool("add"))
    store.publish(new_tool("add", expr="a + b + 0"))
    store.retire("add@2", "regressed")
    assert store.resolve("add").version == 1
    with pytest.raises(UnknownToolError):
        store.retire("add@9", "x")


def test_gate_pass_and_fail(store: Store) -> None:
    calls: list[tuple[str, str]] = []

    def gate(previous: ToolRecord, candidate: ToolRecord) -> GateDecision:
        calls.append((previous.ref, candidate.ref))
        return GateDecision("+ 1" not in candidate.source, "fails add@1 example {a:1,b:2}")

    assert store.publish(new_tool("add"), gate=gate).outcome == "created"
    assert calls == []  # nothing to regress against for a first version
    ok = store.publish(new_tool("add", expr="b + a"), gate=gate)
    assert ok.outcome == "created" and calls == [("add@1", "add@2")]
    bad = store.publish(new_tool("add", expr="a + b + 1"), gate=gate)
    assert bad.outcome == "rejected" and not bad.ok and bad.record is not None
    assert bad.record.status.status is Status.REJECTED and "fails add@1 example" in bad.reason
    assert "add@2" in bad.record.status.reason
    assert store.resolve("add").version == 2  # the old version stays the latest
    assert [r.status.status.value for r in store.history("add")] == ["active", "active", "rejected"]
    assert store.publish(new_tool("add", expr="a + b + 1"), gate=gate).outcome == "duplicate"
    assert store.publish(new_tool("add", expr="a + b + 2"), gate=gate).record.version == 4  # type: ignore[union-attr]


def test_gate_reruns_when_latest_changes_meanwhile(store: Store) -> None:
    store.publish(new_tool("add"))
    seen: list[str] = []

    def racing_gate(previous: ToolRecord, candidate: ToolRecord) -> GateDecision:
        seen.append(previous.ref)
        if len(seen) == 1:  # another writer lands a version while we are gating
            store.publish(new_tool("add", expr="a + b + 5"))
        return GateDecision(True)

    res = store.publish(new_tool("add", expr="a + b + 6"), gate=racing_gate)
    assert seen == ["add@1", "add@2"]
    assert res.record is not None and res.record.version == 3 and res.record.parent_version == 2


def test_gate_exception_stores_nothing(store: Store) -> None:
    store.publish(new_tool("add"))

    def broken(previous: ToolRecord, candidate: ToolRecord) -> GateDecision:
        raise RuntimeError("sandbox down")

    with pytest.raises(RuntimeError):
        store.publish(new_tool("add", expr="a * b"), gate=broken)
    assert [r.version for r in store.history("add")] == [1]


def test_snapshot_pins_exactly_that_view(store: Store) -> None:
    store.publish(new_tool("add"))
    store.publish(new_tool("mul", expr="a * b"))
    lock = store.snapshot()
    assert [(e.name, e.version) for e in lock.entries] == [("add", 1), ("mul", 1)]
    store.publish(new_tool("add", expr="a + b + 0"))
    store.retire("mul", "obsolete")
    store.publish(new_tool("sub", expr="a - b"))
    reopened = Lock.from_text(lock.to_text())
    assert reopened == lock and reopened.digest == lock.digest
    assert [r.ref for r in store.pinned(reopened)] == ["add@1", "mul@1"]
    assert [r.ref for r in store.list()] == ["add@2", "sub@1"]
    tampered = json.loads(lock.to_text())
    tampered["tools"]["add@1"] = "0" * 64
    with pytest.raises(LibraryError, match="digest does not match"):
        Lock.from_text(json.dumps(tampered))
    del tampered["digest"]
    with pytest.raises(LibraryError, match="another content hash"):
        store.pinned(Lock.from_text(json.dumps(tampered)))
    with pytest.raises(LibraryError, match="not a valid library lock"):
        Lock.from_text("{}")


def test_episodes_and_usage(store: Store) -> None:
    store.publish(new_tool("add"))
    for ok in (True, True, False, None):
        ep = store.add_episode(
            Episode(
                query="what is 1+2",
                offered=("add@1",),
                call=Call("add@1", {"a": 1, "b": 2}),
                result={"ok": True, "value": 3},
                answer="3",
                success=ok,
                expected="3",
                answer_check="math" if ok is False else None,
            )
        )
        assert ep.id is not None and ep.time > 0
    store.add_episode(
        Episode(
            query="free program", call=Call(program="print(1)"), success=True, origin="exploration"
        )
    )
    assert store.usage("add", 1).to_json() == {"calls": 4, "successes": 2, "failures": 1}
    assert store.resolve("add").usage.calls == 4
    assert store.usage("add", 2).calls == 0
    assert len(store.episodes()) == 5
    assert len(store.episodes(tool="add")) == 4
    assert len(store.episodes(tool="add@1", success=False)) == 1
    assert [e.origin for e in store.episodes(success=True)] == ["use", "use", "exploration"]
    first = store.episodes()[0]
    assert first.call.arguments == {"a": 1, "b": 2} and first.result == {"ok": True, "value": 3}
    assert [e.id for e in store.episodes(after_id=first.id or 0)] == [2, 3, 4, 5]
    assert Episode.from_json(json.loads(json.dumps(first.to_json()))) == first
    # the answer check a gold answer was graded with is kept, so a re-run is graded alike
    assert [e.answer_check for e in store.episodes(tool="add")] == [None, None, "math", None]


def test_every_stored_record_keeps_the_contract(store: Store) -> None:
    store.publish(new_tool("add"))
    store.publish(new_tool("add", expr="a + b + 0"))
    store.publish(new_tool("add", expr="a - b"), gate=lambda old, new: GateDecision(False, "no"))
    store.publish(new_tool("mul", expr="a * b"))
    store.publish(new_tool("mul2", expr="a * b", task="t2"))  # merged into mul
    store.deprecate("mul", "add")
    store.retire("add@1", "superseded")
    assert library_problems(store) == []
    broken = store.resolve("add@2").with_(source=tool_source("add", "a"), parent_version=5)
    problems = record_problems(broken)
    assert any("content hash" in p for p in problems) and any("parent" in p for p in problems)
    odd = store.resolve("add").with_(status=StatusInfo(Status.ACTIVE, "x", 0.0, replacement="mul"))
    assert record_problems(odd) == ["add@2: a replacement goes with deprecation, and only with it"]
