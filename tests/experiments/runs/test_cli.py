"""`maker experiment run|report` end to end over the wire (a local fake OpenAI-compatible
server), resume and cached re-runs through the CLI, and one-line errors for bad input."""

from __future__ import annotations

import json
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner

from experiments.cli import experiment
from experiments.runs import load_config, shipped_config
from experiments.runs.config import ConfigError
from maker.llm import FakeOpenAIServer

from . import world

ROOT = Path(__file__).resolve().parents[3]
TABMWP = world.FIXTURES / "tabmwp"


def _config(tmp: Path, base_url: str = "http://127.0.0.1:9/v1", extra: str = "") -> Path:
    cfg = tmp / "exp.toml"
    cfg.write_text(
        f"""name = "cli"
[llm]
cache_dir = "{tmp / "cache"}"
[llm.user]
base_url = "{base_url}"
model = "fake-cheap"
api_key = "x"
[data.tabmwp]
path = ""
limit = 2
[[methods]]
name = "cheap_cot"
kind = "cot"
{extra}"""
    )
    return cfg


def _invoke(*args: str):
    return CliRunner().invoke(experiment, [str(a) for a in args])


def test_run_and_report_over_the_wire_then_resume_and_replay_from_cache(tmp_path):
    golds = {it.question: it.gold for it in world.items() if it.dataset == "tabmwp"}

    def answer(body):
        text = body["messages"][-1]["content"]
        gold = next(g for q, g in golds.items() if q in text)
        return f"Let me think.\nAnswer: {gold}"

    with FakeOpenAIServer(answer) as server:
        cfg = _config(tmp_path, server.base_url)
        args = ("run", cfg, "--data", f"tabmwp={TABMWP}", "--no-progress")
        first = _invoke(*args, "--out", tmp_path / "run", "--jobs", "2")
        assert first.exit_code == 0, first.output
        assert "ran 2 item(s), 0 already done" in first.stdout
        assert server.stats().completions == 2
        again = _invoke(*args, "--out", tmp_path / "run")
        assert "ran 0 item(s), 2 already done" in again.stdout
        replay = _invoke(*args, "--out", tmp_path / "replay")
        assert "ran 2 item(s)" in replay.stdout
        assert server.stats().completions == 2  # the new run dir was served from the cache
    report = _invoke("report", tmp_path / "run")
    assert report.exit_code == 0, report.output
    assert "| cheap_cot | 100.0 [34.2, 100.0] (n=2) | 100.0 [34.2, 100.0] (n=2) |" in report.stdout
    replayed = _invoke("report", tmp_path / "replay")
    first_json = json.loads((tmp_path / "run" / "report.json").read_text())
    replay_json = json.loads((tmp_path / "replay" / "report.json").read_text())
    assert replayed.exit_code == 0
    assert replay_json["accuracy"] == first_json["accuracy"]
    assert replay_json["costs"]["cheap_cot"]["per_item"]["tokens"] > 0
    assert (
        replay_json["costs"]["cheap_cot"]["per_item"]["tokens"]
        == first_json["costs"]["cheap_cot"]["per_item"]["tokens"]
    )
    assert replay_json["billed"]["user"]["cache_hits"] == 2
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["tabmwp"]["path"] == str(TABMWP)
    assert config["llm"]["user"]["model"] == "fake-cheap" and "api_key" not in str(config)


def _one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_dataset_without_a_path_is_named(tmp_path):
    line = _one_line_error(_invoke("run", _config(tmp_path), "--out", tmp_path / "o"))
    assert "data.tabmwp has no path; give --data tabmwp=PATH" in line
    assert not (tmp_path / "o").exists()


def test_bad_flags_and_paths_are_usage_errors(tmp_path):
    cfg = _config(tmp_path)
    bad = _invoke("run", cfg, "--out", tmp_path / "o", "--data", "tabmwp")
    assert bad.exit_code == 2 and "is not NAME=PATH" in bad.output
    line = _one_line_error(
        _invoke("run", cfg, "--out", tmp_path / "o", "--data", f"tabmwp={tmp_path}/nowhere")
    )
    assert "nowhere" in line and "no such file" in line
    line = _one_line_error(_invoke("run", tmp_path / "missing.toml", "--out", tmp_path / "o"))
    assert "missing.toml: no such config file" in line
    line = _one_line_error(_invoke("report", tmp_path))
    assert "not a run directory" in line


def test_a_tool_arm_without_its_solver_stops_before_any_model_call(tmp_path):
    lib, _ = world.curated_library(tmp_path)
    extra = f'[[methods]]\nname = "latm"\nkind = "tools"\nlibrary = "{lib}"\nsolver = "nope"\n'
    cfg = _config(tmp_path, extra=extra)
    line = _one_line_error(
        _invoke("run", cfg, "--out", tmp_path / "o", "--data", f"tabmwp={TABMWP}")
    )
    assert "method 'latm'" in line and "unknown solver 'nope'" in line


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            '[[methods]]\nname = "latm"\nkind = "tools"\nfallback = "later"\n'
            '[[methods]]\nname = "later"\nkind = "pot"\n',
            "fallback 'later' must name a method listed before it",
        ),
        (
            '[[methods]]\nname = "cot2"\nkind = "cot"\nfallback = "cheap_cot"\n',
            "method 'cot2' (cot): got an unexpected keyword argument 'fallback'",
        ),
    ],
)
def test_a_fallback_must_be_an_earlier_method_of_a_tool_arm(tmp_path, extra, says):
    cfg = _config(tmp_path, extra=extra)
    line = _one_line_error(
        _invoke("run", cfg, "--out", tmp_path / "o", "--data", f"tabmwp={TABMWP}")
    )
    assert says in line
    assert not (tmp_path / "o").exists()


def test_shipped_configs_are_valid(tmp_path):
    paths = {"bbh": "b", "tabmwp": "t", "math": "m"}
    small = load_config(shipped_config("small"), paths)
    names = [m["name"] for m in small.methods]
    assert names == [
        "cheap_pot",
        "strong_pot",
        "latm",
        "latm_to_strong",
        "full_loop",
        "curated",
        "cheap_pot_sc",
    ]
    specs = {d.name: d for d in small.data}
    assert specs["bbh"].per_task == 30 and len(specs["bbh"].tasks) == 5
    assert specs["tabmwp"].limit == 100 and specs["math"].limit == 100
    assert small.method_seeds(small.methods[-1]) == (0, 1, 2)
    assert {m["name"]: m.get("fallback") for m in small.methods if m["kind"] == "tools"} == {
        "latm": "cheap_pot",
        "latm_to_strong": "strong_pot",
        "full_loop": "cheap_pot",
        "curated": "cheap_pot",
    }
    full = load_config(shipped_config("full"), paths)
    assert {"curated", "craft", "creator", "latm", "full_loop"} <= {m["name"] for m in full.methods}
    line = _one_line_error(_invoke("run", "small", "--out", tmp_path / "o"))
    assert "has no path" in line


def test_the_experiment_group_is_registered_for_maker():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = project["project"]["entry-points"]["maker.commands"]["experiment"]
    assert EntryPoint("experiment", target, "maker.commands").load() is experiment


def test_tasks_writes_the_making_split_only(tmp_path):
    from maker.tasks import load_tasks

    cfg = (
        _config(tmp_path)
        .read_text()
        .replace(
            '[data.tabmwp]\npath = ""\nlimit = 2', f'[data.bbh]\npath = "{world.FIXTURES / "bbh"}"'
        )
    )
    (tmp_path / "t.toml").write_text(cfg)
    result = _invoke("tasks", tmp_path / "t.toml", "--out", tmp_path / "making.jsonl")
    assert result.exit_code == 0, result.output
    assert "wrote 7 making task(s)" in result.stdout
    tasks, errors = load_tasks(tmp_path / "making.jsonl")
    assert (
        errors == [] and len(tasks) == 7 and all(t.split in ("train", "validation") for t in tasks)
    )
    assert {t.type for t in tasks} >= {"bbh:word_sorting", "bbh:dyck_languages"}
    no_making = _invoke(
        "tasks",
        _config(tmp_path),
        "--data",
        f"tabmwp={TABMWP / 'problems_test1k.json'}",
        "--out",
        tmp_path / "none.jsonl",
    )
    line = _one_line_error(no_making)
    assert "no making items (tabmwp: 0 making item(s) (no dev1k file: evaluation only))" in line


def test_data_for_a_dataset_the_config_lacks_is_an_error(tmp_path):
    bbh = f"bbh={world.FIXTURES / 'bbh'}"
    line = _one_line_error(
        _invoke("tasks", _config(tmp_path), "--data", bbh, "--out", tmp_path / "m")
    )
    assert "--data bbh=...:" in line and "has no [data.bbh] table" in line


def test_tasks_says_how_many_making_items_each_dataset_gave(tmp_path):
    # a TabMWP test file given where the folder was meant makes no making items: say so per
    # dataset, not only as a total that hides the dataset that gave none
    bbh = f'[data.bbh]\npath = "{world.FIXTURES / "bbh"}"\n\n[data.tabmwp]'
    cfg = _config(tmp_path).read_text().replace("[data.tabmwp]", bbh)
    (tmp_path / "t.toml").write_text(cfg)
    tabmwp = f"tabmwp={TABMWP / 'problems_test1k.json'}"
    out = tmp_path / "making.jsonl"
    result = _invoke("tasks", tmp_path / "t.toml", "--data", tabmwp, "--out", out)
    assert result.exit_code == 0, result.output
    assert "bbh: 7 making item(s)\n" in result.stderr
    assert "tabmwp: 0 making item(s) (no dev1k file: evaluation only)" in result.stderr


def test_datasets_without_a_path_are_left_out_with_a_note(tmp_path):
    from maker.tasks import load_tasks

    cfg = _config(tmp_path).read_text()
    cfg = cfg.replace("[data.tabmwp]", '[data.bbh]\npath = ""\n\n[data.tabmwp]')
    (tmp_path / "t.toml").write_text(cfg)
    out = tmp_path / "making.jsonl"
    tabmwp = f"tabmwp={TABMWP}"
    result = _invoke("tasks", tmp_path / "t.toml", "--data", tabmwp, "--out", out)
    assert result.exit_code == 0, result.output
    assert "note: leaving out data.bbh (no path; give --data bbh=PATH)" in result.stderr
    tasks, _ = load_tasks(out)
    assert tasks and all(t.type.startswith("tabmwp") for t in tasks)


def test_a_tool_arm_can_use_another_arms_library(tmp_path, monkeypatch):
    # the shipped configs' latm_to_strong: the latm library, the strong model as the fallback
    monkeypatch.chdir(tmp_path)
    paths = {"bbh": "b", "tabmwp": "t", "math": "m"}
    cfg = load_config(shipped_config("small"), paths, {"latm": "lib"})
    by_name = {m["name"]: m for m in cfg.methods}
    assert by_name["latm_to_strong"]["library"] == str(tmp_path / "lib")
    assert by_name["latm_to_strong"]["fallback"] == "strong_pot"
    # without the latm library both arms have none (--skip-unavailable leaves both out)
    bare = {m["name"]: m for m in load_config(shipped_config("small"), paths).methods}
    assert bare["latm_to_strong"]["library"] == ""
    # its own --library wins; '@' must name a tool arm listed before it
    own = load_config(shipped_config("small"), paths, {"latm": "a", "latm_to_strong": "b"})
    assert {m["name"]: m["library"] for m in own.methods if m["kind"] == "tools"}[
        "latm_to_strong"
    ] == str(tmp_path / "b")
    text = shipped_config("small").read_text().replace('"@latm"', '"@curated"')
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ConfigError, match="library '@curated' must name a tool arm listed before"):
        load_config(tmp_path / "bad.toml", paths)


def test_paths_are_kept_absolute(tmp_path, monkeypatch):
    # a run dir made with `--library latm=lib` in one directory was "a different config" when
    # resumed with the same library spelled from another
    monkeypatch.chdir(tmp_path)
    paths = {"bbh": "data/bbh", "tabmwp": "t", "math": "m"}
    cfg = load_config(shipped_config("small"), paths, {"latm": "lib"})
    assert {d.name: d.path for d in cfg.data}["bbh"] == str(tmp_path / "data" / "bbh")
    latm = next(m for m in cfg.methods if m["name"] == "latm")
    assert latm["library"] == str(tmp_path / "lib")


def test_make_ledgers_are_given_per_arm_on_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = {"bbh": "b", "tabmwp": "t", "math": "m"}
    ledgers = {"latm": ["job-latm", "job-latm2/ledger.jsonl"], "full_loop": ["libs/loop"]}
    cfg = load_config(shipped_config("small"), paths, {"latm": "lib"}, ledgers)
    by_name = {m["name"]: m for m in cfg.methods}
    assert by_name["latm"]["make_ledger"] == [
        str(tmp_path / "job-latm"),
        str(tmp_path / "job-latm2" / "ledger.jsonl"),
    ]
    assert by_name["latm_to_strong"]["make_ledger"] == by_name["latm"]["make_ledger"]  # "@latm"
    assert by_name["full_loop"]["make_ledger"] == [str(tmp_path / "libs" / "loop")]
    with pytest.raises(ConfigError, match="--make-ledger cheap_pot=...: not a tool arm"):
        load_config(shipped_config("small"), paths, None, {"cheap_pot": ["x"]})
    with pytest.raises(ConfigError, match="--make-ledger nope=...: no such method"):
        load_config(shipped_config("small"), paths, None, {"nope": ["x"]})
    bad = _invoke("run", _config(tmp_path), "--out", tmp_path / "r", "--make-ledger", "latm")
    assert bad.exit_code == 2 and "'latm' is not NAME=PATH" in bad.output


def test_tasks_can_keep_the_first_few_of_each_type(tmp_path):
    from maker.tasks import load_tasks

    cfg = _config(tmp_path).read_text()
    (tmp_path / "t.toml").write_text(
        cfg.replace(
            '[data.tabmwp]\npath = ""\nlimit = 2', f'[data.bbh]\npath = "{world.FIXTURES / "bbh"}"'
        )
    )
    out = tmp_path / "few.jsonl"
    result = _invoke("tasks", tmp_path / "t.toml", "--per-type", "1", "--out", out)
    assert result.exit_code == 0, result.output
    every, _ = load_tasks(tmp_path / "few.jsonl")
    full = _invoke("tasks", tmp_path / "t.toml", "--out", tmp_path / "all.jsonl")
    assert full.exit_code == 0
    everything, _ = load_tasks(tmp_path / "all.jsonl")
    types = list(dict.fromkeys(t.type for t in everything))
    first = [next(t.id for t in everything if t.type == ty) for ty in types]
    assert [t.id for t in every] == first and len(everything) > len(every)
    assert f"wrote {len(first)} making task(s)" in result.stdout
    assert f"bbh: {len(everything)} making item(s), {len(first)} written (--per-type 1)" in (
        result.stderr
    )
