"""The cost ledger: one entry per model call, thread-safe totals, optional JSONL persistence."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from maker.llm.prices import PriceTable
from maker.llm.types import ChatResponse, Usage

Pricing = Literal["table", "local", "cache", "unknown", "failed"]
"""How an entry's dollars were set: from the price table, free local endpoint, cache hit
(free), a model missing from the table (0, flagged), or a call that failed (0)."""

GroupBy = Literal["phase", "role", "model"]


@dataclass(frozen=True)
class LedgerEntry:
    """One model call as the ledger records it.

    Token counts are the tokens billed by this call: zero for a cache hit and for a failure.
    """

    role: str
    phase: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    latency_s: float
    cache_hit: bool
    attempts: int
    dollars: float
    pricing: Pricing
    usage_reported: bool = True
    error: str | None = None
    timestamp: float = field(default_factory=time.time)
    compute_s: float | None = None

    @property
    def seconds(self) -> float:
        """The call's cost in seconds (`ChatResponse.seconds`)."""
        return self.compute_s if self.compute_s is not None else self.latency_s


@dataclass(frozen=True)
class Totals:
    """Sums over a group of entries."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    dollars: float = 0.0
    cache_hits: int = 0
    attempts: int = 0
    errors: int = 0
    unpriced: int = 0
    usage_missing: int = 0
    latency_s: float = 0.0
    seconds: float = 0.0
    """Sum of each call's cost in seconds: the server's compute where it reports it (calls in
    flight together on the engine's local server), else latency (`LedgerEntry.seconds`)."""

    def add(self, e: LedgerEntry) -> Totals:
        return Totals(
            calls=self.calls + 1,
            prompt_tokens=self.prompt_tokens + e.prompt_tokens,
            completion_tokens=self.completion_tokens + e.completion_tokens,
            cached_tokens=self.cached_tokens + e.cached_tokens,
            dollars=self.dollars + e.dollars,
            cache_hits=self.cache_hits + int(e.cache_hit),
            attempts=self.attempts + e.attempts,
            errors=self.errors + int(e.error is not None),
            unpriced=self.unpriced + int(e.pricing == "unknown"),
            usage_missing=self.usage_missing + int(not e.usage_reported),
            latency_s=self.latency_s + e.latency_s,
            seconds=self.seconds + e.seconds,
        )


def price_call(
    prices: PriceTable,
    model: str,
    usage: Usage,
    *,
    local: bool,
    cache_hit: bool,
    latency_s: float = 0.0,
    price_per_hour: float = 0.0,
) -> tuple[float, Pricing]:
    """Dollars for one call and how they were set (see `Pricing`).

    A local call costs `latency_s` (pass its `ChatResponse.seconds`) at the machine's
    `price_per_hour` (0 by default).
    """
    if cache_hit:
        return 0.0, "cache"
    if local:
        return max(0.0, latency_s) * price_per_hour / 3600.0, "local"
    price = prices.lookup(model)
    if price is None:
        return 0.0, "unknown"
    return price.cost(usage), "table"


class CostLedger:
    """Records every call; safe to share between threads.

    Args:
        path: a JSONL file to append each entry to (created if missing), or None.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._entries: list[LedgerEntry] = []
        self._total = Totals()  # kept as entries are added: the progress bar asks every step
        self._lock = threading.Lock()

    def record(self, entry: LedgerEntry) -> LedgerEntry:
        """Add one entry (and append it to the JSONL file, if any)."""
        with self._lock:
            self._entries.append(entry)
            self._total = self._total.add(entry)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
        return entry

    def record_response(
        self,
        response: ChatResponse,
        *,
        role: str,
        phase: str,
        model: str,
        prices: PriceTable,
        local: bool,
        price_per_hour: float = 0.0,
    ) -> LedgerEntry:
        """Price `response` and record it. `model` is the requested model name; local calls
        cost their wall time at `price_per_hour`."""
        dollars, pricing = price_call(
            prices,
            model,
            response.usage,
            local=local,
            cache_hit=response.cache_hit,
            latency_s=response.seconds,
            price_per_hour=price_per_hour,
        )
        if pricing == "unknown" and response.model and response.model != model:
            dollars, pricing = price_call(
                prices, response.model, response.usage, local=local, cache_hit=False
            )
        # A cache hit bills nothing: its tokens were counted when the answer was first bought.
        usage = Usage(reported=response.usage.reported) if response.cache_hit else response.usage
        return self.record(
            LedgerEntry(
                role=role,
                phase=phase,
                model=model,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cached_tokens=usage.cached_tokens,
                latency_s=response.latency_s,
                cache_hit=response.cache_hit,
                attempts=response.attempts,
                dollars=dollars,
                pricing=pricing,
                usage_reported=usage.reported,
                compute_s=None if response.cache_hit else response.compute_s,
            )
        )

    def record_failure(
        self, *, role: str, phase: str, model: str, attempts: int, latency_s: float, error: str
    ) -> LedgerEntry:
        """Record a call that failed after `attempts` requests (no tokens known, no dollars)."""
        return self.record(
            LedgerEntry(
                role=role,
                phase=phase,
                model=model,
                prompt_tokens=0,
                completion_tokens=0,
                cached_tokens=0,
                latency_s=latency_s,
                cache_hit=False,
                attempts=attempts,
                dollars=0.0,
                pricing="failed",
                usage_reported=False,
                error=error,
            )
        )

    @property
    def entries(self) -> list[LedgerEntry]:
        """A copy of the entries, in recording order."""
        with self._lock:
            return list(self._entries)

    def total(self) -> Totals:
        """Sums over every entry."""
        with self._lock:
            return self._total

    def totals(self, by: GroupBy = "phase") -> dict[str, Totals]:
        """Sums per phase, role or model."""
        groups: dict[str, Totals] = {}
        for e in self.entries:
            key = getattr(e, by)
            groups[key] = groups.get(key, Totals()).add(e)
        return groups

    def unpriced_models(self) -> set[str]:
        """Models called but missing from the price table (their dollars are counted as 0)."""
        return {e.model for e in self.entries if e.pricing == "unknown"}

    @classmethod
    def load(cls, path: str | Path) -> CostLedger:
        """A ledger holding the entries of a JSONL file (new entries append to it)."""
        ledger = cls(path)
        p = Path(path)
        if p.exists():
            with p.open(encoding="utf-8") as f:
                ledger._entries = [_entry(json.loads(line)) for line in f if line.strip()]
            ledger._total = _sum(ledger._entries)
        return ledger


def _entry(data: dict[str, Any]) -> LedgerEntry:
    known = LedgerEntry.__dataclass_fields__
    return LedgerEntry(**{k: v for k, v in data.items() if k in known})


def _sum(entries: Iterable[LedgerEntry]) -> Totals:
    total = Totals()
    for e in entries:
        total = total.add(e)
    return total
