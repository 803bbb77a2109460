"""Frozen records that cross the library's seams, each serializing to and from JSON (never pickle).

Every record has `to_json()` (a value of plain JSON types, not a string) and a `from_json()`
classmethod, the one convention of the engine's records (sandbox, library and maker alike);
`dumps` gives the canonical JSON text used for hashing (sorted keys, no whitespace). The
validation `Verdict` lives in `library.verdict`; a worked example is a `sandbox.ExampleCase`
in its JSON form (`{"input": {...kwargs}, "expected": value}`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from library.errors import LibraryError
from library.verdict import Verdict

JSON = Any  # a value made only of dict, list, str, int, float, bool and None

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$")


def dumps(value: JSON) -> str:
    """Canonical JSON: sorted keys, compact separators, non-ASCII kept; used for hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_json(value: JSON) -> str:
    """Hex sha256 of the canonical JSON of `value`."""
    return hashlib.sha256(dumps(value).encode("utf-8")).hexdigest()


class Status(StrEnum):
    """Lifecycle of one tool version."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"  # still resolvable and offered last; names a replacement
    RETIRED = "retired"  # never offered again; kept for lineage
    REJECTED = "rejected"  # failed the regression gate; kept for lineage, never offered


OFFERABLE = frozenset({Status.ACTIVE, Status.DEPRECATED})


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a tool's entry function."""

    name: str
    annotation: str
    schema: dict[str, JSON]
    required: bool
    default: JSON = None
    description: str = ""
    default_expr: str = ""  # a default that is not a literal, as source text (never evaluated)

    def to_json(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "annotation": self.annotation,
            "schema": self.schema,
            "required": self.required,
            "default": self.default,
            "description": self.description,
            "default_expr": self.default_expr,
        }

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> ParamSpec:
        return cls(
            name=d["name"],
            annotation=d["annotation"],
            schema=d["schema"],
            required=d["required"],
            default=d.get("default"),
            description=d.get("description", ""),
            default_expr=d.get("default_expr", ""),
        )


@dataclass(frozen=True)
class ToolSpec:
    """A tool's typed interface, derived from its source without running it."""

    entry: str
    summary: str
    description: str
    params: tuple[ParamSpec, ...]
    returns: dict[str, JSON]
    returns_annotation: str
    returns_description: str = ""

    def input_schema(self) -> dict[str, JSON]:
        """JSON schema of the keyword arguments, as an object schema."""
        props: dict[str, JSON] = {}
        for p in self.params:
            s = dict(p.schema)
            if p.description:
                s["description"] = p.description
            if p.default_expr:
                note = f"(default: {p.default_expr})"
                s["description"] = f"{p.description} {note}".strip()
            elif not p.required:
                s["default"] = p.default
            props[p.name] = s
        return {
            "type": "object",
            "properties": props,
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": False,
        }

    def output_schema(self) -> dict[str, JSON]:
        """JSON schema of the return value."""
        s = dict(self.returns)
        if self.returns_description:
            s["description"] = self.returns_description
        return s

    def openai_schema(self, name: str | None = None) -> dict[str, JSON]:
        """The OpenAI function-calling tool definition (`{"type": "function", ...}`)."""
        text = self.description or self.summary
        return {
            "type": "function",
            "function": {
                "name": name or self.entry,
                "description": text,
                "parameters": self.input_schema(),
            },
        }

    def to_json(self) -> dict[str, JSON]:
        return {
            "entry": self.entry,
            "summary": self.summary,
            "description": self.description,
            "params": [p.to_json() for p in self.params],
            "returns": self.returns,
            "returns_annotation": self.returns_annotation,
            "returns_description": self.returns_description,
        }

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> ToolSpec:
        return cls(
            entry=d["entry"],
            summary=d["summary"],
            description=d["description"],
            params=tuple(ParamSpec.from_json(p) for p in d["params"]),
            returns=d["returns"],
            returns_annotation=d["returns_annotation"],
            returns_description=d.get("returns_description", ""),
        )


@dataclass(frozen=True)
class StoredSuite:
    """A tool's tests as the library keeps them (the sandbox runs them as `sandbox.TestSuite`;
    `library.suites` converts, the one converter).

    Examples and held-out cases are `sandbox.ExampleCase` JSON (``{"input": {...kwargs},
    "expected": value}``, optional ``name``/``compare``, and annotations the runner ignores,
    such as the ``question`` a usage example answers); property specs are `sandbox.PropertySpec`
    JSON. Each unit-test source is kept apart (a repaired version adds its own to the previous
    version's), and entries stay JSON so a damaged one never makes the library unreadable: it is
    reported, naming the entry, when the suite is converted to run.
    """

    __test__ = False  # not a pytest class

    examples: tuple[dict[str, JSON], ...] = ()
    unit_tests: tuple[str, ...] = ()
    property_specs: tuple[dict[str, JSON], ...] = ()
    held_out: tuple[dict[str, JSON], ...] = ()

    def to_json(self) -> dict[str, JSON]:
        return {
            "examples": list(self.examples),
            "unit_tests": list(self.unit_tests),
            "property_specs": list(self.property_specs),
            "held_out": list(self.held_out),
        }

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> StoredSuite:
        return cls(
            examples=tuple(d.get("examples", ())),
            unit_tests=tuple(d.get("unit_tests", ())),
            property_specs=tuple(d.get("property_specs", ())),
            held_out=tuple(d.get("held_out", ())),
        )


@dataclass(frozen=True)
class Provenance:
    """Where a tool came from. `problems` holds the text of the source problems (a retrieval view)."""

    task_ids: tuple[str, ...] = ()
    strategy: str = ""
    maker_model: str = ""
    prompt_hash: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    problems: tuple[str, ...] = ()
    origin: str = "made"  # made | hand | import
    time: float = 0.0
    param_map: tuple[tuple[str, str], ...] = ()
    """For a merged re-invention: its parameter names -> the stored tool's, where they differ."""

    def to_json(self) -> dict[str, JSON]:
        extra: dict[str, JSON] = {"param_map": dict(self.param_map)} if self.param_map else {}
        return extra | {
            "task_ids": list(self.task_ids),
            "strategy": self.strategy,
            "maker_model": self.maker_model,
            "prompt_hash": self.prompt_hash,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "problems": list(self.problems),
            "origin": self.origin,
            "time": self.time,
        }

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> Provenance:
        return cls(
            task_ids=tuple(d.get("task_ids", ())),
            strategy=d.get("strategy", ""),
            maker_model=d.get("maker_model", ""),
            prompt_hash=d.get("prompt_hash", ""),
            tokens_in=int(d.get("tokens_in", 0)),
            tokens_out=int(d.get("tokens_out", 0)),
            cost_usd=float(d.get("cost_usd", 0.0)),
            problems=tuple(d.get("problems", ())),
            origin=d.get("origin", "made"),
            time=float(d.get("time", 0.0)),
            param_map=tuple((str(k), str(v)) for k, v in (d.get("param_map") or {}).items()),
        )

    def digest(self) -> str:
        """Identity of this entry (its time aside), so re-publishing the same one adds nothing."""
        d = self.to_json()
        del d["time"]
        return sha256_json(d)


@dataclass(frozen=True)
class StatusInfo:
    """A tool version's status with the reason, the time it was set and, for deprecation,
    the replacement reference (`name` or `name@N`)."""

    status: Status = Status.ACTIVE
    reason: str = ""
    time: float = 0.0
    replacement: str | None = None

    def to_json(self) -> dict[str, JSON]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "time": self.time,
            "replacement": self.replacement,
        }

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> StatusInfo:
        return cls(
            Status(d["status"]), d.get("reason", ""), d.get("time", 0.0), d.get("replacement")
        )


@dataclass(frozen=True)
class UsageStats:
    """Calls of one tool version recorded in episodes."""

    calls: int = 0
    successes: int = 0
    failures: int = 0

    @property
    def success_rate(self) -> float | None:
        judged = self.successes + self.failures
        return None if judged == 0 else self.successes / judged

    def to_json(self) -> dict[str, JSON]:
        return {"calls": self.calls, "successes": self.successes, "failures": self.failures}

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> UsageStats:
        return cls(d.get("calls", 0), d.get("successes", 0), d.get("failures", 0))


@dataclass(frozen=True)
class NewTool:
    """What a maker (or a human) hands to `publish`; the store assigns version, hashes and status.

    `spec` is derived from the source when omitted; `entry` defaults to `name`.
    """

    name: str
    source: str
    tests: StoredSuite = field(default_factory=StoredSuite)
    verdict: Verdict = field(default_factory=lambda: Verdict(passed=True))
    provenance: Provenance = field(default_factory=Provenance)
    entry: str | None = None
    spec: ToolSpec | None = None


@dataclass(frozen=True)
class ToolRecord:
    """One stored version of a tool."""

    name: str
    version: int
    content_hash: str
    ast_hash: str
    parent_version: int | None
    entry: str
    spec: ToolSpec
    source: str
    tests: StoredSuite
    verdict: Verdict
    provenance: tuple[Provenance, ...]
    status: StatusInfo
    usage: UsageStats = field(default_factory=UsageStats)
    created: float = 0.0

    @property
    def problems(self) -> tuple[str, ...]:
        """The problems it was made for, over all its provenance records."""
        return tuple(q for p in self.provenance for q in p.problems)

    @property
    def ref(self) -> str:
        """`name@version`, the pinned reference to this record."""
        return f"{self.name}@{self.version}"

    def with_(self, **changes: Any) -> ToolRecord:
        return replace(self, **changes)

    def to_json(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
            "ast_hash": self.ast_hash,
            "parent_version": self.parent_version,
            "entry": self.entry,
            "spec": self.spec.to_json(),
            "source": self.source,
            "tests": self.tests.to_json(),
            "verdict": self.verdict.to_json(),
            "provenance": [p.to_json() for p in self.provenance],
            "status": self.status.to_json(),
            "usage": self.usage.to_json(),
            "created": self.created,
        }

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> ToolRecord:
        return cls(
            name=d["name"],
            version=d["version"],
            content_hash=d["content_hash"],
            ast_hash=d["ast_hash"],
            parent_version=d.get("parent_version"),
            entry=d["entry"],
            spec=ToolSpec.from_json(d["spec"]),
            source=d["source"],
            tests=StoredSuite.from_json(d["tests"]),
            verdict=Verdict.from_json(d["verdict"]),
            provenance=tuple(Provenance.from_json(p) for p in d["provenance"]),
            status=StatusInfo.from_json(d["status"]),
            usage=UsageStats.from_json(d.get("usage", {})),
            created=d.get("created", 0.0),
        )


def content_hash(name: str, entry: str, source: str) -> str:
    """Identity of a tool version's content: publishing the same content twice is a no-op."""
    return sha256_json({"name": name, "entry": entry, "source": source})


@dataclass(frozen=True)
class Call:
    """The call an episode made: a tool reference with arguments, or a short program."""

    tool: str | None = None  # "name@N"
    arguments: dict[str, JSON] = field(default_factory=dict)
    program: str | None = None

    def to_json(self) -> dict[str, JSON]:
        return {"tool": self.tool, "arguments": self.arguments, "program": self.program}

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> Call:
        return cls(d.get("tool"), dict(d.get("arguments") or {}), d.get("program"))


Origin = Literal["use", "exploration"]


@dataclass(frozen=True)
class Episode:
    """One use of the library: the query, what was offered, the call, its result and outcome.

    `success` is None when nobody judged the answer. `result` is the sandbox result as JSON
    (`{"ok": ..., "value": ..., "error": {...}}`); `expected` is the gold answer when known, and
    `answer_check` the name of the answer check it was graded with (the task's
    ``metadata["answer_check"]``, e.g. ``math``), so a later re-run is graded alike.
    """

    query: str
    offered: tuple[str, ...] = ()
    call: Call = field(default_factory=Call)
    result: dict[str, JSON] = field(default_factory=dict)
    answer: str | None = None
    success: bool | None = None
    feedback: str = ""
    origin: Origin = "use"
    time: float = 0.0
    expected: str | None = None
    id: int | None = None
    answer_check: str | None = None

    def tool_ref(self) -> tuple[str, int] | None:
        """The (name, version) the call used, or None for a program or an unpinned call."""
        if not self.call.tool or "@" not in self.call.tool:
            return None
        name, _, v = self.call.tool.partition("@")
        return (name, int(v)) if v.isdigit() else None

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "query": self.query,
            "offered": list(self.offered),
            "call": self.call.to_json(),
            "result": self.result,
            "answer": self.answer,
            "success": self.success,
            "feedback": self.feedback,
            "origin": self.origin,
            "time": self.time,
            "expected": self.expected,
            "answer_check": self.answer_check,
        }

    @classmethod
    def from_json(cls, d: dict[str, JSON]) -> Episode:
        return cls(
            query=d["query"],
            offered=tuple(d.get("offered", ())),
            call=Call.from_json(d.get("call") or {}),
            result=dict(d.get("result") or {}),
            answer=d.get("answer"),
            success=d.get("success"),
            feedback=d.get("feedback", ""),
            origin=d.get("origin", "use"),
            time=d.get("time", 0.0),
            expected=d.get("expected"),
            id=d.get("id"),
            answer_check=d.get("answer_check"),
        )


@dataclass(frozen=True)
class LockEntry:
    name: str
    version: int
    content_hash: str


@dataclass(frozen=True)
class Lock:
    """A snapshot: every offered `name@version` with its content hash."""

    entries: tuple[LockEntry, ...]
    created: float = 0.0

    @property
    def digest(self) -> str:
        return sha256_json([[e.name, e.version, e.content_hash] for e in self.entries])

    def to_json(self) -> dict[str, JSON]:
        return {
            "lock_version": 1,
            "created": self.created,
            "digest": self.digest,
            "tools": {f"{e.name}@{e.version}": e.content_hash for e in self.entries},
        }

    def to_text(self) -> str:
        """The lock file's text (indented JSON, sorted keys)."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    @classmethod
    def from_text(cls, text: str) -> Lock:
        """A lock from a lock file's text; a one-line `LibraryError` when it is not one."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise LibraryError(f"lock file is not a valid library lock: {exc}") from None
        return cls.from_json(data)

    @classmethod
    def from_json(cls, d: JSON) -> Lock:
        try:
            entries = []
            for ref, h in d["tools"].items():
                name, _, v = ref.partition("@")
                entries.append(LockEntry(name, int(v), h))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LibraryError(f"lock file is not a valid library lock: {exc}") from None
        lock = cls(tuple(sorted(entries, key=lambda e: (e.name, e.version))), d.get("created", 0.0))
        if d.get("digest") not in (None, lock.digest):
            raise LibraryError("lock file digest does not match its tools: the lock was edited")
        return lock


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split `name`, `name@latest` or `name@N` into (name, N or None for latest)."""
    name, sep, v = ref.strip().partition("@")
    if not NAME_RE.match(name):
        raise LibraryError(f"bad tool reference {ref!r}: expected name, name@latest or name@N")
    if not sep or v == "latest":
        return name, None
    if not v.isdigit() or int(v) < 1:
        raise LibraryError(f"bad tool reference {ref!r}: version must be a positive integer")
    return name, int(v)
