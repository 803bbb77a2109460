"""Tokenizing and an incrementally updatable BM25 index (bm25s underneath).

bm25s builds an immutable index; `LexicalIndex` keeps a large *base* segment built once and a
small *delta* segment of documents added since, extended with each new document at the next
search and folded into the base when it grows past a fraction of it. Removed documents are masked, not rebuilt.
Scores of the two segments use their own statistics; that is the price of cheap updates.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import bm25s
import numpy as np

STOPWORDS = frozenset(
    """a an and are as at be by do does for from has have how i if in into is it its of on or
    that the their then there these this to was what when where which who whose will with
    you your we our can given find compute calculate get return returns value values using use
    than many much""".split()
)

FIGURE = re.compile(
    r"\[asy\].*?(?:\[/asy\]|$)|\\begin\{(tikzpicture|picture)\}.*?(?:\\end\{\1\}|$)",
    re.S | re.I,
)
"""Figure markup in a problem's text (Asymptote's `[asy]` blocks, TikZ and LaTeX pictures): drawing
code, not words of the problem. Left in, it made a cylinder tool the best match of 8 MATH
problems that have a figure and no cylinder: their `draw`, `label` and `dot` lines matched the
figure code of the problems the tool was made for, at relevance 0.76."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _stem(tok: str) -> str:
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
        return tok[:-1]
    return tok


def jaccard(a: set[str], b: set[str]) -> float:
    """Word-set overlap: shared over all (1.0 for two empty sets)."""
    return len(a & b) / len(a | b) if a or b else 1.0


def prose(text: str) -> str:
    """`text` without its figure markup (`FIGURE`); `text` itself, unscanned, when it cannot
    hold any (tokenize runs on every query and tool view)."""
    if "[" not in text and "\\begin" not in text:
        return text
    return FIGURE.sub(" ", text)


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens, snake_case and camelCase split, stopwords and numbers dropped;
    figure markup (`FIGURE`) is not read.

    >>> tokenize("computeGCDOfNumbers and lcm_values")
    ['gcd', 'number', 'lcm']
    """
    out: list[str] = []
    for word in _WORD.findall(prose(text).replace("_", " ")):
        out.extend(_word_tokens(word))
    return out


@functools.lru_cache(maxsize=200_000)
def _word_tokens(word: str) -> tuple[str, ...]:
    out = []
    for part in _CAMEL.sub(" ", word).split():
        tok = _stem(part.lower())
        if len(tok) > 1 and tok not in STOPWORDS:
            out.append(tok)
    return tuple(out)


SPARSE_FACTOR = 8
"""`_top` scores only the documents a query's postings touch when those postings are under
1/SPARSE_FACTOR of the segment's documents."""


@dataclass
class _Segment:
    first: int  # global doc number of the segment's first document
    n: int
    cols: dict[int, int]  # global token id -> column in this segment's matrix
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray


@dataclass
class _Delta:
    """Recent documents scored with the index-wide statistics, so they rank fairly with the base.

    Postings keep raw term frequencies and document lengths, appended as documents arrive; the
    BM25 tf component is worked out at query time with the current average length, so adding
    a document costs only its own tokens (no rebuild of the whole delta)."""

    first: int
    n: int = 0
    postings: dict[int, tuple[list[int], list[int], list[int]]] = field(default_factory=dict)
    # token -> (local docs, term frequencies, document lengths)

    def extend(self, docs: list[np.ndarray]) -> None:
        for doc in docs:
            local = self.n
            self.n += 1
            if len(doc) == 0:
                continue
            for t, tf in Counter(doc.tolist()).items():
                d, f, lens = self.postings.setdefault(t, ([], [], []))
                d.append(local)
                f.append(tf)
                lens.append(len(doc))

    def weights(
        self, token: int, avgdl: float, k1: float, b: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(local docs, tf component) of `token` under the current average length."""
        d, f, lens = self.postings[token]
        tf = np.asarray(f, dtype=np.float64)
        norm = k1 * ((1 - b) + b * np.asarray(lens, dtype=np.float64) / avgdl)
        return np.asarray(d, dtype=np.int64), tf / (norm + tf)


def _build(first: int, docs: list[np.ndarray], k1: float, b: float) -> _Segment:
    cols: dict[int, int] = {}
    local = []
    for d in docs:
        local.append([cols.setdefault(int(t), len(cols)) for t in d])
    if not cols:  # bm25s needs one token at least
        cols[-1] = 0
        local = [[0] for _ in docs]
    model = bm25s.BM25(k1=k1, b=b)
    model.index(
        (local, {t: c for t, c in cols.items()}), show_progress=False, create_empty_token=False
    )
    s = model.scores
    return _Segment(first, len(docs), cols, s["data"], s["indices"], s["indptr"])


def _top(
    docs: np.ndarray, weights: np.ndarray, alive: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sum `weights` per document over a segment of `len(alive)` documents, drop removed ones
    and return the `k` best (unsorted) with their scores.

    BM25 scores tie a lot, which makes a full `argpartition` slow; instead, lower a threshold
    from the maximum until at least `k` documents pass, then select among those few. When the
    postings touch few of the segment's documents, only those are scored (the same sums,
    without passes over every document of a large segment).
    """
    if len(docs) * SPARSE_FACTOR < len(alive):
        found, slot = np.unique(docs, return_inverse=True)
        sums = np.bincount(slot, weights=weights, minlength=len(found)) * alive[found]
        live = sums > 0.0
        found, sums = found[live], sums[live]
        if len(found) > k:
            best = np.argpartition(sums, len(found) - k)[len(found) - k :]
            found, sums = found[best], sums[best]
        return found, sums
    scores = np.bincount(docs, weights=weights, minlength=len(alive))
    scores *= alive
    best = float(scores.max()) if len(scores) else 0.0
    if best <= 0.0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    threshold = best * 0.5
    while True:
        cand = np.flatnonzero(scores >= threshold)
        if len(cand) >= k or threshold <= best * 1e-4:
            break
        threshold *= 0.25
    if len(cand) < k:
        cand = np.flatnonzero(scores > 0.0)
    if len(cand) > k:
        cand = cand[np.argpartition(scores[cand], len(cand) - k)[len(cand) - k :]]
    return cand, scores[cand]


class LexicalIndex:
    """BM25 over documents keyed by any hashable; `add` replaces a key's document."""

    def __init__(
        self,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        delta_fraction: float = 0.1,
        min_delta: int = 512,
        max_df_fraction: float = 0.2,
    ) -> None:
        self.k1, self.b = k1, b
        self.delta_fraction, self.min_delta = delta_fraction, min_delta
        self.max_df_fraction = max_df_fraction
        self.vocab: dict[str, int] = {}
        self._df: list[int] = []
        self._docs: list[np.ndarray] = []  # token ids per global doc number
        self._keys: list[Hashable] = []
        self._alive: list[bool] = []
        self._where: dict[Hashable, int] = {}
        self._base: _Segment | None = None
        self._delta: _Delta | None = None
        self._total_len = 0
        self._alive_np = np.zeros(0, dtype=np.float64)
        self._avgdl = 1.0
        self._compacted = False
        self._dirty = True

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._where

    def ids(self, tokens: Iterable[str], *, grow: bool = False) -> np.ndarray:
        out = []
        for t in tokens:
            i = self.vocab.get(t)
            if i is None and grow:
                i = self.vocab[t] = len(self.vocab)
                self._df.append(0)
            if i is not None:
                out.append(i)
        return np.asarray(out, dtype=np.int32)

    def add(self, key: Hashable, tokens: list[str]) -> None:
        """Index `tokens` under `key`, replacing any earlier document of that key."""
        self.remove(key)
        doc = self.ids(tokens, grow=True)
        for t in set(doc.tolist()):
            self._df[t] += 1
        self._total_len += len(doc)
        self._where[key] = len(self._docs)
        self._docs.append(doc)
        self._keys.append(key)
        self._alive.append(True)
        self._dirty = True

    def remove(self, key: Hashable) -> None:
        n = self._where.pop(key, None)
        if n is None:
            return
        self._alive[n] = False
        self._total_len -= len(self._docs[n])
        for t in set(self._docs[n].tolist()):
            self._df[t] -= 1
        if n < len(self._alive_np):
            self._alive_np[n] = 0.0

    def doc_tokens(self, key: Hashable) -> np.ndarray:
        return self._docs[self._where[key]]

    def idf(self, token_id: int) -> float:
        n, df = len(self._where), self._df[token_id]
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _refresh(self) -> None:
        if not self._dirty:
            return
        total = len(self._docs)
        base_n = self._base.n if self._base else 0
        if self._base is None or total - base_n > max(self.min_delta, self.delta_fraction * base_n):
            self._compact()
            base_n = len(self._docs)
        self._avgdl = max(self._total_len / max(len(self._where), 1), 1.0)
        if self._delta is None or self._compacted or self._delta.first != base_n:
            self._delta = _Delta(base_n)
        self._delta.extend(self._docs[base_n + self._delta.n :])  # only the new documents
        known = len(self._alive_np)
        if known > total or self._compacted:  # 1.0 live, 0.0 removed
            self._alive_np = np.asarray(self._alive, dtype=np.float64)
        elif known < total:
            tail = np.asarray(self._alive[known:], dtype=np.float64)
            self._alive_np = np.concatenate([self._alive_np, tail])
        self._compacted = False
        self._dirty = False

    def _compact(self) -> None:
        """Drop removed documents and rebuild the base segment over everything."""
        keep = [i for i, a in enumerate(self._alive) if a]
        self._docs = [self._docs[i] for i in keep]
        self._keys = [self._keys[i] for i in keep]
        self._alive = [True] * len(keep)
        self._compacted = True
        self._where = {k: i for i, k in enumerate(self._keys)}
        self._base = _build(0, self._docs, self.k1, self.b) if self._docs else None

    def build(self) -> None:
        """Build now rather than at the first search (for timing an open)."""
        self._refresh()

    def search(self, tokens: list[str], k: int = 10) -> list[tuple[Hashable, float]]:
        """The `k` best live documents for the query tokens, best first, with their scores."""
        self._refresh()
        qids = self.ids(tokens)
        if len(qids) == 0 or not self._where:
            return []
        # Tokens in most documents barely move BM25 but cost the most: skip them when the
        # query has rarer tokens to rank by.
        limit = self.max_df_fraction * len(self._where)
        rare = [t for t in set(qids.tolist()) if self._df[t] <= limit]
        qids = np.asarray(rare, dtype=np.int32) if rare else qids
        parts_s, parts_i = [], []
        seg = self._base
        if seg is not None:
            cols = [seg.cols[t] for t in qids.tolist() if t in seg.cols]
            if cols:
                idx = np.concatenate([seg.indices[seg.indptr[c] : seg.indptr[c + 1]] for c in cols])
                w = np.concatenate([seg.data[seg.indptr[c] : seg.indptr[c + 1]] for c in cols])
                hits, sc = _top(idx, w, self._alive_np[: seg.n], k)
                parts_i.append(hits + seg.first)
                parts_s.append(sc)
        delta = self._delta
        if delta is not None and delta.n:
            found = [
                (t, delta.weights(t, self._avgdl, self.k1, self.b))
                for t in qids.tolist()
                if t in delta.postings
            ]
            if found:
                idx = np.concatenate([d for _, (d, _) in found])
                w = np.concatenate([tfc * self.idf(t) for t, (_, tfc) in found])
                alive = self._alive_np[delta.first : delta.first + delta.n]
                hits, sc = _top(idx, w, alive, k)
                parts_i.append(hits + delta.first)
                parts_s.append(sc)
        if not parts_i:
            return []
        docs = np.concatenate(parts_i)
        scores = np.concatenate(parts_s)
        order = np.lexsort((docs, -scores))[:k]
        return [(self._keys[int(docs[i])], float(scores[i])) for i in order]
