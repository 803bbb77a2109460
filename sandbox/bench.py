"""`maker bench sandbox`: how fast the sandbox runs a tool, against the alternatives.

One run measures, for the same small tool function:

- a plain in-process call (the function compiled natively in this process);
- a warm sandboxed call (`Sandbox(mode="warm")`, after a warm-up);
- a fresh ``python`` subprocess per call (what research codebases do: ``python -c`` that
  defines the tool, calls it and prints the JSON result);
- a strict-mode call (`Sandbox(mode="strict")`: a fresh worker forked for every call);
- pool throughput: 2 workers driven from 4 threads;
- a compute-heavy tool (a 100,000-iteration accumulation loop) in the sandbox against the same
  function run natively (``compute_ratio`` = sandboxed / native);
- validating a tool against 100 Hypothesis examples (a `PropertySpec` with max_examples=100).

It prints a table (figure, target, pass/fail) and, as the last line on stdout, one JSON object of
the figures. Progress goes to stderr so stdout stays clean. The tool sources here are fixed and
trusted benchmark code, so defining them natively in the host for the baselines is fine.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sandbox.host import Sandbox
from sandbox.results import PropertySpec, TestSuite

TOOL_SOURCE = '''\
def score(a: int, b: int) -> int:
    """A small tool: a few arithmetic operations on its arguments."""
    return a * b + a - b
'''
TOOL_ENTRY = "score"
TOOL_KWARGS = {"a": 6, "b": 7}
TOOL_EXPECTED = 41

HEAVY_SOURCE = """\
def accumulate(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
"""
HEAVY_ENTRY = "accumulate"
HEAVY_N = 100_000

GCD_SOURCE = """\
def gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return abs(a)
"""
GCD_PROPERTY = PropertySpec(
    name="prop_gcd_divides",
    source=(
        "def prop_gcd_divides(a: int, b: int):\n"
        "    g = gcd(a, b)\n"
        "    if a or b:\n"
        "        assert g > 0 and a % g == 0 and b % g == 0\n"
        "    else:\n"
        "        assert g == 0\n"
        "    assert gcd(b, a) == g\n"
    ),
    strategies={
        "a": {"type": "integers", "min_value": -(10**9), "max_value": 10**9},
        "b": {"type": "integers", "min_value": -(10**9), "max_value": 10**9},
    },
    max_examples=100,
)

# (key, comparison, target) for the figures the issue sets targets for.
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("warm_median_ms", "<=", 1.0),
    ("warm_vs_subprocess_speedup", ">=", 20.0),
    ("strict_median_ms", "<=", 10.0),
    ("compute_ratio", "<=", 5.0),
    ("validate_100_examples_s", "<=", 1.0),
    ("total_s", "<=", 60.0),
)


# The same tool, compiled natively in this process (trusted, fixed source: the baselines).
def score(a: int, b: int) -> int:
    return a * b + a - b


def accumulate(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _p99(samples: list[float]) -> float:
    """Nearest-rank 99th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def _timed(fn: Callable[[], Any], n: int, advance: Callable[[], None]) -> list[float]:
    """Wall time of ``n`` calls of ``fn``, in seconds each."""
    out = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)
        advance()
    return out


def _check_run(result: Any, expected: Any) -> None:
    if not result.ok or result.value != expected:
        raise RuntimeError(f"benchmark tool call failed: {result!r}")


def _subprocess_call() -> Any:
    code = (
        f"{TOOL_SOURCE}\nimport json\n"
        f"print(json.dumps({TOOL_ENTRY}(**json.loads({json.dumps(json.dumps(TOOL_KWARGS))}))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


class _Progress:
    """A rich progress bar on stderr (the table and JSON line on stdout stay clean)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
        )

    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[], None]]:
        task_id = self.progress.add_task(description, total=total)
        yield lambda: self.progress.advance(task_id)
        self.progress.update(task_id, completed=total)
        self.progress.remove_task(task_id)


def run_benchmark(
    calls: int = 1000,
    *,
    warmup: int = 50,
    subprocess_calls: int | None = None,
    strict_calls: int | None = None,
    throughput_calls: int = 2000,
    compute_runs: int = 15,
    validate_runs: int = 5,
    workers: int = 2,
    threads: int = 4,
) -> dict[str, Any]:
    """Run every series, print the table and the JSON line, and return the figures.

    ``calls`` sizes the in-process and warm series; the subprocess series defaults to
    min(calls, 200) (at least 100) and strict mode to min(calls, 300). Smaller explicit sizes are
    for smoke tests only.
    """
    started = time.perf_counter()
    n_sub = subprocess_calls if subprocess_calls is not None else max(100, min(calls, 200))
    n_strict = strict_calls if strict_calls is not None else min(calls, 300)
    figures: dict[str, Any] = {}
    bar = _Progress()
    with bar.progress:
        # -- in-process ------------------------------------------------------------------
        with bar.task("in-process calls", calls) as advance:
            for _ in range(warmup):
                score(**TOOL_KWARGS)
            samples = _timed(lambda: score(**TOOL_KWARGS), calls, advance)
        figures["inprocess_median_ms"] = _ms(statistics.median(samples))
        figures["inprocess_p99_ms"] = _ms(_p99(samples))

        with Sandbox(workers=workers, mode="warm") as sb:
            # -- warm sandboxed calls ----------------------------------------------------
            with bar.task("warm sandboxed calls", warmup + calls) as advance:
                for _ in range(warmup):
                    _check_run(sb.run(TOOL_SOURCE, TOOL_ENTRY, kwargs=TOOL_KWARGS), TOOL_EXPECTED)
                    advance()
                samples = _timed(
                    lambda: sb.run(TOOL_SOURCE, TOOL_ENTRY, kwargs=TOOL_KWARGS), calls, advance
                )
            _check_run(sb.run(TOOL_SOURCE, TOOL_ENTRY, kwargs=TOOL_KWARGS), TOOL_EXPECTED)
            figures["warm_median_ms"] = _ms(statistics.median(samples))
            figures["warm_p99_ms"] = _ms(_p99(samples))

            # -- pool throughput ---------------------------------------------------------
            with bar.task(f"throughput ({threads} threads)", throughput_calls):

                def one(_: int) -> bool:
                    return sb.run(TOOL_SOURCE, TOOL_ENTRY, kwargs=TOOL_KWARGS).ok

                with ThreadPoolExecutor(max_workers=threads) as pool:
                    list(pool.map(one, range(min(throughput_calls, 4 * threads))))  # warm-up
                    t0 = time.perf_counter()
                    oks = list(pool.map(one, range(throughput_calls)))
                    spent = time.perf_counter() - t0
            if not all(oks):
                raise RuntimeError("a benchmark call failed in the throughput series")
            figures["calls_per_s"] = throughput_calls / spent

            # -- compute-heavy -----------------------------------------------------------
            with bar.task("compute-heavy loop", 2 * (compute_runs + 1)) as advance:
                expected = accumulate(HEAVY_N)
                _check_run(sb.run(HEAVY_SOURCE, HEAVY_ENTRY, kwargs={"n": HEAVY_N}), expected)
                advance()
                boxed = _timed(
                    lambda: sb.run(HEAVY_SOURCE, HEAVY_ENTRY, kwargs={"n": HEAVY_N}),
                    compute_runs,
                    advance,
                )
                accumulate(HEAVY_N)
                advance()
                native = _timed(lambda: accumulate(HEAVY_N), compute_runs, advance)
            figures["compute_sandboxed_ms"] = _ms(statistics.median(boxed))
            figures["compute_native_ms"] = _ms(statistics.median(native))
            figures["compute_ratio"] = statistics.median(boxed) / statistics.median(native)

            # -- Hypothesis validation ---------------------------------------------------
            suite = TestSuite(properties=(GCD_PROPERTY,))
            with bar.task("validate 100 examples", validate_runs + 1) as advance:
                sb.run_tests(GCD_SOURCE, "gcd", suite)  # compile caches, first-run imports
                advance()
                reports = []

                def validate() -> None:
                    reports.append(sb.run_tests(GCD_SOURCE, "gcd", suite))

                samples = _timed(validate, validate_runs, advance)
            for report in reports:
                outcome = report.outcomes[-1]
                if not report.passed or outcome.examples_run < GCD_PROPERTY.max_examples:
                    raise RuntimeError(f"the validation series did not pass: {report!r:.500}")
            figures["validate_100_examples_s"] = statistics.median(samples)
            figures["validate_examples_run"] = reports[-1].outcomes[-1].examples_run

        # -- a fresh python subprocess per call --------------------------------------------
        with bar.task("subprocess per call", n_sub + 1) as advance:
            if _subprocess_call() != TOOL_EXPECTED:
                raise RuntimeError("the subprocess baseline returned a wrong value")
            advance()
            samples = _timed(_subprocess_call, n_sub, advance)
        figures["subprocess_median_ms"] = _ms(statistics.median(samples))
        figures["subprocess_p99_ms"] = _ms(_p99(samples))
        figures["warm_vs_subprocess_speedup"] = (
            figures["subprocess_median_ms"] / figures["warm_median_ms"]
        )

        # -- strict mode -----------------------------------------------------------------
        with Sandbox(workers=workers, mode="strict") as strict:
            with bar.task("strict-mode calls", n_strict + 3) as advance:
                for _ in range(3):
                    _check_run(
                        strict.run(TOOL_SOURCE, TOOL_ENTRY, kwargs=TOOL_KWARGS), TOOL_EXPECTED
                    )
                    advance()
                samples = _timed(
                    lambda: strict.run(TOOL_SOURCE, TOOL_ENTRY, kwargs=TOOL_KWARGS),
                    n_strict,
                    advance,
                )
        figures["strict_median_ms"] = _ms(statistics.median(samples))
        figures["strict_p99_ms"] = _ms(_p99(samples))

    figures.update(
        inprocess_calls=calls,
        warm_calls=calls,
        subprocess_calls=n_sub,
        strict_calls=n_strict,
        throughput_calls=throughput_calls,
        throughput_workers=workers,
        throughput_threads=threads,
        compute_runs=compute_runs,
        compute_iterations=HEAVY_N,
        validate_runs=validate_runs,
    )
    figures["total_s"] = time.perf_counter() - started
    figures["targets_met"] = all(_meets(figures[k], op, t) for k, op, t in TARGETS)
    _print_table(figures)
    print(
        json.dumps(
            {k: (float(f"{v:.6g}") if isinstance(v, float) else v) for k, v in figures.items()}
        ),
        flush=True,
    )
    return figures


def _meets(value: float, op: str, target: float) -> bool:
    return value <= target if op == "<=" else value >= target


def _print_table(f: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    targets = {k: (op, t) for k, op, t in TARGETS}
    table = Table(title="Sandbox benchmark")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    table.add_column("target", justify="right")
    table.add_column("result")

    def row(label: str, key: str, fmt: str, n: Any = "") -> None:
        value = f[key]
        if key in targets:
            op, t = targets[key]
            ok = _meets(value, op, t)
            target = f"{op} {t:g}"
            result = "[green]pass[/green]" if ok else "[red]FAIL[/red]"
        else:
            target, result = "-", ""
        table.add_row(label, format(value, fmt), str(n), target, result)

    row("in-process median (ms)", "inprocess_median_ms", ".5f", f["inprocess_calls"])
    row("in-process p99 (ms)", "inprocess_p99_ms", ".5f", f["inprocess_calls"])
    row("warm sandboxed median (ms)", "warm_median_ms", ".3f", f["warm_calls"])
    row("warm sandboxed p99 (ms)", "warm_p99_ms", ".3f", f["warm_calls"])
    row("subprocess per call median (ms)", "subprocess_median_ms", ".2f", f["subprocess_calls"])
    row("subprocess per call p99 (ms)", "subprocess_p99_ms", ".2f", f["subprocess_calls"])
    row("warm vs subprocess speedup (x)", "warm_vs_subprocess_speedup", ".1f")
    row("strict mode median (ms)", "strict_median_ms", ".2f", f["strict_calls"])
    row("strict mode p99 (ms)", "strict_p99_ms", ".2f", f["strict_calls"])
    row(
        f"throughput, {f['throughput_workers']} workers / {f['throughput_threads']} threads "
        "(calls/s)",
        "calls_per_s",
        ".0f",
        f["throughput_calls"],
    )
    row("compute loop sandboxed (ms)", "compute_sandboxed_ms", ".2f", f["compute_runs"])
    row("compute loop native (ms)", "compute_native_ms", ".2f", f["compute_runs"])
    row("compute ratio (sandboxed/native)", "compute_ratio", ".2f")
    row(
        "validate 100 Hypothesis examples (s)", "validate_100_examples_s", ".3f", f["validate_runs"]
    )
    row("total benchmark time (s)", "total_s", ".1f")
    Console(file=sys.stdout, width=max(100, Console().width)).print(table)
