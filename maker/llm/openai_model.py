"""The wire implementation of `ChatModel`: any OpenAI-compatible endpoint via the `openai` SDK.

Written against openai 3.x, whose HTTP client is `httpx2`. The SDK's own retries are turned off
(``max_retries=0``) so that every attempt goes through `tenacity` here and is counted: the
ledger sees ``attempts``, and tests can compare them with the fake server's counters.

Retried: 429, 408, 409, 5xx, timeouts, connection errors (including truncated bodies) and
malformed bodies; a Retry-After header is honoured up to `backoff_max`. Not retried: other 4xx.

A ``schema=`` parameter (a JSON schema dict) asks for a structured reply: it becomes the
`response_format` the endpoint takes, per the role's ``structured`` setting (see
`maker.llm.structured`); in ``auto`` mode a refusal of that format falls back to the next one,
and the role keeps using the one that worked.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from maker.llm import structured
from maker.llm.config import RoleConfig
from maker.llm.errors import ConfigError, MalformedResponseError, ModelCallError
from maker.llm.types import ChatResponse, Message, Usage

if TYPE_CHECKING:  # the SDK is imported on first use: ~0.6 s that config errors need not pay
    import openai

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt (any other 5xx is retried too)."""

NO_KEY = "no-key"
"""Placeholder key for endpoints that need none (the SDK refuses an empty one)."""


class _FormatRefused(ModelCallError):
    """The endpoint refused the request's `response_format` (HTTP 400/422 naming it)."""


class _Transient(Exception):
    """One failed attempt that may succeed if repeated."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue  # an HTTP date: fall back to our own backoff
    return None


def parse_completion(body: bytes, *, requested_model: str) -> ChatResponse:
    """Turn a chat-completion body into a `ChatResponse`, or raise `MalformedResponseError`.

    Missing usage is a value (``Usage(reported=False)``, zeros), not an error.
    """
    try:
        data = json.loads(body)
    except ValueError as exc:
        preview = body[:80].decode("utf-8", "replace")
        raise MalformedResponseError(f"reply body is not JSON ({exc}): {preview!r}") from None
    if not isinstance(data, dict):
        raise MalformedResponseError(f"reply is JSON {type(data).__name__}, not an object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        error = data.get("error")
        detail = f": error {error.get('message', error)!r}" if isinstance(error, dict) else ""
        raise MalformedResponseError(f"reply has no choices{detail}")
    texts: list[str] = []
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            refusal = message.get("refusal") if isinstance(message, dict) else None
            if isinstance(refusal, str):
                content = refusal
            else:
                reason = choice.get("finish_reason") if isinstance(choice, dict) else None
                raise MalformedResponseError(
                    f"reply choice has no message content (finish_reason={reason!r})"
                )
        texts.append(content)
    first = choices[0]
    return ChatResponse(
        text=texts[0],
        finish_reason=first.get("finish_reason"),
        usage=_usage(data.get("usage")),
        model=str(data.get("model") or requested_model),
        texts=tuple(texts),
        compute_s=_compute_s(data.get("maker_timing")),
    )


def _compute_s(timing: Any) -> float | None:
    """The compute seconds the engine's local server reports (``maker_timing.compute_s``)."""
    value = timing.get("compute_s") if isinstance(timing, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage(reported=False)

    def count(value: Any) -> int:
        return value if isinstance(value, int) and value >= 0 else 0

    details = raw.get("prompt_tokens_details")
    cached = count(details.get("cached_tokens")) if isinstance(details, dict) else 0
    reported = isinstance(raw.get("prompt_tokens"), int) and isinstance(
        raw.get("completion_tokens"), int
    )
    return Usage(
        prompt_tokens=count(raw.get("prompt_tokens")),
        completion_tokens=count(raw.get("completion_tokens")),
        cached_tokens=cached,
        reported=reported,
    )


class OpenAIChatModel:
    """`ChatModel` over an OpenAI-compatible endpoint, with retries and a concurrency limit.

    One instance per role, shared by every thread that calls that role: the concurrency limit
    is a semaphore held by the instance. Construction does no I/O.

    Args:
        config: the role's endpoint, model, key, sampling defaults and limits.
        client: an `openai.OpenAI` to use instead of building one (e.g. with a mock transport).
    """

    def __init__(self, config: RoleConfig, *, client: openai.OpenAI | None = None) -> None:
        if not config.model:
            raise ConfigError(
                f"{config.role}.model is not set; set MAKER_{config.role.upper()}_MODEL"
            )
        self.config = config
        self.model = config.model
        self._client = client
        self._client_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._mode_lock = threading.Lock()
        self._mode = structured.initial_mode(config.structured, provider=config.provider)

    @property
    def structured_mode(self) -> str:
        """The structured-reply mode this role uses now (it moves on after a refusal)."""
        with self._mode_lock:
            return self._mode

    @property
    def client(self) -> openai.OpenAI:
        """The SDK client, built on first use."""
        with self._client_lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    base_url=self.config.effective_base_url,
                    api_key=self.config.api_key or NO_KEY,
                    timeout=self.config.timeout,
                    max_retries=0,
                )
            return self._client

    def complete(
        self, messages: Sequence[Message], *, phase: str = "", **params: Any
    ) -> ChatResponse:
        """Send one chat request (with retries); `params` override the role's sampling.

        ``schema=`` (a JSON schema dict) asks for a reply matching it (see the module docs).
        """
        request = {**self.config.sampling.as_params(), **params}
        model = str(request.pop("model", None) or self.model)
        schema = request.pop("schema", None)
        if schema is not None and "response_format" in request:
            raise ValueError("pass schema= or response_format=, not both")
        attempts = 0
        started: list[float] = []  # when the first attempt got its slot: waiting for a slot
        # (this role's own concurrency limit) is not part of the call's latency
        while True:
            mode = self.structured_mode if schema is not None else "off"
            try:
                response = self._complete(model, messages, request, schema, mode, attempts, started)
            except _FormatRefused as exc:
                attempts = exc.attempts
                if schema is None or not self._fall_back(mode):
                    raise ModelCallError(str(exc), attempts=attempts, recoverable=False) from None
                continue
            return replace(response, latency_s=time.monotonic() - started[0])

    def _fall_back(self, mode: str) -> bool:
        """Move this role past a refused `mode`; False when there is nowhere to go."""
        c = self.config
        if not structured.can_fall_back(
            c.structured, provider=c.provider, base_url=c.effective_base_url
        ):
            return False
        with self._mode_lock:
            if self._mode == mode:  # another thread may have moved on already
                self._mode = structured.FALLBACK.get(mode, mode)
            return self._mode != mode

    def _complete(
        self,
        model: str,
        messages: Sequence[Message],
        request: Mapping[str, Any],
        schema: Mapping[str, Any] | None,
        mode: str,
        sent: int,
        started: list[float],
    ) -> ChatResponse:
        request = dict(request)
        chat = list(messages)
        if schema is not None:
            fmt = structured.response_format(mode, schema)
            if fmt is None:
                chat = structured.schema_in_prompt(chat, schema)
            else:
                request["response_format"] = fmt
        attempts = sent

        def attempt() -> ChatResponse:
            nonlocal attempts
            with self._slots:
                if not started:
                    started.append(time.monotonic())
                attempts += 1
                return self._send(model, chat, request)

        retrying = Retrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Transient | MalformedResponseError)),
            reraise=True,
        )
        try:
            response = retrying(attempt)
        except _Transient as exc:
            raise ModelCallError(
                f"{self.config.role} model call failed after {attempts} attempt(s): {exc}; "
                f"check {self.config.effective_base_url} or raise {self.config.role}.max_retries",
                attempts=attempts,
                recoverable=True,
            ) from None
        except MalformedResponseError as exc:
            raise MalformedResponseError(
                f"{self.config.role} model gave a malformed reply after {attempts} attempt(s): "
                f"{exc}",
                attempts=attempts,
            ) from None
        except ModelCallError as exc:
            exc.attempts = attempts
            raise
        return replace(response, cache_hit=False, attempts=attempts)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hinted = getattr(exc, "retry_after", None)
        if hinted is not None:
            return min(float(hinted), self.config.backoff_max)
        initial, cap = self.config.backoff_initial, self.config.backoff_max
        exponential = initial * 2 ** (state.attempt_number - 1)
        return min(cap, exponential + random.uniform(0, initial))

    def _send(self, model: str, messages: list[Message], params: Mapping[str, Any]) -> ChatResponse:
        import httpx2
        import openai

        known, extra = _split_params(params)
        options = {"timeout": known.pop("timeout")} if "timeout" in known else {}
        try:
            # The SDK's generic post (its documented way to any endpoint): the same base URL,
            # auth, timeouts and status errors as `chat.completions.create`, without that
            # method's per-call walk of the request through its TypedDicts (a third of the
            # host's CPU per call in `maker bench solve`); the body is plain JSON already.
            raw = self.client.post(
                "/chat/completions",
                body={"model": model, "messages": messages, **known, **extra},
                cast_to=httpx2.Response,
                options=options,  # type: ignore[arg-type]
            )
            body = raw.content
        except openai.APITimeoutError:
            raise _Transient(f"timed out after {self.config.timeout:g}s") from None
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc.__context__
            detail = f"{type(cause).__name__}: {cause}" if cause else str(exc)
            raise _Transient(f"connection error or truncated reply ({detail})") from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            message = f"HTTP {status}: {_error_text(exc)}"
            refused = "response_format" in params and structured.is_format_refusal(
                status, f"{message} {exc.body}"
            )
            if not refused and (status in RETRY_STATUS or status >= 500):
                raise _Transient(message, _retry_after(exc.response)) from None
            if refused:
                raise _FormatRefused(
                    f"{self.config.role} endpoint refused the structured-reply format "
                    f"{params['response_format'].get('type')!r} ({message}); set "
                    f"{self.config.role}.structured to another mode (json_schema, json_object, "
                    f"off)",
                    recoverable=False,
                ) from None
            raise ModelCallError(
                f"{self.config.role} endpoint refused the request ({message}); "
                f"check {self.config.role}.model, .api_key and the request parameters",
                recoverable=False,
            ) from None
        except openai.APIError as exc:  # e.g. a 200 whose body the SDK could not decode
            raise MalformedResponseError(f"unreadable reply: {exc}") from None
        return parse_completion(body, requested_model=model)


_SDK_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "seed",
        "stop",
        "n",
        "presence_penalty",
        "frequency_penalty",
        "response_format",
        "logit_bias",
        "user",
        "logprobs",
        "top_logprobs",
        "tools",
        "tool_choice",
        "reasoning_effort",
        "timeout",
    }
)


def _split_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parameters the SDK names, and the rest (sent as extra body fields, e.g. ``top_k``)."""
    known = {k: v for k, v in params.items() if k in _SDK_PARAMS}
    extra = {k: v for k, v in params.items() if k not in _SDK_PARAMS}
    return known, extra


def _error_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return exc.message
