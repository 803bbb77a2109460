"""The explorer imagines a realistic problem for a tool, different from the ones before it.

The user model sees the tool card, its worked examples and the problems already explored for it,
and replies with ``{"query": "..."}`` (JSON-schema constrained where the endpoint can). A reply
that is not such an object, is too short or too long, or is a lexical near-duplicate of an
earlier problem is turned down with the reason and asked again, a bounded number of times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from library.records import ToolRecord
from maker.explore.prompts import IMAGINE_FIX, imagine_messages, rejected
from maker.llm import ChatClient
from maker.text.blocks import extract_blocks, normalize_newlines

QUERY_SCHEMA: dict[str, Any] = {
    "title": "Query",
    "type": "object",
    "additionalProperties": False,
    "required": ["query"],
    "properties": {"query": {"type": "string"}},
}
MIN_CHARS, MAX_CHARS, MIN_WORDS = 12, 1500, 4
_WORDS = re.compile(r"[a-z0-9]+")
MAX_SCANNED = 20_000


def json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in a reply: a fenced block, or any ``{...}`` in the text (prose
    around it is ignored); None when there is none. Never raises."""
    text = normalize_newlines(text or "")[:MAX_SCANNED]
    candidates = [b.text for b in extract_blocks(text) if b.is_json or b.lang == ""]
    candidates.append(text)
    decoder = json.JSONDecoder()
    for candidate in candidates:
        start = candidate.find("{")
        while start != -1:
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except ValueError:
                value = None
            if isinstance(value, dict):
                return value
            start = candidate.find("{", start + 1)
    return None


def words(text: str) -> set[str]:
    """The lower-case words and numbers of a text (numbers count: the same template with other
    values is a different problem, if only just)."""
    return set(_WORDS.findall(text.casefold()))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two texts' word sets."""
    wa, wb = words(a), words(b)
    return len(wa & wb) / len(wa | wb) if wa or wb else 1.0


def nearest(query: str, earlier: Sequence[str]) -> tuple[float, str]:
    """The most similar earlier text and its similarity (0 and "" when there is none)."""
    best = (0.0, "")
    for e in earlier:
        s = similarity(query, e)
        if s > best[0]:
            best = (s, e)
    return best


def parse_query(text: str, earlier: Sequence[str], near_duplicate: float) -> str | tuple[str]:
    """The problem in a reply, or ``(reason,)`` saying why it cannot be used."""
    data = json_object(text)
    if data is None:
        return ("it is not a JSON object (no parsable {...} found)",)
    value = next((data[k] for k in ("query", "problem", "question") if k in data), None)
    if not isinstance(value, str):
        return ('the object has no "query" string',)
    query = " ".join(value.split())
    if len(query) < MIN_CHARS or len(query.split()) < MIN_WORDS:
        return (f"the problem {query!r} is too short to be a realistic problem",)
    if len(query) > MAX_CHARS:
        return (f"the problem is {len(query)} characters long; keep it under {MAX_CHARS}",)
    score, twin = nearest(query, earlier)
    if score >= near_duplicate:
        return (f"it nearly repeats an earlier problem ({twin[:120]!r})",)
    return query


@dataclass(frozen=True)
class Imagined:
    """One imagining: the accepted problem (None when every reply was turned down) and the
    reasons of the replies turned down on the way."""

    query: str | None
    rejections: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "rejections": list(self.rejections)}


def imagine_query(
    client: ChatClient,
    rec: ToolRecord,
    explored: Sequence[str],
    *,
    avoid: Sequence[str] = (),
    attempts: int = 3,
    near_duplicate: float = 0.75,
    retry_temperature: float = 0.7,
    shown: Mapping[str, int] | None = None,
    first_sample: int = 0,
) -> Imagined:
    """Ask the user model for one new problem for `rec`.

    Args:
        client: the explorer (user role).
        rec: the tool.
        explored: the problems already explored for it (shown, and to differ from).
        avoid: other texts a new problem must differ from (the problems it was made for).
        attempts: replies asked for at most.
        near_duplicate: word-set similarity from which a problem repeats an earlier one.
        retry_temperature: the temperature of re-asks of a colder role.
        shown: ``{"examples": N, "explored": M}``, how much the prompt lists.
        first_sample: the sample number of the first reply (the n-th imagining for a tool
            starts at ``n * attempts``): when nothing was accepted the prompt is unchanged, and
            the same samples would give (and the response cache replay) the same problems.
            The real 0.5B's 5 imaginings for one tool were 3 distinct replies, all turned down.
    """
    limits = {"examples": 3, "explored": 12, **(shown or {})}
    messages = imagine_messages(
        rec, explored, examples=limits["examples"], shown=limits["explored"]
    )
    earlier = [*explored, *avoid]
    reasons: list[str] = []
    for sample in range(first_sample, first_sample + max(1, attempts)):
        response = client.complete(
            messages,
            phase="explore_imagine",
            sample=sample,
            schema=QUERY_SCHEMA,
            **client.config.sampling.for_sample(sample, retry_temperature),
        )
        parsed = parse_query(response.text, earlier, near_duplicate)
        if isinstance(parsed, str):
            return Imagined(parsed, tuple(reasons))
        reasons.append(parsed[0])
        messages = [
            *messages,
            {"role": "assistant", "content": response.text},
            rejected(parsed[0], IMAGINE_FIX),
        ]
    return Imagined(None, tuple(reasons))
