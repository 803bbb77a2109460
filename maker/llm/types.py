"""Records that cross the chat-model seam, and the seam itself (`ChatModel`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

Message = Mapping[str, Any]
"""One chat message: at least ``{"role": ..., "content": ...}``, as the OpenAI API takes it."""


@dataclass(frozen=True)
class Usage:
    """Token usage of one call. `reported` is False when the endpoint sent no usage."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reported: bool = True

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatResponse:
    """One chat completion as the rest of the project sees it.

    `text` is the first choice; `texts` holds every choice (more than one when ``n > 1``).
    `latency_s` is wall time of the call including retries, from when its first request got a
    slot under the role's concurrency limit (lookup time on a cache hit);
    `attempts` is how many HTTP requests were sent (0 on a cache hit).
    `compute_s` is the server's own compute for the call, where the server reports it (the
    engine's local server, `maker.llm.local.batched`): with requests decoded together, a call's
    wall time also counts the others' work. `seconds` is what the call cost in time: its
    compute where reported, else its latency.
    """

    text: str
    finish_reason: str | None
    usage: Usage
    model: str
    latency_s: float = 0.0
    cache_hit: bool = False
    attempts: int = 1
    texts: tuple[str, ...] = ()
    compute_s: float | None = None

    @property
    def seconds(self) -> float:
        """The call's cost in seconds: the server's compute where reported, else latency."""
        return self.compute_s if self.compute_s is not None else self.latency_s

    def __post_init__(self) -> None:
        if not self.texts:
            object.__setattr__(self, "texts", (self.text,))

    def to_json(self) -> dict[str, Any]:
        """The response as a JSON-ready dict (round-trips through `from_json`)."""
        data = asdict(self)
        data["texts"] = list(self.texts)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChatResponse:
        """Rebuild a response written by `to_json`."""
        return cls(
            text=str(data["text"]),
            finish_reason=data.get("finish_reason"),
            usage=Usage(**data["usage"]),
            model=str(data["model"]),
            latency_s=float(data.get("latency_s", 0.0)),
            cache_hit=bool(data.get("cache_hit", False)),
            attempts=int(data.get("attempts", 1)),
            texts=tuple(data.get("texts") or ()),
            compute_s=None if data.get("compute_s") is None else float(data["compute_s"]),
        )


@runtime_checkable
class ChatModel(Protocol):
    """The one seam for every model call: messages in, a `ChatResponse` out.

    `phase` is free-form metadata ("propose", "repair", ...) for the cost ledger and for
    scripted models; `params` are sampling settings (temperature, max_tokens, seed, n, ...)
    that override the role's defaults. Failures raise `ModelCallError`.
    """

    def complete(
        self, messages: Sequence[Message], *, phase: str = "", **params: Any
    ) -> ChatResponse: ...
