"""Fixtures: tiny fake chunk packages on sys.path, described by a `LocalModel` like the real
ones, and a stand-in server launch (the fake OpenAI-compatible server)."""

from __future__ import annotations

import hashlib
import importlib
import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from maker.llm.local import LocalModel

_counter = itertools.count()


def make_fake_model(
    root: Path, *, parts: int = 3, role: str = "maker", chunk_size: int = 1000
) -> LocalModel:
    """Write `parts` chunk packages under `root` (a sys.path entry) and describe them."""
    prefix = f"fake_model_{os.getpid()}_{next(_counter)}_part"
    digest = hashlib.sha256()
    size = 0
    for i in range(1, parts + 1):
        pkg = root / f"{prefix}{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise RuntimeError('chunk code must never run')\n")
        data = bytes([(i * 7 + j) % 251 for j in range(chunk_size + i)])
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        digest.update(data)
        size += len(data)
    return LocalModel(
        name=f"Fake {prefix}",
        alias=f"fake-{role}-{prefix[-12:-5]}",
        filename=f"{prefix}.gguf",
        package=prefix,
        distribution=prefix.replace("_", "-"),
        version="0.0.1",
        parts=parts,
        size=size,
        sha256=digest.hexdigest(),
        role=role,
    )


@pytest.fixture
def chunk_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    return root


@pytest.fixture
def fake_models(chunk_root: Path) -> tuple[LocalModel, LocalModel]:
    """A maker model and a user model, both installed (as fake chunk packages)."""
    models = (make_fake_model(chunk_root, role="maker"), make_fake_model(chunk_root, role="user"))
    importlib.invalidate_caches()
    return models


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "models"
    monkeypatch.setenv("MAKER_MODELS_DIR", str(path))
    return path


def stand_in(*extra: str) -> Callable[[Path, int], list[str]]:
    """A launch that runs the fake OpenAI-compatible server on the given port."""
    return lambda config_file, port: [
        "maker.llm.testing.fake_endpoint",
        "--port",
        str(port),
        "--model",
        "stand-in",
        *extra,
    ]
