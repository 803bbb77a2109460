"""Experiment reports: accuracy with confidence intervals, costs, break-even, tool use, plots.

>>> from experiments.report import write_report
>>> summary = write_report("runs/small")      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.report.render import markdown, num, pct, plots
from experiments.report.stats import bootstrap_seeds, break_even, cost_per_solved, wilson
from experiments.report.summary import dumps, summarize
from experiments.runs.rundir import RunDir, RunDirError


def write_report(run_dir: str | Path, against: Sequence[str] = ()) -> dict[str, Any]:
    """Write report.md, report.json and plots/*.png into ``run_dir``; returns the summary.
    ``against``: methods of the run to compare every method with, item by item, besides the
    config's ``report.baseline`` (say the strong model's programs).

    Raises `RunDirError` when ``run_dir`` holds no run (no config.json or no results), or when
    a name of ``against`` is not one of its methods.
    """
    run = RunDir(run_dir)
    if not run.config_file.is_file():
        raise RunDirError(f"{run.path}: not a run directory (no config.json)")
    summary = summarize(run, against)
    if not summary["methods"]:
        raise RunDirError(f"{run.path}: no results yet (results.jsonl is empty)")
    summary["plot_labels"] = plots(summary, run.path / "plots")
    (run.path / "report.md").write_text(markdown(summary), encoding="utf-8")
    (run.path / "report.json").write_text(dumps(summary) + "\n", encoding="utf-8")
    return summary


__all__ = [
    "bootstrap_seeds",
    "break_even",
    "cost_per_solved",
    "dumps",
    "markdown",
    "num",
    "pct",
    "plots",
    "summarize",
    "wilson",
    "write_report",
]
