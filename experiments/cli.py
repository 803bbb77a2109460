"""`maker grade`: grade predictions from any system with the experiments' graders.

The command lives here, not in ``maker.cli``: ``maker`` must not import ``experiments``.
It reaches the ``maker`` command through the ``maker.commands`` entry-point group declared
in pyproject.toml (see ``maker.cli.plugins``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from experiments.grading.records import DATASETS


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
        click.echo(f"Error: cannot read {name}: {exc.strerror or exc}", err=True)
        sys.exit(2)
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
