"""`Library`: a store with its retriever and experience memory kept in step.

The store is the seam of record; this class only keeps derived state (the retrieval indexes,
the episode index) current as tools are published, retired or used. Indexes are built lazily
at the first search and then updated incrementally.

>>> from library.store import MemoryStore
>>> from library.records import NewTool
>>> lib = Library(MemoryStore())
>>> lib.publish(NewTool("double", 'def double(x: int) -> int:\\n    \"\"\"Double a number.\"\"\"\\n    return 2 * x\\n')).outcome
'created'
>>> lib.search("double the number").refs
['double@1']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from library.errors import UnknownToolError
from library.experience import ExperienceMemory, Replay
from library.export import export_library
from library.records import Episode, Lock, NewTool, Status, ToolRecord, parse_ref
from library.retrieval import Embedder, Retriever, SearchResult
from library.store.base import Dedup, Gate, PublishResult, Store
from library.store.sqlite import SqliteStore


class Library:
    """Publish, search, record and replay over one store (optionally pinned to a lock)."""

    def __init__(
        self,
        store: Store,
        *,
        lock: Lock | None = None,
        embedder: Embedder | None = None,
        retrieval_options: dict[str, object] | None = None,
    ) -> None:
        self.store = store
        self.lock = lock
        self.embedder = embedder
        self.retrieval_options = dict(retrieval_options or {})
        self.experience = ExperienceMemory(store)
        self._retriever: Retriever | None = None
        self._cursor = 0  # position in the store's change log the index has caught up with

    @classmethod
    def open(
        cls,
        directory: str | Path,
        *,
        read_only: bool = False,
        lock: Lock | None = None,
        embedder: Embedder | None = None,
    ) -> Library:
        """Open the SQLite library in `directory` (pinned to `lock` if given)."""
        return cls(SqliteStore.open(directory, read_only=read_only), lock=lock, embedder=embedder)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ derived state
    @property
    def retriever(self) -> Retriever:
        """The retrieval index, built on first use from the offered tools and past successes."""
        if self._retriever is None:
            r = Retriever(embedder=self.embedder, **self.retrieval_options)  # type: ignore[arg-type]
            _, self._cursor = self.store.changes(self._cursor)  # before listing: miss nothing
            if self.lock is not None:
                r.add_many(self.store.pinned(self.lock))
            else:
                r.add_many(self.store.list(statuses=[Status.ACTIVE]))
            self.experience.refresh()
            self._learn_examples(r, self.experience.successes())
            self._retriever = r
        return self._retriever

    def sync(self) -> None:
        """Catch the index up with every writer (this process or another) since the last sync."""
        episodes = self.experience.refresh()
        if self._retriever is None:
            return
        changed, self._cursor = self.store.changes(self._cursor)
        for name in dict.fromkeys(n for n, _ in changed):
            self._reoffer(name)
        self._learn_examples(self._retriever, episodes)

    @staticmethod
    def _learn_examples(r: Retriever, episodes: Iterable[Episode]) -> None:
        """The queries of successful episodes join their tools' usage examples."""
        pairs = []
        for ep in episodes:
            ref = ep.tool_ref()
            if ref is not None and ep.success is True and ref[0] in r:
                pairs.append((ref[0], ep.query))
        r.add_examples(pairs)

    def _reoffer(self, name: str) -> None:
        """Bring the index in line with the store for `name` after a change."""
        if self._retriever is None or self.lock is not None:
            return
        active = [r for r in self.store.history(name) if r.status.status is Status.ACTIVE]
        if active:
            self._retriever.add(active[-1])
        else:
            self._retriever.remove(name)

    # ------------------------------------------------------------ operations
    def publish(
        self, new: NewTool, *, gate: Gate | None = None, dedup: Dedup | None = None
    ) -> PublishResult:
        """Publish through the store (see `Store.publish`) and update the index."""
        result = self.store.publish(new, gate=gate, dedup=dedup)
        self.sync()
        return result

    def set_status(
        self, ref: str, status: Status, reason: str, replacement: str | None = None
    ) -> list[ToolRecord]:
        changed = self.store.set_status(ref, status, reason, replacement)
        self.sync()
        return changed

    def deprecate(self, ref: str, replacement: str, reason: str = "") -> list[ToolRecord]:
        return self.set_status(ref, Status.DEPRECATED, reason or f"use {replacement}", replacement)

    def retire(self, ref: str, reason: str) -> list[ToolRecord]:
        return self.set_status(ref, Status.RETIRED, reason)

    def resolve(self, ref: str) -> ToolRecord:
        """`name`, `name@latest` or `name@N`; within a lock, `name` means the pinned version."""
        name, version = parse_ref(ref)
        if self.lock is not None and version is None:
            for e in self.lock.entries:
                if e.name == name:
                    return self.store.resolve(f"{e.name}@{e.version}")
            raise UnknownToolError(
                f"tool {name!r} is not in the pinned library {self.lock.digest[:12]}"
            )
        return self.store.resolve(ref)

    def search(self, query: str, k: int = 5) -> SearchResult:
        """Top tools for `query`, re-ranked by their success on similar past queries."""
        retriever = self.retriever
        self.sync()
        return retriever.search(query, k, experience=self.experience)

    def record(self, episode: Episode) -> Episode:
        """Store an episode; a success becomes a usage example of its tool at the next sync."""
        return self.store.add_episode(episode)

    def replay(
        self,
        query: str,
        tools: Sequence[str] = (),
        *,
        k: int = 4,
        budget_chars: int = 3000,
        offered_only: bool = False,
    ) -> Replay:
        """Few-shot material for `query` (see `ExperienceMemory.replay`; a tool's failures are
        weighed against the problems it was made for)."""
        self.sync()
        made_for: dict[str, tuple[str, ...]] = {}
        for t in tools:
            if not self.experience.has_failures(t):
                continue  # nothing to weigh: no store lookup on the solver's path
            try:
                rec = self.resolve(t)
            except UnknownToolError:
                continue
            made_for[t] = rec.problems
        return self.experience.replay(
            query,
            tools,
            k=k,
            budget_chars=budget_chars,
            offered_only=offered_only,
            made_for=made_for,
        )

    def openai_tools(self, refs: Sequence[str]) -> list[dict[str, object]]:
        """OpenAI function-calling definitions for the given tools, named by tool name."""
        out = []
        for ref in refs:
            rec = self.resolve(ref)
            out.append(rec.spec.openai_schema(rec.name))
        return out

    def snapshot(self) -> Lock:
        return self.lock if self.lock is not None else self.store.snapshot()

    def export(self, out_dir: str | Path) -> Path:
        return export_library(self.store, out_dir, lock=self.lock)
