"""Incremental updates: usage examples learnt in batches, replay after new episodes, a stored
version read again."""

from __future__ import annotations

from pathlib import Path

from library import Library, NewTool
from library.records import Call, Episode, Provenance, Status, ToolRecord
from library.retrieval import Retriever
from library.store import MemoryStore
from tests.library.test_retrieval import _publish_all

GCD = 'def gcd(a: int, b: int) -> int:\n    """Greatest common divisor."""\n    return a\n'


def _hits(r: Retriever, query: str) -> list[tuple[str, float, float]]:
    return [(h.name, round(h.score, 12), round(h.relevance, 12)) for h in r.search(query).hits]


def test_examples_learnt_in_a_batch_index_as_learnt_one_at_a_time() -> None:
    records: list[ToolRecord] = _publish_all(MemoryStore())
    pairs = [
        ("gcd", "split marbles into equal bags"),
        ("lcm", "when do the blinking lights flash together"),
        ("gcd", "tile a floor with the largest square"),
        ("gcd", "split marbles into equal bags"),  # a repeat: kept once
        ("nosuch", "an unknown tool is ignored"),
        ("gcd", "cut ribbons into the longest equal pieces"),
        ("gcd", "share sweets among friends"),  # the fourth: the first example is dropped
    ]
    one, batch = Retriever(max_examples=3), Retriever(max_examples=3)
    one.add_many(records)
    batch.add_many(records)
    for name, query in pairs:
        one.add_example(name, query)
    batch.add_examples(pairs)
    queries = [
        "largest square tiles",
        "blinking lights together",
        "marbles in bags",
        "greatest common divisor of 4 and 6",
        "share sweets",
        "ribbons pieces",
    ]
    for q in queries:
        assert _hits(batch, q) == _hits(one, q), q
    assert _hits(batch, "largest square tiles")[0][0] == "gcd"  # learnt from an example
    assert "gcd" not in [h[0] for h in _hits(batch, "marbles in bags")]  # dropped: over 3


def test_replay_sees_an_episode_recorded_after_a_search_for_the_same_query() -> None:
    lib = Library(MemoryStore())
    assert lib.publish(NewTool("gcd", GCD)).ok
    lib.record(
        Episode(
            query="greatest common divisor of 4 and 6",
            call=Call("gcd@1", {"a": 4}),
            result={"ok": True, "value": 2},
            answer="2",
            success=True,
        )
    )
    query = "greatest common divisor of 8 and 12"
    assert lib.search(query).refs == ["gcd@1"]
    before = [e.query for e in lib.replay(query, ["gcd"]).examples]
    assert before == ["greatest common divisor of 4 and 6"]
    lib.record(
        Episode(
            query="common divisor of 8 and 12 apples",
            call=Call("gcd@1", {"a": 8}),
            result={"ok": True, "value": 4},
            answer="4",
            success=True,
        )
    )
    after = [e.query for e in lib.replay(query, ["gcd"]).examples]
    assert "common divisor of 8 and 12 apples" in after


def test_a_version_read_again_shows_its_new_status_usage_and_provenance(tmp_path: Path) -> None:
    with Library.open(tmp_path) as lib:
        lib.publish(NewTool("gcd", GCD, provenance=Provenance(task_ids=("a",))))
        first = lib.store.get("gcd", 1)
        assert first is not None and first.usage.calls == 0
        lib.record(
            Episode(
                query="q",
                call=Call("gcd@1", {"a": 1}),
                result={"ok": True, "value": 1},
                answer="1",
                success=True,
            )
        )
        lib.publish(NewTool("gcd", GCD, provenance=Provenance(task_ids=("b",))))
        lib.retire("gcd@1", "superseded")
        again = lib.store.get("gcd", 1)
        assert again is not None and again.source == first.source
        assert (again.usage.calls, again.usage.successes) == (1, 1)
        assert {t for p in again.provenance for t in p.task_ids} == {"a", "b"}
        assert again.status.status is Status.RETIRED
        assert lib.store.get("gcd", 2) is None
