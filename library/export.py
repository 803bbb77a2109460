"""Export a library as a reviewable directory: `manifest.json` plus, per tool version,
`tools/<name>/v<N>.py` (importable) and `tools/<name>/v<N>_tests.json` beside it.

The export is written to a temporary sibling directory and swapped in, so readers never see a
half-written export. Nothing is imported or run here.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from library.errors import LibraryError
from library.records import JSON, Lock, Status, ToolRecord, content_hash
from library.store.base import Store

FORMAT = 1
HEADER_LINES = 3


def _header(rec: ToolRecord) -> str:
    return (
        f"# {rec.ref} ({rec.status.status.value}) exported from a tool-maker library\n"
        f"# content hash {rec.content_hash}; entry {rec.entry}; parent version {rec.parent_version}\n"
        "# Generated file: edits are not published back.\n"
    )


def _entry(rec: ToolRecord, py: str, tests: str) -> dict[str, JSON]:
    return {
        "name": rec.name,
        "version": rec.version,
        "ref": rec.ref,
        "entry": rec.entry,
        "content_hash": rec.content_hash,
        "parent_version": rec.parent_version,
        "status": rec.status.to_json(),
        "summary": rec.spec.summary,
        "input_schema": rec.spec.input_schema(),
        "output_schema": rec.spec.output_schema(),
        "openai": rec.spec.openai_schema(rec.name),
        "provenance": [p.to_json() for p in rec.provenance],
        "usage": rec.usage.to_json(),
        "path": py,
        "tests_path": tests,
    }


def export_library(
    store: Store,
    out_dir: str | Path,
    *,
    lock: Lock | None = None,
    include_rejected: bool = False,
) -> Path:
    """Write every tool version (or exactly a lock's tools) to `out_dir`; returns the manifest path.

    `out_dir` must be missing, empty, or an earlier export (it is then replaced whole).
    """
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").exists():
        raise LibraryError(
            f"export directory {str(out)!r} is not empty and holds no earlier export"
        )
    if lock is not None:
        records = store.pinned(lock)
    else:
        records = [
            r for latest in store.list(statuses=list(Status)) for r in store.history(latest.name)
        ]
    if not include_rejected:
        records = [r for r in records if r.status.status is not Status.REJECTED]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        tools_dir = tmp / "tools"
        tools_dir.mkdir()
        (tools_dir / "__init__.py").write_text('"""Exported tools."""\n')
        entries = []
        for rec in sorted(records, key=lambda r: (r.name, r.version)):
            d = tools_dir / rec.name
            if not d.exists():
                d.mkdir()
                (d / "__init__.py").write_text(f'"""Versions of the tool {rec.name}."""\n')
            py, tests = (
                f"tools/{rec.name}/v{rec.version}.py",
                f"tools/{rec.name}/v{rec.version}_tests.json",
            )
            (tmp / py).write_text(_header(rec) + rec.source, encoding="utf-8")
            payload = {
                "ref": rec.ref,
                "entry": rec.entry,
                **rec.tests.to_json(),
                "verdict": rec.verdict.to_json(),
            }
            (tmp / tests).write_text(
                json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
            entries.append(_entry(rec, py, tests))
        if lock is not None:
            latest = {e.name: e.version for e in lock.entries}
        else:
            latest = {r.name: r.version for r in store.list()}
        manifest = {
            "format": FORMAT,
            "exported": time.time(),
            "lock": lock.to_json() if lock is not None else None,
            "latest": latest,
            "tools": entries,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            os.replace(out, old / "export")
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "manifest.json"


def read_manifest(export_dir: str | Path) -> dict[str, JSON]:
    """The manifest of an export; raises LibraryError when it is missing or unreadable."""
    path = Path(export_dir) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LibraryError(f"no readable export manifest at {str(path)!r}: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise LibraryError(
            f"export at {str(export_dir)!r} has format {manifest.get('format')}, expected {FORMAT}"
        )
    return manifest


def verify_export(export_dir: str | Path) -> list[str]:
    """Problems with an export (missing files, edited sources); empty when it is intact."""
    root = Path(export_dir)
    problems = []
    for e in read_manifest(root)["tools"]:
        py, tests = root / e["path"], root / e["tests_path"]
        if not py.exists() or not tests.exists():
            problems.append(f"{e['ref']}: missing {e['path']} or {e['tests_path']}")
            continue
        text = py.read_text(encoding="utf-8")
        source = text.split("\n", HEADER_LINES)[HEADER_LINES]
        if content_hash(e["name"], e["entry"], source) != e["content_hash"]:
            problems.append(f"{e['ref']}: {e['path']} differs from the published source")
    return problems
