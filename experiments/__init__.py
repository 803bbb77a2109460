"""experiments package: datasets, methods, graded runs and reports."""

from experiments.errors import ExperimentError

__all__ = ["ExperimentError"]
