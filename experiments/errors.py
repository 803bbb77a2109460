"""The one root exception of the experiments package.

An `ExperimentError` is a caller's mistake that stops a run before or while it reads its input:
a config, a dataset file, a run dir, a method that is not installed, a malformed prediction
line. Its message is one line that names the input. ``exit_code`` is the `maker` CLI's exit
status for it: 2, bad input.
"""

from __future__ import annotations


class ExperimentError(Exception):
    """Root of every error the experiments package raises for a user to read."""

    exit_code = 2
