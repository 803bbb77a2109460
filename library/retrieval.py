"""Multi-view retrieval of tools: BM25 per view, reciprocal rank fusion, success re-ranking,
an optional dense view, and abstention when nothing is relevant enough.

Views (each its own BM25 index): the tool's name tokens, its docstring, its parameter names
and descriptions, usage examples (queries it served well) and the problems it was made for.
Indexes are built once per open and updated incrementally by `add`/`remove`/`add_example`.

Hits are ranked by their fused score times their relevance (the idf-weighted share of the
query found in the tool), so a tool that matches the whole query outranks one that matches a
single word in many views. A search abstains unless some hit is relevant enough *and* holds
enough of the query's words: two, or half of them for a shorter query (one shared word such as
"common" is no evidence that `gcd` answers "least common multiple"). A dense match above its
similarity threshold counts as evidence on its own.

A long query's segment (a sentence, a line) can speak for it, so that a long payload (a list of
words, a table) does not drown the instruction beside it, but only for the tool that holds the
segment better than every other tool does. A hit whose relevance is under
`min_relative_relevance` of the best hit's is not offered beside it: the real 0.5B called a
word sorter offered at relevance 0.06 beside a remainder solver at 1.0 on remainder problems.

A tool made for several problems is offered only on a query holding its *purpose words*: the
words of its name found in every problem it was made for (`purpose_words`). Its name is what
the maker said it does, and its problems agree on those words. The 1.5B's `mean(numbers)`, made
from two "What is the mean of the numbers?" problems, was offered (and called by the real 0.5B)
on "What is the mode of the numbers?" and "Each shelf has 2 cups. How many cups are on 4
shelves?": 19 of its 21 uses were wrong, and a tool over bare numbers cannot refuse a question
it never sees. A query a tool served well (a usage example) widens its purpose words to those
that query holds too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from library.experience import ExperienceMemory
from library.lexical import LexicalIndex, prose, tokenize
from library.records import Lock, Status, ToolRecord
from library.store.base import Store

VIEWS: tuple[str, ...] = ("name", "doc", "params", "examples", "problems")
DENSE = "dense"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors (rows). Any embeddings endpoint can sit behind this."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def tool_views(rec: ToolRecord) -> dict[str, str]:
    """The text of each lexical view of a tool record (usage examples are added separately)."""
    spec = rec.spec
    params = " ".join(f"{p.name} {p.description}" for p in spec.params)
    problems = " ".join(rec.problems)
    examples = " ".join(str(e.get("description", "")) for e in rec.tests.examples)
    return {
        "name": f"{rec.name} {spec.entry}",
        "doc": f"{spec.description} {spec.returns_description}",
        "params": params,
        "examples": examples,
        "problems": problems,
    }


def dense_text(rec: ToolRecord) -> str:
    return f"{rec.name}: {rec.spec.description or rec.spec.summary}"


MIN_PURPOSE_PROBLEMS = 2
"""Fewest problems a tool must have been made for before its purpose words gate it: with one,
a word of the name may be that problem's topic (`range_books`, made from one problem about
books) rather than the tool's purpose."""


def purpose_words(rec: ToolRecord, min_problems: int = MIN_PURPOSE_PROBLEMS) -> frozenset[str]:
    r"""The words (tokens) of `rec`'s name found in every problem it was made for; none when it
    was made for fewer than `min_problems`.

    >>> from library.records import NewTool, Provenance
    >>> from library.store import MemoryStore
    >>> qs = ("Scores: 3, 5. What is the mean of the numbers?", "Hours: 7, 9. Find the mean.")
    >>> src = "def mean(numbers: list) -> float:\n    'Mean.'\n    return 0.0\n"
    >>> prov = Provenance(task_ids=("a", "b"), problems=qs)
    >>> rec = MemoryStore().publish(NewTool("mean", src, provenance=prov)).record
    >>> sorted(purpose_words(rec))
    ['mean']
    """
    problems = rec.problems
    if len(problems) < max(min_problems, 1):
        return frozenset()
    words = set(tokenize(rec.name))
    for p in problems:
        words &= set(tokenize(p))
    return frozenset(words)


@dataclass(frozen=True)
class Hit:
    """One retrieved tool. `score` ranks the hits (the fused view score, re-ranked by past
    success, times `relevance`); `ranks` holds its 1-based rank in each view that found it."""

    name: str
    version: int
    score: float
    relevance: float
    ranks: dict[str, int] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits, or an abstention (`abstained` with no hits) when nothing is relevant."""

    query: str
    hits: tuple[Hit, ...]
    abstained: bool = False
    reason: str = ""

    @property
    def refs(self) -> list[str]:
        return [h.ref for h in self.hits]


class Retriever:
    """Retrieval over the offered tools of a library view. No I/O: feed it records."""

    def __init__(
        self,
        *,
        views: Iterable[str] = VIEWS,
        embedder: Embedder | None = None,
        rrf_k: int = 60,
        depth: int = 50,
        min_relevance: float = 0.2,
        min_words: int = 2,
        unknown_weight: float = 0.25,
        min_dense_similarity: float = 0.5,
        success_weight: float = 0.5,
        max_examples: int = 20,
        min_relative_relevance: float = 0.25,
        min_purpose_problems: int | None = MIN_PURPOSE_PROBLEMS,
    ) -> None:
        self.views = tuple(v for v in views if v != DENSE)
        unknown = set(self.views) - set(VIEWS)
        if unknown:
            raise ValueError(f"unknown retrieval views {sorted(unknown)}: choose from {VIEWS}")
        self.embedder = embedder
        self.rrf_k, self.depth = rrf_k, depth
        self.min_relevance, self.unknown_weight = min_relevance, unknown_weight
        self.min_words = min_words
        self.min_dense_similarity = min_dense_similarity
        self.success_weight = success_weight
        self.max_examples = max_examples
        self.min_relative_relevance = min_relative_relevance
        self.min_purpose_problems = min_purpose_problems  # None: no purpose gate
        self._made_for: dict[str, frozenset[str]] = {}  # name -> its record's purpose words
        self._purpose: dict[str, frozenset[str]] = {}  # ... left after its usage examples
        self._index = {v: LexicalIndex() for v in self.views}
        self._all = LexicalIndex()  # union of a tool's views: statistics for relevance only
        self._versions: dict[str, int] = {}
        self._tokens: dict[str, dict[str, list[str]]] = {}  # name -> view -> its record's tokens
        self._examples: dict[str, list[str]] = {}
        self._example_tokens: dict[str, dict[str, list[str]]] = {}  # name -> example -> tokens
        self._dense_names: list[str] = []
        self._dense_rows: dict[str, int] = {}
        self._dense = np.zeros((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._versions)

    def __contains__(self, name: str) -> bool:
        return name in self._versions

    # ------------------------------------------------------------ updates
    def add(self, rec: ToolRecord) -> None:
        """Offer `rec` (replacing any other version of its name)."""
        self.add_many((rec,))

    def add_many(self, recs: Iterable[ToolRecord]) -> None:
        """Offer each of `recs` (replacing any other version of their names)."""
        batch = list(recs)
        for rec in batch:
            self._versions[rec.name] = rec.version
            texts = tool_views(rec)
            self._tokens[rec.name] = {v: tokenize(texts[v]) for v in self.views}
            gate = self.min_purpose_problems
            self._made_for[rec.name] = purpose_words(rec, gate) if gate is not None else frozenset()
            self._widen_purpose(rec.name)
            self._reindex(rec.name, self.views)
        if self.embedder is not None and batch:
            self._add_dense([r.name for r in batch], [dense_text(r) for r in batch])

    def remove(self, name: str) -> None:
        """Stop offering `name` (retired, deprecated or rejected)."""
        self._versions.pop(name, None)
        self._tokens.pop(name, None)
        self._purpose.pop(name, None)
        self._made_for.pop(name, None)
        for idx in (*self._index.values(), self._all):
            idx.remove(name)

    def add_example(self, name: str, query: str) -> None:
        """Record a query `name` served well; it joins the tool's usage-example view."""
        self.add_examples(((name, query),))

    def add_examples(self, pairs: Iterable[tuple[str, str]]) -> None:
        """`add_example` for each (name, query) pair, re-indexing each tool once at the end
        (the same index as one call per pair, at a fraction of the cost for many)."""
        touched: dict[str, None] = {}
        for name, query in pairs:
            if name not in self._versions:
                continue
            ex = self._examples.setdefault(name, [])
            if query in ex:
                continue
            ex.append(query)
            del ex[: -self.max_examples]
            touched[name] = None
        views = ("examples",) if "examples" in self.views else ()
        for name in touched:
            self._widen_purpose(name)
            self._reindex(name, views)

    def _widen_purpose(self, name: str) -> None:
        """`name`'s purpose words less those a query it served well lacks: it answered that
        query without them, so they are not what it is for."""
        words = self._made_for.get(name, frozenset())
        for q in self._examples.get(name, ()) if words else ():
            words &= set(tokenize(q))
        self._purpose[name] = words

    def _view_tokens(self, name: str) -> dict[str, list[str]]:
        """The tokens of each view of `name`: its record's, plus its usage examples'."""
        out = self._tokens[name]
        examples = self._examples.get(name)
        if "examples" in out and examples:
            cache = self._example_tokens.setdefault(name, {})
            toks = list(out["examples"])
            for q in examples:
                t = cache.get(q)
                if t is None:
                    t = cache[q] = tokenize(q)
                toks.extend(t)
            if len(cache) > 2 * self.max_examples:  # forget examples no longer kept
                self._example_tokens[name] = {q: cache[q] for q in examples}
            out = {**out, "examples": toks}
        return out

    def _reindex(self, name: str, views: Iterable[str]) -> None:
        """Index `name` again in `views` (the others hold its current text already) and in
        the union of its views."""
        tokens = self._view_tokens(name)
        for v in views:
            self._index[v].add(name, tokens[v])
        self._all.add(name, [t for v in self.views for t in tokens[v]])

    def _add_dense(self, names: list[str], texts: list[str]) -> None:
        assert self.embedder is not None
        vecs = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        if self._dense.size == 0:
            self._dense = np.zeros((0, vecs.shape[1]), dtype=np.float32)
        fresh: list[np.ndarray] = []
        for name, vec in zip(names, vecs, strict=True):
            row = self._dense_rows.get(name)
            if row is None:
                self._dense_rows[name] = len(self._dense_names)
                self._dense_names.append(name)
                fresh.append(vec)
            elif row < len(self._dense):
                self._dense[row] = vec
            else:
                fresh[row - len(self._dense)] = vec
        if fresh:
            self._dense = np.vstack([self._dense, np.stack(fresh)])

    def build(self) -> None:
        """Build every index now instead of at the first search."""
        for idx in self._index.values():
            idx.build()

    # ------------------------------------------------------------ search
    def _dense_ranking(self, query: str) -> list[tuple[str, float]]:
        if self.embedder is None or not self._dense_names:
            return []
        q = np.asarray(self.embedder.embed([query]), dtype=np.float32)[0]
        q /= max(float(np.linalg.norm(q)), 1e-12)
        sims = self._dense @ q
        depth = min(len(sims), self.depth * 2)
        top = np.argpartition(-sims, depth - 1)[:depth]
        order = top[np.argsort(-sims[top])]
        out = []
        for i in order:
            name = self._dense_names[int(i)]
            if name in self._versions:
                out.append((name, float(sims[i])))
                if len(out) >= self.depth:
                    break
        return out

    def _query_weights(self, query_tokens: list[str]) -> tuple[dict[int, float], float]:
        """The query side of `relevance`: idf of each known query token, and the total weight
        (unknown tokens count at the largest idf times `unknown_weight`)."""
        idx = self._all
        known = idx.ids(query_tokens)
        if len(known) == 0:
            return {}, 0.0
        n_unknown = sum(t not in idx.vocab for t in set(query_tokens))
        idfs = {t: idx.idf(t) for t in set(known.tolist())}
        max_idf = math.log(1.0 + (len(idx) + 0.5) / 0.5)
        return idfs, sum(idfs.values()) + self.unknown_weight * max_idf * n_unknown

    def _match(self, weights: tuple[dict[int, float], float], name: str) -> tuple[float, int]:
        """The relevance of `name` (see `relevance`) and how many query words it holds."""
        idfs, total = weights
        if not idfs or not total:
            return 0.0, 0
        doc = set(self._all.doc_tokens(name).tolist())
        found = [w for t, w in idfs.items() if t in doc]
        return sum(found) / total, len(found)

    def _relevance(self, weights: tuple[dict[int, float], float], name: str) -> float:
        return self._match(weights, name)[0]

    def relevance(self, query_tokens: list[str], name: str) -> float:
        """idf-weighted share of the query's tokens found in any view of `name` (0..1)."""
        return self._relevance(self._query_weights(query_tokens), name)

    def search(
        self, query: str, k: int = 5, *, experience: ExperienceMemory | None = None
    ) -> SearchResult:
        """Top `k` tools for `query`, fused over views and re-ranked by past success on similar
        queries; abstains when the best hit's relevance is below `min_relevance`, and leaves
        out hits under `min_relative_relevance` times the best hit's relevance."""
        toks = tokenize(query)
        fused: dict[str, float] = {}
        ranks: dict[str, dict[str, int]] = {}
        for view, idx in self._index.items():
            for r, (name, _) in enumerate(idx.search(toks, self.depth), start=1):
                fused[str(name)] = fused.get(str(name), 0.0) + 1.0 / (self.rrf_k + r)
                ranks.setdefault(str(name), {})[view] = r
        dense = dict(self._dense_ranking(query))
        for r, name in enumerate(dense, start=1):
            fused[name] = fused.get(name, 0.0) + 1.0 / (self.rrf_k + r)
            ranks.setdefault(name, {})[DENSE] = r
        if experience is not None and fused:
            for name, (s, f) in experience.tool_evidence(query).items():
                if name in fused:
                    fused[name] *= 1.0 + self.success_weight * (s - f) / (s + f + 1.0)
        qwords = set(toks)
        # a tool whose purpose words the query lacks is not offered (`purpose_words`)
        missing = {n: m for n in fused if (m := self._purpose.get(n, frozenset()) - qwords)}
        ranked = sorted((n for n in fused if n not in missing), key=lambda n: (-fused[n], n))
        pool = ranked[: max(k, 1) * 6]
        weights = self._query_weights(toks)  # once per query, not per hit
        words = len(set(toks))
        needed = min(self.min_words, math.ceil(words / 2))
        held_parts = self._segment_matches(query, pool)
        hits, evidence = [], False
        for name in pool:
            rel, held = self._match(weights, name)
            for r, h in held_parts.get(name, ()):  # a segment this tool alone holds best
                if h >= self.min_words and r > rel:
                    rel, held = r, max(held, h)
            semantic = dense.get(name, -1.0) >= self.min_dense_similarity
            if semantic:
                rel = max(rel, dense[name])
            evidence |= rel >= self.min_relevance and (semantic or held >= needed)
            score = fused[name] * rel
            hits.append(Hit(name, self._versions[name], score, rel, ranks.get(name, {})))
        hits.sort(key=lambda h: (-h.score, h.name))
        if not evidence:
            best = max((h.relevance for h in hits), default=0.0)
            if not hits and missing:
                name = min(missing, key=lambda n: (-fused[n], n))
                why = (
                    f"the query lacks {', '.join(sorted(missing[name]))}, a purpose word of "
                    f"{name} (of its name, and in every problem it was made for)"
                )
            elif not hits:
                why = "no tool matches the query"
            elif best < self.min_relevance:
                why = f"best relevance {best:.2f} < {self.min_relevance}"
            else:
                why = f"no tool holds {needed} of the query's {words} words"
            return SearchResult(query, (), True, why)
        top = max(h.relevance for h in hits)
        kept = [h for h in hits if h.relevance >= self.min_relative_relevance * top]
        return SearchResult(query, tuple(kept[:k]))

    def _segment_matches(
        self, query: str, pool: Sequence[str]
    ) -> dict[str, list[tuple[float, int]]]:
        """Per tool of `pool`, (relevance, words held) on each segment of `query` that it holds
        better than every other tool of the pool does. A segment another tool holds as well
        (a preamble such as "There is a basket of no more than 500 bananas.") says nothing
        about which tool the query wants."""
        out: dict[str, list[tuple[float, int]]] = {}
        for part in (self._query_weights(t) for t in query_segments(query)):
            matches = {name: self._match(part, name) for name in pool}
            ranked = sorted(matches.items(), key=lambda kv: -kv[1][0])
            if not ranked or ranked[0][1][0] <= 0.0:
                continue
            if len(ranked) > 1 and ranked[1][1][0] >= ranked[0][1][0]:
                continue
            out.setdefault(ranked[0][0], []).append(ranked[0][1])
        return out


SEGMENT_BREAK = re.compile(r"\n+|(?<=[.?!:;])\s+")
MIN_SEGMENT_WORDS = 3


def query_segments(query: str) -> list[list[str]]:
    """The tokens of each segment of a query (split at line breaks and after ``.?!:;``) with at
    least `MIN_SEGMENT_WORDS` distinct words; [] for a query of one segment. Relevance is the
    idf-weighted share of the query held by a tool, so a long payload (a list of rare words, a
    table) dilutes the instruction beside it: the real 0.5B's word-sorting problems with 20+
    words got relevance 0.17 from the sorting tool, and no tool was offered. A segment counts
    only when the tool holds `Retriever.min_words` of its words."""
    pieces = [tokenize(p) for p in SEGMENT_BREAK.split(prose(query)) if p.strip()]
    segments = [t for t in pieces if len(set(t)) >= MIN_SEGMENT_WORDS]
    return segments if len(pieces) > 1 else []


def build_retriever(
    store: Store,
    *,
    lock: Lock | None = None,
    experience: ExperienceMemory | None = None,
    **options: object,
) -> Retriever:
    """A retriever over the store's active tools (or exactly a lock's tools), with the queries
    of successful episodes as usage examples when `experience` is given."""
    recs = store.pinned(lock) if lock is not None else store.list(statuses=[Status.ACTIVE])
    retriever = Retriever(**options)  # type: ignore[arg-type]
    retriever.add_many(recs)
    if experience is not None:
        experience.refresh()
        for ep in experience.store.episodes(success=True):
            ref = ep.tool_ref()
            if ref is not None and retriever._versions.get(ref[0]) == ref[1]:
                retriever.add_example(ref[0], ep.query)
    return retriever


def recall_at_k(
    retriever: Retriever,
    pairs: Sequence[tuple[str, str]],
    k: int = 5,
    experience: ExperienceMemory | None = None,
) -> float:
    """Share of (query, expected tool name) pairs whose tool is among the top `k` hits."""
    if not pairs:
        return 0.0
    found = 0
    for query, expected in pairs:
        names = [h.name for h in retriever.search(query, k, experience=experience).hits]
        found += expected in names
    return found / len(pairs)


def evaluate_views(
    records: Sequence[ToolRecord],
    pairs: Sequence[tuple[str, str]],
    k: int = 5,
    *,
    embedder: Embedder | None = None,
    **options: object,
) -> dict[str, float]:
    """recall@k with every view, with each view alone, and without each view.

    Keys: `all`, `only:<view>`, `without:<view>` (and `dense` views when an embedder is given).
    """

    def run(views: Sequence[str], emb: Embedder | None) -> float:
        r = Retriever(views=views, embedder=emb, **options)  # type: ignore[arg-type]
        r.add_many(records)
        return recall_at_k(r, pairs, k)

    out = {"all": run(VIEWS, embedder)}
    for v in VIEWS:
        out[f"only:{v}"] = run([v], None)
        out[f"without:{v}"] = run([x for x in VIEWS if x != v], embedder)
    if embedder is not None:
        out["lexical"] = run(VIEWS, None)
        out[f"only:{DENSE}"] = run([], embedder)
    return out
