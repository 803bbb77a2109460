"""`ScriptedModel`: a `ChatModel` that plays back a script, for tests and offline demos.

    >>> model = ScriptedModel(["def f(x): return x"])
    >>> model.complete([{"role": "user", "content": "write f"}]).text
    'def f(x): return x'
    >>> model.assert_consumed()

Replies are served in order; a `Rule` serves its reply to the first call it matches instead.
A call past the end of the script raises `ScriptError`, and so does `assert_consumed()` when
replies were left over (or an over-call was swallowed by the caller). Used as a context
manager, the check runs on exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maker.llm.errors import ScriptError
from maker.llm.types import ChatResponse, Message, Usage

Matcher = str | Callable[[Sequence[Message], str], bool]
"""A substring of the last message's content, or a predicate of (messages, phase)."""

ScriptItem = str | ChatResponse | BaseException


@dataclass(frozen=True)
class Rule:
    """Serve `reply` to calls that `match`, at most `times` times (None: without limit)."""

    match: Matcher
    reply: ScriptItem
    times: int | None = 1

    def matches(self, messages: Sequence[Message], phase: str) -> bool:
        if callable(self.match):
            return bool(self.match(messages, phase))
        last = str(messages[-1].get("content", "")) if messages else ""
        return self.match in last


@dataclass(frozen=True)
class ScriptedCall:
    """One call received by a `ScriptedModel`."""

    messages: tuple[dict[str, Any], ...]
    phase: str
    params: Mapping[str, Any] = field(default_factory=dict)


def _words(text: str) -> int:
    return len(text.split())


class ScriptedModel:
    """Plays back scripted replies in order (or by `Rule`), recording every call.

    Args:
        script: reply texts, `ChatResponse`s (served as given) or exceptions (raised), each
            used once in order, and/or `Rule`s tried first on every call.
        model: the model name reported in responses.
    """

    def __init__(
        self, script: Iterable[ScriptItem | Rule] = (), *, model: str = "scripted"
    ) -> None:
        items = list(script)
        self.model = model
        self._rules: list[list[Any]] = [[r, 0] for r in items if isinstance(r, Rule)]
        self._queue: list[ScriptItem] = [r for r in items if not isinstance(r, Rule)]
        self._next = 0
        self._calls: list[ScriptedCall] = []
        self._overrun: str | None = None
        self._lock = threading.Lock()

    @property
    def calls(self) -> list[ScriptedCall]:
        """Every call received, in order."""
        with self._lock:
            return list(self._calls)

    @property
    def remaining(self) -> int:
        """Ordered replies not yet served (rules with a finite `times` count too)."""
        with self._lock:
            rules = sum(r.times - used for r, used in self._rules if r.times is not None)
            return len(self._queue) - self._next + rules

    def complete(
        self, messages: Sequence[Message], *, phase: str = "", **params: Any
    ) -> ChatResponse:
        """Serve the next scripted reply; raise `ScriptError` when the script is used up."""
        call = ScriptedCall(tuple(dict(m) for m in messages), phase, dict(params))
        with self._lock:
            self._calls.append(call)
            item = self._take(messages, phase)
            if item is None:
                last = str(messages[-1].get("content", "")) if messages else ""
                self._overrun = (
                    f"ScriptedModel got call #{len(self._calls)} (phase={phase!r}, last message "
                    f"{last[:60]!r}) but its script has no reply left; add replies to the script"
                )
                raise ScriptError(self._overrun)
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, ChatResponse):
            return item
        prompt = sum(_words(str(m.get("content", ""))) for m in messages)
        return ChatResponse(
            text=item,
            finish_reason="stop",
            usage=Usage(prompt_tokens=prompt, completion_tokens=_words(item)),
            model=self.model,
        )

    def _take(self, messages: Sequence[Message], phase: str) -> ScriptItem | None:
        for slot in self._rules:
            rule, used = slot
            if (rule.times is None or used < rule.times) and rule.matches(messages, phase):
                slot[1] += 1
                return rule.reply
        if self._next < len(self._queue):
            self._next += 1
            return self._queue[self._next - 1]
        return None

    def assert_consumed(self) -> None:
        """Raise `ScriptError` if a call ran past the script, or if replies were left unused."""
        with self._lock:
            overrun = self._overrun
        if overrun is not None:
            raise ScriptError(overrun)
        left = self.remaining
        if left:
            raise ScriptError(
                f"ScriptedModel served {len(self.calls)} call(s) but {left} scripted "
                f"repl{'y was' if left == 1 else 'ies were'} never used; the code under test "
                f"made fewer model calls than the script expects"
            )

    def __enter__(self) -> ScriptedModel:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.assert_consumed()
