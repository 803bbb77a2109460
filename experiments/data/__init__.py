"""Benchmark loaders (MATH, TabMWP, LATM's BIG-Bench tasks) with making/test splits.

>>> from experiments.data import load_dataset
>>> ds = load_dataset("bbh", "path/to/bbh")            # doctest: +SKIP
>>> tasks = ds.tasks()       # making items as maker tasks  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from experiments.data.bbh import load_bbh, parse_options, read_bbh
from experiments.data.math import load_math, read_math500, read_math_tree, stratified_split
from experiments.data.records import DataError, Dataset, Item
from experiments.data.tabmwp import load_tabmwp, read_tabmwp

LOADERS = {"math": load_math, "tabmwp": load_tabmwp, "bbh": load_bbh}


def load_dataset(name: str, path: str | Path) -> Dataset:
    """Load ``name`` (math, tabmwp or bbh) from ``path`` with its default split rules."""
    try:
        loader = LOADERS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r} (known: {', '.join(LOADERS)})") from None
    return loader(path)


__all__ = [
    "LOADERS",
    "DataError",
    "Dataset",
    "Item",
    "load_bbh",
    "load_dataset",
    "load_math",
    "load_tabmwp",
    "parse_options",
    "read_bbh",
    "read_math500",
    "read_math_tree",
    "read_tabmwp",
    "stratified_split",
]
