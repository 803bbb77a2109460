"""The worker: compiles tool code under policy and runs requests from the host.

Everything here runs inside an isolated worker process (see `_isolation` and `_zygote`). The
host sends one JSON request per frame and gets one JSON reply; see `protocol`.
"""

from __future__ import annotations

import socket
import sys
import time
from collections import OrderedDict
from typing import Any

from sandbox import _tripwire
from sandbox._compile import PROPERTY_FILE, TESTS_FILE, TOOL_FILE, CompileFailure, compile_source
from sandbox._errors import SandboxViolation
from sandbox._guards import PolicyEnv, Stdout
from sandbox._properties import run_property
from sandbox.policy import Policy
from sandbox.protocol import ProtocolError, recv_frame, send_frame
from sandbox.values import ValueLimitError, to_plain


def _error_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in (TOOL_FILE, TESTS_FILE, PROPERTY_FILE):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(exc: BaseException, limit: int) -> dict[str, Any]:
    try:
        message = str(exc)
    except BaseException:  # a hostile __str__
        message = "<error message could not be read>"
    if len(message) > limit:
        message = message[:limit] + f"... [{len(message) - limit} more characters]"
    name = type(exc).__name__[:100]
    return {"type": name, "message": message, "line": _error_line(exc)}


class Runtime:
    """Request handling in one worker process."""

    def __init__(self) -> None:
        self.envs: dict[str, PolicyEnv] = {}
        self.compiled: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self.tainted = False

    # -- policy and compile cache ---------------------------------------------------------
    def env(self, request: dict[str, Any]) -> PolicyEnv:
        key = request["policy_key"]
        env = self.envs.get(key)
        if env is None:
            if "policy" not in request:
                raise ProtocolError("unknown policy key and no policy given")
            env = PolicyEnv(Policy.from_json(request["policy"]))
            self.envs[key] = env
        return env

    def code(self, source: str, digest: str, filename: str, key: str, env: PolicyEnv) -> Any:
        cache_key = (key, filename, digest)
        hit = self.compiled.get(cache_key)
        if hit is None:
            try:
                code, _ = compile_source(source, filename, env.limits)
                hit = ("ok", code)
                _tripwire.allow_code(code)
            except CompileFailure as exc:
                hit = ("error", exc.errors)
            self.compiled[cache_key] = hit
            if len(self.compiled) > 512:
                _, (kind, old) = self.compiled.popitem(last=False)
                if kind == "ok":
                    _tripwire.forget_code(old)
        else:
            self.compiled.move_to_end(cache_key)
        if hit[0] == "error":
            raise CompileFailure(hit[1])
        return hit[1]

    # -- requests -----------------------------------------------------------------------
    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"ok": True}
        env = self.env(request)
        if op == "compile":
            return self.op_compile(request, env)
        if op == "run":
            return self.op_run(request, env)
        if op == "discover":
            return self.op_discover(request, env)
        if op == "unit":
            return self.op_unit(request, env)
        if op == "property":
            return run_property(self, request, env)
        raise ProtocolError(f"unknown op {op!r}")

    def op_compile(self, request: dict[str, Any], env: PolicyEnv) -> dict[str, Any]:
        try:
            _, functions = compile_source(request["source"], TOOL_FILE, env.limits)
        except CompileFailure as exc:
            return {"ok": False, "errors": exc.errors, "functions": []}
        return {"ok": True, "errors": [], "functions": functions}

    def execute(self, request: dict[str, Any], env: PolicyEnv, body: Any) -> dict[str, Any]:
        """Run ``body(globals)`` armed, with fresh globals; classify the outcome."""
        out = Stdout(env.limits.stdout_bytes)
        limits = env.limits
        started = time.perf_counter()
        reply: dict[str, Any] = {"ok": False, "value": None, "error": None, "limit": None}
        try:
            g = env.fresh_globals(int(request.get("seed", 0)), out)
            with _tripwire.armed() as fired:
                try:
                    value = body(g)
                    reply["value"] = to_plain(
                        value,
                        max_depth=limits.result_depth,
                        max_nodes=limits.result_nodes,
                        max_str=limits.result_bytes,
                        max_int_digits=limits.int_digits,
                    )
                    reply["ok"] = True
                except ValueLimitError as exc:
                    reply["error"] = {"type": "ResultTooLarge", "message": str(exc), "line": None}
                    reply["limit"] = "result_size"
                except MemoryError as exc:
                    reply["error"] = _describe(exc, limits.error_chars)
                    reply["error"]["message"] = reply["error"]["message"] or "out of memory"
                    reply["limit"] = "memory"
                    self.tainted = True
                except RecursionError as exc:
                    reply["error"] = _describe(exc, limits.error_chars)
                    reply["limit"] = "recursion"
                except SandboxViolation as exc:
                    reply["error"] = _describe(exc, limits.error_chars)
                except BaseException as exc:  # tool errors are values
                    reply["error"] = _describe(exc, limits.error_chars)
                if fired:
                    reply["ok"] = False
                    reply["value"] = None
                    reply["error"] = {
                        "type": "SandboxViolation",
                        "message": fired[0][:500],
                        "line": (reply["error"] or {}).get("line"),
                    }
                    reply["limit"] = "policy"
                    self.tainted = True
        except MemoryError:
            reply = {
                "ok": False,
                "value": None,
                "limit": "memory",
                "error": {"type": "MemoryError", "message": "out of memory", "line": None},
            }
            self.tainted = True
        reply["stdout"] = out.getvalue()
        if out.dropped and reply["limit"] is None:
            reply["limit"] = "output"
        reply["exec_ms"] = (time.perf_counter() - started) * 1000
        return reply

    def compile_error(self, exc: CompileFailure) -> dict[str, Any]:
        return {
            "ok": False,
            "value": None,
            "error": exc.errors[0],
            "limit": None,
            "stdout": "",
            "exec_ms": 0.0,
            "compile_errors": exc.errors,
        }

    def op_run(self, request: dict[str, Any], env: PolicyEnv) -> dict[str, Any]:
        entry = request.get("entry")
        args = request.get("args") or []
        kwargs = request.get("kwargs") or {}
        try:
            code = self.code(
                request["source"], request["hash"], TOOL_FILE, request["policy_key"], env
            )
        except CompileFailure as exc:
            return self.compile_error(exc)

        def body(g: dict[str, Any]) -> Any:
            exec(code, g)
            if entry is None:
                return None
            fn = g.get(entry)
            if not callable(fn):
                raise NameError(f"the code defines no function named '{entry}'")
            return fn(*args, **kwargs)

        return self.execute(request, env, body)

    def tool_and_tests(self, request: dict[str, Any], env: PolicyEnv, tests_file: str) -> list[Any]:
        key = request["policy_key"]
        return [
            self.code(request["source"], request["hash"], TOOL_FILE, key, env),
            self.code(request["tests"], request["tests_hash"], tests_file, key, env),
        ]

    def op_discover(self, request: dict[str, Any], env: PolicyEnv) -> dict[str, Any]:
        try:
            codes = self.tool_and_tests(request, env, TESTS_FILE)
        except CompileFailure as exc:
            return self.compile_error(exc)

        def body(g: dict[str, Any]) -> Any:
            before = set(g)
            for code in codes:
                exec(code, g)
            return [
                n for n, v in g.items() if n not in before and n.startswith("test") and callable(v)
            ]

        return self.execute(request, env, body)

    def op_unit(self, request: dict[str, Any], env: PolicyEnv) -> dict[str, Any]:
        name = request["name"]
        try:
            codes = self.tool_and_tests(request, env, TESTS_FILE)
        except CompileFailure as exc:
            return self.compile_error(exc)

        def body(g: dict[str, Any]) -> Any:
            for code in codes:
                exec(code, g)
            fn = g.get(name)
            if not callable(fn):
                raise NameError(f"the tests define no function named '{name}'")
            fn()
            return None

        return self.execute(request, env, body)


def serve(
    sock: socket.socket,
    max_calls: int,
    recursion_limit: int,
    envs: dict[str, PolicyEnv] | None = None,
) -> None:
    """The worker loop: one request in, one reply out, until EOF or retirement.

    ``envs`` are policy environments the zygote built before forking (keyed by policy key).
    """
    runtime = Runtime()
    runtime.envs.update(envs or {})
    sys.setrecursionlimit(recursion_limit)
    calls = 0
    while True:
        try:
            request = recv_frame(sock)
        except (ProtocolError, OSError):
            return
        if request is None:
            return
        try:
            reply = runtime.handle(request)
        except ProtocolError as exc:
            reply = {"ok": False, "protocol_error": str(exc)}
        calls += 1
        retire = runtime.tainted or calls >= max_calls
        reply["retire"] = retire
        try:
            send_frame(sock, reply)
        except (ValueError, OverflowError, TypeError):
            send_frame(
                sock,
                {
                    "ok": False,
                    "retire": True,
                    "limit": "result_size",
                    "value": None,
                    "error": {"type": "ResultTooLarge", "message": "reply too large", "line": None},
                    "stdout": "",
                },
            )
        except OSError:
            return
        if retire:
            return
