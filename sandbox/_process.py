"""Host-side handles on the zygote and its workers: spawning, deadlines and kills."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sandbox._errors import SandboxError
from sandbox.protocol import HEADER, ProtocolError, encode, recv_frame

PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
WORKER_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
MAX_REPLY_BYTES = 8 * 1024 * 1024
SCRATCH_PREFIX = "sandbox-scratch-"


def sweep_stale_scratch(root: str | None = None) -> list[str]:
    """Remove this user's scratch directories left by hosts that died without closing.

    A scratch directory is named ``sandbox-scratch-<host pid>-<random>``; a host killed with
    SIGKILL never removes its own, so the next sandbox to start removes those whose host is gone.
    Directories of other users or of a live host are left alone. Returns the paths removed.
    """
    root = root or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(root)
    except OSError:
        return removed
    for name in names:
        pid, sep, _ = name[len(SCRATCH_PREFIX) :].partition("-")
        if not name.startswith(SCRATCH_PREFIX) or not sep or not pid.isdigit():
            continue
        path = os.path.join(root, name)
        try:
            if os.lstat(path).st_uid != os.getuid():
                continue
            os.kill(int(pid), 0)
            continue  # its host is alive
        except ProcessLookupError:
            pass
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


class WorkerLost(SandboxError):
    """A worker stopped answering: ``kind`` is "timeout", "crash" or "protocol"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# Libraries whose files workers may need to read lazily (their own submodules).
LIBRARY_PACKAGES = (
    "sympy",
    "mpmath",
    "numpy",
    "hypothesis",
    "RestrictedPython",
    "sortedcontainers",
    "attr",
)


def read_roots() -> list[str]:
    """Directories workers may read: the Python installation, site-packages, the preloaded
    libraries and the sandbox package itself, not the rest of the user's project (which may
    hold secrets such as a .env file)."""
    roots = {sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parent)}
    roots.update(site.getsitepackages())
    for name in LIBRARY_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            roots.add(location)
    return sorted(os.path.realpath(r) for r in roots if os.path.isdir(r))


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Worker:
    """One worker process and the host's end of its socket."""

    def __init__(self, pid: int, sock: socket.socket, profile: Any, max_calls: int) -> None:
        self.pid = pid
        self.sock = sock
        self.profile = profile
        self.max_calls = max_calls
        self.calls = 0
        self.known_policies: set[str] = set()
        self.alive = True

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait for its reply until ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(encode(request))
            reply = self._recv(deadline)
        except TimeoutError:
            self.kill()
            raise WorkerLost("timeout", f"the call took longer than {timeout:g} s") from None
        except ProtocolError as exc:
            self.kill()
            raise WorkerLost("protocol", f"the worker sent a malformed reply: {exc}") from None
        except OSError as exc:
            self.kill()
            raise WorkerLost(
                "crash", f"the worker process died ({exc.__class__.__name__})"
            ) from None
        if reply is None:
            self.kill()
            raise WorkerLost("crash", "the worker process died during the call")
        self.calls += 1
        if reply.get("retire"):
            self.kill()
        return reply

    def _recv(self, deadline: float) -> dict[str, Any] | None:
        return recv_frame(_DeadlineSocket(self.sock, deadline), MAX_REPLY_BYTES)

    def kill(self) -> None:
        if self.alive:
            self.alive = False
            _kill_group(self.pid)
            try:
                self.sock.close()
            except OSError:
                pass


class _DeadlineSocket:
    """recv() that keeps shrinking the socket timeout toward one deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline

    def recv(self, n: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        return self.sock.recv(n)


class Zygote:
    """The pre-imported process that forks workers; restarted if it dies."""

    def __init__(self, config: dict[str, Any], start_timeout: float = 120.0) -> None:
        self.config = dict(config)
        self.start_timeout = start_timeout
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.ctrl: socket.socket | None = None
        self.caps: dict[str, Any] = {}
        self.scratch_base = ""

    def start(self) -> None:
        sweep_stale_scratch()
        self.scratch_base = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        os.chmod(self.scratch_base, 0o711)
        config = dict(self.config, scratch_base=self.scratch_base, read_roots=read_roots())
        host_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        code = (
            "import sys; sys.path.insert(0, sys.argv[3]); "
            "from sandbox._zygote import main; main(sys.argv)"
        )
        stderr = subprocess.DEVNULL
        log = os.environ.get("SANDBOX_DEBUG_LOG")
        if log:
            stderr = open(log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-c",
                code,
                str(child_end.fileno()),
                json.dumps(config),
                PACKAGE_PARENT,
            ],
            env=dict(WORKER_ENV),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            pass_fds=[child_end.fileno()],
            close_fds=True,
            start_new_session=True,
            cwd=self.scratch_base,
        )
        child_end.close()
        host_end.settimeout(self.start_timeout)
        try:
            data = host_end.recv(65536)
        except TimeoutError:
            self.stop()
            raise SandboxError("the sandbox zygote did not start in time") from None
        if not data:
            self.stop()
            raise SandboxError(
                "the sandbox zygote exited during start-up; set SANDBOX_DEBUG_LOG=FILE to see why"
            )
        ready = json.loads(data[HEADER.size :])
        self.caps = ready.get("caps", {})
        self.ctrl = host_end

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self, profile: Any, limits: dict[str, Any], max_calls: int) -> Worker:
        with self.lock:
            for attempt in range(2):
                if not self.alive():
                    if self.proc is not None:
                        self.stop()
                    self.start()
                try:
                    return self._spawn(profile, limits, max_calls)
                except (OSError, ProtocolError, ValueError) as exc:
                    if attempt:
                        raise SandboxError(f"could not start a sandbox worker: {exc}") from exc
                    self.stop()
        raise SandboxError("could not start a sandbox worker")  # pragma: no cover

    def _spawn(self, profile: Any, limits: dict[str, Any], max_calls: int) -> Worker:
        assert self.ctrl is not None
        self.ctrl.settimeout(30)
        self.ctrl.sendall(encode({"limits": limits, "max_calls": max_calls}))
        data, fds, _flags, _addr = socket.recv_fds(self.ctrl, 65536, 1)
        if not data:
            raise OSError("zygote closed its control socket")
        reply = json.loads(data[HEADER.size :])
        if "error" in reply or not fds:
            for fd in fds:
                os.close(fd)
            raise OSError(reply.get("error", "no worker socket received"))
        sock = socket.socket(fileno=fds[0])
        return Worker(int(reply["pid"]), sock, profile, max_calls)

    def stop(self) -> None:
        if self.ctrl is not None:
            try:
                self.ctrl.close()
            except OSError:
                pass
            self.ctrl = None
        if self.proc is not None:
            _kill_group(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.scratch_base:
            shutil.rmtree(self.scratch_base, ignore_errors=True)
