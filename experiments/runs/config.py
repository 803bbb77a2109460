"""Experiment configuration: one TOML file (datasets, methods, report settings), read here.

    name = "small"
    [data.bbh]
    path = ""                     # empty: give it with --data bbh=PATH
    tasks = ["word_sorting", "dyck_languages"]
    per_task = 30                 # test rows per task
    [data.math]
    limit = 100                   # test items (a seeded sample)
    [[methods]]
    name = "cheap_pot"
    kind = "pot"                  # direct | cot | pot | pot_sc | tools
    role = "user"                 # user (cheap) | maker (strong)
    [report]
    baseline = "cheap_pot"        # what tool arms' break-even is measured against

Model endpoints come from ``[llm]`` tables in the same file (the format of ``maker``'s config),
or another file given on the command line, then environment variables.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.data import LOADERS
from experiments.errors import ExperimentError
from experiments.methods import MethodError, build_method

DATA_KEYS = {
    "bbh": {"path", "tasks", "per_task"},
    "tabmwp": {"path", "limit", "making_path"},
    "math": {"path", "limit", "train_path"},
}
TOP_KEYS = {"name", "seed", "data", "methods", "report", "llm"}


class ConfigError(ExperimentError, ValueError):
    """A config the runner cannot use; the message names the file and the setting."""


@dataclass(frozen=True)
class DataSpec:
    """One dataset of a run: where it is and how many test items to take."""

    name: str
    path: str
    limit: int | None = None
    per_task: int | None = None
    tasks: tuple[str, ...] | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "limit": self.limit,
            "per_task": self.per_task,
            "tasks": list(self.tasks) if self.tasks is not None else None,
            **dict(self.extra),
        }


@dataclass(frozen=True)
class ExperimentConfig:
    """A resolved experiment: datasets with paths, methods in run order, report settings."""

    name: str
    seed: int
    data: tuple[DataSpec, ...]
    methods: tuple[Mapping[str, Any], ...]
    baseline: str | None = None
    source: str = ""
    left_out: tuple[str, ...] = ()  # datasets of the file with no path given: not run

    def method_seeds(self, spec: Mapping[str, Any]) -> tuple[int, ...]:
        """The seeds a method runs with: its own ``seeds``, else 0, 1, 2 when it samples."""
        if "seeds" in spec:
            return tuple(int(s) for s in spec["seeds"])
        return (0, 1, 2) if build_method(spec).sampled else (0,)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seed": self.seed,
            "source": self.source,
            "data": {d.name: d.to_json() for d in self.data},
            "methods": [dict(m) | {"seeds": list(self.method_seeds(m))} for m in self.methods],
            "report": {"baseline": self.baseline},
        }


def _share_library(spec: dict[str, Any], name: str, earlier: list[Any], where: str) -> None:
    """A tool arm whose ``library = "@NAME"`` uses the library of the tool arm NAME listed before
    it (as given there or by ``--library NAME=...``), and its making ledger unless it names its
    own: the same tools answered another way, such as with the strong model as the fallback."""
    other = next((m for m in earlier if isinstance(m, dict) and m.get("name") == name), None)
    if other is None or other.get("kind") != "tools":
        raise ConfigError(
            f"{where}: method {spec.get('name')!r}: library '@{name}' must name a tool arm "
            "listed before it"
        )
    spec["library"] = other.get("library", "")
    if not spec.get("make_ledger") and other.get("make_ledger"):
        spec["make_ledger"] = list(other["make_ledger"])


def _int(value: Any, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where} must be an integer >= {minimum}, not {value!r}")
    return value


def absolute(path: str | Path) -> str:
    """`path` as an absolute path (relative to the working directory), so a run's config says
    which files it used wherever it is read or resumed from.

    >>> absolute("/data/bbh")
    '/data/bbh'
    """
    return str(Path(path).expanduser().absolute())


def _data(name: str, table: Any, where: str, paths: Mapping[str, str]) -> DataSpec:
    if name not in LOADERS:
        raise ConfigError(f"{where}: unknown dataset {name!r} (known: {', '.join(LOADERS)})")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: data.{name} must be a table")
    unknown = set(table) - DATA_KEYS[name]
    if unknown:
        raise ConfigError(
            f"{where}: data.{name} has unknown setting(s) {', '.join(sorted(unknown))}"
        )
    path = paths.get(name) or table.get("path") or ""
    if not path:
        raise ConfigError(
            f"{where}: data.{name} has no path; give --data {name}=PATH or set data.{name}.path"
        )
    tasks = table.get("tasks")
    if tasks is not None and (
        not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks)
    ):
        raise ConfigError(f"{where}: data.{name}.tasks must be a list of task names")
    extra = {k: absolute(v) for k, v in table.items() if k in ("making_path", "train_path") and v}
    return DataSpec(
        name=name,
        path=absolute(path),
        limit=_int(table["limit"], f"{where}: data.{name}.limit") if "limit" in table else None,
        per_task=(
            _int(table["per_task"], f"{where}: data.{name}.per_task")
            if "per_task" in table
            else None
        ),
        tasks=tuple(tasks) if tasks is not None else None,
        extra=extra,
    )


def parse_config(
    data: Mapping[str, Any],
    where: str,
    paths: Mapping[str, str] | None = None,
    libraries: Mapping[str, str] | None = None,
    ledgers: Mapping[str, Sequence[str]] | None = None,
) -> ExperimentConfig:
    """An `ExperimentConfig` from a parsed TOML document; ``paths`` override data paths,
    ``libraries`` the library dirs of tool arms and ``ledgers`` their making ledgers (by method
    name)."""
    paths = dict(paths or {})
    libraries = dict(libraries or {})
    ledgers = {k: list(v) for k, v in (ledgers or {}).items()}
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown table(s) {', '.join(sorted(unknown))}")
    for name in paths:
        if name not in LOADERS:
            raise ConfigError(f"--data {name}=...: unknown dataset (known: {', '.join(LOADERS)})")
    tables = data.get("data") or {}
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{where}: no [data.<dataset>] table (math, tabmwp, bbh)")
    for name in paths:
        if name not in tables:
            raise ConfigError(f"--data {name}=...: {where} has no [data.{name}] table")
    given = {
        n for n, t in tables.items() if paths.get(n) or (isinstance(t, dict) and t.get("path"))
    }
    left_out = tuple(n for n in tables if given and n not in given)
    specs = tuple(_data(n, t, where, paths) for n, t in tables.items() if n not in left_out)
    methods = data.get("methods") or []
    if not isinstance(methods, list) or not methods:
        raise ConfigError(f"{where}: no [[methods]] entries")
    names: list[str] = []
    for i, spec in enumerate(methods):
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: methods[{i}] must be a table")
        if spec.get("name") in libraries:
            if spec.get("kind") != "tools":
                raise ConfigError(f"--library {spec['name']}=...: not a tool arm (kind tools)")
            spec["library"] = libraries.pop(spec["name"])
        if spec.get("name") in ledgers:
            if spec.get("kind") != "tools":
                raise ConfigError(f"--make-ledger {spec['name']}=...: not a tool arm (kind tools)")
            spec["make_ledger"] = ledgers.pop(spec["name"])
        if spec.get("kind") == "tools":  # the run dir names them as they are, wherever it runs
            shared = spec.get("library")
            if isinstance(shared, str) and shared.startswith("@"):
                _share_library(spec, shared[1:], methods[:i], where)
            elif isinstance(spec.get("library"), str) and spec["library"]:
                spec["library"] = absolute(spec["library"])
            if isinstance(spec.get("make_ledger"), list):
                spec["make_ledger"] = [
                    absolute(p) if isinstance(p, str) else p for p in spec["make_ledger"]
                ]
        try:
            method = build_method(spec)
        except MethodError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if method.name in names:
            raise ConfigError(f"{where}: method name {method.name!r} is used twice")
        match = spec.get("match")
        for ref in [match] if isinstance(match, str) else match or []:
            if ref not in names:
                raise ConfigError(
                    f"{where}: method {method.name!r} matches compute to {ref!r}, "
                    "which must be a method listed before it"
                )
        fallback = spec.get("fallback")
        if fallback is not None and fallback not in names:
            raise ConfigError(
                f"{where}: method {method.name!r}: fallback {fallback!r} must name a method "
                "listed before it"
            )
        if "seeds" in spec and (
            not isinstance(spec["seeds"], list)
            or not spec["seeds"]
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in spec["seeds"])
        ):
            raise ConfigError(f"{where}: method {method.name!r}: seeds must be a list of integers")
        names.append(method.name)
    if libraries:
        raise ConfigError(f"--library {next(iter(libraries))}=...: no such method in {where}")
    if ledgers:
        raise ConfigError(f"--make-ledger {next(iter(ledgers))}=...: no such method in {where}")
    report = data.get("report") or {}
    baseline = report.get("baseline")
    if baseline is not None and baseline not in names:
        raise ConfigError(f"{where}: report.baseline {baseline!r} is not a method of this config")
    return ExperimentConfig(
        name=str(data.get("name") or Path(where).stem),
        seed=_int(data.get("seed", 0), f"{where}: seed", minimum=0),
        data=specs,
        methods=tuple(dict(m) for m in methods),
        baseline=baseline,
        source=where,
        left_out=left_out,
    )


def load_config(
    path: str | Path,
    paths: Mapping[str, str] | None = None,
    libraries: Mapping[str, str] | None = None,
    ledgers: Mapping[str, Sequence[str]] | None = None,
) -> ExperimentConfig:
    """Read an experiment TOML file; `ConfigError` (naming file and setting) when unusable."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    return parse_config(data, str(p), paths, libraries, ledgers)


def shipped_config(name: str) -> Path:
    """The path of a config shipped with the project (``small``, ``full``)."""
    return Path(__file__).resolve().parent.parent / "configs" / f"{name}.toml"
