"""The local model server: one child process serving every local model.

    >>> with LocalServer() as server:                      # doctest: +SKIP
    ...     print(server.base_url, server.aliases)
    http://127.0.0.1:41234/v1 ('qwen2.5-coder-1.5b-instruct', 'qwen2.5-coder-0.5b-instruct')

`LocalServer.ensure_started` assembles the model files if needed, writes the server's JSON
config to a private temporary directory, starts the child on 127.0.0.1 at a free port (under
`maker.llm.local.watchdog`, so it dies with its parent, whatever kills the parent) and waits
until ``GET /v1/models`` answers. `stop` (also on exit, via `atexit`) ends it.

The child is the engine's batched server (`maker.llm.local.batched`): every model stays
loaded, up to `ServerSettings.parallel` requests per model are decoded together (4 requests in
flight on the 0.5B: about 1.8x the replies per second of one at a time), and each reply reports
the compute it used, which the ledger counts as the call's seconds.

``launch=llama_launch`` runs llama-cpp-python's own server instead, through
`maker.llm.local.llama_child` (one request at a time; one model in memory at a time, so
alternating roles reloads; a RAM prompt cache bounded by `ServerSettings.cache_bytes`).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from maker.llm.local.assemble import ensure_model
from maker.llm.local.models import (
    INSTALL_HINT,
    LOCAL_MODELS,
    LocalModel,
    LocalModelError,
    server_installed,
)

SERVER_MODULE = "maker.llm.local.llama_child"
"""Runs ``llama_cpp.server`` with a prompt cache bounded in real bytes (see that module)."""
BATCHED_MODULE = "maker.llm.local.batched"
"""The engine's own server: requests in flight are decoded together (see that module)."""
THREADS_ENV = "MAKER_LOCAL_THREADS"
"""Overrides the server's CPU threads (default: every core)."""
PARALLEL_ENV = "MAKER_LOCAL_PARALLEL"
"""Overrides how many requests per model the server decodes together (default 4)."""
DEFAULT_PARALLEL = 4
"""4 requests decoded together: 1.8x the replies per second of one on 2 cores (0.5B and 1.5B,
`maker bench server`); llama.cpp's batch API gave 2.4x (0.5B) and 2x (1.5B) the generated tokens
per second at 4 sequences, 2.6x at 8."""


def _whole_number_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise LocalModelError(f"{name}={value!r}: expected a whole number >= 1")
        return int(value)
    return default


def default_threads() -> int:
    """``$MAKER_LOCAL_THREADS`` if set, else every core.

    On a machine shared with other busy processes, fewer threads than cores can be much faster:
    llama.cpp's threads wait for each other by spinning, and one of them losing its core stalls
    the rest (measured on a loaded 2-core VM: 1 thread 3.7 tok/s, 2 threads 0.7 tok/s).
    """
    return _whole_number_env(THREADS_ENV, os.cpu_count() or 1)


def default_parallel() -> int:
    """``$MAKER_LOCAL_PARALLEL`` if set, else `DEFAULT_PARALLEL`."""
    return _whole_number_env(PARALLEL_ENV, DEFAULT_PARALLEL)


@dataclass(frozen=True)
class ServerSettings:
    """How the local server runs. `port` 0 picks a free port.

    `cache_bytes` is llama-cpp-python's prompt-state cache (RAM): a request whose prompt starts
    like an earlier one (same system prompt, a growing chat) skips re-reading the shared prefix.
    It bounds the real memory of the cache (`maker.llm.local.llama_child`); one entry takes the
    prompt's llama.cpp state plus ``n_batch`` x vocabulary float32 scores (297 MiB for Qwen2.5
    at ``n_batch`` 512), so 2 GiB keeps about five recent prompts per loaded model. It applies
    to `llama_launch` only: the batched server keeps prompts in its sequences' KV cache.

    `parallel`: requests per model the batched server decodes together; more wait their turn
    (``$MAKER_LOCAL_PARALLEL``, default 4; local roles send that many at once).
    Its KV cache holds ``parallel x n_ctx`` tokens per model (0.9 GB for the 1.5B at 4 x 8192).
    """

    host: str = "127.0.0.1"
    port: int = 0
    n_ctx: int = 8192
    n_threads: int = field(default_factory=default_threads)
    n_batch: int = 512
    cache_bytes: int = 2 * 2**30
    seed: int = 0
    start_timeout: float = 300.0
    parallel: int = field(default_factory=default_parallel)


Launch = Callable[[Path, int], list[str]]
"""From (config file, port) to the module and arguments the child runs (a stand-in in tests)."""


def batched_launch(config_file: Path, port: int) -> list[str]:
    """The engine's batched server (`maker.llm.local.batched`), the default: it reads the
    same config file, plus ``parallel``."""
    return [BATCHED_MODULE, "--config_file", str(config_file)]


def llama_launch(config_file: Path, port: int) -> list[str]:
    """llama-cpp-python's server (through `maker.llm.local.llama_child`) with our config file
    (the port is in the file): one request at a time, one model loaded at a time."""
    return [SERVER_MODULE, "--config_file", str(config_file)]


def server_config(
    files: Sequence[tuple[LocalModel, Path]], settings: ServerSettings, port: int
) -> dict[str, Any]:
    """The JSON config of llama-cpp-python's server (``--config_file``) for `files`."""
    models = [
        {
            "model": str(path),
            "model_alias": model.alias,
            "n_ctx": settings.n_ctx,
            "n_threads": settings.n_threads,
            "n_threads_batch": settings.n_threads,
            "n_batch": settings.n_batch,
            "seed": settings.seed,
            "cache": settings.cache_bytes > 0,
            "cache_type": "ram",
            "cache_size": max(settings.cache_bytes, 0),
            # Logits for the last token only: with logits for every token (the server's
            # default), each prompt token costs a vocabulary-sized output (152k for Qwen) and
            # every prompt-cache save copies them all (GBs at n_ctx 8192).
            "logits_all": False,
            "verbose": False,
        }
        for model, path in files
    ]
    return {"host": settings.host, "port": port, "models": models}


def batched_config(
    files: Sequence[tuple[LocalModel, Path]], settings: ServerSettings, port: int
) -> dict[str, Any]:
    """The config of the batched server: llama-cpp-python's, plus ``parallel`` (which
    llama-cpp-python's own server would refuse)."""
    return {**server_config(files, settings, port), "parallel": settings.parallel}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _tail(path: Path | None, lines: int = 3) -> str:
    if path is None:
        return ""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


class LocalServer:
    """One local model server child process, started on demand and shared by every caller.

    Args:
        models: the models to serve; the first is loaded at start.
        settings: host, port, context size, threads, cache, requests decoded together.
        directory: where model files are assembled (default: `models_dir()`).
        launch: what the child runs (default: the engine's batched server; `llama_launch`:
            llama-cpp-python's own server, patched).
        log: a file for the child's output; None for a private temporary file (its tail goes
            into start errors), ``"inherit"`` to share this process's stdout/stderr.
        progress: show a progress bar while model files are assembled or verified.
        check_installed: refuse to start when llama-cpp-python's server is missing.
    """

    def __init__(
        self,
        models: Sequence[LocalModel] = LOCAL_MODELS,
        settings: ServerSettings | None = None,
        *,
        directory: Path | None = None,
        launch: Launch = batched_launch,
        log: Path | str | None = None,
        progress: bool = True,
        check_installed: bool = True,
    ) -> None:
        if not models:
            raise LocalModelError("no local model to serve")
        self.models = tuple(models)
        self.settings = settings or ServerSettings()
        self.directory = directory
        self.launch = launch
        self.log = log
        self.progress = progress
        self.check_installed = check_installed
        self.started_s: float | None = None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._log_file: IO[bytes] | None = None
        self._log_path: Path | None = None
        self._base_url: str | None = None
        self._failure: LocalModelError | None = None

    def can_run(self) -> bool:
        """Whether what this server launches is installed (llama-cpp-python's server)."""
        return self.launch not in (llama_launch, batched_launch) or server_installed()

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(m.alias for m in self.models)

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL of the running server."""
        if self._base_url is None:
            raise LocalModelError("the local model server is not running; call ensure_started()")
        return self._base_url

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def ensure_started(self) -> str:
        """Start the server unless it runs; returns its base URL. Thread-safe.

        Raises:
            LocalModelError: llama-cpp-python or the models are missing, or the server did not
                answer in time (the message carries the end of its log). A failure is
                remembered: later calls raise it again instead of starting another child.
        """
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._proc is not None:
                if self._proc.poll() is None:
                    return self.base_url
                self._failure = LocalModelError(f"{self.exit_report()} during the run")
                self._cleanup()
                raise self._failure
            try:
                return self._start()
            except LocalModelError as exc:
                self._failure = exc
                raise

    def _start(self) -> str:
        if self.check_installed and not self.can_run():
            raise LocalModelError(f"llama-cpp-python's server is not installed; {INSTALL_HINT}")
        began = time.monotonic()
        files = [
            (m, ensure_model(m, self.directory, progress=self.progress).path) for m in self.models
        ]
        port = self.settings.port or free_port(self.settings.host)
        self._tmp = Path(tempfile.mkdtemp(prefix="maker-local-server-"))
        config_file = self._tmp / "server.json"
        config = batched_config if self.launch is batched_launch else server_config
        config_file.write_text(
            json.dumps(config(files, self.settings, port), indent=2), encoding="utf-8"
        )
        out: Any
        if self.log == "inherit":
            out = None
        else:
            self._log_path = Path(self.log) if self.log else self._tmp / "server.log"
            self._log_file = self._log_path.open("ab")
            out = self._log_file
        cmd = [
            sys.executable,
            "-m",
            "maker.llm.local.watchdog",
            "--parent",
            str(os.getpid()),
            *(("--cleanup", str(self._tmp)) if self.log is None else ()),
            *self.launch(config_file, port),
        ]
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=out, stderr=out, start_new_session=True
        )
        _register(self)
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else self.settings.host
        url = f"http://{host}:{port}/v1"
        try:
            self._wait_ready(url, began + self.settings.start_timeout)
        except LocalModelError:
            self._stop_child()
            raise
        self._base_url = url
        self.started_s = time.monotonic() - began
        return url

    def _wait_ready(self, url: str, deadline: float) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        assert self._proc is not None
        while True:
            code = self._proc.poll()
            if code is not None:
                raise LocalModelError(
                    f"the local model server exited with code {code} before answering"
                    + self._log_hint()
                )
            try:
                with opener.open(url + "/models", timeout=2) as resp:
                    data = json.loads(resp.read())
                if isinstance(data, dict) and isinstance(data.get("data"), list):
                    return
            except (OSError, ValueError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise LocalModelError(
                    f"the local model server did not answer {url}/models within "
                    f"{self.settings.start_timeout:g}s" + self._log_hint()
                )
            time.sleep(0.2)

    def _log_hint(self) -> str:
        tail = _tail(self._log_path)
        where = f" (log: {self._log_path})" if self.log else ""
        return f": {tail}{where}" if tail else where

    def stop(self) -> None:
        """Stop the child (close its stdin; kill it if it lingers) and remove temporary files."""
        with self._lock:
            self._stop_child()
            self._failure = None

    def _stop_child(self) -> None:
        proc, self._proc = self._proc, None
        self._base_url = None
        if proc is not None:
            if proc.stdin is not None:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def exit_report(self) -> str | None:
        """None while the child runs (or was never started); else how it ended, with the
        end of its log, in one line."""
        proc = self._proc
        if proc is None or proc.poll() is None:
            return None
        code = proc.returncode
        how = f"exit code {code}"
        if code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                pass
        hint = ""
        if code == -signal.SIGILL:
            hint = (
                "; llama.cpp was built for CPU instructions this machine does not run: "
                "reinstall it with CMAKE_ARGS='-DGGML_NATIVE=OFF' (see README)"
            )
        return f"the local model server died ({how}){hint}{self._log_hint()}"

    def wait(self) -> int:
        """Block until the child exits (for `maker serve`); returns its exit code."""
        proc = self._proc
        if proc is None:
            return 0
        return proc.wait()

    def __enter__(self) -> LocalServer:
        self.ensure_started()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- one server per run, stopped at exit ---------------------------------------------------

_running: set[LocalServer] = set()
_shared: LocalServer | None = None
_shared_lock = threading.Lock()


def _register(server: LocalServer) -> None:
    _running.add(server)


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.stop()
    _running.clear()


def shared_server(factory: Callable[[], LocalServer] | None = None) -> LocalServer:
    """The process-wide `LocalServer` (made on first call, started on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = factory() if factory is not None else LocalServer()
        return _shared


def stop_shared_server() -> None:
    """Stop the process-wide server, if one was made."""
    global _shared
    with _shared_lock:
        server, _shared = _shared, None
    if server is not None:
        server.stop()
