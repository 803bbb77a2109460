"""Answer checks a task may name: ``metadata["answer_check"]``, an installed entry point of the
group ``maker.answer_checks`` (a function ``(answer, gold, metadata) -> bool``).

The engine never imports a check by name, so a higher layer (``experiments`` registers
``math`` and ``tabmwp``) or a user's own package adds one in its pyproject.toml::

    [project.entry-points."maker.answer_checks"]
    units = "my_pkg.checks:same_quantity"

A task naming a check that is not installed is a bad task line (`load_tasks` says which).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

CHECKS_GROUP = "maker.answer_checks"
CHECK_KEY = "answer_check"  # the task metadata naming a check


class UnknownCheckError(LookupError):
    """A task names an answer check that is not installed (or does not load)."""


def installed_checks() -> list[str]:
    """The names of the installed answer checks (entry points of ``maker.answer_checks``)."""
    return sorted({ep.name for ep in entry_points(group=CHECKS_GROUP)})


@functools.cache
def answer_check(name: str) -> Callable[[Any, Any, Mapping[str, Any]], bool]:
    """The installed answer check called `name`; `UnknownCheckError` (one line) when none is."""
    found = [ep for ep in entry_points(group=CHECKS_GROUP) if ep.name == name]
    if not found:
        known = ", ".join(installed_checks()) or "none"
        raise UnknownCheckError(f"answer check {name!r} is not installed (installed: {known})")
    try:
        check = found[0].load()
    except Exception as exc:  # an installed plugin that fails to import
        raise UnknownCheckError(
            f"answer check {name!r} does not load ({type(exc).__name__}: {exc})"
        ) from None
    if not callable(check):
        raise UnknownCheckError(f"answer check {name!r} ({found[0].value}) is not a function")
    return check
