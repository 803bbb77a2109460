"""Check the curated tools on every row they are for, run in the sandbox.

    maker library add experiments/curated/bbh/*.py --library libs/curated
    python experiments/curated/check.py bbh DATA/bbh libs/curated
    maker library add experiments/curated/tabmwp/*.py --library libs/curated-tabmwp
    python experiments/curated/check.py tabmwp DATA/tabmwp_test1000.jsonl libs/curated-tabmwp
    maker library add experiments/curated/math/*.py --library libs/curated-math
    python experiments/curated/check.py math DATA/math500.jsonl libs/curated-math

Each tool is called with arguments read from the row by a fixed rule (the whole problem text,
for the Chinese remainder theorem the (modulus, remainder) pairs, for TabMWP's table statistics
the statistic the question names), not by a model: this checks the tools, not a model's use of
them. A TabMWP row is for a tool when its table and question have that tool's layout (a
stem-and-leaf plot, "rate of change", "the mean of the numbers", a price list with a "how much"
question); the other rows are counted, not checked. Prints one line per task or tool: right /
rows, graded with the dataset's grader. MATH's tools take expressions no fixed rule reads off a
problem: they are checked on the hand-written calls in ``math/calls.jsonl`` (making-split
problems whose answer one call gives).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from experiments.data import Dataset
from experiments.data.math import load_math
from experiments.data.tabmwp import question_text
from experiments.grading import grade_tabmwp
from experiments.grading.math import grade_math
from library import Library
from library.authoring import call_tool
from library.records import ToolRecord
from sandbox import Sandbox


def _pairs(text: str) -> dict[str, Any]:
    found = re.findall(r"among (\d+) [a-z]+, we have (\d+) left", text)
    return {"remainders": [int(r) for _, r in found], "moduli": [int(m) for m, _ in found]}


TASKS = {
    "word_sorting": ("sort_words", lambda t: {"words": t}),
    "dyck_languages": ("close_brackets", lambda t: {"sequence": t}),
    "logical_deduction_five_objects": ("order_objects", lambda t: {"puzzle": t}),
    "tracking_shuffled_objects_five_objects": ("track_swaps", lambda t: {"puzzle": t}),
    "chinese_remainder_theorem": ("solve_congruences", _pairs),
}


def tabmwp_tool(row: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The curated TabMWP tool a row is for, and its arguments besides the problem (or None)."""
    question, table = str(row["question"]).lower(), str(row["table"])
    if table.startswith("Stem |"):
        return "stem_and_leaf", {}
    if "rate of change" in question:
        return "rate_of_change", {}
    for statistic in ("mean", "median", "mode", "range"):
        if f"the {statistic} of the numbers" in question:
            return "table_statistic", {"statistic": statistic}
    prices = re.search(r"^[^|\n]+\| \$[\d,.]+(?:/| per |\n|$)", table, re.M)
    if prices and re.search(r"how much (money|would|will|more does)", question):
        return "shopping_cost", {}
    return None


def check_tabmwp(path: str, library_dir: str) -> int:
    rows = [json.loads(x) for x in Path(path).open(encoding="utf-8") if x.strip()]
    counts: dict[str, list[int]] = {}
    refs: dict[str, str] = {}
    with Library.open(library_dir, read_only=True) as lib, Sandbox(workers=1) as sb:
        for row in rows:
            routed = tabmwp_tool(row)
            if routed is None:
                continue
            tool, extra = routed
            ref = refs.get(tool) or refs.setdefault(tool, lib.resolve(tool).ref)
            result = call_tool(lib, ref, {"problem": question_text(row), **extra}, sb)
            pred = str(result.value) if result.ok else ""
            grade = grade_tabmwp(pred, str(row["answer"]), row.get("choices"), row.get("unit"))
            right_rows = counts.setdefault(ref, [0, 0])
            right_rows[0] += grade.correct
            right_rows[1] += 1
    status = print_counts(counts)
    checked = sum(n for _, n in counts.values())
    print(f"{checked} of {len(rows)} rows are for a curated tool")
    return status


def check_bbh(data_dir: str, library_dir: str) -> int:
    wrong = 0
    with Library.open(library_dir, read_only=True) as lib, Sandbox(workers=1) as sb:
        for task, (tool, arguments) in TASKS.items():
            rows = [json.loads(x) for x in (Path(data_dir) / f"{task}.jsonl").open()]
            ref = lib.resolve(tool).ref
            right = 0
            for row in rows:
                result = call_tool(lib, ref, arguments(row["input"]), sb)
                right += result.ok and str(result.value) == row["target"]
            wrong += len(rows) - right
            print(f"{task}: {ref} right on {right} / {len(rows)}")
    return 1 if wrong else 0


CALLS = Path(__file__).parent / "math" / "calls.jsonl"


def check_math(path: str, library_dir: str) -> int:
    """The MATH tools on the hand-written calls of `CALLS` (MATH-500 problems of the making
    split whose answer one call gives), graded against the file at `path`; and nothing from
    the test split in the calls or the tools' example problems (`split_leaks`)."""
    data = load_math(path)
    gold = {it.id: it.gold for it in (*data.making, *data.test)}
    calls = [json.loads(line) for line in CALLS.read_text(encoding="utf-8").splitlines()]
    counts: dict[str, list[int]] = {}
    with Library.open(library_dir, read_only=True) as lib, Sandbox(workers=1) as sb:
        names = {c["tool"] for c in calls} | {f.stem for f in CALLS.parent.glob("*.py")}
        tools = [lib.resolve(name) for name in sorted(names)]
        leaks = split_leaks(data, calls, tools)
        for leak in leaks:
            print(f"from the test split: {leak}")
        for call in calls:
            ref = lib.resolve(call["tool"]).ref
            result = call_tool(lib, ref, call["arguments"], sb)
            right = result.ok and grade_math(str(result.value), gold[call["id"]]).correct
            if not right:
                print(f"{call['id']}: {result.value if result.ok else result.error}")
            counts.setdefault(ref, [0, 0])[0] += right
            counts[ref][1] += 1
    return print_counts(counts) or (1 if leaks else 0)


def split_leaks(data: Dataset, calls: list[dict[str, Any]], tools: list[ToolRecord]) -> list[str]:
    """What of the curated MATH tools comes from the test split: calls for test items, and
    example problems (the tool cards show them to the model) that are test problems
    (whitespace and ``$`` aside). Session 27's `number_theory` showed "Express $555_{10}$ in
    base $5$.", a test item of the split and of the `small` run's 100."""

    def key(text: str) -> str:
        return "".join(text.replace("$", "").split())

    test = {key(it.question): it.id for it in data.test}
    test_ids = set(test.values())
    out = [f"{c['id']} is the problem of a call" for c in calls if c["id"] in test_ids]
    for rec in tools:
        for ex in (*rec.tests.examples, *rec.tests.held_out):
            question = ex.get("question") if isinstance(ex, dict) else None
            if isinstance(question, str) and key(question) in test:
                out.append(f"{test[key(question)]} is an example problem of {rec.ref}")
    return out


def print_counts(counts: dict[str, list[int]]) -> int:
    """One line per tool, right / checked; the exit status: 1 when any was wrong."""
    for ref, (right, n) in sorted(counts.items()):
        print(f"{ref} right on {right} / {n}")
    return 1 if any(right < n for right, n in counts.values()) else 0


CHECKS = {"bbh": check_bbh, "tabmwp": check_tabmwp, "math": check_math}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in CHECKS:
        sys.exit(__doc__)
    sys.exit(CHECKS[sys.argv[1]](sys.argv[2], sys.argv[3]))
