"""Prompt templates (package data) and a renderer that turns one into chat messages.

A template is a markdown file in this package: ``<!-- system -->`` and ``<!-- user -->`` markers
split it into messages, ``{{field}}`` is a field the caller must give, ``{{> part}}`` includes
``_part.md``. Values are inserted once, never re-expanded, so a field's text cannot pull in
other fields. ``<!-- example -->...<!-- /example -->`` marks a format example (the reply
format's ``gcd``): rendered as it is, and taken out again by `without_format_examples` for a
model that sent the example back as its answer.

Values: strings as they are; a sandbox `RunResult` through `RunResult.as_observation()` (tool
output is quoted data, never instructions); sequences of `ExampleCase` as a numbered list;
anything else as JSON.

>>> msgs = render("creator_create", problem="What is 2 + 2?")
>>> [m["role"] for m in msgs]
['system', 'user']
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from sandbox import DEFAULT_POLICY, ExampleCase, Policy, RunResult

_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_PARTIAL = re.compile(r"\{\{>\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ROLE = re.compile(r"^<!--\s*(system|user|assistant)\s*-->[ \t]*$", re.MULTILINE)
_EXAMPLE = re.compile(r"<!-- example -->(.*?)<!-- /example -->", re.S)

# Fields filled in for every template unless the caller gives them.
_DEFAULT_FIELDS = ("allowed_modules",)
# Fields that show tool output: only a `RunResult` is accepted, rendered as quoted data.
_OBSERVATION_FIELDS = ("observation",)


class PromptError(ValueError):
    """A prompt that cannot be rendered: unknown template, missing or unexpected fields."""


def template_names() -> tuple[str, ...]:
    """The names of every template that `render` accepts."""
    files = resources.files(__name__).iterdir()
    return tuple(
        sorted(f.name[:-3] for f in files if f.name.endswith(".md") and not f.name.startswith("_"))
    )


@lru_cache(maxsize=64)
def template_text(name: str) -> str:
    """A template's text with its ``{{> part}}`` includes expanded."""
    if not re.fullmatch(r"_?[A-Za-z0-9_]+", name):
        raise PromptError(f"no prompt template named {name!r:.60}")
    path = resources.files(__name__).joinpath(f"{name}.md")
    if not path.is_file():
        known = ", ".join(template_names())
        raise PromptError(f"no prompt template named '{name}' (known: {known})")
    text = path.read_text(encoding="utf-8")
    return _PARTIAL.sub(lambda m: template_text(f"_{m[1]}").strip("\n"), text)


def template_fields(name: str) -> tuple[str, ...]:
    """The fields a template needs, in order of first use."""
    return tuple(dict.fromkeys(_FIELD.findall(template_text(name))))


def template_hash(name: str) -> str:
    """A short content hash of a template (for a tool's provenance)."""
    return hashlib.sha256(template_text(name).encode()).hexdigest()[:16]


def render(name: str, /, *, policy: Policy = DEFAULT_POLICY, **fields: Any) -> list[dict[str, str]]:
    """Render template ``name`` with ``fields`` into chat messages.

    Raises `PromptError` naming the template and the fields when one is missing or unexpected.
    ``allowed_modules`` defaults to the policy's module allow-list.
    """
    needed = template_fields(name)
    given = dict(fields)
    if "allowed_modules" in needed and "allowed_modules" not in given:
        given["allowed_modules"] = ", ".join(sorted(policy.modules))
    missing = [f for f in needed if f not in given]
    if missing:
        raise PromptError(f"prompt '{name}' needs the field(s) {', '.join(missing)}")
    for key in _OBSERVATION_FIELDS:
        if key in given and not isinstance(given[key], RunResult):
            raise PromptError(
                f"prompt '{name}': field '{key}' must be a sandbox RunResult "
                "(tool output reaches a model only through as_observation())"
            )
    extra = sorted(set(given) - set(needed) - set(_DEFAULT_FIELDS))
    if extra:
        raise PromptError(
            f"prompt '{name}' has no field(s) {', '.join(extra)}; it takes {', '.join(needed)}"
        )
    # split first, fill in after: a value cannot open a message of its own
    return [
        {
            "role": m["role"],
            "content": _FIELD.sub(lambda f: format_value(given[f[1]]), m["content"]),
        }
        for m in _messages(name, _EXAMPLE.sub(lambda e: e[1], template_text(name)))
    ]


@lru_cache(maxsize=1)
def format_example_texts() -> tuple[str, ...]:
    """Every format example the templates mark, as it appears in a rendered prompt (partials
    such as the reply format are included in the templates' text); longest first, as one may
    hold another."""
    found = {e[1] for name in template_names() for e in _EXAMPLE.finditer(template_text(name))}
    return tuple(sorted((t for t in found if t.strip()), key=len, reverse=True))


def without_format_examples(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """``messages`` with the templates' format examples taken out (the rest of each message
    as rendered): for a model that copied an example instead of answering, which shown the
    same example again tends to copy it again."""
    out = []
    for m in messages:
        content = m["content"]
        for text in format_example_texts():
            content = content.replace(text, "")
        out.append({**m, "content": content})
    return out


def format_value(value: Any) -> str:
    """How a field's value appears in a prompt (see the module docstring)."""
    if isinstance(value, str):
        return value
    if isinstance(value, RunResult):
        return value.as_observation()
    if isinstance(value, ExampleCase):
        return format_examples([value])
    if isinstance(value, list | tuple) and value and all(isinstance(v, ExampleCase) for v in value):
        return format_examples(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def format_examples(cases: Iterable[ExampleCase], *, max_chars: int = 6_000) -> str:
    """Examples as a numbered list of ``input -> expected`` lines in JSON, bounded in size."""
    lines: list[str] = []
    size = 0
    cases = list(cases)
    for i, case in enumerate(cases, 1):
        args = json.dumps(case.input, ensure_ascii=False, default=str)
        expected = json.dumps(case.expected, ensure_ascii=False, default=str)
        line = f"{i}. input: {args}\n   expected: {expected}"
        if size + len(line) > max_chars:
            lines.append(f"... and {len(cases) - i + 1} more examples")
            break
        lines.append(line)
        size += len(line)
    return "\n".join(lines)


def _messages(name: str, text: str) -> list[dict[str, str]]:
    parts = _ROLE.split(text)
    if len(parts) == 1:
        return [{"role": "user", "content": text.strip()}]
    if parts[0].strip():
        raise PromptError(f"prompt '{name}' has text before its first role marker")
    messages = []
    for role, content in zip(parts[1::2], parts[2::2], strict=True):
        messages.append({"role": role, "content": content.strip()})
    return messages
