"""An in-memory twin of the SQLite store, for tests and throwaway libraries.

It shares the publish policy with `SqliteStore` (`StoreBase`) and passes the same contract
tests. A write transaction is all-or-nothing: on an exception the state is rolled back.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from library.records import (
    Episode,
    Lock,
    Provenance,
    Status,
    StatusInfo,
    ToolRecord,
    UsageStats,
)
from library.store.base import StoreBase


class MemoryStore(StoreBase):
    """Tools and episodes in dictionaries; nothing touches the disk."""

    def __init__(self, *, read_only: bool = False) -> None:
        self.read_only = read_only
        self._lock = threading.RLock()
        self._tools: dict[tuple[str, int], ToolRecord] = {}
        self._by_content: dict[str, tuple[str, int]] = {}
        self._episodes_list: list[Episode] = []
        self._usage_map: dict[tuple[str, int], UsageStats] = {}
        self._locks: dict[str, Lock] = {}
        self._names: dict[str, list[int]] = {}
        self._asts: dict[str, list[tuple[str, int]]] = {}
        self._undo: list[Callable[[], None]] = []
        self._change_log: list[tuple[int, str, int, str]] = []

    def close(self) -> None:
        pass

    @contextmanager
    def _tx(self, write: bool) -> Iterator[None]:
        with self._lock:
            if not write:
                yield
                return
            outer = not self._undo
            mark = len(self._undo)
            self._undo.append(lambda: None)
            try:
                yield
            except BaseException:
                while len(self._undo) > mark:
                    self._undo.pop()()
                raise
            finally:
                if outer:
                    self._undo.clear()

    def _set(self, mapping: dict, key: object, value: object) -> None:
        """Assign with an undo entry; every mutation goes through here or `_push`."""
        had, old = key in mapping, mapping.get(key)
        mapping[key] = value
        self._undo.append(lambda: mapping.__setitem__(key, old) if had else mapping.pop(key))

    def _push(self, items: list, value: object) -> None:
        items.append(value)
        self._undo.append(items.pop)

    def _out(self, rec: ToolRecord) -> ToolRecord:
        return rec.with_(usage=self._usage_map.get((rec.name, rec.version), UsageStats()))

    def get(self, name: str, version: int) -> ToolRecord | None:
        with self._lock:
            rec = self._tools.get((name, version))
            return None if rec is None else self._out(rec)

    def _by_hash(self, h: str) -> ToolRecord | None:
        key = self._by_content.get(h)
        return None if key is None else self._out(self._tools[key])

    def _by_ast(self, h: str) -> ToolRecord | None:
        for key in self._asts.get(h, ()):
            rec = self._tools[key]
            if rec.status.status is not Status.REJECTED:
                return self._out(rec)
        return None

    def _versions(self, name: str) -> list[ToolRecord]:
        return [self._out(self._tools[(name, v)]) for v in sorted(self._names.get(name, ()))]

    def _insert(self, rec: ToolRecord) -> None:
        key = (rec.name, rec.version)
        assert key not in self._tools and rec.content_hash not in self._by_content
        self._set(self._tools, key, copy.deepcopy(rec.with_(usage=UsageStats())))
        self._set(self._by_content, rec.content_hash, key)
        if rec.name not in self._names:
            self._set(self._names, rec.name, [])
        self._push(self._names[rec.name], rec.version)
        if rec.ast_hash not in self._asts:
            self._set(self._asts, rec.ast_hash, [])
        self._push(self._asts[rec.ast_hash], key)

    def _add_provenance(self, name: str, version: int, prov: Provenance) -> bool:
        rec = self._tools[(name, version)]
        if any(p.digest() == prov.digest() for p in rec.provenance):
            return False
        self._set(self._tools, (name, version), rec.with_(provenance=rec.provenance + (prov,)))
        return True

    def _update_status(self, name: str, version: int, info: StatusInfo) -> None:
        self._set(self._tools, (name, version), self._tools[(name, version)].with_(status=info))

    def _log(self, name: str, version: int, kind: str) -> None:
        self._push(self._change_log, (len(self._change_log) + 1, name, version, kind))

    def _changes(self, after: int) -> list[tuple[int, str, int, str]]:
        return self._change_log[after:]

    def _latest_all(self, statuses: frozenset[Status]) -> list[ToolRecord]:
        best: dict[str, ToolRecord] = {}
        for (name, version), rec in self._tools.items():
            if rec.status.status in statuses and (name not in best or best[name].version < version):
                best[name] = rec
        return [self._out(best[n]) for n in sorted(best)]

    def _save_lock(self, lock: Lock) -> None:
        if lock.digest not in self._locks:
            self._set(self._locks, lock.digest, lock)

    def saved_lock(self, digest: str) -> Lock | None:
        return self._locks.get(digest)

    def _insert_episode(self, ep: Episode) -> int:
        eid = len(self._episodes_list) + 1
        self._push(self._episodes_list, replace(copy.deepcopy(ep), id=eid))
        return eid

    def _bump_usage(self, name: str, version: int, success: bool | None) -> None:
        u = self._usage_map.get((name, version), UsageStats())
        new = UsageStats(
            u.calls + 1, u.successes + (success is True), u.failures + (success is False)
        )
        self._set(self._usage_map, (name, version), new)

    def _episodes(
        self, name: str | None, version: int | None, success: bool | None, after_id: int
    ) -> list[Episode]:
        out = []
        for ep in self._episodes_list:
            ref = ep.tool_ref()
            if ep.id is not None and ep.id <= after_id:
                continue
            if name is not None and (ref is None or ref[0] != name):
                continue
            if version is not None and (ref is None or ref[1] != version):
                continue
            if success is not None and ep.success is not success:
                continue
            out.append(ep)
        return out

    def _usage(self, name: str, version: int) -> UsageStats:
        return self._usage_map.get((name, version), UsageStats())
