"""Behavioural fingerprints: what a tool returns on shared generated inputs, hashed.

Two tools written differently (iterative and recursive gcd) have different AST hashes but the
same fingerprint. Inputs are derived from the *signature shape* (the JSON schemas of the
required parameters, in order; names ignored) by a generator seeded from that shape, so every
tool with the same shape is called on the same inputs. Each call runs in the sandbox; an output
is its value (floats to 9 significant digits) or, for an error, only the error's type.

A fingerprint is trusted only when at least `MIN_OK` calls returned a value and those values
are not all the same: tools that fail on everything, or return a constant, would otherwise
collide trivially. A call that hit a time, memory or CPU limit makes the fingerprint
untrusted (such outcomes are not reproducible).

`FingerprintIndex(sandbox, store)` is a `dedup` hook for `Store.publish`: it finds an active
tool of another name with the candidate's trusted fingerprint that also passes the candidate's
own examples, and the store merges the candidate's provenance into it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sandbox
from library.records import JSON, Status, ToolRecord, ToolSpec, dumps
from library.samples import sample_rows
from library.store.base import DedupMatch, Store, param_map
from sandbox.values import values_equal

FINGERPRINT_VERSION = 1
N_INPUTS = 16  # calls per fingerprint
MIN_OK = 4  # calls that must return a value for the fingerprint to be trusted
MIN_DISTINCT = 2  # distinct values among them
CALL_TIMEOUT_S = 2.0  # per call; a timeout makes the fingerprint untrusted
MAX_CONFIRM = 20  # candidate examples re-run against a matching tool before merging
UNSTABLE_LIMITS = frozenset({"timeout", "memory", "cpu", "crash"})


@dataclass(frozen=True)
class Fingerprint:
    """A tool's behavioural fingerprint; `digest` is None when it is not to be trusted."""

    shape: str
    digest: str | None
    ok: int = 0
    distinct: int = 0
    reason: str = ""

    @property
    def trusted(self) -> bool:
        return self.digest is not None


def signature_shape(spec: ToolSpec) -> str:
    """The canonical JSON of the required parameters' schemas, in order (names ignored)."""
    return dumps([p.schema for p in spec.params if p.required])


def shared_inputs(shape: str, n: int = N_INPUTS) -> list[list[JSON]] | str:
    """The `n` argument lists every tool of this signature shape is called with (deterministic),
    or why none can be generated."""
    return sample_rows(json.loads(shape), n, f"fp{FINGERPRINT_VERSION}:{shape}")


def _canon(value: Any) -> JSON:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return repr(value)
        if value.is_integer() and abs(value) < 1e15:
            return int(value)
        return float(f"{value:.9g}")
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    return repr(value)


def fingerprint(
    sb: sandbox.Sandbox, source: str, entry: str, spec: ToolSpec, *, n: int = N_INPUTS
) -> Fingerprint:
    """Run `entry` on the shared inputs of its signature shape and hash the outcomes."""
    shape = signature_shape(spec)
    rows = shared_inputs(shape, n)
    if isinstance(rows, str):
        return Fingerprint(shape, None, reason=rows)
    names = [p.name for p in spec.params if p.required]
    outputs: list[JSON] = []
    values: set[str] = set()
    ok = 0
    for row in rows:
        r = sb.run(source, entry, kwargs=dict(zip(names, row, strict=True)), timeout=CALL_TIMEOUT_S)
        if r.limit in UNSTABLE_LIMITS:
            return Fingerprint(shape, None, ok, len(values), f"a call hit the {r.limit} limit")
        if r.ok:
            ok += 1
            out = _canon(r.value)
            values.add(dumps(out))
            outputs.append(["ok", out])
        else:
            outputs.append(["error", r.error.type if r.error else "Error"])
    if ok < MIN_OK:
        return Fingerprint(shape, None, ok, len(values), f"only {ok} of {len(rows)} calls returned")
    if len(values) < MIN_DISTINCT:
        return Fingerprint(shape, None, ok, len(values), "returns one value on every input")
    digest = hashlib.sha256(
        dumps({"v": FINGERPRINT_VERSION, "shape": shape, "outputs": outputs}).encode()
    ).hexdigest()
    return Fingerprint(shape, digest, ok, len(values))


def record_fingerprint(sb: sandbox.Sandbox, rec: ToolRecord) -> Fingerprint:
    return fingerprint(sb, rec.source, rec.entry, rec.spec)


def _positional(rec: ToolRecord) -> list[str]:
    return [p.name for p in rec.spec.params if p.required]


def passes_examples(sb: sandbox.Sandbox, twin: ToolRecord, cand: ToolRecord) -> str | None:
    """Run the candidate's examples against `twin` (parameters matched by position); the first
    disagreement, or None when every mappable example agrees."""
    mapping = dict(zip(_positional(cand), _positional(twin), strict=True))
    cases = [*cand.tests.examples, *cand.tests.held_out][:MAX_CONFIRM]
    for case in cases:
        args = case.get("input") if isinstance(case, dict) else None
        if not isinstance(args, dict) or set(args) != set(mapping):
            continue  # passes optional parameters, or malformed: cannot be mapped
        r = sb.run(twin.source, twin.entry, kwargs={mapping[k]: v for k, v in args.items()})
        expected = case.get("expected")
        if not r.ok or not values_equal(r.value, expected):
            got = r.value if r.ok else f"error {r.error}"
            return f"{twin.ref} on {dumps(args)[:80]}: expected {expected!r:.80}, got {got!r:.80}"
    return None


class FingerprintIndex:
    """Fingerprints of a store's active tools (cached by content hash, following the store's
    change log); call it with a candidate record to use it as `publish(..., dedup=index)`."""

    def __init__(self, sb: sandbox.Sandbox, store: Store) -> None:
        self.sb = sb
        self.store = store
        self._cache: dict[str, Fingerprint] = {}
        self._shapes: dict[str, str] = {}  # content hash -> signature shape
        self._active: dict[str, ToolRecord] = {}
        self._cursor: int | None = None

    def of(self, rec: ToolRecord) -> Fingerprint:
        """The fingerprint of `rec`, computed once per content hash."""
        fp = self._cache.get(rec.content_hash)
        if fp is None:
            fp = record_fingerprint(self.sb, rec)
            self._cache[rec.content_hash] = fp
        return fp

    def shape(self, rec: ToolRecord) -> str:
        """The signature shape of `rec`, computed once per content hash."""
        found = self._shapes.get(rec.content_hash)
        if found is None:
            found = self._shapes[rec.content_hash] = signature_shape(rec.spec)
        return found

    def refresh(self) -> None:
        """Catch up with tools published, merged or changed in status since the last refresh."""
        if self._cursor is None:
            _, self._cursor = self.store.changes(0)
            self._active = {r.name: r for r in self.store.list(statuses=[Status.ACTIVE])}
            return
        changed, self._cursor = self.store.changes(self._cursor)
        for name in dict.fromkeys(n for n, _ in changed):
            active = [r for r in self.store.history(name) if r.status.status is Status.ACTIVE]
            if active:
                self._active[name] = active[-1]
            else:
                self._active.pop(name, None)

    def find(self, cand: ToolRecord) -> DedupMatch | None:
        """An active tool of another name that behaves like `cand`, or None.

        A candidate whose name already has versions is a new version of that tool, judged by
        the regression gate, never merged into another tool.
        """
        self.refresh()
        if cand.name in self._active or self.store.history(cand.name):
            return None
        shape = self.shape(cand)
        others = [
            r for r in self._active.values() if r.name != cand.name and self.shape(r) == shape
        ]
        if not others:
            return None
        fp = self.of(cand)
        if not fp.trusted:
            return None
        for rec in sorted(others, key=lambda r: r.created):
            if self.of(rec).digest != fp.digest:
                continue
            if passes_examples(self.sb, rec, cand) is not None:
                continue
            return DedupMatch(
                rec,
                f"behaves like {rec.ref}: same outputs on {fp.ok} shared inputs "
                f"(fingerprint {fp.digest[:12] if fp.digest else ''})",
                param_map(cand.spec, rec.spec),
            )
        return None

    __call__ = find
