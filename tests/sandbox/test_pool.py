"""The worker pool: crash recovery, deadlines under load, caching, recycling, strict mode."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sandbox import DEFAULT_POLICY, Sandbox

# A policy that lets tests see which worker process served them (and crash it on purpose).
PID_POLICY = DEFAULT_POLICY.allow("os", ("getpid", "abort"))
PID = "import os\ndef f():\n    return os.getpid()\n"
ONE = "def f():\n    return 1\n"
SPIN = "def f():\n    while True:\n        pass\n"


def test_crashed_worker_is_replaced_and_pool_keeps_serving() -> None:
    with Sandbox(PID_POLICY, workers=1) as box:
        before = box.run(PID, "f").value
        assert box.run(PID, "f").value == before  # warm: the same worker serves again
        r = box.run("import os\ndef f():\n    os.abort()\n", "f")
        assert (r.ok, r.limit, r.error.type) == (False, "crash", "WorkerCrashed")
        after = box.run(PID, "f").value
        assert isinstance(after, int) and after != before
        assert box.run(ONE, "f").value == 1


def test_timeout_kills_only_the_stuck_call(sb: Sandbox) -> None:
    t0 = time.monotonic()
    r = sb.run(SPIN, "f", timeout=0.5)
    assert (r.ok, r.limit, r.error.type) == (False, "timeout", "Timeout")
    assert 0.4 < time.monotonic() - t0 < 5
    assert sb.run(ONE, "f").value == 1


def test_timeouts_under_concurrent_load() -> None:
    with Sandbox(workers=2) as box:

        def job(i: int) -> tuple[int, object, object]:
            if i % 3 == 0:
                r = box.run(SPIN, "f", timeout=0.5)
            else:
                r = box.run("def f(i):\n    return i * i\n", "f", kwargs={"i": i})
            return i, r.value, r.limit

        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(job, range(24)))
        elapsed = time.monotonic() - t0
        for i, value, limit in results:
            if i % 3 == 0:
                assert limit == "timeout"
            else:
                assert (value, limit) == (i * i, None)
        # 8 stuck calls of 0.5 s on 2 workers cannot take much more than 8 * 0.5 / 2 s plus
        # respawns; a serialised or hung pool would take far longer.
        assert elapsed < 20
        assert box.run(ONE, "f").value == 1


def test_many_threads_share_a_small_pool() -> None:
    with Sandbox(workers=2) as box:
        errors: list[BaseException] = []

        def worker(base: int) -> None:
            try:
                for j in range(25):
                    r = box.run("def f(x):\n    return x + 1\n", "f", args=[base + j])
                    assert r.value == base + j + 1
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors


def test_changed_source_is_recompiled(sb: Sandbox) -> None:
    a = "def f():\n    return 'first'\n"
    b = "def f():\n    return 'second'\n"
    assert sb.run(a, "f").value == "first"
    assert sb.run(b, "f").value == "second"
    assert sb.run(a, "f").value == "first"
    # a compile error is cached per source too, and fixing the source clears it
    assert sb.run("def f(:\n", "f").error.type == "SyntaxError"
    assert sb.run("def f():\n    return 3\n", "f").value == 3


def test_compiled_code_is_cached_per_policy(sb: Sandbox) -> None:
    src = "import heapq\ndef f():\n    return heapq.nlargest(1, [3, 9, 2])\n"
    assert sb.run(src, "f").value == [9]
    r = sb.run(src, "f", policy=DEFAULT_POLICY.deny("heapq"))
    assert r.error.type == "ImportError"
    assert sb.run(src, "f").value == [9]


def test_worker_recycled_after_max_calls() -> None:
    policy = PID_POLICY.with_limits(max_calls_per_worker=3)
    with Sandbox(policy, workers=1) as box:
        pids = [box.run(PID, "f").value for _ in range(7)]
    assert pids[0] == pids[1] == pids[2]
    assert pids[3] != pids[0] and pids[3] == pids[4] == pids[5]
    assert pids[6] not in (pids[0], pids[3])


def test_tainted_worker_is_replaced() -> None:
    policy = DEFAULT_POLICY.allow("os", ("system", "getpid"))
    with Sandbox(policy, workers=1) as box:
        before = box.run(PID, "f").value
        r = box.run(
            "import os\ndef f():\n    try:\n        os.system('true')\n"
            "    except BaseException:\n        return 'swallowed'\n",
            "f",
        )
        # the tripwire fired: even though the tool caught it, the call is a violation
        assert (r.ok, r.limit, r.error.type) == (False, "policy", "SandboxViolation")
        assert "os.system" in r.error.message
        after = box.run(PID, "f").value
        assert isinstance(after, int) and after != before


def test_strict_mode_uses_a_fresh_process_per_call(strict_sb: Sandbox) -> None:
    pids = [strict_sb.run(PID, "f", policy=PID_POLICY).value for _ in range(4)]
    assert len(set(pids)) == 4
    assert strict_sb.run(ONE, "f").value == 1
    r = strict_sb.run(SPIN, "f", timeout=0.5)
    assert r.limit == "timeout"


def test_per_call_mode_override(sb: Sandbox) -> None:
    pids = {sb.run(PID, "f", policy=PID_POLICY, mode="strict").value for _ in range(3)}
    assert len(pids) == 3


def test_close_refuses_new_calls() -> None:
    box = Sandbox(workers=1)
    assert box.run(ONE, "f").value == 1
    box.close()
    with pytest.raises(Exception, match="closed"):
        box.run(ONE, "f")


def test_capabilities_are_reported(sb: Sandbox) -> None:
    caps = sb.capabilities
    assert {"root", "netns", "scratch_tmpfs", "worker_uid"} <= set(caps)


def test_scratch_left_by_a_killed_host_is_removed_by_the_next_start(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from sandbox._process import sweep_stale_scratch

    # A host killed with SIGKILL cannot remove its scratch directory.
    host = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from sandbox import Sandbox; b = Sandbox().start(); "
            "print(b._zygote.scratch_base, flush=True); import time; time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    left = host.stdout.readline().strip()
    os.kill(host.pid, signal.SIGKILL)
    host.wait()
    assert os.path.isdir(left) and os.path.basename(left).startswith(f"sandbox-scratch-{host.pid}-")
    with Sandbox(workers=1) as box:
        assert box.run(ONE, "f").value == 1
        assert not os.path.exists(left)
        assert os.path.isdir(box._zygote.scratch_base)  # its own is kept

    # Only this user's directories named by a host pid that is gone are removed.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    names = [
        f"sandbox-scratch-{dead.pid}-ab",
        f"sandbox-scratch-{os.getpid()}-cd",
        "sandbox-scratch-12345678",
        f"other-{dead.pid}-ef",
    ]
    for name in names:
        (tmp_path / name).mkdir()
    (tmp_path / names[0] / ".hypothesis").mkdir()
    assert sweep_stale_scratch(str(tmp_path)) == [str(tmp_path / names[0])]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])
