"""The solve report's figures, checked against numbers worked out by hand."""

from __future__ import annotations

from typing import Any

from maker.llm import ChatResponse, CostLedger, Usage, default_price_table
from maker.use.report import render_solve_report, summarize

T, F, N = True, False, None


def rec(
    task_id: str,
    *,
    status: str = "answered",
    gold: Any = 1,
    correct: bool | None,
    tools: list[str],
    stages: tuple,
    first_ok: bool = True,
    attempts: int = 1,
    host: float = 1.0,
    abstained: bool = False,
    decision: str | None = "call",
    reason: str = "",
    refused_before: tuple[str, ...] = (),
) -> dict[str, Any]:
    names = ("well_formed", "tool_chosen", "args_valid", "executed", "correct")
    return {
        "task_id": task_id,
        "status": status,
        "gold": gold,
        "correct": correct,
        "tools_used": tools,
        "stages": dict(zip(names, stages, strict=True)),
        "first_reply_well_formed": first_ok,
        "attempts": attempts,
        "host_ms": host,
        "abstained": abstained,
        "decision": decision,
        "reason": reason,
        "refused_before": list(refused_before),
    }


RECORDS = [
    rec("r1", correct=T, tools=["gcd@1"], stages=(T, T, T, T, T), host=2.0),
    rec("r2", correct=T, tools=["gcd@1"], stages=(T, T, T, T, T), first_ok=F, attempts=2, host=4.0),
    rec(
        "r3",
        correct=T,
        tools=[],
        stages=(T, N, N, N, T),
        abstained=T,
        decision="answer",
        refused_before=("track@1",),
    ),
    rec(
        "r4",
        status="no_answer",
        correct=F,
        tools=[],
        stages=(F, F, N, N, F),
        first_ok=F,
        attempts=3,
        host=3.0,
        decision=None,
        reason="well_formed:not_json",
    ),
    rec(
        "r5",
        gold=None,
        correct=N,
        tools=["sort_words@1"],
        stages=(T, T, T, T, N),
        host=5.0,
        decision="program",
    ),
]


def test_report_figures_match_the_hand_computed_ones() -> None:
    r = summarize(RECORDS, problems=6)
    assert (r.problems, r.finished, r.answered, r.graded, r.correct) == (6, 5, 4, 4, 3)
    assert r.accuracy == 0.75  # r1, r2, r3 of the four graded
    assert r.tool_use_rate == 0.6  # r1, r2, r5 ran a library tool
    assert r.accuracy_with_tool == 1.0 and r.accuracy_without_tool == 0.5  # r1 r2 | r3 r4
    assert r.stage_rates == {
        "well_formed": {"rate": 0.8, "n": 5},
        "tool_chosen": {"rate": 0.75, "n": 4},
        "args_valid": {"rate": 1.0, "n": 3},
        "executed": {"rate": 1.0, "n": 3},
        "correct": {"rate": 0.75, "n": 4},
        "first_reply_well_formed": {"rate": 0.6, "n": 5},
    }
    assert r.reuse == {
        "gcd@1": {"problems": 2, "correct": 2},
        "sort_words@1": {"problems": 1, "correct": 0},
    }
    assert r.abstained == 1 and r.mean_attempts == 1.6 and r.host_ms_median == 3.0
    assert r.decisions == {"call": 2, "answer": 1, "none": 1, "program": 1}
    assert r.give_up_reasons == {"well_formed:not_json": 1}
    assert r.refused_before == 1  # r3: its one tool raised on it, so nothing was offered


def test_cost_by_role_and_phase_comes_from_the_ledger() -> None:
    ledger = CostLedger()
    prices = default_price_table()
    for phase, prompt, completion, latency in (
        ("solve", 100, 10, 0.5),
        ("solve", 50, 5, 0.25),
        ("solve_retry", 120, 8, 1.0),
    ):
        resp = ChatResponse(
            "x", "stop", Usage(prompt, completion), "local-model", latency_s=latency
        )
        ledger.record_response(
            resp, role="user", phase=phase, model="local-model", prices=prices, local=True
        )
    r = summarize(RECORDS, ledger)
    user = r.cost["by_role"]["user"]
    assert (user["calls"], user["prompt_tokens"], user["completion_tokens"]) == (3, 270, 23)
    assert user["seconds"] == 1.75 and user["dollars"] == 0.0
    assert r.cost["by_phase"]["solve"]["calls"] == 2
    assert r.cost["by_phase"]["solve_retry"]["prompt_tokens"] == 120
    render_solve_report(r)  # renders without error


def test_an_empty_report_has_no_rates() -> None:
    r = summarize([])
    assert r.accuracy is None and r.tool_use_rate is None and r.host_ms_median is None
