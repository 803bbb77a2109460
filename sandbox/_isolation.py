"""Process-level isolation: namespaces, scratch tmpfs, privilege drop, rlimits.

Runs in the zygote (before any untrusted code exists) and in each forked worker before it serves.
Every step is best effort with a recorded outcome: `capabilities()` reports what this machine
allowed, and docs/sandbox.md explains what is lost when a step is not available.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38

# Workers run as one of these otherwise unused uids when the host is root, one uid per worker
# process, so that process-count limits apply and workers cannot signal or trace each other.
UID_BASE = 611_000
UID_SPAN = 30_000

_libc: Any = None


def _c() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def enter_namespaces(scratch_base: str, scratch_mb: int, read_roots: list[str]) -> dict[str, Any]:
    """In the zygote: private network and mount namespaces, a size-capped tmpfs scratch area,
    and (as root) the Python installation exposed read-only to unprivileged workers."""
    caps: dict[str, Any] = {"root": os.geteuid() == 0, "netns": False, "scratch_tmpfs": False}
    libc = _c()
    flags = CLONE_NEWNET | CLONE_NEWNS
    if os.geteuid() != 0:
        flags |= CLONE_NEWUSER
        uid, gid = os.getuid(), os.getgid()
    try:
        _check(libc.unshare(flags), "unshare")
        if flags & CLONE_NEWUSER:
            with open("/proc/self/setgroups", "w") as fh:
                fh.write("deny")
            with open("/proc/self/uid_map", "w") as fh:
                fh.write(f"{uid} {uid} 1")
            with open("/proc/self/gid_map", "w") as fh:
                fh.write(f"{gid} {gid} 1")
        caps["netns"] = True
    except OSError as exc:
        caps["netns_error"] = str(exc)
        return caps
    try:
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
        if os.geteuid() == 0:
            try:
                caps["covered"] = expose_read_roots(read_roots, scratch_base)
            except OSError as exc:
                caps["expose_error"] = str(exc)
        try:
            caps["private_tmp"] = cover_shared_writable(read_roots)
        except OSError as exc:
            caps["private_tmp_error"] = str(exc)
        os.makedirs(scratch_base, mode=0o711, exist_ok=True)
        opts = f"size={int(scratch_mb)}m,mode=0711".encode()
        _check(
            libc.mount(
                b"tmpfs", scratch_base.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts
            ),
            "mount tmpfs",
        )
        caps["scratch_tmpfs"] = True
    except OSError as exc:
        caps["scratch_error"] = str(exc)
    return caps


# World-writable directories shared with the host and other processes.
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")


def cover_shared_writable(read_roots: list[str]) -> list[str]:
    """Hide world-writable shared directories (/tmp, /dev/shm, ...) behind empty private tmpfs
    mounts inside the zygote's mount namespace. The audit hook cannot see every way to create a
    file (``os.mkfifo``, ``os.mknod``), so without this a worker that gets past the policy layer
    could leave files where the host and other users look. Read roots inside such a directory
    (a project checked out under /tmp) are bind-mounted back, read through a descriptor opened
    before the covering. Returns the directories covered.
    """
    libc = _c()
    roots = [os.path.realpath(r) for r in read_roots]
    covered = []
    for path in SHARED_WRITABLE:
        real = os.path.realpath(path)
        try:
            if not os.stat(real).st_mode & 0o002 or not os.path.isdir(real):
                continue
        except OSError:
            continue
        inner = sorted(r for r in roots if r.startswith(real + os.sep))
        inner = [
            r for i, r in enumerate(inner) if not any(r.startswith(o + os.sep) for o in inner[:i])
        ]
        if real in roots:
            continue  # the whole directory is a read root; nothing sensible to cover
        fds = [os.open(r, os.O_RDONLY | os.O_DIRECTORY) for r in inner]
        try:
            opts = b"size=1m,mode=0755"
            _check(
                libc.mount(
                    b"tmpfs", real.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts
                ),
                f"cover {real}",
            )
            for root, fd in zip(inner, fds, strict=True):
                os.makedirs(root, mode=0o755, exist_ok=True)
                source = f"/proc/self/fd/{fd}".encode()
                _check(
                    libc.mount(source, root.encode(), None, MS_BIND | MS_REC, None),
                    f"rebind {root}",
                )
        finally:
            for fd in fds:
                os.close(fd)
        covered.append(real)
    return covered


def readable_by_others(roots: list[str]) -> bool:
    """Whether an unprivileged uid can reach every one of ``roots``."""
    return all(
        _blocked_ancestor(r) in (None, os.path.abspath(r)) for r in roots if os.path.isdir(r)
    )


def _blocked_ancestor(path: str) -> str | None:
    """The first directory on ``path`` that other users cannot traverse, if any."""
    parts = os.path.abspath(path).split(os.sep)
    current = os.sep
    for part in parts[1:]:
        current = os.path.join(current, part)
        try:
            mode = os.stat(current).st_mode
        except OSError:
            return None
        if not mode & 0o001:
            return current
    return None


def expose_read_roots(roots: list[str], staging: str) -> list[str]:
    """Make ``roots`` readable by unprivileged workers inside the private mount namespace.

    A directory such as /root (mode 0700) that blocks the way to the Python installation is
    covered with an empty tmpfs, and only the needed paths are bind-mounted back into it: the
    workers can import Python modules but see nothing else of that directory.
    Returns the directories that were covered.
    """
    libc = _c()
    top: list[str] = []
    for root in sorted({os.path.abspath(r) for r in roots if os.path.isdir(r)}):
        if not any(root == t or root.startswith(t + os.sep) for t in top):
            top.append(root)
    by_ancestor: dict[str, list[str]] = {}
    for root in top:
        ancestor = _blocked_ancestor(root)
        if ancestor and ancestor != root:
            by_ancestor.setdefault(ancestor, []).append(root)
    covered = []
    for ancestor, paths in by_ancestor.items():
        staged = []
        for i, path in enumerate(paths):
            stage = os.path.join(staging, f"bind{len(covered)}_{i}")
            os.makedirs(stage, exist_ok=True)
            _check(libc.mount(path.encode(), stage.encode(), None, MS_BIND | MS_REC, None), "bind")
            staged.append((stage, path))
        opts = b"size=1m,mode=0755"
        _check(
            libc.mount(b"tmpfs", ancestor.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts), "cover"
        )
        for stage, path in staged:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _check(
                libc.mount(stage.encode(), path.encode(), None, MS_BIND | MS_REC, None), "rebind"
            )
            libc.umount2(stage.encode(), MNT_DETACH)
            os.rmdir(stage)
        covered.append(ancestor)
    return covered


def _prctl(option: int, arg: int) -> bool:
    return _c().prctl(option, arg, 0, 0, 0) == 0


def enter_worker(
    *, keep_fd: int, scratch_base: str, limits: dict[str, Any], vm_baseline: int, drop_root: bool
) -> str:
    """In a freshly forked worker: own session, scratch dir, rlimits, lower privileges.

    Returns the scratch directory (the worker's working directory).
    """
    os.setsid()
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    pid = os.getpid()
    scratch = os.path.join(scratch_base, str(pid))
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    uid = gid = None
    if drop_root and os.geteuid() == 0:
        uid = gid = UID_BASE + pid % UID_SPAN
        os.chown(scratch, uid, gid)
    os.chdir(scratch)

    max_fd = max(keep_fd + 1, 3)
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, max(max_fd, 4096))

    mb = 1024 * 1024

    def hard(res: int, value: int) -> None:
        resource.setrlimit(res, (value, value))

    hard(resource.RLIMIT_AS, vm_baseline + int(limits["memory_mb"]) * mb)
    hard(resource.RLIMIT_CPU, int(limits["cpu_s"]))
    hard(resource.RLIMIT_FSIZE, int(limits["file_size_mb"]) * mb)
    hard(resource.RLIMIT_NOFILE, max(int(limits["open_files"]), keep_fd + 1))
    hard(resource.RLIMIT_CORE, 0)
    if uid is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_DUMPABLE, 0)
    # After the uid change: no new processes or threads (root would ignore this limit).
    hard(resource.RLIMIT_NPROC, 0)
    return scratch


def vm_size() -> int:
    """This process's virtual memory size in bytes (the base for the address-space limit)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0
