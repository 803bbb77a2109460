"""`ChatClient`: the seam every model call in the project goes through.

It wraps a backend `ChatModel` (the wire model, or a scripted one) for one role and adds the
role's sampling defaults, the response cache and the cost ledger:

    request ─▶ cache hit? ── yes ─▶ cached response (attempts 0, $0) ─▶ ledger
                  │ no
                  ▼
          backend (retries, timeouts, concurrency limit) ─▶ cache ─▶ ledger (priced)

    >>> from maker.llm import RoleConfig, ScriptedModel
    >>> client = ChatClient(ScriptedModel(["hi"]), RoleConfig("maker", model="m"))
    >>> client.complete([{"role": "user", "content": "hello"}], phase="propose").text
    'hi'
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from maker.llm.cache import ResponseCache, request_key
from maker.llm.config import LLMConfig, RoleConfig, require_endpoint
from maker.llm.errors import ModelCallError
from maker.llm.ledger import CostLedger
from maker.llm.openai_model import OpenAIChatModel
from maker.llm.prices import PriceTable, default_price_table, load_price_table
from maker.llm.types import ChatModel, ChatResponse, Message


class ChatClient:
    """A role's `ChatModel` with sampling defaults, response cache and cost ledger.

    Args:
        backend: the model that answers cache misses (`OpenAIChatModel`, `ScriptedModel`...).
        config: the role's config: its name, model and sampling defaults, and whether the
            endpoint is local (free).
        ledger: where every call is recorded (a private one when None).
        cache: the response cache, or None to always call the backend.
        prices: the price table (the shipped one when None).
        local: whether calls are free; None decides from the endpoint (localhost is free).
    """

    def __init__(
        self,
        backend: ChatModel,
        config: RoleConfig,
        *,
        ledger: CostLedger | None = None,
        cache: ResponseCache | None = None,
        prices: PriceTable | None = None,
        local: bool | None = None,
    ) -> None:
        self.backend = backend
        self.local = config.is_local if local is None else local
        self.config = config
        self.ledger = ledger if ledger is not None else CostLedger()
        self.cache = cache
        self.prices = prices if prices is not None else default_price_table()

    @property
    def role(self) -> str:
        return self.config.role

    def complete(
        self,
        messages: Sequence[Message],
        *,
        phase: str = "",
        sample: int = 0,
        use_cache: bool = True,
        **params: Any,
    ) -> ChatResponse:
        """Answer `messages`, from the cache when the same request was answered before.

        Args:
            messages: the chat, as OpenAI-style dicts.
            phase: what the call is for ("propose", "repair"...), for the ledger.
            sample: the sample index, part of the cache key: calls that differ only in
                `sample` get distinct answers (best-of-k); the same index replays.
            use_cache: False to skip the cache lookup (the answer is still stored).
            params: sampling settings overriding the role's defaults (temperature, n...).

        Raises:
            ModelCallError: the backend failed after its retries (recorded in the ledger).
        """
        request = {**self.config.sampling.as_params(), **params}
        model = str(request.pop("model", None) or self.config.model or "unknown")
        key = request_key(model, messages, request, sample=sample)
        started = time.monotonic()
        if self.cache is not None and use_cache:
            hit = self.cache.get(key)
            if hit is not None:
                response = replace(hit, latency_s=time.monotonic() - started, cache_hit=True,
                                   attempts=0)
                self._record(response, phase, model)
                return response
        try:
            response = self.backend.complete(messages, phase=phase, model=model, **request)
        except ModelCallError as exc:
            self.ledger.record_failure(
                role=self.role,
                phase=phase,
                model=model,
                attempts=exc.attempts,
                latency_s=time.monotonic() - started,
                error=str(exc),
            )
            raise
        if self.cache is not None:
            self.cache.put(key, response)
        self._record(response, phase, model)
        return response

    def _record(self, response: ChatResponse, phase: str, model: str) -> None:
        self.ledger.record_response(
            response,
            role=self.role,
            phase=phase,
            model=model,
            prices=self.prices,
            local=self.local,
        )


def make_client(
    config: LLMConfig,
    role: str = "maker",
    *,
    ledger: CostLedger | None = None,
    cache: ResponseCache | None = None,
    prices: PriceTable | None = None,
) -> ChatClient:
    """A `ChatClient` for `role` over its configured OpenAI-compatible endpoint.

    The cache defaults to ``config.cache_dir`` (none when unset) and the prices to the shipped
    table with ``config.price_table`` on top. Raises `ConfigError` saying what to set when the
    role has no endpoint. No network I/O happens here.
    """
    rc = require_endpoint(config, role)
    if cache is None and config.cache_dir is not None:
        cache = ResponseCache(config.cache_dir)
    if prices is None:
        prices = load_price_table(config.price_table)
    return ChatClient(OpenAIChatModel(rc), rc, ledger=ledger, cache=cache, prices=prices)
