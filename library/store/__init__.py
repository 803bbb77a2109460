"""The library's store of record and its in-memory twin, behind one `Store` protocol."""

from __future__ import annotations

from library.store.base import (
    Dedup,
    DedupMatch,
    Gate,
    GateDecision,
    PublishResult,
    Store,
    StoreBase,
    prepare,
)
from library.store.memory import MemoryStore
from library.store.sqlite import SCHEMA_VERSION, SqliteStore

__all__ = [
    "SCHEMA_VERSION",
    "Dedup",
    "DedupMatch",
    "Gate",
    "GateDecision",
    "MemoryStore",
    "PublishResult",
    "SqliteStore",
    "Store",
    "StoreBase",
    "prepare",
]
