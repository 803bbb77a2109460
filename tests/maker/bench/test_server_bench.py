"""`maker bench server`'s requests and comparison (the timed part needs the local models)."""

from __future__ import annotations

import json

import jsonschema

from maker.bench.server import TOOLS, compare, problems, requests


def test_the_requests_are_the_tool_users_in_pairs_and_all_differ() -> None:
    reqs = requests(6)
    assert [r["kind"] for r in reqs] == ["decision", "program"] * 6
    assert len(set(problems(6))) == 6
    schema = reqs[0]["response_format"]["schema"]
    jsonschema.validate({"tool": "gcd", "arguments": {"a": 6, "b": 8}}, schema)
    jsonschema.validate({"tool": "none", "answer": 2}, schema)
    assert set(TOOLS) <= set(json.dumps(schema).replace('"', " ").split())
    assert "response_format" not in reqs[1]


def test_the_comparison_is_worked_out_per_kind() -> None:
    def run(seconds: list[float], texts: list[str]) -> list[dict]:
        kinds = ["decision", "program"] * (len(seconds) // 2)
        return [
            {"kind": k, "seconds": s, "text": t}
            for k, s, t in zip(kinds, seconds, texts, strict=True)
        ]

    theirs = run([4.0, 6.0, 2.0, 8.0], ["a", "p", "b", "q"])
    ours = run([1.0, 6.0, 1.0, 4.0], ["a", "p", "c", "q"])
    rows = compare(theirs, ours)
    assert rows["decision"] == {
        "requests": 2,
        "baseline_s_per_request": 3.0,
        "engine_s_per_request": 1.0,
        "speedup": 3.0,
        "same_replies": 1,
    }
    assert rows["program"]["speedup"] == 1.4 and rows["program"]["same_replies"] == 2
    assert rows["all"]["requests"] == 4 and rows["all"]["speedup"] == round(20 / 12, 3)
