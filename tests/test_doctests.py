"""The runnable examples in the code's docstrings are tests: each module's examples must pass."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ["sandbox", "library", "maker", "experiments"]


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return names


def _with_examples(names: list[str]) -> list[str]:
    finder = doctest.DocTestFinder()
    keep = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional extra that is not installed (tested where it is)
            continue
        if any(t.examples for t in finder.find(module)):
            keep.append(name)
    return keep


@pytest.mark.parametrize("name", _with_examples(_modules()))
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
