"""`Sandbox`: the host's thread-safe pool of isolated workers and its public calls.

>>> with Sandbox() as sb:  # doctest: +SKIP
...     sb.run("def f(n):\\n    return n * 2\\n", entry="f", kwargs={"n": 21}).value
42
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import asdict
from typing import Any, Literal

from sandbox._process import SandboxError, Worker, WorkerLost, Zygote
from sandbox.hashing import source_hash
from sandbox.policy import DEFAULT_POLICY, Policy
from sandbox.results import CompileResult, ErrorInfo, RunResult, TestReport, TestSuite
from sandbox.suite_runner import PropertyMemo, run_suite
from sandbox.values import ValueLimitError, check_plain

Mode = Literal["warm", "strict"]
_LOST_LIMIT = {"timeout": "timeout", "crash": "crash", "protocol": "crash"}


class Sandbox:
    """Runs untrusted Python in isolated worker processes.

    Args:
        policy: the default policy for calls (modules, builtins, limits); calls may override it.
        workers: how many worker processes may run at once.
        mode: "warm" reuses pre-imported workers between calls (fresh globals each call, a worker
            is replaced after `limits.max_calls_per_worker` calls or any anomaly); "strict"
            forks a fresh worker for every call.

    Nothing starts until the first call or `start()`; use it as a context manager or call
    `close()`. Safe to use from many threads.
    """

    def __init__(
        self, policy: Policy = DEFAULT_POLICY, *, workers: int = 2, mode: Mode = "warm"
    ) -> None:
        if mode not in ("warm", "strict"):
            raise ValueError(f"mode must be 'warm' or 'strict', not {mode!r}")
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.policy = policy
        self.size = workers
        self.mode: Mode = mode
        self._zygote = Zygote(
            {
                "preload": list(policy.preload),
                "policy": policy.to_json(),
                "policy_modules": sorted(policy.modules),
                "scratch_mb": policy.limits.scratch_mb,
            }
        )
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._count = 0
        self._closed = False
        self._started = False
        self._start_lock = threading.Lock()
        self._hashes: dict[str, str] = {}
        # runs at garbage collection or, at the latest, at interpreter exit (finalize.atexit)
        self._finalizer = weakref.finalize(self, Sandbox._cleanup, self._zygote, self._idle)

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Start the zygote now (otherwise the first call does)."""
        with self._start_lock:
            if self._closed:
                raise SandboxError("this sandbox is closed")
            if not self._started:
                with self._zygote.lock:
                    self._zygote.start()
                self._started = True
        return self

    @property
    def capabilities(self) -> dict[str, Any]:
        """What isolation this machine allowed (network namespace, tmpfs scratch, uid drop)."""
        self.start()
        return dict(self._zygote.caps)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.kill()
        self._zygote.stop()

    @staticmethod
    def _cleanup(zygote: Zygote, idle: list[Worker]) -> None:
        for worker in list(idle):
            worker.kill()
        zygote.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pool -------------------------------------------------------------------------
    def _acquire(self, policy: Policy, strict: bool) -> Worker:
        self.start()
        profile = (policy.limits.process_key(), strict)
        spare = None
        with self._cond:
            while True:
                if self._closed:
                    raise SandboxError("this sandbox is closed")
                if not strict:
                    for i in range(len(self._idle) - 1, -1, -1):
                        if self._idle[i].profile == profile:
                            return self._idle.pop(i)
                if self._count < self.size:
                    self._count += 1
                    break
                if self._idle:  # an idle worker of another profile makes room
                    spare = self._idle.pop(0)
                    self._count -= 1
                    continue
                self._cond.wait()
        if spare is not None:
            spare.kill()
        limits = asdict(policy.limits)
        if strict:
            limits["cpu_s"] = min(policy.limits.cpu_s, int(policy.limits.test_timeout_s) + 1)
        max_calls = 1 if strict else policy.limits.max_calls_per_worker
        try:
            return self._zygote.spawn(profile, limits, max_calls)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if worker.alive and not self._closed and worker.calls < worker.max_calls:
                self._idle.append(worker)
            else:
                self._count -= 1
                worker.kill()
            self._cond.notify()

    def _call(
        self, request: dict[str, Any], policy: Policy, timeout: float, mode: Mode | None
    ) -> dict[str, Any]:
        strict = (mode or self.mode) == "strict"
        key = policy.key()
        worker = self._acquire(policy, strict)
        started = time.perf_counter()
        try:
            request = dict(request, policy_key=key)
            if key not in worker.known_policies:
                request["policy"] = policy.to_json()
            try:
                reply = worker.call(request, timeout)
            except WorkerLost as lost:
                return {
                    "ok": False,
                    "value": None,
                    "stdout": "",
                    "limit": _LOST_LIMIT[lost.kind],
                    "error": {
                        "type": "Timeout" if lost.kind == "timeout" else "WorkerCrashed",
                        "message": str(lost),
                        "line": None,
                    },
                    "elapsed_ms": (time.perf_counter() - started) * 1000,
                }
            worker.known_policies.add(key)
            if "protocol_error" in reply:
                raise SandboxError(f"sandbox protocol error: {reply['protocol_error']}")
            reply["elapsed_ms"] = (time.perf_counter() - started) * 1000
            return _sanitize(reply, policy)
        finally:
            self._release(worker)

    def _hash(self, source: str) -> str:
        digest = self._hashes.get(source)
        if digest is None:
            digest = source_hash(source)
            if len(self._hashes) > 4096:
                self._hashes.clear()
            self._hashes[source] = digest
        return digest

    # -- public calls -----------------------------------------------------------------
    def run(
        self,
        source: str,
        entry: str | None = None,
        args: list[Any] | tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        policy: Policy | None = None,
        timeout: float | None = None,
        mode: Mode | None = None,
        seed: int = 0,
    ) -> RunResult:
        """Run ``source`` (a module); with ``entry``, call that function with the arguments.

        Returns a `RunResult`: ``ok`` and ``value`` (plain JSON types), or ``error`` with type,
        message and line; ``stdout``; ``elapsed_ms``; and ``limit`` when a limit was hit.
        Arguments must be JSON-serializable.
        """
        policy = policy or self.policy
        if not isinstance(source, str):
            raise TypeError("source must be a string of Python code")
        if len(source.encode("utf-8", "replace")) > policy.limits.max_source_bytes:
            return RunResult(
                False,
                error=ErrorInfo(
                    "SourceTooLarge",
                    f"source is larger than {policy.limits.max_source_bytes} bytes",
                ),
                limit="source_size",
            )
        request = {
            "op": "run",
            "source": source,
            "hash": self._hash(source),
            "entry": entry,
            "args": list(args),
            "kwargs": dict(kwargs or {}),
            "seed": seed,
        }
        problem = _json_problem(request)
        if problem:
            return RunResult(False, error=ErrorInfo("ArgumentError", problem))
        reply = self._call(request, policy, timeout or policy.limits.timeout_s, mode)
        return RunResult.from_json(reply)

    def compile(self, source: str, *, policy: Policy | None = None) -> CompileResult:
        """Check that ``source`` compiles under the policy (in a worker, under its limits)."""
        policy = policy or self.policy
        if len(source.encode("utf-8", "replace")) > policy.limits.max_source_bytes:
            return CompileResult(
                False,
                (
                    ErrorInfo(
                        "SourceTooLarge",
                        f"source is larger than {policy.limits.max_source_bytes} bytes",
                    ),
                ),
            )
        reply = self._call(
            {"op": "compile", "source": source}, policy, policy.limits.timeout_s, None
        )
        if "errors" not in reply:  # the worker died compiling (e.g. a compiler bomb)
            return CompileResult(False, (ErrorInfo(**reply["error"]),))
        return CompileResult(
            ok=bool(reply["ok"]),
            errors=tuple(ErrorInfo(**e) for e in reply["errors"]),
            functions=tuple(reply.get("functions", ())),
        )

    def call_raw(
        self,
        request: dict[str, Any],
        *,
        policy: Policy | None = None,
        timeout: float | None = None,
        mode: Mode | None = None,
    ) -> dict[str, Any]:
        """Send a prepared request (used by the test runner); returns the sanitized reply."""
        policy = policy or self.policy
        request = dict(request)
        if "source" in request:
            request["hash"] = self._hash(request["source"])
        if "tests" in request:
            request["tests_hash"] = self._hash(request["tests"])
        return self._call(request, policy, timeout or policy.limits.timeout_s, mode)

    def run_tests(
        self,
        source: str,
        entry: str,
        suite: TestSuite,
        *,
        policy: Policy | None = None,
        memo: PropertyMemo | None = None,
    ) -> TestReport:
        """Run a suite (examples, unit tests, properties, held-out examples) against a tool.

        ``memo``: a `sandbox.suite_runner.PropertyMemo` to reuse identical property runs."""

        return run_suite(self, source, entry, suite, policy=policy or self.policy, memo=memo)


def _json_problem(request: dict[str, Any]) -> str | None:
    try:
        json.dumps(request, allow_nan=True)
    except (TypeError, ValueError, RecursionError) as exc:
        return f"arguments must be JSON values: {exc}"
    return None


def _sanitize(reply: dict[str, Any], policy: Policy) -> dict[str, Any]:
    """Trust nothing from the worker: plain types, capped strings."""
    limits = policy.limits
    out: dict[str, Any] = {
        k: v for k, v in reply.items() if k in ("ok", "elapsed_ms", "examples_run", "functions")
    }
    out["ok"] = reply.get("ok") is True
    try:
        check_plain(
            reply.get("value"), max_depth=limits.result_depth + 1, max_nodes=limits.result_nodes + 1
        )
        out["value"] = reply.get("value")
        if "minimal_input" in reply:
            check_plain(reply["minimal_input"])
            out["minimal_input"] = reply["minimal_input"]
    except ValueLimitError as exc:
        out.update(
            ok=False,
            value=None,
            limit="result_size",
            error={"type": "ResultTooLarge", "message": str(exc), "line": None},
        )
        return out
    error = reply.get("error")
    if isinstance(error, dict):
        line = error.get("line")
        out["error"] = {
            "type": str(error.get("type", "Error"))[:100],
            "message": str(error.get("message", ""))[: limits.error_chars + 100],
            "line": line if type(line) is int else None,
        }
    else:
        out["error"] = None
    if "errors" in reply and isinstance(reply["errors"], list):
        out["errors"] = [
            {
                "type": str(e.get("type"))[:100],
                "message": str(e.get("message"))[: limits.error_chars],
                "line": e.get("line") if type(e.get("line")) is int else None,
            }
            for e in reply["errors"]
            if isinstance(e, dict)
        ][:20]
    if "compile_errors" in reply:
        out["compile_errors"] = True
    stdout = reply.get("stdout", "")
    out["stdout"] = stdout[: limits.stdout_bytes + 200] if isinstance(stdout, str) else ""
    limit = reply.get("limit")
    out["limit"] = (
        limit
        if limit
        in ("timeout", "memory", "cpu", "recursion", "output", "result_size", "policy", "crash")
        else None
    )
    return out
