"""The `maker` command line: a thin layer over the public functions of each package."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from maker.cli.common import OneLineErrors, json_kwargs


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tool-maker")
def main() -> None:
    """Make, validate, store and use Python tools written by language models.

    \b
    Start here:
      maker demo                                    # the whole pipeline offline, scripted model
      maker make tasks.jsonl --library my-lib       # make tools (local models unless you set
                                                    # an endpoint: see maker models)
      maker library list --library my-lib           # what the library holds
      maker solve problems.jsonl --library my-lib   # a cheaper model solves with the tools
      maker explore --library my-lib                # it practises first: demos for solve
      maker improve --library my-lib                # repair tools that failed in use
      maker grade --dataset math answers.jsonl      # strict MATH / TabMWP / BIG-Bench grading
      maker sandbox run tool.py --entry solve --args '{"n": 10}'

    \b
    Exit status, every command: 0 done; 1 the work failed (a unit errored, a run stopped
    early, a tool call failed, the library refused); 2 a usage error or bad input (a bad
    argument, file or setting); 130 Ctrl-C. Errors are one line; a traceback means a bug.
    """


@main.group()
def sandbox() -> None:
    """Run untrusted Python in the sandbox (the same one every tool runs in)."""


@sandbox.command("run")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--entry", metavar="NAME", help="Function to call after the file has run.")
@click.option(
    "--args",
    "kwargs",
    metavar="JSON",
    callback=json_kwargs,
    help="JSON object of keyword arguments for --entry.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.01),
    default=None,
    help="Wall-clock seconds per file (default: the policy's, 5 s).",
)
@click.option("--strict", is_flag=True, help="Fresh process per file instead of a warm worker.")
def sandbox_run(
    files: tuple[Path, ...],
    entry: str | None,
    kwargs: dict[str, Any],
    timeout: float | None,
    strict: bool,
) -> None:
    """Run each FILE under the default policy and print one JSON line per file.

    Each line has the keys file, ok, value, error (type, message, line), stdout, limit and
    elapsed_ms. The exit code is 0 only if every file ran to completion without an error.

    \b
    Examples:
      maker sandbox run tool.py --entry gcd --args '{"a": 12, "b": 18}'
      maker sandbox run probes/*.py
    """
    from sandbox import Sandbox

    if kwargs and not entry:
        raise click.UsageError("--args needs --entry (the function to call with them)")
    failed = 0
    with Sandbox(workers=1, mode="strict" if strict else "warm") as sb:
        for path in files:
            try:
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                line = {
                    "file": str(path),
                    "ok": False,
                    "value": None,
                    "stdout": "",
                    "limit": None,
                    "error": {"type": "ReadError", "message": str(exc), "line": None},
                }
            else:
                result = sb.run(source, entry, kwargs=kwargs, timeout=timeout)
                line = {"file": str(path), **result.to_json()}
            failed += not line["ok"]
            click.echo(json.dumps(line, ensure_ascii=False))
    sys.exit(1 if failed else 0)


@main.group()
def bench() -> None:
    """Benchmarks that print a table and, last, one JSON line of figures."""


@bench.command("sandbox")
@click.option(
    "--calls",
    type=click.IntRange(min=100),
    default=1000,
    show_default=True,
    help="Calls per measured series.",
)
def bench_sandbox(calls: int) -> None:
    """Time in-process, warm, strict and subprocess-per-call execution, throughput, a
    compute-heavy loop and a 100-example Hypothesis validation."""
    from sandbox.bench import run_benchmark

    run_benchmark(calls=calls)


@bench.command("local")
@click.option(
    "--strategies",
    default="creator,latm,craft",
    show_default=True,
    help="Comma-separated strategies for the main job part ('' skips it).",
)
@click.option(
    "--skip-models",
    is_flag=True,
    help="Skip the server against in-process comparison of each model.",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=8),
    default=64,
    show_default=True,
    help="Tokens generated per timed request.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the libraries and jobs here (default: a temporary directory).",
)
def bench_local(strategies: str, skip_models: bool, max_tokens: int, workdir: Path | None) -> None:
    """The local models (`maker models`): generation and prompt tokens/s through the server
    against llama-cpp-python in-process on the same prompt, time to first token, the prefix
    cache; then the main job on the example tasks per strategy with the local 1.5B maker,
    every accepted tool re-tested from the library. Takes tens of minutes on 2 cores.

    \b
    Examples:
      maker bench local --strategies creator
      MAKER_LOCAL_THREADS=1 maker bench local --skip-models   # on a busy machine
    """
    from maker.bench.local import run_bench as run_local_bench

    names = tuple(s for s in (x.strip() for x in strategies.split(",")) if s)
    unknown = sorted(set(names) - {"creator", "latm", "craft"})
    if unknown:
        raise click.UsageError(f"--strategies: unknown {', '.join(unknown)} (creator, latm, craft)")
    run_local_bench(
        strategies=names, skip_models=skip_models, max_tokens=max_tokens, workdir=workdir
    )  # a LocalModelError ends it in one line, exit 1


@bench.command("server")
@click.option(
    "--problems",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Problems; each gets a JSON-schema tool decision and a free-text program.",
)
@click.option(
    "--role",
    type=click.Choice(["user", "maker"]),
    default="user",
    show_default=True,
    help="Whose local model to serve: user (the 0.5B) or maker (the 1.5B).",
)
@click.option(
    "--in-flight",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Requests sent to the engine's server at once in the second pass (it decodes them "
    "together).",
)
def bench_server(problems: int, role: str, in_flight: int) -> None:
    """The engine's local server against llama-cpp-python's own server, one after the other,
    on the same tool-user requests at temperature 0: seconds per request one at a time on
    each, then wall seconds per request with --in-flight requests at once on the engine's; the
    ratios, and how many replies are the same text. About 3 minutes with the 0.5B on 2 cores.

    \b
    Examples:
      maker bench server
      maker bench server --role maker --problems 4 --in-flight 4
    """
    from maker.bench.server import run_bench as run_server_bench

    run_server_bench(problems_n=problems, role=role, in_flight=in_flight)


# Command groups that live in their own modules register here, one line each.
from maker.cli.library import bench_library, library  # noqa: E402

main.add_command(library)
bench.add_command(bench_library)
# -- library commands --
# -- make commands --
from maker.cli.make import register as _register_make  # noqa: E402

_register_make(main, bench)
# -- solve commands --
from maker.cli.solve import register as _register_solve  # noqa: E402

_register_solve(main, bench)
# -- explore commands --
from maker.cli.explore import register as _register_explore  # noqa: E402

_register_explore(main)
# -- models commands --
from maker.cli.models import register as _register_models  # noqa: E402

_register_models(main)
# -- improve commands --
from maker.cli.improve import register as _register_improve  # noqa: E402

_register_improve(main)
# Commands of installed packages above maker (`maker grade` from experiments), by entry point.
from maker.cli.plugins import register_plugins  # noqa: E402

register_plugins(main)
