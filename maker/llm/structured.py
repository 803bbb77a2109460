"""Structured replies: a JSON schema becomes the `response_format` each kind of endpoint takes.

Modes (per role, setting ``structured``):

- ``json_schema``: OpenAI and vLLM, ``{"type": "json_schema", "json_schema": {"name", "schema",
  "strict": true}}``;
- ``json_object``: llama-cpp-python's server, ``{"type": "json_object", "schema": {...}}`` (it
  refuses the ``json_schema`` type);
- ``off``: no `response_format`; the schema is put in the prompt instead;
- ``auto`` (default): the local server -> ``json_object``; api.openai.com -> ``json_schema``;
  any other endpoint -> ``json_schema`` first, and when it refuses the request over its
  `response_format` (HTTP 400/422) -> ``json_object``, then ``off``; the role remembers where it
  landed.

    >>> response_format("json_object", {"type": "object"})
    {'type': 'json_object', 'schema': {'type': 'object'}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from maker.llm.types import Message

STRUCTURED_MODES: tuple[str, ...] = ("auto", "json_schema", "json_object", "off")
"""Values of a role's ``structured`` setting."""

FALLBACK: Mapping[str, str] = {"json_schema": "json_object", "json_object": "off"}
"""In ``auto`` mode, where a refused `response_format` falls back to."""

REFUSAL_STATUS = frozenset({400, 422})
REFUSAL_WORDS = ("response_format", "json_schema", "json_object", "schema")

SCHEMA_INSTRUCTION = (
    "Reply with only a JSON value, no other text, that matches this JSON schema:\n{schema}"
)
"""Appended to the last user message when the endpoint cannot constrain the reply itself."""

DEFAULT_NAME = "reply"


def initial_mode(setting: str, *, provider: str | None) -> str:
    """The mode to try first for a role's `setting` and endpoint (see the module docstring)."""
    if setting != "auto":
        return setting
    if provider == "local":
        return "json_object"
    return "json_schema"


def can_fall_back(setting: str, *, provider: str | None, base_url: str) -> bool:
    """Whether a refused `response_format` may be retried in another mode: only in ``auto``,
    and not against OpenAI's own API or the local server, whose formats are known."""
    host = (urlparse(base_url).hostname or "").lower()
    return setting == "auto" and provider != "local" and host != "api.openai.com"


LARGE_BOUND = 64
"""Length and count bounds above this are left out of a schema sent as a llama.cpp grammar."""
_BOUNDS = ("maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties")


def grammar_safe(schema: Any) -> Any:
    """``schema`` without large length/count bounds, for llama.cpp's grammar (json_object mode).

    llama.cpp turns ``{"type": "string", "maxLength": 4000}`` into a grammar rule repeated 4,000
    times, and the server dies of a segmentation fault on it (seen with llama-cpp-python 0.3.x
    and the tool user's decision schema). The reply is checked by the caller's own parser, so
    the bound still holds; only the decoding constraint is looser.

        >>> grammar_safe({"type": "string", "maxLength": 4000, "minLength": 1})
        {'type': 'string', 'minLength': 1}
    """
    if isinstance(schema, Mapping):
        return {
            k: grammar_safe(v)
            for k, v in schema.items()
            if not (k in _BOUNDS and isinstance(v, int) and v > LARGE_BOUND)
        }
    if isinstance(schema, list):
        return [grammar_safe(v) for v in schema]
    return schema


def response_format(
    mode: str, schema: Mapping[str, Any], name: str = DEFAULT_NAME
) -> dict[str, Any] | None:
    """The `response_format` request field for `mode` (None for ``off``)."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": dict(schema), "strict": True},
        }
    if mode == "json_object":
        return {"type": "json_object", "schema": grammar_safe(schema)}
    if mode == "off":
        return None
    raise ValueError(f"unknown structured mode {mode!r}; use one of {', '.join(STRUCTURED_MODES)}")


def schema_in_prompt(messages: Sequence[Message], schema: Mapping[str, Any]) -> list[Message]:
    """`messages` with the schema instruction appended to the last user message (or as a new
    user message when there is none at the end)."""
    note = SCHEMA_INSTRUCTION.format(schema=json.dumps(schema, sort_keys=True))
    out = [dict(m) for m in messages]
    if out and out[-1].get("role") == "user" and isinstance(out[-1].get("content"), str):
        out[-1]["content"] = f"{out[-1]['content']}\n\n{note}"
    else:
        out.append({"role": "user", "content": note})
    return out


def is_format_refusal(status: int, text: str) -> bool:
    """True for an HTTP error that refuses the request's `response_format`: a 400/422 naming
    it, or a server error whose body is the request's validation failing on it (llama-cpp-python
    0.3.x answers ``json_schema`` with HTTP 500, "1 validation error: ... 'response_format',
    'type' ... Input should be 'text' or 'json_object'": asked again, it fails again).

    >>> is_format_refusal(500, "1 validation error: ('body', 'response_format', 'type'): "
    ...     "Input should be 'text' or 'json_object'")
    True
    >>> is_format_refusal(500, "internal error while decoding response_format output")
    False
    """
    lowered = text.lower()
    if status in REFUSAL_STATUS:
        return any(word in lowered for word in REFUSAL_WORDS)
    return (
        status >= 500
        and "response_format" in lowered
        and any(w in lowered for w in ("validation error", "literal_error", "input should be"))
    )
