"""`maker grade` (grade predictions from any system) and `maker experiment run|report`.

The commands live here, not in ``maker.cli``: ``maker`` must not import ``experiments``.
They reach the ``maker`` command through the ``maker.commands`` entry-point group declared
in pyproject.toml (see ``maker.cli.plugins``). Exit status as every ``maker`` command
(``maker.cli.common``): an `ExperimentError` (bad config, data, run dir) ends a command in one
line with 2, a failed model call with 1; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

import click

from experiments.errors import ExperimentError
from experiments.grading.records import DATASETS

# `maker.cli` is imported inside functions only: loading it registers its plugins, this module
# among them, so a module-level import would be circular when this module is imported first.


def fail(message: str, code: int = 2) -> NoReturn:
    """`maker.cli.common.fail`: one line on stderr and exit with ``code``."""
    from maker.cli.common import fail as one_line

    one_line(message, code)


class _ExperimentGroup(click.Group):
    """`maker experiment`: as every `maker` group (`maker.cli.common.OneLineErrors`), a package
    error, `ExperimentError` included, ends a command in one line; a bug keeps its traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from maker.cli.common import exit_code_of

        try:
            return super().invoke(ctx)
        except Exception as exc:
            code = exit_code_of(exc, (ExperimentError,))
            if code is None:
                raise
            fail(str(exc), code)


@click.command("grade", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--dataset",
    type=click.Choice(DATASETS),
    required=True,
    help="Which grader: math (strict + math-verify), tabmwp, bbh.",
)
@click.argument(
    "file", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.01),
    default=5.0,
    show_default=True,
    help="Seconds one symbolic comparison may take (math); slower counts as wrong.",
)
def grade(dataset: str, file: Path, timeout: float) -> None:
    """Grade FILE (one JSON object per line; - reads stdin) and print one JSON line each.

    Each input line has "gold" and "pred" ("pred" may be a full model output: MATH takes
    its last \\boxed{}, TabMWP picks the answer out of "The answer is ..."), and for
    multiple choice "choices"; TabMWP lines may add "unit", BIG-Bench lines "task".
    Each output line has correct, pred and gold (normalized) and reason; MATH lines add
    math_verify (the secondary metric's verdict). The last line is a summary: count,
    correct, accuracy, malformed (and for MATH math-verify's accuracy and the lines where
    the two disagree). A malformed line is reported on stderr with its line number and
    skipped; the exit code is then 1, else 0.

    \b
    Example:
      $ printf '%s\\n' '{"gold": "\\\\frac{1}{2}", "pred": "so $\\\\boxed{0.5}$"}' \\
          '{"gold": "10", "pred": "\\\\boxed{0.1}"}' > preds.jsonl
      $ maker grade --dataset math preds.jsonl
      {"line": 1, "correct": true, "pred": "0.5", "gold": "\\\\frac{1}{2}", ...}
      {"line": 2, "correct": false, ..., "math_verify": false, ...}
      {"summary": true, "dataset": "math", "count": 2, "correct": 1, "accuracy": 0.5, ...}
      $ echo '{"gold": "surplus", "pred": "B", "choices": ["shortage", "surplus"]}' \\
          | maker grade --dataset tabmwp -
    """
    from experiments.grading.records import RecordError, Tally, grade_record

    name = "<stdin>" if str(file) == "-" else str(file)
    try:
        stream = sys.stdin if str(file) == "-" else file.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        fail(f"cannot read {name}: {exc.strerror or exc}")
    tally = Tally(dataset)
    with stream:
        for number, raw in enumerate(stream, 1):
            text = raw.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except ValueError as exc:
                problem = f"not valid JSON ({getattr(exc, 'msg', exc)})"
            else:
                try:
                    graded = grade_record(dataset, obj, timeout_s=timeout)
                except RecordError as exc:
                    problem = str(exc)
                else:
                    tally.add(number, graded)
                    click.echo(json.dumps({"line": number, **graded}, ensure_ascii=False))
                    continue
            tally.malformed += 1
            click.echo(f"error: {name}:{number}: {problem}", err=True)
    click.echo(json.dumps(tally.summary(), ensure_ascii=False))
    sys.exit(1 if tally.malformed else 0)


@click.group(
    "experiment", cls=_ExperimentGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
def experiment() -> None:
    """Run MATH / TabMWP / BIG-Bench experiments and report them (see README, Experiments)."""


def _first_per_type(tasks: list[Any], n: int) -> list[Any]:
    """The first ``n`` tasks of each task type, in their order."""
    kept: Counter[str] = Counter()
    chosen = []
    for task in tasks:
        if kept[task.type] < n:
            kept[task.type] += 1
            chosen.append(task)
    return chosen


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    return {name: paths[-1] for name, paths in _grouped(values, flag).items()}


def _grouped(values: tuple[str, ...], flag: str) -> dict[str, list[str]]:
    """NAME=PATH values by NAME, every PATH given for it in order."""
    paths: dict[str, list[str]] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise click.BadParameter(
                f"{value!r} is not NAME=PATH (e.g. math=data/math500.jsonl)", param_hint=flag
            )
        paths.setdefault(name.strip(), []).append(path.strip())
    return paths


@experiment.command("run")
@click.argument("config", metavar="CONFIG")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The run directory (created; an existing one is resumed).",
)
@click.option(
    "--data",
    "data",
    multiple=True,
    metavar="NAME=PATH",
    help="Where a dataset is (math, tabmwp, bbh); overrides the config. Repeatable.",
)
@click.option(
    "--library",
    "libraries",
    multiple=True,
    metavar="ARM=DIR",
    help="The library of a tool arm (a method of kind tools). Repeatable.",
)
@click.option(
    "--make-ledger",
    "make_ledgers",
    multiple=True,
    metavar="ARM=PATH",
    help="What building a tool arm's library cost: a job's ledger.jsonl, or a directory whose "
    "ledgers all count (a make job dir; the library itself, for the solve, explore and improve "
    "runs that wrote into it). Repeatable, also per arm; replaces the config's make_ledger.",
)
@click.option(
    "--llm-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Model endpoints ([llm] tables); default: the experiment config itself.",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Response cache dir (default: llm.cache_dir, else OUT/llm-cache).",
)
@click.option(
    "--skip-unavailable",
    is_flag=True,
    help="Leave out tool arms whose solver is not installed instead of stopping.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Items worked on at once (model requests are also limited per role). Default: the "
    "largest request limit of the roles used (4 on the local models, whose server decodes "
    "that many requests together).",
)
@click.option("--progress/--no-progress", default=True, show_default=True)
def run_command(
    config: str,
    out: Path,
    data: tuple[str, ...],
    libraries: tuple[str, ...],
    make_ledgers: tuple[str, ...],
    llm_config: Path | None,
    cache_dir: Path | None,
    skip_unavailable: bool,
    jobs: int | None,
    progress: bool,
) -> None:
    """Run CONFIG (a TOML file, or a shipped one: small, full) into the run dir --out.

    Every method answers every selected test item (per seed when it samples); each graded
    item is one line of OUT/results.jsonl, so a killed run resumes where it stopped. Model
    calls are cached: re-running from the cache reproduces the numbers with no model calls.

    \b
    Example:
      maker experiment run small --out runs/small --data math=data/math500.jsonl \\
          --data tabmwp=data/tabmwp --data bbh=data/bbh --skip-unavailable
      maker experiment report runs/small
    """
    from experiments.runs import load_config, run_experiment, usable_methods
    from experiments.runs.config import shipped_config
    from maker.llm import CostLedger, ModelCallError, ResponseCache, make_client
    from maker.llm import load_config as load_llm_config

    path = Path(config)
    if not path.exists() and shipped_config(config).exists():
        path = shipped_config(config)
    try:
        cfg = load_config(
            path,
            _pairs(data, "--data"),
            _pairs(libraries, "--library"),
            _grouped(make_ledgers, "--make-ledger"),
        )
        _say_left_out(cfg)
        methods, _ = usable_methods(cfg, skip_unavailable=skip_unavailable)
        llm = load_llm_config(llm_config or path)
        roles = sorted({m.role for m, _ in methods})
        out.mkdir(parents=True, exist_ok=True)
        cache = ResponseCache(cache_dir or llm.cache_dir or out / "llm-cache")
        ledger = CostLedger(out / "ledger.jsonl")
        clients = {r: make_client(llm, r, ledger=ledger, cache=cache) for r in roles}
        info = {
            r: {
                "model": c.config.model,
                "base_url": c.config.effective_base_url,
                "local": c.local,
                "sampling": c.config.sampling.as_params(),
            }
            for r, c in clients.items()
        }
        summary = run_experiment(
            cfg,
            out,
            clients=clients,
            progress=progress,
            skip_unavailable=skip_unavailable,
            llm_info=info,
            jobs=jobs or max((c.config.concurrency for c in clients.values()), default=1),
        )
    except FileExistsError as exc:  # a bad config, data or run dir: one line, by the group
        fail(f"--out {out}: {exc.strerror}")
    except ModelCallError as exc:
        fail(
            f"a model call failed ({exc}); finished items are saved, run the "
            "same command again to resume",
            1,
        )
    left = f"; left out: {', '.join(summary.unavailable)}" if summary.unavailable else ""
    click.echo(
        f"ran {summary.ran} item(s), {summary.skipped} already done{left}; "
        f"results in {summary.out / 'results.jsonl'}"
    )


@experiment.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--against",
    "against",
    multiple=True,
    metavar="METHOD",
    help="Also compare every method with METHOD item by item (wins, losses, sign test, model "
    "seconds), besides report.baseline; repeatable. E.g. --against strong_pot: do the tools "
    "beat the strong model, and at what share of its seconds?",
)
def report_command(run_dir: Path, against: tuple[str, ...]) -> None:
    """Write RUN_DIR/report.md, report.json and plots/*.png, and print report.md.

    Accuracy with 95% intervals (Wilson; a bootstrap over seeds and items for sampled
    methods), tokens / seconds / dollars by role and phase, amortized cost per solved problem
    with the break-even point against report.baseline, each method against report.baseline
    (and each --against method) on the same items, tool use and reuse, library size.

    \b
    Examples:
      maker experiment report runs/small
      maker experiment report runs/small --against strong_pot
    """
    from experiments.report import write_report

    write_report(run_dir, against)  # a RunDirError ends it in one line (the group)
    click.echo((run_dir / "report.md").read_text(encoding="utf-8"))


def _say_left_out(cfg: Any) -> None:
    """Say which of the config's datasets are not used (no path was given for them)."""
    for name in cfg.left_out:
        click.echo(f"note: leaving out data.{name} (no path; give --data {name}=PATH)", err=True)


@experiment.command("tasks")
@click.argument("config", metavar="CONFIG")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The tasks JSONL file to write (the `maker make` task format).",
)
@click.option(
    "--data",
    "data",
    multiple=True,
    metavar="NAME=PATH",
    help="Where a dataset is (math, tabmwp, bbh); overrides the config. Repeatable.",
)
@click.option(
    "--per-type",
    type=click.IntRange(min=1),
    default=None,
    help="At most N making items of each task type (the first N, in the dataset's order): "
    "a smaller set, e.g. the problems `maker solve` works through for the full loop's evidence.",
)
def tasks_command(config: str, out: Path, data: tuple[str, ...], per_type: int | None) -> None:
    """Write the making split of CONFIG's datasets as maker tasks, for a tool arm's library.

    Only making items (never test items) are written, without reference solutions.

    \b
    Example:
      maker experiment tasks small --data bbh=data/bbh --out making.jsonl
      maker make making.jsonl --strategy latm --library libs/latm
      maker experiment run small ... --library latm=libs/latm \\
          --make-ledger latm=libs/latm
    """
    from experiments.runs import load_config, load_data
    from experiments.runs.config import shipped_config
    from maker.tasks import dump_tasks

    path = Path(config)
    if not path.exists() and shipped_config(config).exists():
        path = shipped_config(config)
    cfg = load_config(path, _pairs(data, "--data"))  # bad config or data: one line (the group)
    _say_left_out(cfg)
    tasks, counts = [], []
    for spec in cfg.data:
        dataset = load_data(spec)
        made = dataset.tasks()
        kept = made if per_type is None else _first_per_type(made, per_type)
        tasks += kept
        note = f" ({dataset.note})" if dataset.note else ""
        written = "" if per_type is None else f", {len(kept)} written (--per-type {per_type})"
        counts.append(f"{dataset.name}: {len(dataset.making)} making item(s){written}{note}")
    if not tasks:
        fail(f"{path}: its datasets have no making items ({'; '.join(counts)})")
    for line in counts:  # per dataset: a total would hide one that gave none
        click.echo(line, err=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    dump_tasks(tasks, out)
    click.echo(f"wrote {len(tasks)} making task(s) to {out}")
