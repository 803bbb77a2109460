"""The response cache: diskcache with JSON serialization (never pickle), content-addressed.

The key is the sha256 of the normalized request: model, messages, sampling parameters and a
sample index, as sorted compact JSON. Endpoint, API key, timeouts and retry settings are not
part of the key: they do not change what a model answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import diskcache

from maker.llm.types import ChatResponse, Message

KEY_VERSION = 1
"""Bump when the key's normalization changes, so old entries are never misread."""

NOT_IN_KEY = frozenset({"timeout", "max_retries", "api_key", "base_url", "extra_headers"})
"""Request options that do not change the answer and so are not part of the cache key."""


def _normalize_message(message: Message) -> dict[str, Any]:
    return {str(k): v for k, v in message.items() if v is not None}


def request_key(
    model: str, messages: Sequence[Message], params: Mapping[str, Any], *, sample: int = 0
) -> str:
    """The sha256 hex digest identifying one request.

    `sample` distinguishes repeated samples of the same request: use 0, 1, 2... to get
    distinct cached answers for best-of-k sampling.
    """
    body = {
        "v": KEY_VERSION,
        "model": model,
        "messages": [_normalize_message(m) for m in messages],
        "params": {k: v for k, v in params.items() if v is not None and k not in NOT_IN_KEY},
        "sample": sample,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResponseCache:
    """Chat responses on disk, keyed by `request_key`, stored as JSON (diskcache `JSONDisk`).

    Safe to share between threads and processes (diskcache is). Eviction is harmless: a miss
    only costs a model call.

    Args:
        directory: where the cache lives (created on first use).
        size_limit: bytes before diskcache starts evicting (default 4 GiB).
    """

    def __init__(self, directory: str | Path, *, size_limit: int = 4 * 2**30) -> None:
        self.directory = Path(directory)
        self._cache = diskcache.Cache(
            str(self.directory), disk=diskcache.JSONDisk, size_limit=size_limit
        )

    def get(self, key: str) -> ChatResponse | None:
        """The stored response for `key`, or None (also for an entry that cannot be read)."""
        data = self._cache.get(key)
        if not isinstance(data, dict):
            return None
        try:
            return ChatResponse.from_json(data)
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, response: ChatResponse) -> None:
        """Store `response` under `key`."""
        self._cache.set(key, response.to_json())

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        """Remove every entry."""
        self._cache.clear()

    def close(self) -> None:
        """Close the underlying database (reopened on next use)."""
        self._cache.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
