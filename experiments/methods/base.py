"""What every experiment method shares: the `Method` seam, per-item cost metering, attempts.

A method answers one benchmark item. Every model call it makes goes through a `Meter`, which
wraps the run's `ChatClient`s (cache, ledger, retries stay theirs) and keeps, per item, one
`CallRecord` per call: role, phase, tokens, model seconds and dollars. Those figures come from
the response itself, so a re-run served from the response cache reports the same numbers
(the ledger, by contrast, bills a cache hit as free).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from experiments.data import Item
from experiments.errors import ExperimentError
from maker.llm import ChatClient, ChatResponse, Message, request_key
from maker.llm.ledger import price_call
from sandbox import Sandbox


class MethodError(ExperimentError, ValueError):
    """A method that cannot be built or run as configured; the message names the method."""


@dataclass(frozen=True)
class CallRecord:
    """One model call made for an item, with what it cost as first bought."""

    role: str
    phase: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    dollars: float
    cache_hit: bool

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "phase": self.phase,
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 4),
            "dollars": self.dollars,
            "cache_hit": self.cache_hit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


class MeteredClient(ChatClient):
    """A `ChatClient` sharing another's backend, cache, ledger and prices that also reports
    every response to a `Meter` (hand it to code that takes a client, such as a make job)."""

    def __init__(self, inner: ChatClient, meter: Meter) -> None:
        super().__init__(
            inner.backend,
            inner.config,
            ledger=inner.ledger,
            cache=inner.cache,
            prices=inner.prices,
            local=inner.local,
        )
        self._meter = meter

    def complete(
        self,
        messages: Sequence[Message],
        *,
        phase: str = "",
        sample: int = 0,
        use_cache: bool = True,
        **params: Any,
    ) -> ChatResponse:
        response = super().complete(
            messages, phase=phase, sample=sample, use_cache=use_cache, **params
        )
        self._meter.note(self, response, messages, phase, sample, params)
        return response


class Meter:
    """Collects the `CallRecord`s of one item (or one making phase).

    Args:
        clients: the run's clients by role ("maker" strong, "user" cheap).
        phase_prefix: put before every phase in the ledger (the method's name).
    """

    def __init__(self, clients: Mapping[str, ChatClient], phase_prefix: str = "") -> None:
        self.clients = dict(clients)
        self.prefix = phase_prefix
        self.calls: list[CallRecord] = []

    def client(self, role: str) -> MeteredClient:
        """The metered client of ``role``; `MethodError` if the run has no such role."""
        try:
            inner = self.clients[role]
        except KeyError:
            known = ", ".join(sorted(self.clients)) or "none"
            raise MethodError(f"no model client for role {role!r} (have: {known})") from None
        return MeteredClient(inner, self)

    def ask(
        self, role: str, messages: Sequence[Message], *, phase: str, sample: int = 0, **params: Any
    ) -> ChatResponse:
        """One model call as ``role``, recorded under ``<prefix>/<phase>``."""
        full = f"{self.prefix}/{phase}" if self.prefix else phase
        return self.client(role).complete(messages, phase=full, sample=sample, **params)

    def note(
        self,
        client: ChatClient,
        response: ChatResponse,
        messages: Sequence[Message],
        phase: str,
        sample: int,
        params: Mapping[str, Any],
    ) -> None:
        request = {**client.config.sampling.as_params(), **params}
        model = str(request.pop("model", None) or client.config.model or "unknown")
        seconds = response.seconds
        if response.cache_hit and client.cache is not None:
            # the seconds of the call that bought the answer (the client reports lookup time)
            first = client.cache.get(request_key(model, messages, request, sample=sample))
            if first is not None:
                seconds = first.seconds
        dollars, _ = price_call(
            client.prices, model, response.usage, local=client.local, cache_hit=False
        )
        self.calls.append(
            CallRecord(
                role=client.role,
                phase=phase,
                model=model,
                prompt_tokens=response.usage.prompt_tokens,
                completion_tokens=response.usage.completion_tokens,
                seconds=seconds,
                dollars=dollars,
                cache_hit=response.cache_hit,
            )
        )

    @property
    def tokens(self) -> int:
        return sum(c.tokens for c in self.calls)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)


@dataclass(frozen=True)
class Attempt:
    """A method's answer to one item.

    ``pred`` is what the grader sees (None: no answer); ``output`` the raw model text or program
    result; ``tool_calls`` the library tools that actually ran (from executed code, never the
    model's words); ``error`` why there is no answer; ``detail`` method-specific facts
    (samples drawn, votes, the program).
    """

    pred: str | None
    output: str = ""
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """Compute one item may spend (PoT self-consistency at matched compute); None: no limit."""

    tokens: float | None = None
    seconds: float | None = None
    reference: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "seconds": self.seconds, "reference": self.reference}

    def passed_by_next(self, tokens: float, seconds: float, n: int) -> str | None:
        """Which limit one more sample would pass, at the mean cost of the `n` drawn so far
        (spent: `tokens`, `seconds`): ``"tokens"``, else ``"seconds"``, else None."""
        if self.tokens is not None and tokens + tokens / n > self.tokens:
            return "tokens"
        if self.seconds is not None and seconds + seconds / n > self.seconds:
            return "seconds"
        return None


@dataclass
class SolveContext:
    """What a method gets for one item: its meter, the sandbox, the seed, and a budget."""

    meter: Meter
    sandbox: Sandbox
    seed: int = 0
    budget: Budget | None = None
    started: float = field(default_factory=time.monotonic)


class Method(Protocol):
    """The seam every arm plugs into: one item in, one `Attempt` out.

    ``name`` labels results and ledger phases; ``role`` is the model that answers ("user" is the
    cheap model, "maker" the strong one); ``sampled`` says whether seeds change its answers (it
    then runs once per seed). ``library_dir`` is the library it uses, if any (its lock is saved
    with the run).
    """

    name: str
    role: str
    sampled: bool
    library_dir: str | None

    def solve(self, item: Item, ctx: SolveContext) -> Attempt: ...
