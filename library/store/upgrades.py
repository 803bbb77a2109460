"""Schema migrations that rewrite stored JSON, which SQL alone cannot do.

Each function upgrades the rows of an open transaction in place and is listed in
`library.store.sqlite.MIGRATIONS` at the version it produces. A row it cannot read raises a
one-line `LibraryError` naming the tool; the migration's transaction then rolls back and the
file is left as it was.

>>> verdict_v5({"passed": False, "failures": [{"name": "t", "kind": "unit", "error": "boom"}]})
... # doctest: +NORMALIZE_WHITESPACE
{'passed': False, 'recoverable': False, 'failures': [{'kind': 'unit', 'name': 't',
 'message': 'boom', 'minimal_input': None, 'expected': None, 'actual': None, 'line': None,
 'error_type': None, 'limit': None, 'terminal': False}], 'timings': {}, 'counts': {},
 'notes': [], 'wrong_tests': []}
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from library.errors import LibraryError
from library.records import dumps
from library.verdict import Failure, Verdict

_FAILURE_FIELDS = frozenset(Failure.__dataclass_fields__)


def failure_v5(data: Any, index: int) -> dict[str, Any]:
    """A stored failure (schema v4 and before: any object; `maker library add` wrote ``error``
    where `Failure` has ``message``) as `Failure` JSON. Keys `Failure` has no field for are kept
    in the message, so nothing stored is lost."""
    if not isinstance(data, dict):
        return Failure("unit", f"failure {index}", dumps(data)).to_json()
    known = {k: v for k, v in data.items() if k in _FAILURE_FIELDS}
    message = data.get("message")
    if not isinstance(message, str):
        error = data.get("error")
        message = error if isinstance(error, str) else "" if error is None else dumps(error)
    extra = {k: v for k, v in data.items() if k not in _FAILURE_FIELDS and k != "error"}
    if "message" in data and "error" in data:
        extra["error"] = data["error"]
    if extra:
        message = f"{message} (also recorded: {dumps(extra)})".strip()
    kind = known.get("kind")
    name = known.get("name")
    known |= {
        "kind": kind if isinstance(kind, str) and kind else "unit",
        "name": name if isinstance(name, str) and name else f"failure {index}",
        "message": message,
    }
    return Failure.from_json(known).to_json()


def verdict_v5(data: Any) -> dict[str, Any]:
    """A stored verdict (schema v4 and before: ``passed``, ``recoverable``, ``timings`` and
    free-form ``failures``) as `library.verdict.Verdict` JSON."""
    if not isinstance(data, dict) or not isinstance(data.get("passed"), bool):
        raise ValueError(f"not a verdict object: {dumps(data)[:80]}")
    lists = {k: data.get(k) or [] for k in ("failures", "wrong_tests")}
    if not all(isinstance(v, list) for v in lists.values()):
        raise ValueError("'failures' and 'wrong_tests' must be lists")
    canonical = dict(data) | {
        "failures": [failure_v5(f, i) for i, f in enumerate(lists["failures"])],
        "wrong_tests": [failure_v5(f, i) for i, f in enumerate(lists["wrong_tests"])],
    }
    return Verdict.from_json(canonical).to_json()


def upgrade_verdicts(conn: sqlite3.Connection) -> None:
    """Schema v5: every tool's verdict in the one `Verdict` form (typed failures, counts, notes,
    wrong tests), the form `library.verdict.Verdict` reads and writes."""
    rows = conn.execute("SELECT id, name, version, verdict FROM tools ORDER BY id").fetchall()
    for row_id, name, version, text in rows:
        try:
            new = dumps(verdict_v5(json.loads(text)))
        except (ValueError, TypeError) as exc:
            raise LibraryError(
                f"cannot upgrade the library to schema v5: tool {name}@{version} has a damaged "
                f"verdict ({str(exc)[:120]}); restore it from a backup"
            ) from None
        conn.execute("UPDATE tools SET verdict = ? WHERE id = ?", (new, row_id))
