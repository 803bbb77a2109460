"""Errors of the model-access layer: one root, a shallow tree, messages that say what to do next."""

from __future__ import annotations

from maker.errors import MakerError


class LLMError(MakerError):
    """Root of every error raised by `maker.llm`."""


class ConfigError(LLMError):
    """The model configuration is missing or invalid; the message names the field to fix."""

    exit_code = 2


class PriceTableError(LLMError):
    """A price table file cannot be read or has a bad entry."""


class ModelCallError(LLMError):
    """A model call failed after every allowed attempt.

    `attempts` is how many requests were sent; `recoverable` says whether a later retry of the
    same request may succeed (rate limits, server errors, timeouts, malformed bodies) or not
    (bad request, authentication).
    """

    def __init__(self, message: str, *, attempts: int = 1, recoverable: bool = False) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.recoverable = recoverable


class MalformedResponseError(ModelCallError):
    """The endpoint answered, but the body is not a usable chat completion."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message, attempts=attempts, recoverable=True)


class ScriptError(LLMError):
    """A `ScriptedModel` was called more, or fewer, times than its script allows."""
