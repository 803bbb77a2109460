"""Check the curated BIG-Bench tools on every row of their tasks, run in the sandbox.

    maker library add experiments/curated/bbh/*.py --library libs/curated
    python experiments/curated/check.py DATA/bbh libs/curated

Each tool is called with arguments read from the row by a fixed rule (the whole problem text,
or for the Chinese remainder theorem the (modulus, remainder) pairs), not by a model: this
checks the tools, not a model's use of them. Prints one line per task: right / rows.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from library import Library
from library.authoring import call_tool
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


def main(data_dir: str, library_dir: str) -> int:
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


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
