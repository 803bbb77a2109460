"""`parse_source`: `ast.parse` that is safe to call from several threads at once.

CPython before 3.13 can fail concurrent `ast.parse` calls with ``SystemError: AST constructor
recursion depth mismatch`` (gh-106905). The host parses model-written code in many places
(drafts, validation, the library's spec and fingerprints, the tool user), and jobs run units in
threads, so every host-side parse goes through this function; parsing is short and one lock
costs little. (Worker processes are single-threaded and parse directly.)

    >>> parse_source("x = 1").body[0].__class__.__name__
    'Assign'
"""

from __future__ import annotations

import ast
import sys
import threading
from typing import Any

_LOCK = threading.Lock()
_NEEDS_LOCK = sys.version_info < (3, 13)


def parses(source: str, mode: str = "exec") -> bool:
    """Whether `source` is valid Python (a module, or with ``mode="eval"`` one expression)."""
    try:
        parse_source(source, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def parse_source(
    source: str | bytes, filename: str = "<unknown>", mode: str = "exec", **kwargs: Any
) -> Any:
    """`ast.parse(source, filename, mode, **kwargs)`, serialized across threads where needed."""
    if not _NEEDS_LOCK:
        return ast.parse(source, filename, mode, **kwargs)
    with _LOCK:
        return ast.parse(source, filename, mode, **kwargs)
