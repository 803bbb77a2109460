"""A run directory: what a run used and what it found, in files a reader can open.

RUN_DIR/
  config.json        the resolved config (data paths, methods with seeds, model roles)
  datasets.json      per dataset: sizes, whether comparable to published figures, item ids
  locks/<arm>.json   the library lock of each tool arm (name@version -> content hash)
  budgets.json       the per-item compute budgets of matched methods, frozen when first set
  ledger.jsonl       every model call (the maker CostLedger; cache hits bill nothing)
  results.jsonl      one line per (method, seed, dataset, item), and per arm's making
  report.md, report.json, plots/*.png   written by `maker experiment report`
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentError

RESULTS = "results.jsonl"


class RunDirError(ExperimentError, ValueError):
    """A run directory that cannot be used (not a run, or a run of another config)."""


def item_key(row: dict[str, Any]) -> tuple[str, ...]:
    """What identifies a results row: making rows by method, item rows by all four keys."""
    if row.get("kind") == "make":
        return ("make", str(row["method"]))
    return ("item", str(row["method"]), str(row["seed"]), str(row["dataset"]), str(row["id"]))


def _extends(new: dict[str, Any] | None, old: dict[str, Any]) -> bool:
    """Whether method spec `new` is `old`, or `old` with seeds added."""
    if new is None:
        return False
    rest = {k: v for k, v in new.items() if k != "seeds"}
    old_rest = {k: v for k, v in old.items() if k != "seeds"}
    return rest == old_rest and set(old.get("seeds") or []) <= set(new.get("seeds") or [])


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a kill never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)


def read_json(path: Path, default: Any = None) -> Any:
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None


class RunDir:
    """Files of one run; results are appended one line per item, so a kill loses at most one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def results_file(self) -> Path:
        return self.path / RESULTS

    @property
    def ledger_file(self) -> Path:
        return self.path / "ledger.jsonl"

    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    def lock_file(self, method: str) -> Path:
        return self.path / "locks" / f"{method}.json"

    def init(self, config: dict[str, Any]) -> None:
        """Create the dir, or check that an existing one ran the same config (then resume).

        A config may add methods to a run (an arm whose library is made later) and seeds to a
        method (more seeds of a sampled method, run later): the data, the seed and every method
        the run already has must otherwise be the same; a method changed or dropped, or a seed
        dropped, is a different config.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"{self.path}: exists and is not a directory")
        old = read_json(self.config_file)
        if old is not None:
            same = {k: old.get(k) for k in ("data", "seed")}
            new = {k: config.get(k) for k in ("data", "seed")}
            methods = {m.get("name"): m for m in config.get("methods") or []}
            kept = all(_extends(methods.get(m.get("name")), m) for m in old.get("methods") or [])
            if same != new or not kept:
                raise RunDirError(
                    f"{self.path}: holds a run of a different config (data, seed or one of its "
                    "methods differ; adding methods is allowed); use a new --out directory"
                )
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.config_file, config)
        self._repair_tail()

    def _repair_tail(self) -> None:
        """Drop a half-written last line (the run was killed while appending)."""
        f = self.results_file
        if not f.exists():
            return
        data = f.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with f.open("r+b") as handle:
                handle.truncate(cut)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every results row, in the order written (a last line cut by a kill is skipped)."""
        f = self.results_file
        if not f.exists():
            return
        with f.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except ValueError:
                    if not line.endswith("\n"):
                        return  # cut by a kill; the run that resumes rewrites it
                    raise RunDirError(f"{f}:{number}: not valid JSON") from None

    def done(self) -> set[tuple[str, ...]]:
        """Keys of the rows already written (skipped on resume)."""
        return {item_key(r) for r in self.rows()}

    def append(self, row: dict[str, Any]) -> None:
        with self.results_file.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
