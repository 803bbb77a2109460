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
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from maker.llm.cache import ResponseCache, request_key
from maker.llm.config import LLMConfig, RoleConfig
from maker.llm.errors import ModelCallError
from maker.llm.ledger import CostLedger
from maker.llm.local import (
    LOCAL_MODELS,
    LocalModel,
    LocalServer,
    LocalServerModel,
    resolve_role,
    server_installed,
    shared_server,
)
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
        local: whether calls are priced by machine time instead of the price table; None
            decides from the config (the local models and endpoints on this machine are).
        price_per_hour: dollars per hour of a local call's wall time (0: local calls are free).
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
        price_per_hour: float = 0.0,
    ) -> None:
        self.backend = backend
        self.price_per_hour = price_per_hour
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
        schema: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> ChatResponse:
        """Answer `messages`, from the cache when the same request was answered before.

        Args:
            messages: the chat, as OpenAI-style dicts.
            phase: what the call is for ("propose", "repair"...), for the ledger.
            sample: the sample index, part of the cache key: calls that differ only in
                `sample` get distinct answers (best-of-k); the same index replays.
            use_cache: False to skip the cache lookup (the answer is still stored).
            schema: a JSON schema the reply must match: the backend asks the endpoint for a
                constrained reply (`maker.llm.structured`); part of the cache key.
            params: sampling settings overriding the role's defaults (temperature, n...).

        Raises:
            ModelCallError: the backend failed after its retries (recorded in the ledger).
        """
        request = {**self.config.sampling.as_params(), **params}
        if schema is not None:
            request["schema"] = dict(schema)
        model = str(request.pop("model", None) or self.config.model or "unknown")
        key = request_key(model, messages, request, sample=sample)
        started = time.monotonic()
        if self.cache is not None and use_cache:
            hit = self.cache.get(key)
            if hit is not None:
                response = replace(
                    hit,
                    latency_s=time.monotonic() - started,
                    cache_hit=True,
                    attempts=0,
                    compute_s=None,
                )
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
            price_per_hour=self.price_per_hour,
        )


def make_client(
    config: LLMConfig,
    role: str = "maker",
    *,
    ledger: CostLedger | None = None,
    cache: ResponseCache | None = None,
    prices: PriceTable | None = None,
    local_models: Sequence[LocalModel] = LOCAL_MODELS,
    server: LocalServer | None = None,
) -> ChatClient:
    """A `ChatClient` for `role`: its configured endpoint, or the local model of its role.

    Which one is `maker.llm.local.resolve_role`'s decision. A local role talks to `server`
    (default: the process-wide one serving `local_models`), started on the role's first call
    that misses the cache. The cache defaults to ``config.cache_dir`` (none when unset) and the
    prices to the shipped table with ``config.price_table`` on top. Raises `ConfigError` saying
    what to set or install when the role has neither. No network I/O happens here.
    """
    rc = resolve_role(
        config,
        role,
        models=local_models,
        server_check=server.can_run if server is not None else server_installed,
    )
    if cache is None and config.cache_dir is not None:
        cache = ResponseCache(config.cache_dir)
    if prices is None:
        prices = load_price_table(config.price_table)
    backend: ChatModel
    if rc.provider == "local":
        backend = LocalServerModel(
            rc, server or shared_server(lambda: LocalServer(tuple(local_models)))
        )
    else:
        backend = OpenAIChatModel(rc)
    return ChatClient(
        backend, rc, ledger=ledger, cache=cache, prices=prices, price_per_hour=config.price_per_hour
    )
