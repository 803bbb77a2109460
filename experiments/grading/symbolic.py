"""Symbolic comparison of answers in a separate worker process with a time and memory limit.

Model answers are parsed by latex2sympy2_extended's ANTLR grammar, which builds sympy objects
without ``eval`` (sympy's ``sympify``/``parse_expr`` would ``eval`` the text). Parsing and
simplifying can still blow up (``2^{10^{10}}``, a huge ``simplify``), so both run in a worker
process: a request that does not finish in time kills the worker (a fresh one starts on the
next request) and comes back as "timed out", never as a hang. The worker has an address-space
limit, talks JSON lines over pipes, and also runs math-verify, whose signal-based timeouts
need a main thread: the worker's own, so callers may be on any thread.

>>> with SymbolicChecker(timeout_s=5) as checker:           # doctest: +SKIP
...     checker.equal(r"\\frac{\\sqrt{3}}{2}", r"\\sqrt{3}/2")
Verdict(ok=True, detail='identical after parsing')
"""

from __future__ import annotations

import atexit
import json
import os
import re
import selectors
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEMORY_LIMIT_MB = 2048


@dataclass(frozen=True)
class Verdict:
    """The worker's answer: ``ok`` True/False, or None when it could not decide (and why)."""

    ok: bool | None
    detail: str


class SymbolicChecker:
    """A worker process comparing LaTeX answers symbolically, each request under a time limit.

    Args:
        timeout_s: seconds one comparison may take before the worker is killed.
        start_timeout_s: seconds the worker may take to start (imports sympy).
        memory_mb: the worker's address-space limit.
    """

    def __init__(
        self,
        timeout_s: float = 5.0,
        start_timeout_s: float = 60.0,
        memory_mb: int = MEMORY_LIMIT_MB,
    ) -> None:
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        self.memory_mb = memory_mb
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._lock = threading.Lock()
        self._next_id = 0
        self.restarts = 0

    def __enter__(self) -> SymbolicChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def equal(self, a: str, b: str, timeout_s: float | None = None) -> Verdict:
        """Whether LaTeX answers ``a`` and ``b`` are equal (``simplify(a - b) == 0``)."""
        return self._request("equal", a, b, timeout_s)

    def math_verify(self, gold: str, pred: str, timeout_s: float | None = None) -> Verdict:
        """math-verify's verdict on ``pred`` against ``gold`` (LaTeX extraction only)."""
        return self._request("math_verify", gold, pred, timeout_s)

    def close(self) -> None:
        """Stop the worker (a later request starts a new one)."""
        with self._lock:
            self._kill()

    # -- parent side ------------------------------------------------------------------------

    def _request(self, op: str, a: str, b: str, timeout_s: float | None) -> Verdict:
        limit = self.timeout_s if timeout_s is None else timeout_s
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                started = self._start()
                if started is not None:
                    return started
            assert self._proc is not None and self._proc.stdin is not None
            self._next_id += 1
            msg = {"id": self._next_id, "op": op, "a": a, "b": b, "timeout": limit}
            try:
                self._proc.stdin.write((json.dumps(msg) + "\n").encode())
                self._proc.stdin.flush()
            except OSError:
                self._kill()
                return Verdict(None, "symbolic worker died")
            line = self._readline(time.monotonic() + limit)
            if line is None:
                dead = self._proc.poll() is not None
                self._kill()
                self.restarts += 1
                return Verdict(
                    None,
                    "symbolic worker died (memory limit?)"
                    if dead
                    else f"timed out after {limit:g} s",
                )
            reply = json.loads(line)
            return Verdict(reply["ok"], reply["detail"])

    def _start(self) -> Verdict | None:
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env["EXPERIMENTS_SYMBOLIC_MEMORY_MB"] = str(self.memory_mb)
        self._buffer = b""
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "experiments.grading.symbolic"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        if self._readline(time.monotonic() + self.start_timeout_s) is None:
            self._kill()
            return Verdict(None, "symbolic worker did not start")
        return None

    def _readline(self, deadline: float) -> str | None:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return None
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()


_DEFAULT: SymbolicChecker | None = None
_DEFAULT_LOCK = threading.Lock()


def default_checker() -> SymbolicChecker:
    """The process-wide checker (started on first use, stopped at exit)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = SymbolicChecker()
            atexit.register(_DEFAULT.close)
        return _DEFAULT


# -- worker side (runs as `python -m experiments.grading.symbolic`) ------------------------------


def _same(a: Any, b: Any) -> tuple[bool, str]:
    from sympy import MatrixBase, simplify
    from sympy.core.relational import Relational
    from sympy.sets.sets import Set

    if a == b:
        return True, "identical after parsing"
    if isinstance(a, MatrixBase) or isinstance(b, MatrixBase):
        if not (isinstance(a, MatrixBase) and isinstance(b, MatrixBase)) or a.shape != b.shape:
            return False, "matrix vs non-matrix or different shapes"
        return bool(simplify(a - b).is_zero_matrix), "simplify(a - b) is the zero matrix"
    if isinstance(a, Relational) or isinstance(b, Relational):
        if type(a) is not type(b):
            return False, "different kinds of relation"
        da, db = a.lhs - a.rhs, b.lhs - b.rhs
        if simplify(da - db) == 0:
            return True, "same relation"
        from sympy import Eq

        flipped = isinstance(a, Eq) and simplify(da + db) == 0  # y = 2x + 3 vs 2x + 3 = y
        return flipped, "same equation, sides swapped" if flipped else "different relations"
    if isinstance(a, Set) or isinstance(b, Set) or isinstance(a, tuple) or isinstance(b, tuple):
        return False, "sets or tuples that differ"
    return simplify(a - b) == 0, "simplify(a - b) == 0"


def _op_equal(a_src: str, b_src: str, timeout: float) -> tuple[bool, str]:
    from latex2sympy2_extended import latex2sympy

    a = latex2sympy(a_src, normalization_config=None)
    b = latex2sympy(b_src, normalization_config=None)
    return _same(a, b)


def _op_math_verify(gold: str, pred: str, timeout: float) -> tuple[bool, str]:
    from math_verify import LatexExtractionConfig, parse, verify

    config = [LatexExtractionConfig()]  # never ExprExtractionConfig: it calls parse_expr (eval)
    seconds = max(1, int(timeout))

    def prepared(text: str) -> str:
        if re.search(r"\\boxed|\\fbox|(?<!\\)\$|\\\(", text):  # already delimited LaTeX
            return text
        return "\\boxed{" + text + "}"

    g = parse(prepared(gold), extraction_config=config, parsing_timeout=seconds)
    p = parse(prepared(pred), extraction_config=config, parsing_timeout=seconds)
    if not g:
        return False, "math-verify could not parse the gold answer"
    if not p:
        return False, "math-verify found no answer in the prediction"
    return bool(verify(g, p, timeout_seconds=seconds)), f"math-verify on {str(p[-1])[:80]!r}"


def _worker() -> None:
    import resource

    limit = int(os.environ.get("EXPERIMENTS_SYMBOLIC_MEMORY_MB", MEMORY_LIMIT_MB)) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import logging

    logging.disable(logging.CRITICAL)
    import latex2sympy2_extended  # noqa: F401  (warm imports before "ready")
    import math_verify  # noqa: F401

    ops = {"equal": _op_equal, "math_verify": _op_math_verify}
    out = os.fdopen(os.dup(1), "w")  # the reply channel; stray prints of a library go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        try:
            ok, detail = ops[req["op"]](req["a"], req["b"], float(req["timeout"]))
            reply: dict[str, Any] = {"id": req["id"], "ok": bool(ok), "detail": detail}
        except BaseException as exc:  # parse errors, MemoryError, math-verify timeouts
            reply = {
                "id": req["id"],
                "ok": None,
                "detail": f"{type(exc).__name__}: {str(exc)[:160]}",
            }
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    _worker()
