"""Experiment runs: the TOML config, the run directory, and the runner (resumable)."""

from __future__ import annotations

from experiments.runs.config import (
    ConfigError,
    DataSpec,
    ExperimentConfig,
    load_config,
    parse_config,
    shipped_config,
)
from experiments.runs.rundir import RunDir, RunDirError
from experiments.runs.runner import (
    RunSummary,
    grade_item,
    load_data,
    run_experiment,
    select_items,
    usable_methods,
)

__all__ = [
    "ConfigError",
    "DataSpec",
    "ExperimentConfig",
    "RunDir",
    "RunDirError",
    "RunSummary",
    "grade_item",
    "load_config",
    "load_data",
    "parse_config",
    "run_experiment",
    "select_items",
    "shipped_config",
    "usable_methods",
]
