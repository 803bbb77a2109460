"""A job's report matches the library it names: finished units count only if their tools are in
*this* library, a job dir belongs to one library and one tasks file, one run per job dir."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from library import Library
from maker.jobs import JobBusy, JobDir, JobError, run_job
from maker.llm import FakeOpenAIServer, FakeServerProcess
from maker.tasks import example_tasks_path
from sandbox import Sandbox
from tests.maker.jobs.test_jobs import TASKS, oracle, wire_client


def refs(lib: Path) -> list[str]:
    with Library.open(lib, read_only=True) as library:
        return [r.ref for r in library.store.list()]


def test_finished_units_whose_tools_are_missing_run_again(tmp_path: Path, sb: Sandbox) -> None:
    lib, job, cache = tmp_path / "lib", tmp_path / "lib" / "jobs" / "j", tmp_path / "cache"
    kw = dict(job_dir=job, sandbox=sb, concurrency=2, progress=False)
    with FakeOpenAIServer(oracle().server_reply) as server:
        first = run_job(TASKS, "creator", library_dir=lib, client=wire_client(server, cache), **kw)
        assert first.accepted == 6 and len(refs(lib)) == 3
        for p in lib.glob("library.sqlite*"):
            p.unlink()  # the library is gone, its job dir (and the response cache) stay
        again = run_job(TASKS, "creator", library_dir=lib, client=wire_client(server, cache), **kw)
        assert server.stats().requests == 12  # every reply of the re-run came from the cache
    assert (again.accepted, again.resumed, again.rerun_missing) == (6, 0, 6), again.to_json()
    assert len(refs(lib)) == 3
    with Library.open(lib, read_only=True) as library:
        for tool in again.tools:
            assert library.store.get(*tool["ref"].split("@")[:1], int(tool["ref"].split("@")[1]))
            assert tool["content_hash"] == library.resolve(tool["ref"]).content_hash
    with FakeOpenAIServer(oracle().server_reply) as server:  # now in step: nothing to redo
        third = run_job(TASKS, "creator", library_dir=lib, client=wire_client(server, cache), **kw)
    assert (third.resumed, third.rerun_missing) == (6, 0)


def test_a_job_dir_belongs_to_one_library_and_one_tasks_file(tmp_path: Path, sb: Sandbox) -> None:
    job = tmp_path / "job"
    kw = dict(job_dir=job, sandbox=sb, concurrency=2, progress=False)
    with FakeOpenAIServer(oracle().server_reply) as server:
        run_job(TASKS[:2], "creator", library_dir=tmp_path / "a", client=wire_client(server), **kw)
        with pytest.raises(JobError, match=r"belongs to the library .*/a\b.*not .*/b"):
            run_job(
                TASKS[:2], "creator", library_dir=tmp_path / "b", client=wire_client(server), **kw
            )
        with pytest.raises(JobError, match="was started for other tasks"):
            run_job(TASKS, "creator", library_dir=tmp_path / "a", client=wire_client(server), **kw)
        assert server.stats().requests == 4
    assert not (tmp_path / "b").exists()
    tasks_file = tmp_path / "tasks.jsonl"  # from the command line: one line, nothing created
    tasks_file.write_text("".join(json.dumps(t.to_json()) + "\n" for t in TASKS[:2]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKER_", "OPENAI"))}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "maker.cli",
            "make",
            str(tasks_file),
            "--library",
            str(tmp_path / "b"),
            "--job-dir",
            str(job),
            "--maker-model",
            "m",
            "--maker-base-url",
            "http://127.0.0.1:9/v1",
            "--no-progress",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "belongs to the library" in proc.stderr and not (tmp_path / "b").exists()
    meta = json.loads((job / "job.json").read_text())
    assert meta["library"] == str((tmp_path / "a").resolve())


HOLD = """
import sys, time
from pathlib import Path
from maker.jobs import JobDir
with JobDir(Path(sys.argv[1])).hold():
    print("held", flush=True)
    time.sleep(120)
"""


def test_one_run_per_job_dir_and_a_kill_releases_it(tmp_path: Path, sb: Sandbox) -> None:
    job = tmp_path / "job"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(job)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(JobBusy, match=rf"in use by pid {holder.pid} on .* since "):
            run_job(
                TASKS,
                "creator",
                library_dir=tmp_path / "lib",
                job_dir=job,
                client=None,
                sandbox=sb,
                progress=False,
            )  # type: ignore[arg-type]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with JobDir(job).hold():  # kill -9 released it: no stale lock to clean up
        pass
    assert not (tmp_path / "lib").exists()


@pytest.mark.slow
def test_two_makes_of_one_job_at_once_spend_once(tmp_path: Path) -> None:
    tasks_file = tmp_path / "tasks.jsonl"
    shutil.copy(example_tasks_path(), tasks_file)
    with FakeServerProcess("maker.bench.oracle:example_server_reply", latency=1.0) as server:
        cmd = [
            sys.executable,
            "-m",
            "maker.cli",
            "make",
            str(tasks_file),
            "--library",
            str(tmp_path / "lib"),
            "--concurrency",
            "1",
            "--maker-model",
            server.model,
            "--maker-base-url",
            server.base_url,
            "--no-progress",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKER_", "OPENAI"))}
        first = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        locks: list[Path] = []
        while not locks or not locks[0].read_text():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
            locks = list((tmp_path / "lib").glob("jobs/*/run.lock"))
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
        stats = server.stats()
    assert second.returncode == 1, second.stderr
    lines = [x for x in second.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and f"in use by pid {first.pid}" in lines[0], lines
    assert "Traceback" not in second.stderr
    assert stats.requests == 12  # not 24: the second run spent nothing
