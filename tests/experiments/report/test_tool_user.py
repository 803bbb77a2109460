"""The report's tool-user table: per tool arm and family, how far the tool user got."""

from __future__ import annotations

from experiments.report.render import _tool_user as table
from experiments.report.summary import _tool_user


def _row(family, *, offered, attempts, stages, ran, correct, seconds, method="latm"):
    trace = {"offered": offered, "attempts": attempts, "stages": stages}
    return {
        "method": method,
        "family": family,
        "detail": {"tool_user": trace},
        "tool_calls": [{"tool": "sort@1"}] if ran else [],
        "correct": correct,
        "model_seconds": seconds,
    }


OK = {"well_formed": True, "tool_chosen": True, "args_valid": True, "executed": True}
BAD_ARGS = {"well_formed": True, "tool_chosen": True, "args_valid": False, "executed": None}
NONE = {"well_formed": None, "tool_chosen": None, "args_valid": None, "executed": None}
SORTED = _row(
    "bbh:sort", offered=["sort@1"], attempts=1, stages=OK, ran=True, correct=True, seconds=2.0
)


def test_counts_per_family_and_unknown_for_untraced_rows():
    items = [
        SORTED,
        _row(
            "bbh:sort",
            offered=["sort@1"],
            attempts=1,
            stages=OK,
            ran=True,
            correct=False,
            seconds=3.0,
        ),
        _row(
            "bbh:sort",
            offered=["sort@1"],
            attempts=3,
            stages=BAD_ARGS,
            ran=False,
            correct=True,
            seconds=7.0,
        ),  # the fallback answered it right
        _row(
            "bbh:dyck", offered=[], attempts=0, stages=NONE, ran=False, correct=False, seconds=4.0
        ),
        {
            "method": "latm",
            "family": "math:Algebra",
            "detail": {},
            "tool_calls": [],
            "correct": False,
            "model_seconds": 1.0,
        },  # a run from before the trace was kept
        {
            "method": "cheap_pot",
            "family": "bbh:sort",
            "detail": {},
            "tool_calls": [],
            "correct": True,
            "model_seconds": 1.0,
        },  # not a tool arm: not counted
    ]
    rows = {(r["method"], r["family"]): r for r in _tool_user(items, ["latm"])}
    assert set(rows) == {("latm", "bbh:sort"), ("latm", "bbh:dyck"), ("latm", "math:Algebra")}
    sort = rows["latm", "bbh:sort"]
    assert (sort["items"], sort["offered"], sort["asked"]) == (3, 3, 3)
    assert (sort["well_formed"], sort["tool_chosen"], sort["args_valid"]) == (3, 3, 2)
    assert (sort["executed"], sort["tool_ran"], sort["right_with_tool"]) == (2, 2, 1)
    assert sort["model_seconds_per_item"] == 4.0
    dyck = rows["latm", "bbh:dyck"]
    assert (dyck["offered"], dyck["asked"], dyck["well_formed"], dyck["tool_ran"]) == (0, 0, 0, 0)
    old = rows["latm", "math:Algebra"]
    assert old["offered"] is None and old["well_formed"] is None and old["tool_ran"] == 0


def test_the_table_renders_the_counts():
    items = [
        SORTED,
    ]
    md = "\n".join(table(_tool_user(items, ["latm"])))
    assert "## Tool user, per task family" in md
    assert "| latm | bbh:sort | 1 | 1 | 1 | 1 | 1 | 1 | 1 | 1 | 2 |" in md
