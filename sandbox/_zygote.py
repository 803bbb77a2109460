"""The zygote: a pre-imported process that forks workers on request.

Started by the host with an empty environment, no inherited descriptors but its control socket,
stdin from /dev/null. It imports the allowed libraries once, enters private network and mount
namespaces where the kernel allows, and then forks each worker (warm or one-shot) in a few
milliseconds. Each worker gets its own session, scratch directory, uid, rlimits and audit hook,
and a socket to the host that the zygote passes over with SCM_RIGHTS.

Run as: python -I -m sandbox._zygote CONTROL_FD CONFIG_JSON
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
from typing import Any


def _sweep(scratch_base: str) -> None:
    """Remove scratch directories of workers that are gone."""
    import shutil

    try:
        names = os.listdir(scratch_base)
    except OSError:
        return
    for name in names:
        if not name.isdigit():
            continue
        try:
            os.kill(int(name), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(scratch_base, name), ignore_errors=True)
        except PermissionError:
            pass


def _child(
    sock: socket.socket,
    cfg: dict[str, Any],
    spawn: dict[str, Any],
    drop_root: bool,
    envs: dict[str, Any],
) -> None:
    from sandbox import _isolation, _runtime, _tripwire

    limits = spawn["limits"]
    scratch = _isolation.enter_worker(
        keep_fd=sock.fileno(),
        scratch_base=cfg["scratch_base"],
        limits=limits,
        vm_baseline=cfg["vm_baseline"],
        drop_root=drop_root,
    )
    _tripwire.install(
        read_roots=cfg["read_roots"], scratch=scratch, policy_modules=cfg["policy_modules"]
    )
    _runtime.serve(sock, int(spawn["max_calls"]), int(limits["recursion_limit"]), envs)


def _fork_worker(
    ctrl: socket.socket,
    cfg: dict[str, Any],
    spawn: dict[str, Any],
    drop_root: bool,
    envs: dict[str, Any],
) -> tuple[int, socket.socket]:
    """Fork a worker; returns its pid and the host's end of its socket (still to be passed)."""
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        pid = os.fork()
    except OSError:
        parent_end.close()
        child_end.close()
        raise
    if pid == 0:
        code = 0
        try:
            ctrl.close()
            parent_end.close()
            _child(child_end, cfg, spawn, drop_root, envs)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    child_end.close()
    return pid, parent_end


def _ready(sock: socket.socket) -> bool:
    """Whether a pre-forked worker is still waiting: alive, nothing sent, socket open."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _discard(pid: int, sock: socket.socket) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    sock.close()


def _refuse_parse(*args: Any, **kwargs: Any) -> Any:
    raise ValueError(
        "sympy cannot parse strings in the sandbox (it would evaluate them as code); build "
        "expressions from sympy.Symbol, sympy.Integer and operators instead"
    )


def _disable_string_parsing() -> None:
    """sympify("...") and parse_expr evaluate strings as Python: refuse them in workers."""
    try:
        import sympy.parsing.sympy_parser as parser

        parser.parse_expr = _refuse_parse
    except ImportError:  # pragma: no cover
        pass


def _deterministic_hypothesis() -> None:
    """Hypothesis mixes in constants read from the source of "local" modules; which modules
    count as local depends on the machine, and reading them is file access. Turn it off."""
    try:
        from hypothesis.internal.conjecture import providers

        if hasattr(providers, "_get_local_constants") and hasattr(providers, "Constants"):
            empty = providers.Constants()
            providers._get_local_constants = lambda: empty
    except ImportError:  # pragma: no cover
        pass


def _warm_up(preload: list[str]) -> None:
    """Exercise the preloaded libraries once so their lazy imports happen before any fork."""
    if "sympy" in preload:
        try:
            import sympy

            x, y = sympy.symbols("x y")
            sympy.integrate(x**2 * sympy.sin(x), x)
            sympy.factor(x**2 - y**2)
            sympy.solve([x + y - 2, x - y], [x, y])
            sympy.simplify(sympy.sin(x) ** 2 + sympy.cos(x) ** 2)
            sympy.limit(sympy.sin(x) / x, x, 0)
            sympy.series(sympy.exp(x), x, 0, 3)
            sympy.summation(x, (x, 1, 10))
            sympy.nsimplify(0.5)
            sympy.Matrix([[1, 2], [3, 4]]).det()
            sympy.factorint(360)
            sympy.solveset(x**2 - 1, x)
            sympy.apart(1 / (x**2 - 1))
        except Exception:  # noqa: BLE001 - warm-up is best effort
            pass
        _disable_string_parsing()
    _deterministic_hypothesis()
    try:  # one tiny property run: Hypothesis' first-run registration and lazy imports
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st

        @settings(
            max_examples=5,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.integers(), st.lists(st.floats(allow_nan=False)), st.text(), st.fractions())
        def _probe(a: Any, b: Any, c: Any, d: Any) -> None:
            assert a == a

        _probe()
    except Exception:  # noqa: BLE001
        pass
    import datetime

    datetime.datetime.strptime("2024-01-02", "%Y-%m-%d").strftime("%A")  # loads _strptime
    if "numpy" in preload:
        try:
            import numpy

            numpy.linalg.solve(numpy.eye(2), numpy.ones(2))
            numpy.polyfit([0, 1, 2], [0, 1, 4], 2)
        except Exception:  # noqa: BLE001
            pass


def main(argv: list[str]) -> None:
    ctrl = socket.socket(fileno=int(argv[1]))
    cfg = json.loads(argv[2])
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps finished workers

    # Pre-import everything workers use, so a fork is all a new worker costs.
    from sandbox import _compile, _guards, _isolation, _properties, _runtime  # noqa: F401
    from sandbox.policy import Policy

    for name in cfg["preload"]:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    policy = Policy.from_json(cfg["policy"])
    env = _guards.PolicyEnv(policy)  # warms facades (imports every allowed module)
    _compile.compile_source("def f(x):\n    return x\n", "<warmup>", policy.limits)
    _guards.guarded_write([])
    _warm_up(cfg["preload"])

    caps = _isolation.enter_namespaces(cfg["scratch_base"], cfg["scratch_mb"], cfg["read_roots"])
    drop_root = caps["root"] and _isolation.readable_by_others(cfg["read_roots"])
    caps["worker_uid"] = "per-worker unprivileged uid" if drop_root else "same as host"
    caps["unavailable_modules"] = env.unavailable
    # Workers inherit the default policy's environment, built here (after the warm-up's patches,
    # before any untrusted code exists) exactly as a worker would build it on its first call and
    # then reuse, so a strict-mode call does not pay about 2 ms to rebuild it.
    envs = {policy.key(): _guards.PolicyEnv(policy)}
    cfg["vm_baseline"] = _isolation.vm_size()
    gc.collect()
    gc.freeze()

    from sandbox.protocol import encode

    ctrl.sendall(encode({"ready": True, "pid": os.getpid(), "caps": caps}))
    spare: tuple[bytes, int, socket.socket] | None = None  # a pre-forked one-shot worker
    while True:
        try:
            data = ctrl.recv(65536)
        except InterruptedError:
            continue
        except OSError:
            break
        if not data:
            break
        spec = data[4:]
        spawn = json.loads(spec)
        worker = None
        if spare is not None:
            if spare[0] == spec and _ready(spare[2]):
                worker = spare[1:]
            else:
                _discard(spare[1], spare[2])
            spare = None
        if worker is None:
            try:
                worker = _fork_worker(ctrl, cfg, spawn, drop_root, envs)
            except OSError as exc:
                ctrl.sendall(encode({"error": f"fork failed: {exc}"}))
                continue
        pid, parent_end = worker
        socket.send_fds(ctrl, [encode({"pid": pid})], [parent_end.fileno()])
        parent_end.close()
        if spawn.get("max_calls") == 1:
            # Strict mode forks a worker for every call: fork the next one now, while this one
            # serves its call, so the next call does not wait for the fork and set-up. It is as
            # fresh as one forked on request: it has served nothing and waits for its socket.
            try:
                spare = (spec, *_fork_worker(ctrl, cfg, spawn, drop_root, envs))
            except OSError:
                spare = None
        _sweep(cfg["scratch_base"])
    if spare is not None:
        _discard(spare[1], spare[2])
    sys.exit(0)


if __name__ == "__main__":
    main(sys.argv)
