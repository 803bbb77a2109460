"""The store seam (`Store`), the publish policy shared by every backend, and its values.

Backends (`SqliteStore`, `MemoryStore`) implement a handful of primitives inside
transactions; the policy (idempotent publish, AST de-duplication, the gate, version resolution,
status changes, snapshots) lives here once, so the twins cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Literal, Protocol, Self, runtime_checkable

from library.errors import LibraryError, ReadOnlyError, UnknownToolError
from library.normalize import ast_hash
from library.records import (
    NAME_RE,
    OFFERABLE,
    Episode,
    Lock,
    LockEntry,
    NewTool,
    Provenance,
    Status,
    StatusInfo,
    ToolRecord,
    ToolSpec,
    UsageStats,
    content_hash,
    parse_ref,
)
from library.spec import SpecError, derive_spec


@dataclass(frozen=True)
class GateDecision:
    """A regression gate's verdict on a candidate replacing the latest version."""

    passed: bool
    reason: str = ""


Gate = Callable[[ToolRecord, ToolRecord], GateDecision]
"""`gate(previous_latest, candidate) -> GateDecision`; run outside any write transaction."""


@dataclass(frozen=True)
class DedupMatch:
    """An existing tool that a candidate re-invents (same behaviour, different code);
    `param_map` pairs the candidate's parameter names with the tool's where they differ."""

    record: ToolRecord
    reason: str
    param_map: tuple[tuple[str, str], ...] = ()


def param_map(cand: ToolSpec, twin: ToolSpec) -> tuple[tuple[str, str], ...]:
    """The candidate's parameters matched to the twin's by position and type: the pairs whose
    names differ (empty when every name is the same)."""
    pairs = []
    for c, t in zip(cand.params, twin.params, strict=False):
        if c.schema != t.schema:
            break
        if c.name != t.name:
            pairs.append((c.name, t.name))
    return tuple(pairs)


Dedup = Callable[[ToolRecord], DedupMatch | None]
"""`dedup(candidate) -> DedupMatch | None`: an existing record the candidate duplicates.

Asked only when no stored record has the candidate's content or AST hash; run outside any
write transaction (it may run the sandbox). A match that is still active when the store merges
gains the candidate's provenance, and `publish` returns `merged` instead of creating a twin.
"""

Outcome = Literal["created", "duplicate", "merged", "rejected", "invalid"]


@dataclass(frozen=True)
class PublishResult:
    """What `publish` did.

    - created: a new version, now the latest of its name.
    - duplicate: the same content was already stored (idempotent); new provenance was added.
    - merged: a rename-equivalent tool exists (maybe under another name); it gained the provenance.
    - rejected: stored for lineage with status `rejected`; the gate kept the old version.
    - invalid: nothing stored (bad name, or no spec could be derived); see `reason`.
    """

    outcome: Outcome
    record: ToolRecord | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in ("created", "duplicate", "merged")


@runtime_checkable
class Store(Protocol):
    """The library of record: versioned tools, their statuses, episodes and usage."""

    read_only: bool

    def publish(
        self, new: NewTool, *, gate: Gate | None = None, dedup: Dedup | None = None
    ) -> PublishResult: ...
    def get(self, name: str, version: int) -> ToolRecord | None: ...
    def resolve(self, ref: str) -> ToolRecord: ...
    def history(self, name: str) -> list[ToolRecord]: ...
    def list(self, *, statuses: Iterable[Status] = OFFERABLE) -> list[ToolRecord]: ...
    def set_status(
        self, ref: str, status: Status, reason: str, replacement: str | None = None
    ) -> list[ToolRecord]: ...
    def snapshot(self) -> Lock: ...
    def pinned(self, lock: Lock) -> list[ToolRecord]: ...
    def add_episode(self, episode: Episode) -> Episode: ...
    def episodes(
        self, *, tool: str | None = None, success: bool | None = None, after_id: int = 0
    ) -> list[Episode]: ...
    def usage(self, name: str, version: int) -> UsageStats: ...
    def changes(self, after: int = 0) -> tuple[list[tuple[str, int]], int]: ...
    def close(self) -> None: ...


def prepare(new: NewTool, now: float) -> ToolRecord | str:
    """The candidate record for `new` (version 0, unassigned), or why it is invalid."""
    if not NAME_RE.match(new.name):
        return f"tool name {new.name!r} is not a Python identifier of at most 80 characters"
    entry = new.entry or new.name
    spec = new.spec
    if spec is None:
        derived = derive_spec(new.source, entry)
        if isinstance(derived, SpecError):
            return f"tool {new.name!r}: {derived.message}"
        spec = derived
    prov = new.provenance if new.provenance.time else _with_time(new.provenance, now)
    return ToolRecord(
        name=new.name,
        version=0,
        content_hash=content_hash(new.name, entry, new.source),
        ast_hash=ast_hash(new.source),
        parent_version=None,
        entry=entry,
        spec=spec,
        source=new.source,
        tests=new.tests,
        verdict=new.verdict,
        provenance=(prov,),
        status=StatusInfo(Status.ACTIVE, "published", now),
        created=now,
    )


def _with_time(p: Provenance, now: float) -> Provenance:
    return replace(p, time=now)


class StoreBase:
    """Publish policy over backend primitives; subclasses implement the `_` methods."""

    read_only: bool = False
    max_gate_retries: int = 5

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ primitives
    def _tx(self, write: bool) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _by_hash(self, h: str) -> ToolRecord | None:
        raise NotImplementedError

    def _by_ast(self, h: str) -> ToolRecord | None:
        """Earliest record with this AST hash that was not rejected."""
        raise NotImplementedError

    def _versions(self, name: str) -> list[ToolRecord]:
        raise NotImplementedError

    def _insert(self, rec: ToolRecord) -> None:
        raise NotImplementedError

    def _add_provenance(self, name: str, version: int, prov: Provenance) -> bool:
        raise NotImplementedError

    def _update_status(self, name: str, version: int, info: StatusInfo) -> None:
        raise NotImplementedError

    def _log(self, name: str, version: int, kind: str) -> None:
        """Append to the change log that `changes` reads (in the same transaction)."""
        raise NotImplementedError

    def _changes(self, after: int) -> list[tuple[int, str, int, str]]:
        raise NotImplementedError

    def changes(self, after: int = 0) -> tuple[list[tuple[str, int]], int]:
        """Tool versions published, merged into or changed in status after change number
        `after`, and the number to pass next time. Lets derived indexes follow other writers."""
        with self._tx(write=False):
            rows = self._changes(after)
        seen: dict[tuple[str, int], None] = {}
        for _, name, version, _ in rows:
            seen[(name, version)] = None
        return list(seen), max((r[0] for r in rows), default=after)

    def _latest_all(self, statuses: frozenset[Status]) -> list[ToolRecord]:
        raise NotImplementedError

    def _save_lock(self, lock: Lock) -> None:
        raise NotImplementedError

    def get(self, name: str, version: int) -> ToolRecord | None:
        raise NotImplementedError

    # ------------------------------------------------------------ policy
    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError("library is open read-only: reopen it writable to change it")

    @staticmethod
    def _latest_offerable(versions: list[ToolRecord]) -> ToolRecord | None:
        live = [r for r in versions if r.status.status in OFFERABLE]
        return live[-1] if live else None

    def publish(
        self, new: NewTool, *, gate: Gate | None = None, dedup: Dedup | None = None
    ) -> PublishResult:
        """Store `new` as the next version of its name, idempotently, through `gate` if given.

        `dedup`, if given, is asked (once, outside the transaction) for an existing tool the
        candidate re-invents when no record has its content or AST hash; that tool then gains
        the provenance (`merged`). The gate runs outside the write transaction; if another
        writer changed the latest version meanwhile, the gate is run again against the new
        latest.
        """
        self._writable()
        cand = prepare(new, time.time())
        if isinstance(cand, str):
            return PublishResult("invalid", None, cand)
        decision: GateDecision | None = None
        judged: int | None = None  # version the decision was made against
        match: DedupMatch | None = None
        asked = dedup is None  # whether the dedup hook has been consulted
        for _ in range(self.max_gate_retries + 1):
            with self._tx(write=True):
                dup = self._duplicate(cand)
                if dup is None and match is not None:
                    dup = self._merge_into(match, cand)
                if dup is not None:
                    return dup
                versions = self._versions(cand.name)
                latest = self._latest_offerable(versions)
                needs_gate = gate is not None and latest is not None
                if asked and (not needs_gate or (latest is not None and judged == latest.version)):
                    return self._create(cand, versions, latest, decision)
            if not asked:
                assert dedup is not None
                asked, match = True, dedup(cand)
                continue
            assert gate is not None and latest is not None
            judged = latest.version
            decision = gate(
                latest, cand.with_(version=versions[-1].version + 1, parent_version=judged)
            )
        raise LibraryError(f"tool {cand.name!r}: latest version kept changing while gating; retry")

    def _duplicate(self, cand: ToolRecord) -> PublishResult | None:
        prov = cand.provenance[0]
        same = self._by_hash(cand.content_hash)
        if same is not None:
            return PublishResult(
                "duplicate", self._credit(same, prov), "same content already stored"
            )
        twin = self._by_ast(cand.ast_hash)
        if twin is not None:
            prov = replace(prov, param_map=param_map(cand.spec, twin.spec))
            return PublishResult("merged", self._credit(twin, prov), f"equivalent to {twin.ref}")
        return None

    def _merge_into(self, match: DedupMatch, cand: ToolRecord) -> PublishResult | None:
        """Give `match.record` the candidate's provenance (with the parameter mapping) if it
        is still active."""
        twin = self.get(match.record.name, match.record.version)
        if twin is None or twin.status.status is not Status.ACTIVE:
            return None
        prov = replace(cand.provenance[0], param_map=match.param_map)
        return PublishResult("merged", self._credit(twin, prov), match.reason)

    def _credit(self, rec: ToolRecord, prov: Provenance) -> ToolRecord:
        """Add `prov` to stored `rec` (once: a repeat adds nothing); `rec` as now stored."""
        if not self._add_provenance(rec.name, rec.version, prov):
            return rec  # unchanged: `rec` was read whole from the store
        self._log(rec.name, rec.version, "provenance")
        return self._fresh(rec)

    def _fresh(self, rec: ToolRecord) -> ToolRecord:
        got = self.get(rec.name, rec.version)
        assert got is not None
        return got

    def _create(
        self,
        cand: ToolRecord,
        versions: list[ToolRecord],
        latest: ToolRecord | None,
        decision: GateDecision | None,
    ) -> PublishResult:
        version = versions[-1].version + 1 if versions else 1
        rec = cand.with_(version=version, parent_version=latest.version if latest else None)
        if decision is not None and not decision.passed:
            reason = f"gate failed against {latest.ref if latest else '?'}: {decision.reason}"
            rec = rec.with_(status=StatusInfo(Status.REJECTED, reason, rec.created))
            self._insert(rec)
            self._log(rec.name, rec.version, "rejected")
            return PublishResult("rejected", rec, reason)
        self._insert(rec)
        self._log(rec.name, rec.version, "publish")
        return PublishResult("created", rec, "")

    def resolve(self, ref: str) -> ToolRecord:
        """The record for `name`, `name@latest` (latest offerable version) or `name@N` (any status)."""
        name, version = parse_ref(ref)
        if version is not None:
            rec = self.get(name, version)
            if rec is None:
                raise UnknownToolError(f"unknown tool version {ref!r}: see `history {name}`")
            return rec
        versions = self.history(name)
        if not versions:
            raise UnknownToolError(f"unknown tool {name!r}: no such name in the library")
        latest = self._latest_offerable(versions)
        if latest is None:
            last = versions[-1].status
            raise UnknownToolError(f"tool {name!r} is {last.status.value}: {last.reason}")
        return latest

    def history(self, name: str) -> list[ToolRecord]:
        """Every stored version of `name`, oldest first (all statuses)."""
        with self._tx(write=False):
            return self._versions(name)

    def list(self, *, statuses: Iterable[Status] = OFFERABLE) -> list[ToolRecord]:
        """Per name, its latest version among `statuses`, sorted by name."""
        with self._tx(write=False):
            return self._latest_all(frozenset(statuses))

    def set_status(
        self, ref: str, status: Status, reason: str, replacement: str | None = None
    ) -> list[ToolRecord]:
        """Set the status of `name@N`, or of every version of `name`; returns the changed records."""
        self._writable()
        if status is Status.DEPRECATED and not replacement:
            raise LibraryError(f"deprecating {ref!r} needs a replacement tool")
        if replacement is not None:
            self.resolve(replacement)  # must exist and be offerable
        name, version = parse_ref(ref)
        info = StatusInfo(status, reason, time.time(), replacement)
        with self._tx(write=True):
            targets = [r for r in self._versions(name) if version is None or r.version == version]
            if not targets:
                raise UnknownToolError(f"unknown tool {ref!r}: nothing to change")
            targets = [r for r in targets if r.status.status is not Status.REJECTED]
            for r in targets:
                self._update_status(r.name, r.version, info)
                self._log(r.name, r.version, "status")
        return [self._fresh(r) for r in targets]

    def deprecate(self, ref: str, replacement: str, reason: str = "") -> list[ToolRecord]:
        return self.set_status(ref, Status.DEPRECATED, reason or f"use {replacement}", replacement)

    def retire(self, ref: str, reason: str) -> list[ToolRecord]:
        return self.set_status(ref, Status.RETIRED, reason)

    def snapshot(self) -> Lock:
        """A lock naming every offerable tool's latest `name@version` with its content hash."""
        recs = self.list()
        lock = Lock(tuple(LockEntry(r.name, r.version, r.content_hash) for r in recs), time.time())
        if not self.read_only:
            with self._tx(write=True):
                self._save_lock(lock)
        return lock

    def pinned(self, lock: Lock) -> list[ToolRecord]:
        """Exactly the records a lock names, whatever their status now; raises on any mismatch."""
        out = []
        for e in lock.entries:
            rec = self.get(e.name, e.version)
            if rec is None:
                raise UnknownToolError(f"lock names {e.name}@{e.version}, which this library lacks")
            if rec.content_hash != e.content_hash:
                raise LibraryError(f"lock names {e.name}@{e.version} with another content hash")
            out.append(rec)
        return out

    # ------------------------------------------------------------ experience
    def _insert_episode(self, ep: Episode) -> int:
        raise NotImplementedError

    def _bump_usage(self, name: str, version: int, success: bool | None) -> None:
        raise NotImplementedError

    def _episodes(
        self, name: str | None, version: int | None, success: bool | None, after_id: int
    ) -> list[Episode]:
        raise NotImplementedError

    def _usage(self, name: str, version: int) -> UsageStats:
        raise NotImplementedError

    def add_episode(self, episode: Episode) -> Episode:
        """Record an episode and fold it into its tool version's usage statistics."""
        self._writable()
        if not episode.time:
            episode = replace(episode, time=time.time())
        with self._tx(write=True):
            eid = self._insert_episode(episode)
            ref = episode.tool_ref()
            if ref is not None:
                self._bump_usage(ref[0], ref[1], episode.success)
        return replace(episode, id=eid)

    def episodes(
        self, *, tool: str | None = None, success: bool | None = None, after_id: int = 0
    ) -> list[Episode]:
        """Episodes oldest first; `tool` filters by `name` or `name@N` of the call made."""
        name, version = parse_ref(tool) if tool else (None, None)
        with self._tx(write=False):
            return self._episodes(name, version, success, after_id)

    def usage(self, name: str, version: int) -> UsageStats:
        with self._tx(write=False):
            return self._usage(name, version)
