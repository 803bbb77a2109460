"""`maker library ...` and `maker bench library`: a thin shell over `library`'s public API.

Exit codes (the policy of every command, `maker.cli.common`): 0 success, 1 a failure (unknown
tool or version, a tool that failed, a refused change: a `LibraryError`), 2 a usage error
(missing or bad option, no library at --library, bad JSON). Errors are one line on stderr.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from maker.cli.common import json_kwargs, plural

if TYPE_CHECKING:
    from library import Library, Provenance, ToolRecord
    from library.api import LibraryView

F = TypeVar("F", bound=Callable[..., Any])
DB_NAME = "library.sqlite"  # the file a library directory holds (library.store.sqlite.DB_NAME)


def library_option(f: F) -> F:
    return click.option(
        "--library",
        "library_dir",
        envvar="MAKER_LIBRARY",
        required=True,
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        help="The library directory (default: $MAKER_LIBRARY).",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def _ref(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check the shape of `name`, `name@latest` or `name@N` before opening anything."""
    if value is None:
        return None
    from library.errors import LibraryError
    from library.records import parse_ref

    try:
        parse_ref(value)
    except LibraryError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _require(directory: Path) -> None:
    if not (directory / DB_NAME).is_file():
        raise click.BadParameter(
            f"no library at {str(directory)!r} ({DB_NAME} is missing); "
            "start one with `maker library add FILE --library DIR`",
            param_hint="'--library'",
        )


@contextmanager
def _damage_is_one_line(directory: Path) -> Iterator[None]:
    """SQLite finding damage mid-command (past the checks at open) as a one-line error."""
    import sqlite3

    from library.store.sqlite import db_path, unusable

    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise unusable(db_path(directory), str(exc)) from None


@contextmanager
def _view(directory: Path, lock: Path | None = None) -> Iterator[LibraryView]:
    from library.api import open_library

    _require(directory)
    with _damage_is_one_line(directory), open_library(directory, lock=lock) as view:
        yield view


@contextmanager
def _writable(directory: Path, *, create: bool = False) -> Iterator[Library]:
    from library import Library

    if not create:
        _require(directory)
    with _damage_is_one_line(directory), Library.open(directory) as lib:
        yield lib


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _signature(rec: ToolRecord) -> str:
    """`name(a: int, b: int = 2) -> int`, as written in the source."""
    from library.spec import call_signature

    return call_signature(rec.name, rec.spec)


def _provenance(p: Provenance) -> str:
    """One provenance entry in words: how the tool (or a re-invention merged into it) came."""
    tasks = ", ".join(p.task_ids) or "-"
    if p.origin == "made":
        how = f"made by {p.strategy or '-'} with {p.maker_model or '-'} for tasks {tasks}"
    elif p.origin == "hand":
        how = f"hand-written ({tasks})"
    else:
        how = f"{p.origin} {p.strategy}".strip() + f" ({tasks})"
    if p.param_map:
        how += " with parameters " + ", ".join(f"{a} -> {b}" for a, b in p.param_map)
    return f"{how} at {_when(p.time)}"


def _rate(rec: ToolRecord) -> str:
    rate = rec.usage.success_rate
    return "-" if rate is None else f"{rate:.0%}"


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


def _brief(rec: ToolRecord) -> dict[str, Any]:
    return {
        "ref": rec.ref,
        "name": rec.name,
        "version": rec.version,
        "status": rec.status.status.value,
        "summary": rec.spec.summary,
        "signature": _signature(rec),
        "usage": rec.usage.to_json(),
    }


# ---------------------------------------------------------------- the group
@click.group("library")
def library() -> None:
    """Browse, search, call, export and curate a tool library.

    \b
    Every command takes --library DIR (or set MAKER_LIBRARY=DIR):
      maker library list --library my-lib
      maker library search "greatest common divisor" --library my-lib
      maker library call gcd --args '{"a": 12, "b": 18}' --library my-lib
    """


@library.command("list")
@library_option
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also list deprecated and retired tools (latest version of each).",
)
@json_option
def list_cmd(library_dir: Path, show_all: bool, as_json: bool) -> None:
    """List the active tools, latest version of each.

    \b
    Examples:
      maker library list --library my-lib
      maker library list --all --json --library my-lib
    """
    from library.records import Status

    statuses = [Status.ACTIVE, Status.DEPRECATED, Status.RETIRED] if show_all else [Status.ACTIVE]
    with _view(library_dir) as view:
        records = view.list(statuses=statuses)
    if as_json:
        _echo_json([_brief(r) for r in records])
        return
    from rich.table import Table

    table = Table(title=f"{plural(len(records), 'tool')} in {library_dir}")
    for col in ("tool", "status", "signature", "summary", "calls", "success"):
        table.add_column(col, overflow="fold")  # long names wrap, never cut
    for r in records:
        table.add_row(
            r.ref,
            r.status.status.value,
            _signature(r),
            r.spec.summary,
            str(r.usage.calls),
            _rate(r),
        )
    _console().print(table)


@library.command("show")
@click.argument("ref", metavar="NAME[@N]", callback=_ref)
@library_option
@json_option
def show_cmd(ref: str, library_dir: Path, as_json: bool) -> None:
    """Show one tool version: signature, status, provenance, tests, usage and source.

    NAME means the latest offered version; NAME@N any stored version.

    \b
    Examples:
      maker library show gcd --library my-lib
      maker library show gcd@2 --json --library my-lib
    """
    with _view(library_dir) as view:
        rec = view.get(ref)
    if as_json:
        _echo_json(rec.to_json())
        return
    st = rec.status
    lines = [
        f"{rec.ref}  [{st.status.value}] {st.reason}"
        + (f" (use {st.replacement})" if st.replacement else ""),
        f"  {_signature(rec)}",
        f"  {rec.spec.description or rec.spec.summary}",
        f"  content hash {rec.content_hash[:16]}  parent version {rec.parent_version}"
        f"  created {_when(rec.created)}",
        f"  tests: {len(rec.tests.examples)} examples, {len(rec.tests.unit_tests)} unit, "
        f"{len(rec.tests.property_specs)} properties, {len(rec.tests.held_out)} held out; "
        f"verdict {'passed' if rec.verdict.passed else 'failed'}",
        f"  usage: {rec.usage.calls} calls, {rec.usage.successes} successes, "
        f"{rec.usage.failures} failures",
    ]
    for p in rec.provenance:
        lines.append(f"  provenance: {_provenance(p)}")
    click.echo("\n".join(lines) + "\n")
    click.echo(rec.source.rstrip("\n"))


@library.command("history")
@click.argument("name", callback=_ref)
@library_option
@json_option
def history_cmd(name: str, library_dir: Path, as_json: bool) -> None:
    """Every version of a tool, oldest first, with status and lineage.

    \b
    Example:
      maker library history gcd --library my-lib
    """
    from library.errors import UnknownToolError

    with _view(library_dir) as view:
        versions = view.history(name)
    if not versions:
        raise UnknownToolError(f"unknown tool {name!r}: no such name in the library")
    if as_json:
        _echo_json([r.to_json() | {"source": None} for r in versions])
        return
    from rich.table import Table

    table = Table(title=f"history of {versions[0].name}")
    for col in ("version", "status", "reason", "parent", "hash", "created", "calls", "success"):
        table.add_column(col, overflow="fold")
    for r in versions:
        reason = r.status.reason + (
            f" (use {r.status.replacement})" if r.status.replacement else ""
        )
        table.add_row(
            str(r.version),
            r.status.status.value,
            reason,
            "-" if r.parent_version is None else str(r.parent_version),
            r.content_hash[:12],
            _when(r.created),
            str(r.usage.calls),
            _rate(r),
        )
    _console().print(table)


@library.command("search")
@click.argument("query")
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="How many tools to return at most.",
)
@library_option
@json_option
def search_cmd(query: str, k: int, library_dir: Path, as_json: bool) -> None:
    """Find tools for a problem in words; says so when nothing is relevant enough.

    \b
    Examples:
      maker library search "greatest common divisor of two numbers" --library my-lib
      maker library search "compound interest" -k 3 --json --library my-lib
    """
    with _view(library_dir) as view:
        result = view.search(query, k)
        records = {h.ref: view.get(h.ref) for h in result.hits}
    if as_json:
        _echo_json(
            {
                "query": query,
                "abstained": result.abstained,
                "reason": result.reason,
                "hits": [
                    {
                        "ref": h.ref,
                        "name": h.name,
                        "version": h.version,
                        "score": h.score,
                        "relevance": h.relevance,
                        "summary": records[h.ref].spec.summary,
                    }
                    for h in result.hits
                ],
            }
        )
        return
    if result.abstained or not result.hits:
        click.echo(
            f"No tool is relevant enough for {query!r}"
            + (f": {result.reason}" if result.reason else "")
        )
        return
    from rich.table import Table

    table = Table(title=f"tools for {query!r}")
    for col in ("#", "tool", "relevance", "signature", "summary"):
        table.add_column(col, overflow="fold")
    for i, h in enumerate(result.hits, 1):
        rec = records[h.ref]
        table.add_row(str(i), h.ref, f"{h.relevance:.2f}", _signature(rec), rec.spec.summary)
    _console().print(table)


@library.command("export")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@library_option
def export_cmd(out_dir: Path, library_dir: Path) -> None:
    """Write every tool version to DIR: manifest.json and tools/<name>/v<N>.py with tests.

    DIR must be missing, empty or an earlier export (replaced whole).

    \b
    Example:
      maker library export exported-tools --library my-lib
      python -c "from tools.gcd.v1 import gcd; print(gcd(12, 18))"   # run inside exported-tools
    """
    with _view(library_dir) as view:
        manifest = view.library.export(out_dir)
    count = len(json.loads(manifest.read_text(encoding="utf-8"))["tools"])
    click.echo(f"exported {plural(count, 'tool version')} to {out_dir} (manifest {manifest})")


@library.command("deprecate")
@click.argument("ref", metavar="NAME@N", callback=_ref)
@click.option(
    "--replacement",
    required=True,
    metavar="NAME[@M]",
    callback=_ref,
    help="The tool to use instead (must exist and be offered).",
)
@click.option("--reason", default="", help="Why (default: 'use REPLACEMENT').")
@library_option
def deprecate_cmd(ref: str, replacement: str, reason: str, library_dir: Path) -> None:
    """Deprecate a tool version: still callable, offered last, pointing at a replacement.

    \b
    Example:
      maker library deprecate gcd@1 --replacement gcd@2 --reason "slow" --library my-lib
    """
    with _writable(library_dir) as lib:
        changed = lib.deprecate(ref, replacement, reason)
    click.echo(f"deprecated {', '.join(r.ref for r in changed) or 'nothing'} (use {replacement})")


@library.command("retire")
@click.argument("ref", metavar="NAME[@N]", callback=_ref)
@click.option("--reason", required=True, help="Why it is retired (kept with the record).")
@library_option
def retire_cmd(ref: str, reason: str, library_dir: Path) -> None:
    """Retire a tool version (or, with NAME alone, every version): never offered again,
    kept for lineage.

    \b
    Examples:
      maker library retire gcd@1 --reason "wrong for negative inputs" --library my-lib
      maker library retire old_tool --reason "superseded" --library my-lib
    """
    with _writable(library_dir) as lib:
        changed = lib.retire(ref, reason)
    click.echo(f"retired {', '.join(r.ref for r in changed) or 'nothing'}")


@library.command("lock")
@click.argument("lock_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@library_option
def lock_cmd(lock_file: Path, force: bool, library_dir: Path) -> None:
    """Write a lock file pinning every active tool's current version (with its content hash):
    `serve-mcp --lock FILE` then serves exactly those versions, whatever is published later.

    \b
    Example:
      maker library lock tools.lock.json --library my-lib
      maker library serve-mcp --lock tools.lock.json --library my-lib
    """
    from library.errors import LibraryError

    if lock_file.exists() and not force:
        raise LibraryError(f"lock file {lock_file} already exists: pass --force to replace it")
    with _view(library_dir) as view:
        lock = view.snapshot()
    tmp = lock_file.with_name(lock_file.name + ".tmp")
    try:
        tmp.write_text(lock.to_text() + "\n", encoding="utf-8")
        tmp.replace(lock_file)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LibraryError(f"cannot write lock file {lock_file}: {exc.strerror or exc}") from None
    click.echo(
        f"locked {plural(len(lock.entries), 'tool')} (digest {lock.digest[:12]}) in "
        f"{lock_file}; serve exactly these with: maker library serve-mcp --lock "
        f"{lock_file} --library {library_dir}"
    )


@library.command("serve-mcp")
@click.option(
    "--lock",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve exactly the tools of this lock file (written by `maker library lock`).",
)
@library_option
def serve_mcp_cmd(lock: Path | None, library_dir: Path) -> None:
    """Serve the active tools over MCP (stdio); each call runs in the sandbox.

    \b
    Example (an MCP client's server command):
      maker library serve-mcp --library /path/to/my-lib
    """
    from library.mcp_server import serve

    _require(library_dir)
    with _damage_is_one_line(library_dir):
        serve(library_dir, lock=lock)


@library.command("add")
@click.argument(
    "files",
    metavar="FILE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--name", help="Tool name (default: the entry function's name; one FILE only).")
@click.option(
    "--entry",
    help="Function to expose (default: the only public function, or --name; one FILE only).",
)
@library_option
def add_cmd(
    files: tuple[Path, ...], name: str | None, entry: str | None, library_dir: Path
) -> None:
    """Publish hand-written tools: each FILE a typed function with a docstring, validated in
    the sandbox against its doctest examples (and a test_<stem>.py beside it) and gated against
    the previous version. Creates the library if --library does not exist yet. With several
    FILEs, each is published on its own (one line each); the exit status is 1 if any was not.

    \b
    Examples:
      maker library add gcd.py --library my-lib
      maker library add helpers.py --entry lcm --name lcm --library my-lib
      maker library add experiments/curated/bbh/*.py --library curated-lib
    """
    from library.authoring import add_file
    from sandbox import Sandbox

    if len(files) > 1 and (name or entry):
        raise click.UsageError("--name and --entry apply to one FILE; give them one at a time")
    sb = Sandbox(workers=1)  # starts at its first run, not here
    ok = True
    try:
        with _writable(library_dir, create=True) as lib:
            for file in files:
                result = add_file(lib, file, sb, name=name, entry=entry)
                ok = _report_publish(result, file if len(files) > 1 else None) and ok
    finally:
        sb.close()
    if not ok:
        sys.exit(1)


def _report_publish(result: Any, file: Path | None = None) -> bool:
    """Print an `AddResult` as one line (naming `file` when given); True when the tool is now
    in the library."""
    where = f"{file}: " if file is not None else ""
    if result.outcome == "published":
        click.echo(f"{where}published {result.record.ref}")
    else:
        click.echo(f"{where}{result.outcome}: {result.message}")
    return bool(result.ok)


@library.command("call")
@click.argument("ref", metavar="NAME[@N]", callback=_ref)
@click.option(
    "--args",
    "kwargs",
    metavar="JSON",
    callback=json_kwargs,
    default=None,
    help="JSON object of keyword arguments.",
)
@click.option(
    "--record",
    is_flag=True,
    help="Store the call as an episode (counts in the tool's usage statistics).",
)
@library_option
def call_cmd(ref: str, kwargs: dict[str, Any], record: bool, library_dir: Path) -> None:
    """Run a tool in the sandbox and print its result as one JSON line.

    The line has the keys tool, ok, value, error, stdout, limit and elapsed_ms; the exit code
    is 1 when the tool failed.

    \b
    Example:
      maker library call gcd --args '{"a": 12, "b": 18}' --library my-lib
      {"tool": "gcd@1", "ok": true, "value": 6, ...}
    """
    from library.authoring import call_tool
    from sandbox import Sandbox

    opened = _writable(library_dir) if record else _view(library_dir)
    with opened as target:
        lib = target if record else target.library
        rec = lib.resolve(ref)
        sb = Sandbox(workers=1)  # starts at its first run: bad arguments never start it
        try:
            result = call_tool(lib, rec.ref, kwargs, sb, record=record)
        finally:
            sb.close()
    click.echo(json.dumps({"tool": rec.ref, **result.to_json()}, ensure_ascii=False))
    sys.exit(0 if result.ok else 1)


# ---------------------------------------------------------------- benchmark
def _sizes(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s.replace("_", "")) for s in value.split(",") if s.strip())
    except ValueError:
        raise click.BadParameter("must be comma-separated tool counts, e.g. 1000,10000") from None
    if not sizes or min(sizes) < 1:
        raise click.BadParameter("must name at least one positive tool count")
    return sizes


@click.command("library")
@click.option(
    "--sizes",
    default="1000,10000,100000",
    show_default=True,
    callback=_sizes,
    help="Comma-separated library sizes (tools) to build and measure.",
)
@click.option(
    "--queries",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Searches timed per library.",
)
def bench_library(sizes: tuple[int, ...], queries: int) -> None:
    """Build synthetic libraries and time publish, open (list + index) and search.

    Progress goes to stderr; a table and, last, one JSON line of figures to stdout.

    \b
    Examples:
      maker bench library
      maker bench library --sizes 200,2000 --queries 50
    """
    from rich.table import Table

    from library.bench import run_benchmark, size_label

    def progress(n: int, phase: str, done: int, total: int) -> None:
        detail = f" {done}/{total}" if phase == "publish" else ""
        click.echo(f"[{size_label(n)}] {phase}{detail}", err=True)

    rows, summary = run_benchmark(sizes, queries=queries, progress=progress)
    table = Table(title="library benchmark")
    for col in (
        "tools",
        "publish/s",
        "open s",
        "load s",
        "search median ms",
        "search p99 ms",
        "recall@5",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            f"{int(r['tools']):,}",
            f"{r['publish_per_s']:.0f}",
            f"{r['open_s']:.2f}",
            f"{r['load_records_s']:.2f}",
            f"{r['search_median_ms']:.2f}",
            f"{r['search_p99_ms']:.2f}",
            f"{r['recall_at_5']:.2f}",
        )
    _console().print(table)
    click.echo(json.dumps(summary, sort_keys=True))
