"""Fenced code blocks in a model's reply, found without trusting the reply's shape.

Replies are free text: prose around blocks, ``` or ~~~ fences, language tags or none, labels
after the tag (```` ```python tests ````), Windows newlines, fences indented inside lists, and a
last fence left open when the reply was cut off. `extract_blocks` tolerates all of these and
never raises.

>>> [(b.lang, b.label) for b in extract_blocks("Here:\\n```python tool\\nx = 1\\n```\\n")]
[('python', 'tool')]
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any

_FENCE = re.compile(r"^(?P<indent>[ \t]{0,8})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_LABEL_WORDS = re.compile(r"[A-Za-z_][\w.+-]*")

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "pycon", "ipython", "python-repl"})
JSON_TAGS = frozenset({"json", "jsonc", "json5"})


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: ``lang`` (lower-case tag, "" when none), ``label`` (the rest of the info
    string, lower-case), ``text`` (dedented body), ``line`` (1-based line of the opening fence),
    and ``closed`` (False when the reply ended inside the block)."""

    lang: str
    label: str
    text: str
    line: int
    closed: bool = True

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON_TAGS or (self.lang == "" and not _looks_like_json(self.text))

    @property
    def is_json(self) -> bool:
        return self.lang in JSON_TAGS or (self.lang == "" and _looks_like_json(self.text))


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``; a byte-order mark and NUL bytes are dropped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").replace("\x00", "")


def _looks_like_json(text: str) -> bool:
    stripped = text.strip()
    return stripped[:1] in ("[", "{") and stripped[-1:] in ("]", "}")


def _split_info(info: str) -> tuple[str, str]:
    words = _LABEL_WORDS.findall(info.strip().lower().replace("{", " ").replace("}", " "))
    if not words:
        return "", ""
    first = words[0]
    if first in PYTHON_TAGS or first in JSON_TAGS or first in ("text", "txt", "markdown", "md"):
        return first, " ".join(words[1:])
    if first in ("tool", "tests", "test", "usage", "properties", "call", "solution", "example"):
        return "", " ".join(words)  # a label without a language tag
    return first, " ".join(words[1:])


def extract_blocks(text: str) -> tuple[CodeBlock, ...]:
    """Every fenced block of ``text``, in order. Never raises."""
    lines = normalize_newlines(text).split("\n")
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"].expandtabs(4))
        lang, label = _split_info(match["info"])
        body: list[str] = []
        j = i + 1
        closed = False
        while j < len(lines):
            close = _FENCE.match(lines[j])
            if (
                close
                and close["fence"][0] == fence[0]
                and len(close["fence"]) >= len(fence)
                and not close["info"].strip()
            ):
                closed = True
                break
            body.append(lines[j])
            j += 1
        raw = "\n".join(body)
        if indent:
            raw = textwrap.dedent(raw)
        blocks.append(CodeBlock(lang, label, raw.strip("\n") + "\n", i + 1, closed))
        i = j + 1
    return tuple(blocks)


def json_candidates(text: str) -> list[str]:
    """Texts that may hold a reply's JSON object: fenced blocks first, then the whole reply,
    then every balanced ``{...}`` span of it (prose around it is ignored)."""
    out = [b.text for b in extract_blocks(text) if b.is_json or b.lang in ("", "json")]
    out.append(text.strip())
    depth, start, in_str, esc = 0, -1, False, False
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                out.append(text[start : i + 1])
    return out


def json_value(candidate: str) -> Any:
    """``candidate`` parsed as JSON, or None when it is not JSON."""
    try:
        return json.loads(candidate)
    except (ValueError, RecursionError):
        return None


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object of a reply (`json_candidates` in order), or None.

    >>> first_json_object('Here: ```json\\n{"a": 1}\\n```')
    {'a': 1}
    >>> first_json_object('no object') is None
    True
    """
    for candidate in json_candidates(normalize_newlines(text or "")):
        value = json_value(candidate)
        if isinstance(value, dict):
            return value
    return None
