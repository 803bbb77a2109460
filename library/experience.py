"""Experience memory for STE-style replay: similar successes, per-tool failures, tool evidence.

`ExperienceMemory` reads episodes from a store (incrementally, by id) and indexes their queries
lexically. Nothing here calls a model or runs a tool.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from library.lexical import LexicalIndex, jaccard, tokenize
from library.records import Episode
from library.store.base import Store


def render_episode(ep: Episode, max_value_chars: int = 300) -> str:
    """A compact, prompt-ready text of one episode."""
    lines = [f"Query: {ep.query}"]
    if ep.call.tool:
        args = json.dumps(ep.call.arguments, sort_keys=True, ensure_ascii=False)
        lines.append(f"Call: {ep.call.tool} {args}")
    elif ep.call.program:
        lines.append(f"Program:\n{ep.call.program}")
    if ep.result:
        if ep.result.get("ok", True):
            value = json.dumps(ep.result.get("value"), ensure_ascii=False)
            lines.append(f"Result: {value[:max_value_chars]}")
        else:
            err = ep.result.get("error") or {}
            lines.append(
                f"Error: {err.get('type', 'error')}: {str(err.get('message', ''))[:max_value_chars]}"
            )
    if ep.answer is not None:
        lines.append(f"Answer: {ep.answer}")
    if ep.success is False and ep.expected is not None:
        lines.append(f"Expected: {ep.expected}")
    if ep.feedback:
        lines.append(f"Feedback: {ep.feedback}")
    return "\n".join(lines)


def is_failure(ep: Episode) -> bool:
    """A call that errored, or whose answer was judged wrong."""
    return ep.success is False or (bool(ep.result) and ep.result.get("ok") is False)


@dataclass(frozen=True)
class Replay:
    """What to show a model for a new query: similar successes, per-tool failure memory and,
    for a failure whose problem was later solved with the same tool, that success
    (`corrections`, by the failure's id)."""

    examples: tuple[Episode, ...] = ()
    failures: dict[str, tuple[Episode, ...]] = field(default_factory=dict)
    corrections: dict[int, Episode] = field(default_factory=dict)

    def render(self) -> str:
        parts = []
        if self.examples:
            parts.append(
                "Worked examples:\n\n" + "\n\n".join(render_episode(e) for e in self.examples)
            )
        for tool, eps in self.failures.items():
            if eps:
                body = "\n\n".join(render_episode(e) for e in eps)
                parts.append(f"Known failures of {tool}:\n\n{body}")
        return "\n\n".join(parts)


RANK_DEPTH = 50
"""How deep a query's ranking of past episodes is kept for the next ask of the same query."""


PITFALL_NEARNESS = 0.5
"""A failure is replayed for a problem only when its own problem is at least this share as close
to it (word overlap) as the nearest problem the tool was made for (see `ExperienceMemory.replay`)."""


def _name(ref: str) -> str:
    return ref.partition("@")[0]


def tools_of(ep: Episode) -> tuple[str, ...]:
    """The tool names an episode's code used: the called tool, or the tools a program's run
    logged (``result["calls"]``)."""
    if ep.call.tool:
        return (_name(ep.call.tool),)
    calls = ep.result.get("calls") if ep.result else None
    return tuple(dict.fromkeys(_name(str(c)) for c in calls or ()))


SCAN = 50
"""Most recent successes (failures) of one tool looked at when the index has none ranked."""


class ExperienceMemory:
    """Episodes of one store, indexed for replay. Call `refresh()` to read new episodes."""

    def __init__(self, store: Store, *, max_per_tool: int = 2, near_duplicate: float = 0.7) -> None:
        self.store = store
        self.max_per_tool = max_per_tool
        self.near_duplicate = near_duplicate
        self._episodes: dict[int, Episode] = {}
        self._failures: dict[str, list[int]] = defaultdict(list)  # "name" and "name@N" -> ids
        self._successes: dict[str, list[int]] = defaultdict(list)  # tool name -> ids
        self._solved: dict[str, list[int]] = defaultdict(list)  # query text -> success ids
        self._index = LexicalIndex(min_delta=256)
        self._last_id = 0
        # the last query's ranking, at RANK_DEPTH, while no episode was added since: a solver
        # asks tool_evidence, then similar, for the same query (one index search, not two)
        self._last_ranking: tuple[str, list[tuple[Episode, float]]] | None = None

    def __len__(self) -> int:
        return len(self._episodes)

    def refresh(self) -> list[Episode]:
        """Read the episodes recorded since the last refresh; returns them."""
        new = self.store.episodes(after_id=self._last_id)
        for ep in new:
            assert ep.id is not None
            self._last_id = max(self._last_id, ep.id)
            self._episodes[ep.id] = ep
            if ep.success is not None or is_failure(ep):
                self._index.add(ep.id, tokenize(ep.query))
                self._last_ranking = None
            ref = ep.tool_ref()
            if ref is not None and is_failure(ep):
                self._failures[ref[0]].append(ep.id)
                self._failures[f"{ref[0]}@{ref[1]}"].append(ep.id)
            if ep.success is True:
                for name in tools_of(ep):
                    self._successes[name].append(ep.id)
                self._solved[ep.query.strip()].append(ep.id)
        return new

    def successes(self) -> list[Episode]:
        """Every successful episode read so far, oldest first."""
        return [e for e in self._episodes.values() if e.success is True]

    def _ranked(self, query: str, k: int) -> list[tuple[Episode, float]]:
        last = self._last_ranking
        if k <= RANK_DEPTH and last is not None and last[0] == query:
            return last[1][:k]
        depth = max(k, RANK_DEPTH)
        found = self._index.search(tokenize(query), depth)
        ranked = [(self._episodes[int(i)], s) for i, s in found]  # type: ignore[call-overload]
        self._last_ranking = (query, ranked)
        return ranked[:k]

    def _token_set(self, ep: Episode) -> set[int]:
        """The query's tokens (as the index's ids) of an indexed episode."""
        assert ep.id is not None
        return set(self._index.doc_tokens(ep.id).tolist())

    def similar(self, query: str, *, k: int = 4, budget_chars: int = 2000) -> list[Episode]:
        """The most similar successful episodes, diverse (at most `max_per_tool` per tool, no
        near-duplicate queries) and together within `budget_chars` of rendered text."""
        chosen: list[Episode] = []
        seen_tokens: list[set[int]] = []
        per_tool: dict[str, int] = defaultdict(int)
        used = 0
        for ep, _ in self._ranked(query, max(50, 10 * k)):
            if len(chosen) >= k:
                break
            if ep.success is not True:
                continue
            tool = ep.call.tool or "<program>"
            if per_tool[tool] >= self.max_per_tool:
                continue
            toks = self._token_set(ep)
            if any(jaccard(toks, s) >= self.near_duplicate for s in seen_tokens):
                continue
            size = len(render_episode(ep))
            if used + size > budget_chars:
                continue
            chosen.append(ep)
            seen_tokens.append(toks)
            per_tool[tool] += 1
            used += size
        return chosen

    def demonstrations(
        self,
        query: str,
        tools: Sequence[str],
        *,
        k: int = 4,
        budget_chars: int = 2000,
        offered_only: bool = True,
    ) -> list[Episode]:
        """Successes for `query` with the offered `tools` (names or ``name@N``): first the most
        similar one of each tool that has any (a per-tool quota, so tools with many recorded
        successes cannot crowd out the others), then the most similar of the rest (with
        `offered_only`, only successes that used the offered tools alone); diverse (at most
        `max_per_tool` per tool, no near-duplicate queries), at most `k`, together within
        `budget_chars` of rendered text."""
        names = list(dict.fromkeys(_name(t) for t in tools))
        allowed = set(names)
        ranked = [
            (ep, score)
            for ep, score in self._ranked(query, max(50, 10 * k))
            if ep.success is True
            and (not offered_only or (tools_of(ep) and set(tools_of(ep)) <= allowed))
        ]
        qtoks = set(tokenize(query))
        quota: list[tuple[float, Episode]] = []
        for name in names:
            best = next((ep for ep, _ in ranked if ep.call.tool and tools_of(ep) == (name,)), None)
            if best is None:  # none of its successes is ranked: the most alike of its newest
                recent = [self._episodes[i] for i in self._successes.get(name, [])[-SCAN:]]
                recent = [e for e in recent if e.call.tool]
                if recent:
                    best = max(
                        reversed(recent), key=lambda e: jaccard(qtoks, set(tokenize(e.query)))
                    )
            if best is not None:
                quota.append((jaccard(qtoks, set(tokenize(best.query))), best))
        quota.sort(key=lambda item: -item[0])
        chosen: list[Episode] = []
        seen_tokens: list[set[str]] = []
        per_tool: dict[str, int] = defaultdict(int)
        used = 0
        for ep in [e for _, e in quota] + [e for e, _ in ranked]:
            if len(chosen) >= k:
                break
            tool = ep.call.tool or "<program>"
            if ep in chosen or per_tool[tool] >= self.max_per_tool:
                continue
            toks = set(tokenize(ep.query))
            if any(jaccard(toks, s) >= self.near_duplicate for s in seen_tokens):
                continue
            size = len(render_episode(ep))
            if used + size > budget_chars:
                continue
            chosen.append(ep)
            seen_tokens.append(toks)
            per_tool[tool] += 1
            used += size
        return chosen

    def correction(self, failure: Episode) -> Episode | None:
        """A later success on the same query with the same tool: how the failure was fixed."""
        names = set(tools_of(failure))
        for eid in reversed(self._solved.get(failure.query.strip(), [])):
            ep = self._episodes[eid]
            if failure.id is not None and eid <= failure.id:
                break
            if not names or names & set(tools_of(ep)):
                return ep
        return None

    def has_failures(self, tool: str) -> bool:
        """Whether any failure of `tool` (`name` or `name@N`) is recorded."""
        return bool(self._failures.get(tool))

    def failures(
        self,
        tool: str,
        *,
        limit: int = 3,
        budget_chars: int = 1000,
        query: str | None = None,
        min_similarity: float = 0.0,
    ) -> list[Episode]:
        """Failures of `tool` (`name` or `name@N`), distinct calls, within the budget: newest
        first or, given a `query`, those later corrected first, then the most similar, leaving
        out those whose problem shares less than `min_similarity` of its words with it."""
        ids = list(reversed(self._failures.get(tool, [])))
        if query is not None:
            qtoks = set(tokenize(query))
            recent = [self._episodes[i] for i in ids[:SCAN]]
            if min_similarity > 0:
                recent = [
                    e for e in recent if jaccard(qtoks, set(tokenize(e.query))) >= min_similarity
                ]
            recent.sort(
                key=lambda e: (
                    self.correction(e) is None,
                    -jaccard(qtoks, set(tokenize(e.query))),
                )
            )  # stable: newest first among equals
            ids = [e.id for e in recent if e.id is not None]
        out: list[Episode] = []
        seen: set[str] = set()
        used = 0
        for eid in ids:
            ep = self._episodes[eid]
            key = json.dumps([ep.call.tool, ep.call.arguments], sort_keys=True, default=str)
            size = len(render_episode(ep))
            if key in seen or used + size > budget_chars:
                continue
            seen.add(key)
            out.append(ep)
            used += size
            if len(out) >= limit:
                break
        return out

    def replay(
        self,
        query: str,
        tools: Sequence[str] = (),
        *,
        k: int = 4,
        budget_chars: int = 3000,
        failures_per_tool: int = 1,
        offered_only: bool = False,
        made_for: Mapping[str, Sequence[str]] | None = None,
    ) -> Replay:
        """Demonstrations (two thirds of the budget; with `tools`, at least one of each tool
        that has a success, and with `offered_only` none of other tools: see `demonstrations`)
        and, per offered tool, up to `failures_per_tool` failures (a corrected, similar one
        first) with their corrections.

        `made_for` gives a tool's own problems (those it was made for): a failure of that tool
        is shown only when its problem is at least `PITFALL_NEARNESS` as close to `query` as
        the nearest of them. A failure on a problem the tool is not for teaches nothing about
        this one: the real 1.5B imagined "a room divided into 4 equal parts" problems for a
        remainder solver, and the 0.5B, shown its failed call there, copied its shape."""
        if tools:
            examples = self.demonstrations(
                query, tools, k=k, budget_chars=budget_chars * 2 // 3, offered_only=offered_only
            )
        else:
            examples = self.similar(query, k=k, budget_chars=budget_chars * 2 // 3)
        per_tool = (budget_chars // 3) // max(1, len(tools))
        qtoks = set(tokenize(query))

        def nearness(tool: str) -> float:
            own = (made_for or {}).get(tool) or ()
            best = max((jaccard(qtoks, set(tokenize(p))) for p in own), default=0.0)
            return PITFALL_NEARNESS * best

        fails = {
            t: tuple(
                self.failures(
                    t,
                    limit=failures_per_tool,
                    budget_chars=per_tool,
                    query=query,
                    min_similarity=nearness(t),
                )
            )
            for t in tools
        }
        fixes = {
            ep.id: fix
            for eps in fails.values()
            for ep in eps
            if ep.id is not None and (fix := self.correction(ep)) is not None
        }
        return Replay(tuple(examples), {t: f for t, f in fails.items() if f}, fixes)

    def tool_evidence(self, query: str, *, k: int = 30) -> dict[str, tuple[float, float]]:
        """Per tool name, similarity-weighted (successes, failures) on episodes like `query`."""
        ranked = self._ranked(query, k)
        if not ranked:
            return {}
        top = ranked[0][1] or 1.0
        out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for ep, score in ranked:
            ref = ep.tool_ref()
            if ref is None:
                continue
            w = score / top
            if ep.success is True:
                out[ref[0]][0] += w
            elif is_failure(ep):
                out[ref[0]][1] += w
        return {name: (s, f) for name, (s, f) in out.items()}
