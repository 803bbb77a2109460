"""Small things a user notices: what the CLI prints is true, counted right and not cut off."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from maker.cli import main
from maker.llm import FakeServerProcess
from maker.tasks import example_tasks_path
from tests.maker.cli.test_cli_library import GCD, inproc, maker, one_line_error
from tests.maker.cli.test_cli_make import CLEAN_ENV

README = Path(__file__).resolve().parents[3] / "README.md"
LONG = '''def eval_boolean_expression_of_many_words(expression_in_words: str) -> bool:
    """Evaluate a Boolean expression.

    >>> eval_boolean_expression_of_many_words("True")
    True
    """
    return expression_in_words.strip() == "True"
'''


def test_help_starts_with_demo_and_make_and_every_option_says_what_it_is() -> None:
    text = CliRunner().invoke(main, ["--help"]).output
    start = text[text.index("Start here") :]
    assert "maker demo" in start and "maker make" in start
    bench = " ".join(CliRunner().invoke(main, ["bench", "make", "--help"]).output.split())
    assert "--tasks INTEGER RANGE Synthetic tasks in the batch" in bench, bench


def test_counts_are_words_not_templates(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    tool = tmp_path / "gcd.py"
    tool.write_text(GCD)
    assert inproc("library", "add", str(tool), "--library", str(lib)).returncode == 0
    listing = inproc("library", "list", "--library", str(lib)).stdout
    assert "1 tool in" in listing and "1 tools" not in listing
    shown = inproc("library", "show", "gcd", "--library", str(lib)).stdout
    assert "hand-written (file:gcd.py)" in shown and "hand hand-written" not in shown
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"id": "a", "text": \n{"id": "b"}\n')  # 2 lines, 3 problems
    env = {**CLEAN_ENV, "MAKER_MAKER_MODEL": "m", "MAKER_MAKER_BASE_URL": "http://127.0.0.1:9/v1"}
    result = CliRunner().invoke(main, ["make", str(tasks), "--library", str(lib)], env=env)
    assert result.exit_code == 2 and "(2 malformed lines)" in result.output, result.output
    tasks.write_text('{"id": "a", "text": \n')
    result = CliRunner().invoke(main, ["make", str(tasks), "--library", str(lib)], env=env)
    assert "(1 malformed line)" in result.output and "(s)" not in result.output


def test_long_cells_wrap_instead_of_being_cut(tmp_path: Path) -> None:
    lib = tmp_path / "a-library-directory-with-a-rather-long-name-for-the-table" / "lib"
    tool = tmp_path / "eval_boolean_expression_of_many_words.py"
    tool.write_text(LONG)
    assert inproc("library", "add", str(tool), "--library", str(lib)).returncode == 0
    for args in (["list"], ["search", "boolean expression"]):
        out = inproc("library", *args, "--library", str(lib)).stdout
        assert "…" not in out and "eval_boolean_e" in out and "bool" in out, out  # wrapped


def test_demo_without_workdir_prints_no_deleted_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo"], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    assert "maker-demo-" not in result.output and "removed at the end" in result.output
    file = tmp_path / "a-file"
    file.write_text("x")
    proc = maker("demo", "--workdir", str(file))
    one_line_error(proc, 2, "a-file")
    assert "Errno" not in proc.stderr


def test_readme_library_commands_do_not_read_like_a_pipe() -> None:
    text = README.read_text(encoding="utf-8")
    assert not [
        line for line in text.splitlines() if line.startswith("maker library") and " | " in line
    ]


def _start_make(tmp_path: Path, server: FakeServerProcess) -> tuple[subprocess.Popen, Path]:
    """`maker make` on the example tasks against `server`, started and waiting on the model."""
    tasks_file = tmp_path / "tasks.jsonl"
    tasks_file.write_text(example_tasks_path().read_text())
    job = tmp_path / "job"
    cmd = [
        sys.executable,
        "-m",
        "maker.cli",
        "make",
        str(tasks_file),
        "--library",
        str(tmp_path / "lib"),
        "--job-dir",
        str(job),
        "--concurrency",
        "1",
        "--units-in-flight",
        "2",
        "--maker-model",
        server.model,
        "--maker-base-url",
        server.base_url,
        "--no-progress",
        "--cache-dir",  # its own, empty: nothing can be answered from an earlier run
        str(tmp_path / "cache"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKER_", "OPENAI"))}
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # a user's terminal delivers Ctrl-C: the child must not inherit an ignored SIGINT
        # from whatever ran before in this test process
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not (job / "job.json").exists() or server.stats().requests < 1:
        # the job has started and is waiting on the model (not a fixed sleep: on a
        # loaded machine start-up alone can take longer)
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return proc, job


def test_ctrl_c_twice_stops_at_once(tmp_path: Path) -> None:
    # a local model's call takes tens of seconds: the second Ctrl-C must not wait for it (the
    # interpreter's exit joined the unit threads, so it did)
    with FakeServerProcess("maker.bench.oracle:example_server_reply", latency=60) as server:
        proc, job = _start_make(tmp_path, server)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = proc.communicate(timeout=50)
        waited = time.monotonic() - started
    assert proc.returncode == 130, err
    assert waited < 30, f"{waited:.1f} s after the second Ctrl-C: {err!r}"
    assert "run the same command again to resume" in err


def test_ctrl_c_says_the_same_command_resumes(tmp_path: Path) -> None:
    with FakeServerProcess("maker.bench.oracle:example_server_reply", latency=0.3) as server:
        proc, job = _start_make(tmp_path, server)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        served = server.stats().requests
    why = f"{err!r}; requests served {served}; parent SIGINT {signal.getsignal(signal.SIGINT)}"
    assert proc.returncode == 130, why
    assert "run the same command again to resume" in err and str(job) in err
    # the units in flight end after their current step and no queued unit starts (before,
    # the pool ran every queued unit after Ctrl-C); a full run takes 20 or more requests
    assert served <= 8, why
    assert "stopping: the units in flight end after their current step" in err
    assert "Traceback" not in err and "Aborted!" not in err
    assert json.loads((job / "job.json").read_text())["strategy"] == "creator"
