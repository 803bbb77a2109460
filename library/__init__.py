"""The versioned store of tools and experiences, with retrieval and export.

No model client is needed: a downstream solver can use a library without `openai` installed.
Tool code is never imported or run by this package (only parsed); running goes through the
sandbox.

    from library import Library, NewTool
    with Library.open("my-lib") as lib:
        lib.publish(NewTool("double", source))
        hits = lib.search("double a number").hits
"""

from __future__ import annotations

from library.api import LibraryView, ToolCallError, ToolFunction, open_library
from library.errors import LibraryError, ReadOnlyError, UnknownToolError
from library.experience import ExperienceMemory, Replay
from library.export import export_library, read_manifest, verify_export
from library.library import Library
from library.normalize import ast_hash
from library.records import (
    Call,
    Episode,
    Lock,
    NewTool,
    Provenance,
    Status,
    StoredSuite,
    ToolRecord,
    ToolSpec,
    UsageStats,
)
from library.retrieval import Embedder, Hit, Retriever, SearchResult, evaluate_views, recall_at_k
from library.spec import SpecError, derive_spec
from library.store import GateDecision, MemoryStore, PublishResult, SqliteStore, Store
from library.verdict import Failure, Verdict

__all__ = [
    "Call",
    "Embedder",
    "Episode",
    "ExperienceMemory",
    "Failure",
    "GateDecision",
    "Hit",
    "Library",
    "LibraryError",
    "LibraryView",
    "Lock",
    "MemoryStore",
    "NewTool",
    "Provenance",
    "PublishResult",
    "ReadOnlyError",
    "Replay",
    "Retriever",
    "SearchResult",
    "SpecError",
    "SqliteStore",
    "Status",
    "Store",
    "StoredSuite",
    "ToolCallError",
    "ToolFunction",
    "ToolRecord",
    "ToolSpec",
    "UnknownToolError",
    "UsageStats",
    "Verdict",
    "ast_hash",
    "derive_spec",
    "evaluate_views",
    "export_library",
    "open_library",
    "read_manifest",
    "recall_at_k",
    "verify_export",
]
