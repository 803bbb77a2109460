"""A whole experiment with scripted models: every baseline and a tool arm over fixture items of
each dataset, graded, reported; the report's numbers against hand-computed ones (world.py)."""

from __future__ import annotations

import json

import pytest

from experiments.report import wilson, write_report
from experiments.report.render import seconds_versus
from experiments.runs import RunDir, parse_config, run_experiment
from experiments.runs.rundir import RunDirError
from maker.llm import CostLedger, ResponseCache, ScriptedModel

from . import world

CHEAP_IN, CHEAP_OUT, STRONG_IN, STRONG_OUT = 1e-6, 2e-6, 10e-6, 20e-6


@pytest.fixture(scope="module")
def its():
    return world.items()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, sb, its):
    """One full run (with a response cache) and its report."""
    tmp = tmp_path_factory.mktemp("smoke")
    lib, make_ledger = world.curated_library(tmp)
    cfg = parse_config(world.config_data(lib, make_ledger), "smoke.toml")
    cheap = ScriptedModel(world.cheap_rules(its, tools=True))
    strong = ScriptedModel(world.strong_rules(its))
    cache = ResponseCache(tmp / "cache")
    ledger = CostLedger(tmp / "run" / "ledger.jsonl")
    summary = run_experiment(
        cfg,
        tmp / "run",
        clients=world.clients(cheap, strong, ledger=ledger, cache=cache),
        sandbox=sb,
    )
    cheap.assert_consumed()
    strong.assert_consumed()
    report = write_report(tmp / "run")
    return {
        "tmp": tmp,
        "cfg": cfg,
        "summary": summary,
        "report": report,
        "cache": cache,
        "calls": len(cheap.calls) + len(strong.calls),
    }


def test_every_item_of_every_method_and_seed_is_one_results_line(smoke, its):
    assert len(its) == 7 and {i.dataset for i in its} == {"bbh", "tabmwp", "math"}
    rows = list(RunDir(smoke["tmp"] / "run").rows())
    items = [r for r in rows if r["kind"] == "item"]
    # direct, cot, cheap_pot, strong_pot, curated: one seed; sc: three
    assert len(items) == 7 * 5 + 7 * 3 == smoke["summary"].ran
    assert [r["method"] for r in rows if r["kind"] == "make"] == ["curated"]
    assert smoke["calls"] == 7 * 5 + 7 * 3 * 3


def test_accuracy_matches_the_script(smoke):
    acc = smoke["report"]["accuracy"]
    expected = {"direct": 3, "cot": 7, "cheap_pot": 4, "strong_pot": 7, "curated": 5}
    for method, correct in expected.items():
        a = acc[method]["all"]
        assert (a["n"], a["correct"]) == (7, correct), method
        assert a["accuracy"] == pytest.approx(correct / 7)
        assert (a["lo"], a["hi"]) == pytest.approx(wilson(correct, 7))
        assert a["ci"] == "Wilson"
    assert acc["direct"]["bbh"]["correct"] == 3 and acc["direct"]["math"]["correct"] == 0
    assert acc["cheap_pot"]["bbh"]["correct"] == 0 and acc["cheap_pot"]["tabmwp"]["correct"] == 2
    sc = acc["sc"]["all"]
    assert sc["seeds"] == [0, 1, 2] and sc["ci"].startswith("bootstrap")
    assert sc["per_seed"] == pytest.approx({"0": 1.0, "1": 5 / 7, "2": 1.0})
    assert sc["accuracy"] == pytest.approx(19 / 21)
    assert sc["lo"] < sc["accuracy"] <= sc["hi"] <= 1.0
    assert acc["sc"]["math"]["per_seed"] == pytest.approx({"0": 1.0, "1": 0.0, "2": 1.0})
    assert acc["strong_pot"]["math"]["math_verify_accuracy"] == 1.0


def test_failures_are_recorded_with_their_reason(smoke):
    rows = {
        (r["method"], r["id"]): r
        for r in RunDir(smoke["tmp"] / "run").rows()
        if r["kind"] == "item"
    }
    dyck = rows[("cheap_pot", "dyck_languages:12")]
    assert dyck["answer"] is None and dyck["error"] == "no code block in the reply"
    logic = rows[("cheap_pot", "logical_deduction_three_objects:10")]
    assert logic["answer"] is None and "ZeroDivisionError" in logic["error"]


def test_costs_per_item_role_and_phase(smoke):
    costs = smoke["report"]["costs"]
    per = {m: c["per_item"] for m, c in costs.items()}
    assert {m: per[m]["tokens"] for m in per} == pytest.approx(
        {"direct": 22, "cot": 50, "cheap_pot": 50, "strong_pot": 150, "curated": 35, "sc": 150}
    )
    assert per["strong_pot"]["dollars"] == pytest.approx(100 * STRONG_IN + 50 * STRONG_OUT)
    assert per["sc"]["dollars"] == pytest.approx(3 * (40 * CHEAP_IN + 10 * CHEAP_OUT))
    assert per["sc"]["calls"] == 3
    assert costs["curated"]["making"]["tokens"] == 700
    assert costs["curated"]["making"]["dollars"] == pytest.approx(500 * 10e-6 + 200 * 20e-6)
    groups = {(g["method"], g["role"], g["phase"]): g for g in smoke["report"]["by_role_phase"]}
    assert groups[("strong_pot", "maker", "strong_pot/program")]["tokens"] == 7 * 150
    assert groups[("sc", "user", "sc/program")]["calls"] == 7 * 3 * 3
    assert groups[("curated", "user", "use")]["tokens"] == 7 * 35
    billed = smoke["report"]["billed"]
    assert billed["user"]["calls"] == 7 * 4 + 7 * 9 and billed["user"]["cache_hits"] == 0
    assert billed["maker"]["tokens"] == 7 * 150


def test_self_consistency_spends_the_matched_budget(smoke):
    rep = smoke["report"]
    assert rep["samples"]["sc"] == {
        "mean": 3,
        "min": 3,
        "max": 3,
        "histogram": {3: 3 * 7},
        "stopped_by": {"tokens": 3 * 7},  # a 4th 50-token program would pass the 150
        "votes": {"decided": 3 * 7},  # two answers of three agree on every item
    }
    md = (smoke["tmp"] / "run" / "report.md").read_text()
    assert "| sc | 3 | 3 | 3 | strong_pot | 150, 150, 150 | - | 21 / 0 / 0 | 21 / 0 / 0 / 0 |" in md
    for ds in ("bbh", "tabmwp", "math"):
        b = rep["budgets"][f"sc/{ds}"]
        assert b["reference"] == "strong_pot" and b["tokens"] == 150 and b["seconds"] is None


def test_break_even_and_tool_use(smoke):
    am = smoke["report"]["amortized"]
    assert am["unit"] == "dollars" and am["baseline"] == "cheap_pot"
    cur = am["methods"]["curated"]
    making, use = 0.009, 30 * CHEAP_IN + 5 * CHEAP_OUT
    base_per_solved = (40 * CHEAP_IN + 10 * CHEAP_OUT) / (4 / 7)
    assert cur["break_even"] == pytest.approx(making / ((5 / 7) * base_per_solved - use))
    assert cur["break_even"] == pytest.approx(257.142857, rel=1e-6)
    assert cur["cost_per_solved"][0] == pytest.approx((making + use) / (5 / 7))
    assert am["methods"]["strong_pot"]["break_even"] is None  # dearer per solved, forever
    assert am["methods"]["cot"]["break_even"] == 0.0  # cheaper per solved from the start
    tools = smoke["report"]["tools"]["curated"]
    assert tools["library_size"] == 2
    assert (tools["items_with_tool"], tools["items"]) == (5, 7)
    assert tools["accuracy_with_tool"] == 1.0 and tools["accuracy_without_tool"] == 0.0
    assert (tools["tools_used"], tools["tools_reused"]) == (2, 1)
    lock = json.loads((smoke["tmp"] / "run" / "locks" / "curated.json").read_text())
    assert sorted(lock["tools"]) == ["lookup@1", "sort_words@1"]


def test_report_files_show_the_numbers(smoke):
    run = smoke["tmp"] / "run"
    md = (run / "report.md").read_text()
    for name in ("accuracy.png", "cost.png", "amortized.png"):
        data = (run / "plots" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    labels = smoke["report"]["plot_labels"]
    assert "42.9" in labels["accuracy"] and "90.5" in labels["accuracy"]  # direct 3/7, sc 19/21
    for text in labels["accuracy"] + labels["cost"] + labels["amortized"]:
        assert text in md, text
    assert "| direct | 100.0 [" in md  # direct on BIG-Bench: 3/3
    assert "257 problems" in md
    assert "| math | 2 | 16 | 4 | no | MATH-500 split in two" in md
    assert json.loads((run / "report.json").read_text())["accuracy"]["cot"]["all"]["correct"] == 7
    for f in ("config.json", "datasets.json", "budgets.json", "ledger.jsonl", "results.jsonl"):
        assert (run / f).is_file(), f
    ds = json.loads((run / "datasets.json").read_text())
    assert ds["math"]["comparable"] is False and len(ds["math"]["selected"]) == 2


def test_a_cached_rerun_makes_no_model_calls_and_reports_the_same(smoke, sb, tmp_path):
    cfg = smoke["cfg"]
    empty_cheap, empty_strong = ScriptedModel([]), ScriptedModel([])  # any call would fail
    ledger = CostLedger(tmp_path / "again" / "ledger.jsonl")
    clients = world.clients(empty_cheap, empty_strong, ledger=ledger, cache=smoke["cache"])
    run_experiment(cfg, tmp_path / "again", clients=clients, sandbox=sb)
    assert empty_cheap.calls == [] and empty_strong.calls == []
    again = write_report(tmp_path / "again")
    first = smoke["report"]
    for key in ("accuracy", "amortized", "tools", "samples", "by_role_phase"):
        assert again[key] == first[key], key
    for m, c in first["costs"].items():
        strip = {k: v for k, v in c["per_item"].items() if k != "wall_seconds"}
        assert {
            k: v for k, v in again["costs"][m]["per_item"].items() if k != "wall_seconds"
        } == strip
    assert again["billed"]["user"]["cache_hits"] == again["billed"]["user"]["calls"] > 0
    assert again["billed"]["user"]["tokens"] == 0 and again["billed"]["user"]["dollars"] == 0


def test_each_method_against_the_baseline_on_the_same_items(smoke):
    versus = smoke["report"]["versus"]
    assert versus["baseline"] == "cheap_pot"
    rows = {(r["method"], r["family"]): r for r in versus["rows"]}
    assert "cheap_pot" not in {m for m, _ in rows}
    # sc: 3 seeds x 7 items; right where cheap_pot is wrong on the 3 BIG-Bench items (x3),
    # wrong where it is right on the 2 MATH items of seed 1
    sc = rows[("sc", "all")]
    assert (sc["pairs"], sc["wins"], sc["losses"]) == (21, 9, 2)
    assert sc["p"] == pytest.approx(2 * (1 + 11 + 55) / 2**11)
    assert sc["baseline_accuracy"] == pytest.approx(12 / 21)
    # the curated arm: its 5 tool items right, cheap_pot wrong on word_sorting only of those
    cur = rows[("curated", "all")]
    assert (cur["pairs"], cur["wins"], cur["losses"], cur["with_tool"]) == (7, 1, 0, 5)
    assert cur["p"] == 1.0
    ws = rows[("curated", "bbh:word_sorting")]
    assert (ws["pairs"], ws["accuracy"], ws["baseline_accuracy"]) == (1, 1.0, 0.0)
    md = (smoke["tmp"] / "run" / "report.md").read_text()
    assert "## Against the baseline (cheap_pot), per task family" in md
    sc_line = next(x for x in md.splitlines() if x.startswith("| sc | all | "))
    assert sc_line.startswith("| sc | all | 21 | 57.1 | 90.5 | 9 | 2 | 0.065 | 0 | ")
    assert sc_line.endswith(" | no significant difference |")
    # the model seconds per item on the pairs, and as a multiple of the baseline's (the
    # scripted models take none)
    assert (sc["seconds"], sc["baseline_seconds"]) == (0.0, 0.0) and "| 0 |" in sc_line
    assert seconds_versus({"seconds": 16.21, "baseline_seconds": 11.17}) == "16.2 (1.45x)"
    families = {r["family"] for r in versus["rows"] if r["method"] == "curated"} - {"all"}
    line = next(x for x in md.splitlines() if x.startswith("- curated:"))
    assert line == (
        f"- curated: ahead of cheap_pot on 1 of {len(families)} families (bbh:word_sorting), "
        f"level on {len(families) - 1}, behind on 0."
    )
    line = next(x for x in md.splitlines() if x.startswith("- direct:"))
    assert "behind on " in line and "behind on 0" not in line  # cheap_pot wins TabMWP, MATH


def test_a_report_compares_every_method_with_any_other_on_request(smoke):
    run = smoke["tmp"] / "run"
    again = write_report(run, against=["curated", "cheap_pot"])  # cheap_pot: the baseline
    assert [v["baseline"] for v in again["versus_also"]] == ["curated"]
    rows = {(r["method"], r["family"]): r for r in again["versus_also"][0]["rows"]}
    cur = {(r["method"], r["family"]): r for r in smoke["report"]["versus"]["rows"]}
    # cheap_pot against curated mirrors curated against cheap_pot
    mirror, base = rows[("cheap_pot", "all")], cur[("curated", "all")]
    assert (mirror["wins"], mirror["losses"]) == (base["losses"], base["wins"])
    assert mirror["baseline_accuracy"] == base["accuracy"]
    md = (run / "report.md").read_text()
    assert "## Against curated, per task family: paired, same items" in md
    assert "## Against the baseline (cheap_pot), per task family" in md
    with pytest.raises(RunDirError, match="--against strong: no such method in"):
        write_report(run, against=["strong"])
    write_report(run)  # back to the plain report for the other tests


def test_how_each_items_vote_went() -> None:
    from experiments.report.summary import vote_outcome

    def row(votes: dict | None) -> dict:
        return {"detail": {"samples": 3, "votes": votes}}

    assert vote_outcome(row({"5": 2, "4": 1})) == "decided"
    assert vote_outcome(row({"5": 1, "4": 1, "3": 1})) == "tied"  # the first drawn answers
    assert vote_outcome(row({"5": 2, "4": 2})) == "tied"
    assert vote_outcome(row({"5": 3})) == "agreed"
    assert vote_outcome(row({})) == vote_outcome(row(None)) == "no answer"


def test_what_stopped_the_sampling_is_read_from_each_item() -> None:
    from experiments.report.summary import stopped_by

    budget = {"reference": "full_loop", "tokens": 1149.15, "seconds": 37.78}

    def row(samples: int, tokens: int, seconds: float, b: dict | None = budget) -> dict:
        detail = {"samples": samples, "budget": b}
        return {"detail": detail, "tokens": tokens, "model_seconds": seconds}

    # the small run's items: 2 programs of ~450 tokens in 12 s, a third would pass the tokens
    assert stopped_by(row(2, 873, 9.7)) == "tokens"
    # one program of 444 tokens that took 42 model s (the machine slowed by another job)
    assert stopped_by(row(1, 444, 42.2)) == "seconds"
    assert stopped_by(row(16, 160, 1.0)) == "limit"
    assert stopped_by(row(3, 150, 3.0, None)) == "limit"


def test_a_report_of_an_unfinished_sampled_method_says_so(smoke, tmp_path):
    import shutil

    run = tmp_path / "partial"
    shutil.copytree(smoke["tmp"] / "run", run)
    lines = (run / "results.jsonl").read_text().splitlines()
    rows = [json.loads(x) for x in lines]
    seed2 = [i for i, r in enumerate(rows) if r.get("method") == "sc" and r.get("seed") == 2]
    assert len(seed2) == 7
    kept = [x for i, x in enumerate(lines) if i not in seed2[2:]]  # a run killed mid seed 2
    (run / "results.jsonl").write_text("\n".join(kept) + "\n")
    partial = write_report(run)
    assert partial["accuracy"]["sc"]["all"]["items_per_seed"] == {"0": 7, "1": 7, "2": 2}
    md = (run / "report.md").read_text()
    assert "Unfinished: sc: seed 2 has 2 of 7 items" in md
    assert "items_per_seed" not in smoke["report"]["accuracy"]["sc"]["all"]
    assert "Unfinished" not in (smoke["tmp"] / "run" / "report.md").read_text()
