"""One contract applied to every stored tool (and to a whole library).

`record_problems` states what must hold of any `ToolRecord` the store hands out; tests run it
over every record they create, and a maintainer can run `library_problems` over a real library.
"""

from __future__ import annotations

import json

from library.normalize import ast_hash
from library.records import NAME_RE, Status, ToolRecord, ToolSpec, content_hash
from library.spec import derive_spec
from library.store.base import Store


def record_problems(rec: ToolRecord) -> list[str]:
    """Every way `rec` breaks the record contract; empty when it is sound."""
    out = []
    where = f"{rec.name}@{rec.version}"
    if not NAME_RE.match(rec.name):
        out.append(f"{where}: name is not an identifier")
    if rec.version < 1 or (
        rec.parent_version is not None and not 1 <= rec.parent_version < rec.version
    ):
        out.append(f"{where}: bad version {rec.version} or parent {rec.parent_version}")
    if rec.content_hash != content_hash(rec.name, rec.entry, rec.source):
        out.append(f"{where}: content hash does not match the source")
    if rec.ast_hash != ast_hash(rec.source):
        out.append(f"{where}: AST hash does not match the source")
    derived = derive_spec(rec.source, rec.entry)
    if not isinstance(derived, ToolSpec):
        out.append(f"{where}: source no longer yields a spec: {derived.message}")
    elif [p.name for p in derived.params] != [p.name for p in rec.spec.params]:
        out.append(f"{where}: spec parameters differ from the source's")
    if not rec.provenance:
        out.append(f"{where}: no provenance")
    if (rec.status.status is Status.DEPRECATED) != bool(rec.status.replacement):
        out.append(f"{where}: a replacement goes with deprecation, and only with it")
    if ToolRecord.from_json(json.loads(json.dumps(rec.to_json()))) != rec:
        out.append(f"{where}: does not round-trip through JSON")
    return out


def library_problems(store: Store) -> list[str]:
    """Record problems of every version in `store`, plus gaps in version numbers."""
    out = []
    hashes: set[str] = set()
    for latest in store.list(statuses=list(Status)):
        history = store.history(latest.name)
        if [r.version for r in history] != list(range(1, len(history) + 1)):
            out.append(f"{latest.name}: versions are not 1..{len(history)}")
        for rec in history:
            out.extend(record_problems(rec))
            if rec.content_hash in hashes:
                out.append(f"{rec.ref}: content hash stored twice")
            hashes.add(rec.content_hash)
    return out
