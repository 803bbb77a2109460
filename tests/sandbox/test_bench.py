"""Smoke test of `maker bench sandbox` with tiny series (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from sandbox.bench import run_benchmark

REQUIRED = (
    "inprocess_median_ms",
    "warm_median_ms",
    "warm_p99_ms",
    "subprocess_median_ms",
    "calls_per_s",
    "validate_100_examples_s",
    "strict_median_ms",
    "strict_p99_ms",
    "compute_ratio",
    "warm_vs_subprocess_speedup",
    "inprocess_calls",
    "warm_calls",
    "subprocess_calls",
    "strict_calls",
    "throughput_calls",
)


def test_benchmark_prints_a_table_and_a_json_line_of_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = run_benchmark(
        calls=20,
        warmup=3,
        subprocess_calls=2,
        strict_calls=3,
        throughput_calls=20,
        compute_runs=1,
        validate_runs=1,
    )
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert "Sandbox benchmark" in out
    data = json.loads(lines[-1])
    for key in REQUIRED:
        assert isinstance(data[key], (int, float)) and data[key] > 0, key
    assert data["subprocess_calls"] == 2 and data["strict_calls"] == 3
    assert data["validate_examples_run"] == 100
    assert figures["warm_calls"] == 20
