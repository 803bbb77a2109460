"""`maker grade`: JSON lines in, one verdict line each and a summary out; bad lines named."""

from __future__ import annotations

import json
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import click
from click.testing import CliRunner

from experiments.cli import grade
from maker.cli.plugins import register_plugins

ROOT = Path(__file__).resolve().parents[2]


def _run(args, stdin=None):
    result = CliRunner().invoke(grade, args, input=stdin)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    return result, out


def test_math_file_with_a_malformed_line(tmp_path):
    lines = [
        {"gold": r"\frac{1}{2}", "pred": r"so $\boxed{0.5}$", "id": "a"},
        {"gold": "10", "pred": r"\boxed{0.1}"},
        "not json",
        {"gold": "3"},
        {"gold": "3", "pred": ["3"]},
        {"gold": r"\frac{1}{2}", "pred": r"\boxed{\frac{2}{4}}"},
    ]
    f = tmp_path / "preds.jsonl"
    f.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n\n")
    result, out = _run(["--dataset", "math", str(f)])
    assert result.exit_code == 1
    assert [o["line"] for o in out[:-1]] == [1, 2, 6]
    assert out[0]["id"] == "a" and out[0]["correct"] and out[0]["math_verify"] is True
    assert not out[1]["correct"] and not out[2]["correct"] and out[2]["math_verify"] is True
    summary = out[-1]
    assert summary == {
        **summary,
        "summary": True,
        "count": 3,
        "correct": 1,
        "accuracy": 0.3333,
        "malformed": 3,
        "math_verify_correct": 2,
        "disagreements": 1,
        "disagreement_lines": [6],
    }
    errors = result.stderr.splitlines()
    assert errors[0] == f"error: {f}:3: not valid JSON (Expecting value)"
    assert errors[1] == f"error: {f}:4: missing field 'pred'"
    assert errors[2].startswith(f"error: {f}:5: pred must be a string or a number")


def test_stdin_tabmwp_and_bbh():
    stdin = json.dumps({"gold": "surplus", "pred": "B", "choices": ["shortage", "surplus"]})
    result, out = _run(["--dataset", "tabmwp", "-"], stdin + "\n")
    assert result.exit_code == 0 and out[0]["correct"] and out[-1]["accuracy"] == 1.0
    stdin = "\n".join(
        json.dumps(x)
        for x in (
            {"gold": "])", "pred": "] )", "task": "dyck_languages"},
            {"gold": "(A)", "pred": "B", "choices": ["(A) x", "(B) y"]},
        )
    )
    result, out = _run(["--dataset", "bbh", "-"], stdin)
    assert result.exit_code == 0 and [o["correct"] for o in out[:-1]] == [True, False]
    assert out[-1]["count"] == 2 and "math_verify_correct" not in out[-1]


def test_unreadable_file_is_one_line(tmp_path):
    result = CliRunner().invoke(grade, ["--dataset", "bbh", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == f"Error: cannot read {tmp_path / 'none.jsonl'}: "
        "No such file or directory"
    )


def test_help_teaches_with_an_example():
    result = CliRunner().invoke(grade, ["--help"])
    assert result.exit_code == 0 and "maker grade --dataset math preds.jsonl" in result.stdout


def test_the_entry_point_is_declared_and_loads_the_command():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = project["project"]["entry-points"]["maker.commands"]["grade"]
    ep = EntryPoint("grade", target, "maker.commands")
    assert ep.load() is grade


def test_plugins_join_the_maker_group_and_a_broken_one_does_not_break_it():
    group = click.Group("maker", commands={"existing": click.Command("existing")})
    added = register_plugins(
        group,
        [
            EntryPoint("grade", "experiments.cli:grade", "maker.commands"),
            EntryPoint("existing", "experiments.cli:grade", "maker.commands"),
            EntryPoint("broken", "no_such_module_xyz:cmd", "maker.commands"),
        ],
    )
    assert added == ["grade", "broken"]
    runner = CliRunner()
    listing = runner.invoke(group, ["--help"])
    assert listing.exit_code == 0 and "grade" in listing.stdout and "unavailable" in listing.stdout
    run = runner.invoke(group, ["broken", "x"])
    assert run.exit_code == 1 and "`maker broken` is unavailable" in run.stderr
    ok = runner.invoke(
        group, ["grade", "--dataset", "bbh", "-"], input=json.dumps({"gold": "a b", "pred": "a  b"})
    )
    assert ok.exit_code == 0 and json.loads(ok.stdout.splitlines()[0])["correct"]
