"""The read-only Python API for downstream solvers: open a library, search it, call its tools.

Tools run in the sandbox by default: `view.tool("gcd")` returns a plain-looking callable whose
name, docstring and signature come from the stored spec (never from running the code), and
whose calls go to a `Sandbox` the view starts on first use and stops on `close()`.

>>> with open_library("my-lib") as view:  # doctest: +SKIP
...     gcd = view.tool("gcd")
...     gcd(12, 18)
6
...     view.openai_tools()  # function-calling schemas of the active tools

Native execution (`trust_native=True`) imports the tool's source into this process with no
isolation at all: only for code you have read and trust.
"""

from __future__ import annotations

import importlib.util
import inspect
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from library.errors import LibraryError
from library.experience import Replay
from library.library import Library
from library.records import JSON, Lock, Status, ToolRecord, ToolSpec, parse_ref
from library.retrieval import SearchResult

if TYPE_CHECKING:  # the sandbox is imported lazily: listing and searching never need it
    from sandbox import RunResult, Sandbox


class ToolCallError(LibraryError):
    """A tool run in the sandbox failed; `result` is the sandbox's `RunResult`."""

    def __init__(self, ref: str, result: RunResult) -> None:
        self.ref = ref
        self.result = result
        limit = f" [{result.limit}]" if result.limit else ""
        super().__init__(f"tool {ref} failed: {result.error}{limit}")


class _SourceDefault:
    """A default value that is only source text (never evaluated): shown as that text."""

    def __init__(self, expr: str) -> None:
        self.expr = expr

    def __repr__(self) -> str:
        return self.expr


def spec_signature(spec: ToolSpec) -> inspect.Signature:
    """The entry function's signature, rebuilt from the spec (annotations stay strings)."""
    params = []
    for p in spec.params:
        if p.required:
            default: Any = inspect.Parameter.empty
        elif p.default_expr:
            default = _SourceDefault(p.default_expr)
        else:
            default = p.default
        params.append(
            inspect.Parameter(
                p.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=default,
                annotation=p.annotation or inspect.Parameter.empty,
            )
        )
    ret = spec.returns_annotation or inspect.Signature.empty
    return inspect.Signature(params, return_annotation=ret)


def spec_docstring(spec: ToolSpec) -> str:
    """A Google-style docstring rebuilt from the spec."""
    parts = [spec.description or spec.summary]
    described = [p for p in spec.params if p.description]
    if described:
        parts.append("Args:\n" + "\n".join(f"    {p.name}: {p.description}" for p in described))
    if spec.returns_description:
        parts.append(f"Returns:\n    {spec.returns_description}")
    return "\n\n".join(x for x in parts if x)


class ToolFunction:
    """A stored tool version as a callable.

    Sandboxed (the default): each call runs the stored source in the sandbox and returns the
    JSON value (tuples come back as lists), or raises `ToolCallError` carrying the `RunResult`.
    Native (`trust_native=True` on `LibraryView.tool`): calls the function imported in this
    process; its exceptions propagate unchanged.

    Arguments are bound to the spec's signature first, so a wrong call raises `TypeError`
    before anything runs; parameters left out keep the tool's own defaults.
    """

    def __init__(
        self,
        record: ToolRecord,
        *,
        sandbox: Callable[[], Sandbox] | None = None,
        native: Callable[..., Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        if (sandbox is None) == (native is None):
            raise ValueError("a ToolFunction runs either in a sandbox or natively")
        self.record = record
        self.native = native is not None
        self.timeout = timeout
        self._sandbox = sandbox
        self._native = native
        self.__name__ = record.name
        self.__qualname__ = record.name
        self.__doc__ = spec_docstring(record.spec)
        self.__signature__ = spec_signature(record.spec)

    @property
    def ref(self) -> str:
        return self.record.ref

    def __repr__(self) -> str:
        how = "native" if self.native else "sandboxed"
        return f"<tool {self.ref} {how}{self.__signature__}>"

    def bind(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The keyword arguments a call would send; `TypeError` when they fit no signature."""
        try:
            bound = self.__signature__.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.ref}: {exc}") from None
        return dict(bound.arguments)

    def run(self, *args: Any, **kwargs: Any) -> RunResult:
        """Run in the sandbox and return the `RunResult` (never raises for a tool's failure)."""
        if self._sandbox is None:
            raise LibraryError(f"tool {self.ref} was loaded natively: call it directly")
        call_kwargs = self.bind(*args, **kwargs)
        rec = self.record
        return self._sandbox().run(rec.source, rec.entry, kwargs=call_kwargs, timeout=self.timeout)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._native is not None:
            return self._native(**self.bind(*args, **kwargs))
        result = self.run(*args, **kwargs)
        if not result.ok:
            raise ToolCallError(self.ref, result)
        return result.value


def load_native(record: ToolRecord) -> Callable[..., Any]:
    """Import a tool's source as a fresh module (not registered in `sys.modules`) and return
    its entry function. This RUNS THE TOOL'S CODE IN THIS PROCESS with no isolation."""
    module_name = f"library_tool_{record.name}_v{record.version}"
    spec = importlib.util.spec_from_loader(module_name, loader=None, origin=f"<tool {record.ref}>")
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    code = compile(record.source, f"<tool {record.ref}>", "exec")
    exec(code, module.__dict__)  # noqa: S102 - the caller opted in with trust_native=True
    fn = module.__dict__.get(record.entry)
    if not callable(fn):
        raise LibraryError(f"tool {record.ref}: its source defines no function {record.entry!r}")
    return fn


class LibraryView:
    """A read-only window on a library for downstream solvers. Use `open_library`.

    The view owns the sandbox it starts (closed by `close()` or the context manager); a sandbox
    passed in by the caller is shared and left running.
    """

    def __init__(
        self,
        library: Library,
        *,
        sandbox: Sandbox | None = None,
        timeout: float | None = None,
        path: Path | None = None,
    ) -> None:
        self.library = library
        self.path = path
        self.timeout = timeout
        self._sandbox = sandbox
        self._owns_sandbox = False
        self._sandbox_lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------ lifecycle
    def sandbox(self) -> Sandbox:
        """The sandbox tools run in, started on first use."""
        with self._sandbox_lock:
            if self._closed:
                raise LibraryError("this library view is closed")
            if self._sandbox is None:
                from sandbox import Sandbox

                self._sandbox = Sandbox()
                self._owns_sandbox = True
            return self._sandbox

    def close(self) -> None:
        with self._sandbox_lock:
            if self._closed:
                return
            self._closed = True
            if self._owns_sandbox and self._sandbox is not None:
                self._sandbox.close()
            self._sandbox = None
        self.library.close()

    def __enter__(self) -> LibraryView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ reading
    @property
    def lock(self) -> Lock | None:
        return self.library.lock

    def list(self, *, statuses: Iterable[Status | str] | None = None) -> list[ToolRecord]:
        """Per name, the latest version among `statuses` (default: active tools only).

        A view pinned to a lock lists exactly the pinned versions, whatever their status now
        (filtered by `statuses` only when given).
        """
        try:
            wanted = None if statuses is None else frozenset(Status(s) for s in statuses)
        except ValueError as exc:
            raise LibraryError(
                f"{exc}: statuses are {', '.join(s.value for s in Status)}"
            ) from None
        if self.library.lock is not None:
            pinned = self.library.store.pinned(self.library.lock)
            return [r for r in pinned if wanted is None or r.status.status in wanted]
        return self.library.store.list(statuses=wanted or frozenset({Status.ACTIVE}))

    def get(self, ref: str) -> ToolRecord:
        """The record for `name`, `name@latest` or `name@N` (`UnknownToolError` if none)."""
        return self.library.resolve(ref)

    def history(self, name: str) -> list[ToolRecord]:
        """Every version of `name`, oldest first, whatever its status."""
        return self.library.store.history(parse_ref(name)[0])

    def search(self, query: str, k: int = 5) -> SearchResult:
        """The top `k` tools for `query`; `abstained` (with no hits) when none is relevant."""
        return self.library.search(query, k)

    def tool(self, ref: str, *, trust_native: bool = False) -> ToolFunction:
        """The tool `ref` as a callable that runs in the sandbox.

        With `trust_native=True` the source is imported into this process instead: faster, but
        the tool can then do anything this process can (read files, open sockets, hang). Only
        for tools whose source you have reviewed.
        """
        rec = self.get(ref)
        self._check_callable(rec)
        if trust_native:
            return ToolFunction(rec, native=load_native(rec))
        return ToolFunction(rec, sandbox=self.sandbox, timeout=self.timeout)

    def _check_callable(self, rec: ToolRecord) -> None:
        status = rec.status.status
        if status is Status.REJECTED or (status is Status.RETIRED and not self._pinned(rec)):
            raise LibraryError(
                f"tool {rec.ref} is {status.value} ({rec.status.reason}): not callable"
            )

    def _pinned(self, rec: ToolRecord) -> bool:
        lock = self.library.lock
        return lock is not None and any(
            e.name == rec.name and e.version == rec.version for e in lock.entries
        )

    def openai_tools(self, refs: Sequence[str] | None = None) -> list[dict[str, JSON]]:
        """OpenAI function-calling definitions of the active tools (or of `refs`)."""
        records = [self.get(r) for r in refs] if refs is not None else self.list()
        return [rec.spec.openai_schema(rec.name) for rec in records]

    def experiences(
        self, query: str, k: int = 4, *, tools: Sequence[str] = (), budget_chars: int = 3000
    ) -> Replay:
        """Few-shot material: the most similar successful episodes, and the recorded failures
        of `tools`; `.render()` gives prompt-ready text."""
        return self.library.replay(query, tools, k=k, budget_chars=budget_chars)

    def snapshot(self) -> Lock:
        """A lock naming every offered `name@version` (the view's lock when it is pinned)."""
        return self.library.snapshot()


def _read_lock(lock: Lock | str | Path) -> Lock:
    if isinstance(lock, Lock):
        return lock
    try:
        text = Path(lock).read_text(encoding="utf-8")
    except OSError as exc:
        raise LibraryError(f"cannot read lock file {str(lock)!r}: {exc.strerror}") from None
    return Lock.from_text(text)


def open_library(
    path: str | Path,
    *,
    lock: Lock | str | Path | None = None,
    sandbox: Sandbox | None = None,
    timeout: float | None = None,
) -> LibraryView:
    """Open the library in directory `path` read-only.

    Args:
        path: the library directory (holding `library.sqlite`).
        lock: pin the view to a snapshot (a `Lock` or the path of a lock file); `name` then
            means the pinned version and only pinned tools are listed and searched.
        sandbox: a sandbox to share; by default the view starts its own on the first call.
        timeout: wall-clock seconds per tool call (default: the sandbox policy's).

    Raises:
        LibraryError: when `path` holds no usable library or the lock does not match it.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise LibraryError(f"no library at {str(path)!r}: not a directory")
    pinned = _read_lock(lock) if lock is not None else None
    try:
        library = Library.open(directory, read_only=True, lock=pinned)
    except sqlite3.Error as exc:
        raise LibraryError(f"no usable library at {str(path)!r}: {exc}") from None
    try:
        if pinned is not None:
            library.store.pinned(pinned)  # fail now, not at the first search
    except sqlite3.Error as exc:
        library.close()
        raise LibraryError(f"no usable library at {str(path)!r}: {exc}") from None
    except LibraryError:
        library.close()
        raise
    return LibraryView(library, sandbox=sandbox, timeout=timeout, path=directory)
