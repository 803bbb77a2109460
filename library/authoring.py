"""Hand-written tools: publish a tool file, and call a stored tool, both through the sandbox.

`add_file(lib, "gcd.py", sandbox)` publishes a typed function with a docstring. Its tests come
from the docstring's doctest examples (`>>> gcd(12, 18)` then `6`: a call of the tool with
literal arguments and a literal result) and from a `test_<stem>.py` beside it (`def test_*()`
functions, run in the sandbox as unit tests; a top-level `from <stem> import ...` is dropped,
the tool is already defined). The tool must pass them in the sandbox; it is then published
through the regression gate and behavioural de-duplication, like a made tool.

Nothing here imports or runs the tool in this process: sources are parsed with `ast`, doctest
values are read as literals (`library.calls`), and every run happens in the sandbox.
"""

from __future__ import annotations

import ast
import doctest
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sandbox
from library.calls import NotLiteral, argument_problem, literal_value, parse_literal_call
from library.errors import LibraryError
from library.fingerprint import FingerprintIndex
from library.gate import regression_gate
from library.library import Library
from library.records import (
    JSON,
    Call,
    Episode,
    NewTool,
    Provenance,
    Status,
    StoredSuite,
    ToolRecord,
    ToolSpec,
)
from library.spec import SpecError, derive_spec
from library.store.base import PublishResult, Store
from library.suites import SuiteError, failure_text, to_sandbox_suite
from library.verdict import Failure, Verdict, verdict_from
from sandbox.parsing import parse_source

Target = Library | Store
AddOutcome = Literal["published", "duplicate", "rejected", "invalid"]
HAND_WRITTEN = "hand-written"
MAX_FILE_BYTES = 200_000


@dataclass(frozen=True)
class AddResult:
    """What `add_file` did.

    - published: a new version was created (`record`).
    - duplicate: the same tool (same content, same code up to renaming, or same behaviour) was
      already stored; `record` is it, and it gained this file's provenance.
    - rejected: the regression gate kept the previous version; `message` says why.
    - invalid: nothing stored; `message` is one line naming the file and the problem.
    """

    outcome: AddOutcome
    message: str
    record: ToolRecord | None = None
    report: sandbox.TestReport | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("published", "duplicate")


def _store(target: Target) -> Store:
    return target.store if isinstance(target, Library) else target


# ------------------------------------------------------------------ doctest examples


def doctest_examples(
    doc: str, spec: ToolSpec, *, start_line: int = 0
) -> list[dict[str, JSON]] | str:
    """Examples `{"input": {...}, "expected": value}` from the doctest text of a docstring, or
    a one-line problem. Only `>>> entry(literal, name=literal)` with a literal result line (or
    none, for None) is accepted; examples marked `+SKIP` are ignored. An example right below a
    ``Problem: ...`` paragraph carries that problem as its ``"question"`` (`_problem_before`).
    Nothing is evaluated beyond `ast.literal_eval`."""
    try:
        parsed = doctest.DocTestParser().get_examples(doc)
    except ValueError as exc:
        return f"doctest text is malformed: {str(exc).splitlines()[0]}"
    names = [p.name for p in spec.params]
    required = {p.name for p in spec.params if p.required}
    out: list[dict[str, JSON]] = []
    previous_end = 0
    for ex in parsed:
        if ex.options.get(doctest.SKIP):
            continue
        line = start_line + ex.lineno + 1
        where = f"doctest at line {line}"
        args = parse_literal_call(ex.source, spec.entry, names, required=required, as_json=True)
        if args is None:  # a statement (`x = 2`, `import math`) or another call
            return (
                f"{where}: only calls of {spec.entry}(...) with literal arguments are "
                f"supported, got {ex.source.strip()[:60]!r}"
            )
        if isinstance(args, str):
            return f"{where}: {args}"
        want = ex.want.strip()
        if want.startswith("Traceback"):
            return f"{where}: expected exceptions are not supported"
        try:
            expected = literal_value(want, as_json=True) if want else None
        except NotLiteral as exc:
            return f"{where}: expected output {exc}"
        example: dict[str, JSON] = {"input": args, "expected": expected}
        question = _problem_before(doc, ex.lineno, after=previous_end)
        if question:
            example["question"] = question
        example["name"] = f"doctest line {line}"
        out.append(example)
        previous_end = ex.lineno + ex.source.count("\n") + ex.want.count("\n")
    return out


PROBLEM_LABEL = "Problem:"


def _problem_before(doc: str, lineno: int, *, after: int) -> str:
    """The problem a doctest example answers: a paragraph starting ``Problem:`` right above its
    ``>>>`` line (`lineno`, 0-based in `doc`), after line `after`; its lines joined, the label
    dropped; "" when there is none. The tool card shows it with the call as a demonstration of
    how a problem's text maps to the arguments (`maker.use.prompt.example_calls`)."""
    lines = doc.splitlines()[after:lineno]
    start = next(
        (i for i in range(len(lines) - 1, -1, -1) if lines[i].strip().startswith(PROBLEM_LABEL)),
        None,
    )
    if start is None or any(not line.strip() for line in lines[start:]):
        return ""
    text = " ".join(line.strip() for line in lines[start:])
    return text[len(PROBLEM_LABEL) :].strip()


def _docstrings(source: str, entry: str) -> list[tuple[str, int]]:
    """The module's and the entry function's docstrings, with the line each starts on."""
    tree = parse_source(source)
    out: list[tuple[str, int]] = []
    nodes: list[ast.Module | ast.FunctionDef] = [tree]
    nodes += [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry]
    for node in nodes:
        doc = ast.get_docstring(node, clean=False)
        if doc and node.body and isinstance(node.body[0], ast.Expr):
            out.append((doc, node.body[0].lineno - 1))
    return out


# ------------------------------------------------------------------ test file


def unit_test_source(test_source: str, stem: str) -> str:
    """`test_source` without its top-level imports of the tool's own module (`from stem
    import ...`, `import stem`), which the sandbox does not need: the tool is defined first."""
    tree = parse_source(test_source)
    drop: set[int] = set()
    for node in tree.body:
        own = (isinstance(node, ast.ImportFrom) and node.module == stem and node.level == 0) or (
            isinstance(node, ast.Import) and all(a.name == stem for a in node.names)
        )
        if own:
            drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = test_source.splitlines(keepends=True)
    return "".join(line for i, line in enumerate(lines, 1) if i not in drop)


def _read(path: Path, what: str) -> str | AddResult:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return AddResult("invalid", f"{path}: {what} not found")
    except OSError as exc:
        return AddResult("invalid", f"{path}: cannot read {what}: {exc.strerror}")
    if len(data) > MAX_FILE_BYTES:
        return AddResult("invalid", f"{path}: {what} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return AddResult("invalid", f"{path}: {what} is not UTF-8 text")


def _spec(source: str, path: Path, entry: str | None) -> ToolSpec | AddResult:
    spec = derive_spec(source, entry)
    if isinstance(spec, SpecError) and spec.code == "ambiguous_function" and entry is None:
        spec = derive_spec(source, path.stem)  # several functions: the one named like the file
        if isinstance(spec, SpecError) and spec.code == "missing_function":
            spec = derive_spec(source, entry)
    if isinstance(spec, SpecError):
        line = f" (line {spec.line})" if spec.line and "line" not in spec.message else ""
        hint = " (pass --entry NAME)" if spec.code == "ambiguous_function" else ""
        return AddResult("invalid", f"{path}: {spec.message}{line}{hint}")
    return spec


def collect_tests(source: str, path: Path, spec: ToolSpec) -> StoredSuite | AddResult:
    """The tool file's tests: doctest examples and `test_<stem>.py` beside it, if any."""
    examples: list[dict[str, JSON]] = []
    for doc, line in _docstrings(source, spec.entry):
        found = doctest_examples(doc, spec, start_line=line)
        if isinstance(found, str):
            return AddResult("invalid", f"{path}: {found}")
        examples.extend(found)
    units: tuple[str, ...] = ()
    test_path = path.with_name(f"test_{path.stem}.py")
    if test_path.exists():
        text = _read(test_path, "test file")
        if isinstance(text, AddResult):
            return text
        try:
            units = (unit_test_source(text, path.stem),)
        except SyntaxError as exc:
            return AddResult("invalid", f"{test_path}: syntax error: {exc.msg} (line {exc.lineno})")
    if not examples and not units:
        return AddResult(
            "invalid",
            f"{path}: no tests: add doctest examples (>>> {spec.entry}(...)) to the docstring "
            f"or a test_{path.stem}.py beside it",
        )
    return StoredSuite(examples=tuple(examples), unit_tests=units)


def _verdict(report: sandbox.TestReport) -> Verdict:
    """The stored verdict of a hand-written tool's test run (checks counted by kind)."""
    return verdict_from(
        [Failure.from_outcome(o) for o in report.failures],
        ran=bool(report.outcomes),
        timings={"tests_ms": report.elapsed_ms},
        counts=dict(Counter(o.kind for o in report.outcomes)),
    )


def _first_failure(report: sandbox.TestReport) -> str:
    o = report.failures[0]
    detail = failure_text(o)
    more = f" (and {len(report.failures) - 1} more)" if len(report.failures) > 1 else ""
    return f"test {o.name!r} failed: {detail}{more}"


# ------------------------------------------------------------------ publishing


def publish_checked(
    target: Target,
    new: NewTool,
    sb: sandbox.Sandbox,
    *,
    index: FingerprintIndex | None = None,
) -> PublishResult:
    """Publish `new` through the regression gate and behavioural de-duplication.

    Pass the same `index` across calls to reuse fingerprints already computed.
    """
    store = _store(target)
    gate = regression_gate(sb, store)
    dedup = index if index is not None else FingerprintIndex(sb, store)
    if isinstance(target, Library):
        return target.publish(new, gate=gate, dedup=dedup)
    return store.publish(new, gate=gate, dedup=dedup)


def add_file(
    target: Target,
    path: str | Path,
    sb: sandbox.Sandbox,
    *,
    name: str | None = None,
    entry: str | None = None,
    index: FingerprintIndex | None = None,
) -> AddResult:
    """Validate the hand-written tool in `path` in the sandbox and publish it.

    `entry` names the function (default: the only public one, or the one named like the
    file); `name` the tool (default: the entry's name). Returns an `AddResult`.
    """
    path = Path(path)
    source = _read(path, "tool file")
    if isinstance(source, AddResult):
        return source
    spec = _spec(source, path, entry)
    if isinstance(spec, AddResult):
        return spec
    tests = collect_tests(source, path, spec)
    if isinstance(tests, AddResult):
        return tests
    suite = to_sandbox_suite(tests)
    if isinstance(suite, SuiteError):  # pragma: no cover - collect_tests builds valid suites
        return AddResult("invalid", f"{path}: {suite.message}")
    report = sb.run_tests(source, spec.entry, suite)
    if not report.passed:
        return AddResult("invalid", f"{path}: {_first_failure(report)}", report=report)
    new = NewTool(
        name=name or spec.entry,
        source=source,
        tests=tests,
        verdict=_verdict(report),
        provenance=Provenance(
            task_ids=(f"file:{path.name}",), strategy=HAND_WRITTEN, origin="hand"
        ),
        entry=spec.entry,
        spec=spec,
    )
    result = publish_checked(target, new, sb, index=index)
    if result.outcome == "created":
        assert result.record is not None
        return AddResult("published", f"published {result.record.ref}", result.record, report)
    if result.outcome in ("duplicate", "merged"):
        rec = result.record
        assert rec is not None
        if rec.status.status is Status.REJECTED:  # the same content was rejected before
            return AddResult("rejected", f"{path}: {rec.status.reason}", rec, report)
        status = "" if rec.status.status is Status.ACTIVE else f", {rec.status.status.value}"
        return AddResult(
            "duplicate",
            f"{path}: already in the library as {rec.ref}{status} ({result.reason})",
            rec,
            report,
        )
    if result.outcome == "rejected":
        return AddResult("rejected", f"{path}: {result.reason}", result.record, report)
    return AddResult("invalid", f"{path}: {result.reason}", None, report)


# ------------------------------------------------------------------ calling


def _check_arguments(rec: ToolRecord, kwargs: Any) -> None:
    if not isinstance(kwargs, dict):
        raise LibraryError(
            f"arguments for {rec.ref} must be a JSON object, got {type(kwargs).__name__}"
        )
    params = {p.name: p for p in rec.spec.params}
    signature = ", ".join(p.name for p in rec.spec.params)
    unknown = [k for k in kwargs if k not in params]
    if unknown:
        raise LibraryError(f"{rec.ref} has no parameter {unknown[0]!r}; it takes ({signature})")
    missing = [p.name for p in rec.spec.params if p.required and p.name not in kwargs]
    if missing:
        raise LibraryError(f"{rec.ref} needs argument {missing[0]!r}; it takes ({signature})")
    problem = argument_problem(rec.spec, kwargs)  # the check serve-mcp makes, too
    if problem is not None:
        raise LibraryError(f"bad arguments for {rec.ref}: {problem}")


def resolve_callable(target: Target, ref: str) -> ToolRecord:
    """The record `ref` names, refusing versions that are retired or were rejected."""
    rec = target.resolve(ref)
    if rec.status.status in (Status.RETIRED, Status.REJECTED):
        why = f": {rec.status.reason}" if rec.status.reason else ""
        raise LibraryError(
            f"tool {rec.ref} is {rec.status.status.value}{why}; it is kept for lineage only"
        )
    return rec


def call_tool(
    target: Target,
    ref: str,
    kwargs: dict[str, JSON],
    sb: sandbox.Sandbox,
    *,
    record: bool = False,
    query: str = "",
) -> sandbox.RunResult:
    """Run the tool `ref` (`name`, `name@latest` or `name@N`) in the sandbox with `kwargs`.

    Raises `LibraryError` (one line) for an unknown tool or version, a retired or rejected
    version, or arguments that do not fit its parameters; a tool that fails comes back as a
    `RunResult` with `ok=False`. With `record=True`, the call is stored as an episode (origin
    "use", not judged) and counts in the version's usage statistics.
    """
    rec = resolve_callable(target, ref)
    _check_arguments(rec, kwargs)
    result = sb.run(rec.source, rec.entry, kwargs=kwargs)
    if record:
        episode = Episode(
            query=query or f"call {rec.ref}",
            offered=(rec.ref,),
            call=Call(tool=rec.ref, arguments=dict(kwargs)),
            result={
                "ok": result.ok,
                "value": result.value,
                "error": None if result.error is None else result.error.__dict__.copy(),
            },
            origin="use",
        )
        if isinstance(target, Library):
            target.record(episode)
        else:
            target.add_episode(episode)
    return result
