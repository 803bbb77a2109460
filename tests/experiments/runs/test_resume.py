"""Resume after a kill: finished items are skipped, a half-written line is dropped, nothing is
asked twice; a run dir of another config is refused."""

from __future__ import annotations

import json
import re

import pytest

from experiments.runs import RunDir, RunDirError, parse_config, run_experiment
from maker.llm import ModelCallError, ScriptedModel

from . import world


def _config():
    data = world.config_data()
    data["methods"] = [m for m in data["methods"] if m["name"] in ("cheap_pot", "strong_pot")]
    return parse_config(data, "resume.toml")


def _cheap_pot_rules(its):
    return world.cheap_rules(its, tools=False, only=("cheap_pot",))


def test_a_killed_run_resumes_without_redoing_or_asking_again(sb, tmp_path, capsys):
    its = world.items()
    cfg = _config()
    pot_rules = _cheap_pot_rules(its)
    assert len(pot_rules) == 7
    # first run: three items answered, then the endpoint goes down
    cheap = ScriptedModel([*pot_rules[:3], ModelCallError("endpoint down", attempts=3)])
    strong = ScriptedModel([])
    with pytest.raises(ModelCallError):
        run_experiment(cfg, tmp_path / "run", clients=world.clients(cheap, strong), sandbox=sb)
    run = RunDir(tmp_path / "run")
    assert [r["id"] for r in run.rows()] == [it.id for it in its[:3]]
    with run.results_file.open("a") as f:  # killed while writing the next line
        f.write('{"kind": "item", "method": "cheap_')
    capsys.readouterr()
    # second run (3 items at a time): only what is left is asked for
    cheap = ScriptedModel(pot_rules[3:])
    strong = ScriptedModel(world.strong_rules(its))
    summary = run_experiment(
        cfg, tmp_path / "run", clients=world.clients(cheap, strong), sandbox=sb, jobs=3
    )
    cheap.assert_consumed()
    strong.assert_consumed()
    assert (summary.ran, summary.skipped) == (4 + 7, 3)
    # without a progress bar, one log line per method, seed and dataset that ran
    lines = capsys.readouterr().err.splitlines()
    pattern = re.compile(
        r"\d\d:\d\d:\d\d (\w+) seed 0 (\w+): (\d+) of (\d+) items run now, (\d+) right "
        r"\(\d+\.\d%\), \d+\.\d model s per item"
    )
    found = [pattern.fullmatch(line) for line in lines]
    assert lines and all(found), lines
    ran = {m: sum(int(f[3]) for f in found if f[1] == m) for m in ("cheap_pot", "strong_pot")}
    assert ran == {"cheap_pot": 4, "strong_pot": 7}
    rows = list(run.rows())
    keys = [(r["method"], r["id"]) for r in rows]
    assert len(keys) == len(set(keys)) == 14
    assert sum(r["correct"] for r in rows if r["method"] == "cheap_pot") == 4
    # a third run has nothing to do
    again = run_experiment(
        cfg,
        tmp_path / "run",
        clients=world.clients(ScriptedModel([]), ScriptedModel([])),
        sandbox=sb,
    )
    assert (again.ran, again.skipped) == (0, 14)
    assert capsys.readouterr().err == ""  # nothing ran: nothing to log


def test_a_run_dir_of_another_config_is_refused(sb, tmp_path):
    its = world.items()
    cfg = _config()
    cheap = ScriptedModel(_cheap_pot_rules(its))
    strong = ScriptedModel(world.strong_rules(its))
    run_experiment(cfg, tmp_path / "run", clients=world.clients(cheap, strong), sandbox=sb)
    data = world.config_data()
    data["methods"] = [m for m in data["methods"] if m["name"] == "cot"]
    data["report"] = {}
    other = parse_config(data, "other.toml")
    with pytest.raises(RunDirError, match="different config"):
        run_experiment(
            other,
            tmp_path / "run",
            clients=world.clients(ScriptedModel([]), ScriptedModel([])),
            sandbox=sb,
        )
    assert len(list(RunDir(tmp_path / "run").rows())) == 14


def test_with_parallel_items_a_failure_keeps_the_finished_rows(sb, tmp_path):
    its = world.items()
    data = world.config_data()
    data["methods"] = [m for m in data["methods"] if m["name"] == "cot"]
    data["report"] = {}
    cfg = parse_config(data, "par.toml")
    rules = world.cheap_rules(its, tools=False, only=("cot",))
    # the last item submitted fails: every other item has started by then (FIFO pool)
    cheap = ScriptedModel([*rules[:6], ModelCallError("down")])
    with pytest.raises(ModelCallError):
        run_experiment(
            cfg,
            tmp_path / "run",
            clients=world.clients(cheap, ScriptedModel([])),
            sandbox=sb,
            jobs=4,
        )
    rows = list(RunDir(tmp_path / "run").rows())
    assert len(rows) == 6 and all(r["correct"] for r in rows)
    assert its[6].id not in {r["id"] for r in rows}


def test_a_run_may_gain_methods_and_keeps_what_it_has(sb, tmp_path):
    its = world.items()
    data = world.config_data()
    first = dict(data, methods=[m for m in data["methods"] if m["name"] == "cheap_pot"])
    first["report"] = {}
    cheap = ScriptedModel(_cheap_pot_rules(its))
    done = run_experiment(
        parse_config(first, "a.toml"),
        tmp_path / "run",
        clients=world.clients(cheap, ScriptedModel([])),
        sandbox=sb,
    )
    more = dict(data, methods=[m for m in data["methods"] if m["name"] in ("cheap_pot", "cot")])
    more["report"] = {}
    cot = ScriptedModel(world.cheap_rules(its, tools=False, only=("cot",)))
    added = run_experiment(
        parse_config(more, "b.toml"),
        tmp_path / "run",
        clients=world.clients(cot, ScriptedModel([])),
        sandbox=sb,
    )
    assert added.skipped == done.ran and added.ran > 0
    methods = {r["method"] for r in RunDir(tmp_path / "run").rows() if r["kind"] == "item"}
    assert methods == {"cheap_pot", "cot"}


TWICE = 'def twice(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n'


def test_a_resumed_tool_arm_must_find_the_library_it_began_with(sb, tmp_path):
    from library import Library, NewTool

    its = world.items()
    lib, ledger = world.curated_library(tmp_path)
    data = world.config_data(lib, ledger)
    data["methods"] = [m for m in data["methods"] if m["name"] in ("cheap_pot", "curated")]
    cfg = parse_config(data, "lock.toml")
    cheap = ScriptedModel(world.cheap_rules(its, tools=True, only=("cheap_pot", "use")))
    run_experiment(
        cfg, tmp_path / "run", clients=world.clients(cheap, ScriptedModel([])), sandbox=sb
    )
    lock = (tmp_path / "run" / "locks" / "curated.json").read_text()
    idle = world.clients(ScriptedModel([]), ScriptedModel([]))
    again = run_experiment(cfg, tmp_path / "run", clients=idle, sandbox=sb)  # same library: fine
    assert again.ran == 0 and (tmp_path / "run" / "locks" / "curated.json").read_text() == lock
    with Library.open(lib) as opened:  # the library changes under the run
        assert opened.publish(NewTool("twice", TWICE)).ok
    with pytest.raises(RunDirError, match="'curated'.* is not the one this run began with"):
        run_experiment(cfg, tmp_path / "run", clients=idle, sandbox=sb)
    assert (tmp_path / "run" / "locks" / "curated.json").read_text() == lock


def test_seeds_may_be_added_to_a_method_but_not_dropped(tmp_path):
    def config(seeds):
        method = {"name": "cheap_pot_sc", "kind": "pot_sc", "match": ["tools"], "seeds": seeds}
        return {"data": {"bbh": {"path": "d"}}, "seed": 0, "methods": [method]}

    run = RunDir(tmp_path / "run")
    run.init(config([0]))
    run.init(config([0, 1, 2]))  # more seeds of the same method, run later: resumes
    assert json.loads(run.config_file.read_text())["methods"][0]["seeds"] == [0, 1, 2]
    with pytest.raises(RunDirError, match="different config"):
        run.init(config([1, 2]))  # seed 0's rows would be orphaned
    changed = config([0, 1, 2])
    changed["methods"][0]["match"] = ["other"]
    with pytest.raises(RunDirError, match="different config"):
        run.init(changed)
