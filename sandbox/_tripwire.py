"""The audit-hook tripwire installed in every worker.

While tool code runs ("armed"), CPython's audit events for file writes, reads outside the Python
installation and the scratch directory, sockets, subprocesses, signals, ctypes, dynamic code
(`compile`/`exec` of anything but the worker's own compiled tool), heap walking and imports of
unlisted modules raise `SandboxViolation` and mark the worker as tainted, so it is replaced after
the call. This is a tripwire, not the boundary: the process layer contains what gets past it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from sandbox._errors import SandboxViolation

# Standard-library modules that must not be imported fresh while tool code runs.
DENIED_IMPORTS = frozenset(
    {
        "ctypes",
        "_ctypes",
        "subprocess",
        "_posixsubprocess",
        "socket",
        "_socket",
        "ssl",
        "_ssl",
        "multiprocessing",
        "_multiprocessing",
        "pty",
        "tty",
        "termios",
        "fcntl",
        "resource",
        "mmap",
        "signal",
        "shutil",
        "tempfile",
        "urllib",
        "http",
        "ftplib",
        "smtplib",
        "imaplib",
        "poplib",
        "telnetlib",
        "socketserver",
        "xmlrpc",
        "asyncio",
        "concurrent",
        "threading",
        "_thread",
        "code",
        "codeop",
        "pdb",
        "bdb",
        "pickle",
        "_pickle",
        "marshal",
        "shelve",
        "dbm",
        "sqlite3",
        "_sqlite3",
        "webbrowser",
        "importlib",
        "runpy",
        "zipimport",
        "pkgutil",
        "sysconfig",
        "site",
        "gc",
        "inspect",
        "trace",
        "tracemalloc",
        "faulthandler",
        "ensurepip",
        "venv",
        "idlelib",
        "tkinter",
        "turtle",
        "curses",
        "readline",
        "rlcompleter",
        "selectors",
        "select",
        "grp",
        "pwd",
        "spwd",
        "crypt",
        "posix",
        "nt",
        "_io",
        "io",
        "os",
        "sys",
        "builtins",
    }
)

# Third-party packages whose own lazy imports are fine (they are pre-loaded libraries).
LIBRARY_IMPORTS = frozenset(
    {
        "sympy",
        "mpmath",
        "numpy",
        "hypothesis",
        "sortedcontainers",
        "attr",
        "attrs",
        "RestrictedPython",
    }
)

_PREFIX_DENIED = (
    "socket.",
    "ctypes.",
    "subprocess.",
    "_posixsubprocess.",
    "pty.",
    "fcntl.",
    "sqlite3.",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "imaplib.",
    "poplib.",
    "nntplib.",
    "telnetlib.",
    "webbrowser.",
    "shutil.",
    "winreg.",
    "msvcrt.",
    "mmap.",
    "resource.",
    "signal.",
    "syslog.",
    "cpython.",
    "_winapi.",
    "tempfile.",
)

_DENIED_EVENTS = frozenset(
    {
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "os.putenv",
        "os.unsetenv",
        "os.chmod",
        "os.chown",
        "os.chflags",
        "os.lchflags",
        "os.link",
        "os.symlink",
        "os.startfile",
        "os.add_dll_directory",
        "os.setxattr",
        "os.removexattr",
        "os.getxattr",
        "os.listxattr",
        "os.chdir",
        "os.set_blocking",
        "sys.addaudithook",
        "sys.settrace",
        "sys.setprofile",
        "sys._current_frames",
        "sys._current_exceptions",
        "sys.setrecursionlimit",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "marshal.load",
        "pickle.find_class",
        "builtins.input",
        "builtins.breakpoint",
        "function.__new__",
    }
)

# Events allowed inside the scratch directory only.
_SCRATCH_EVENTS = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.truncate",
        "os.utime",
    }
)

# Where the dir_fd arguments start in the audit arguments of the scratch-only events.
_DIR_FD_AT = {"os.mkdir": 2, "os.remove": 1, "os.rmdir": 1, "os.rename": 2, "os.utime": 3}

_IMPORTLIB = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
# Library functions that compile code from their own templates (never from caller strings).
# sympy's parse_expr/sympify of strings is deliberately absent: that is how strings become code.
CODEGEN_ALLOWED = frozenset(
    {
        ("dataclasses.py", "_create_fn"),
        ("collections/__init__.py", "namedtuple"),
        ("ast.py", "parse"),  # builds a syntax tree only; nothing it returns can run
        ("typing.py", "__init__"),  # ForwardRef compiles (never evaluates) an annotation string
        ("sympy/polys/monomials.py", "_build"),
        # Hypothesis copies a test's signature from a fixed template (parameter names only)
        ("hypothesis/internal/reflection.py", "source_exec_as_module"),
        ("hypothesis/internal/reflection.py", "accept"),
    }
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class _State:
    armed = False
    fired: list[str] = []
    codes: dict[int, Any] = {}
    read_roots: tuple[str, ...] = ()
    scratch = ""
    allowed_imports: frozenset[str] = frozenset()


STATE = _State()


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + os.sep) for r in roots)


def _resolve(path: Any) -> str | None:
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        return None
    return os.path.realpath(path)


def _refuse(event: str, detail: str = "") -> None:
    message = f"{event} is not allowed in the sandbox" + (f" ({detail})" if detail else "")
    STATE.fired.append(message)
    raise SandboxViolation(message)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not STATE.armed:
        return
    if event in ("exec", "compile", "marshal.loads", "code.__new__"):
        code = args[0] if args else None
        if event == "exec" and STATE.codes.get(id(code)) is code:
            return  # the worker's own compiled tool
        caller = sys._getframe(1).f_code
        if caller.co_filename in _IMPORTLIB:
            return  # an allowed library importing its own modules lazily
        if event != "marshal.loads" and _is_codegen(caller.co_filename, caller.co_name):
            return  # a vetted template-based code generator of the standard library or sympy
        where = caller.co_filename.rsplit("site-packages/", 1)[-1]
        _refuse("dynamic code execution", f"{event} in {where}:{caller.co_name}")
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        real = _resolve(path)
        if real is None:
            _refuse("open", "file descriptors")
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing:
            if not _under(real, (STATE.scratch,)):
                _refuse("writing files outside the scratch directory", str(path)[:200])
        elif not _under(real, STATE.read_roots + (STATE.scratch,)):
            _refuse("reading files outside the sandbox", str(path)[:200])
        return
    if event == "import":
        top = str(args[0]).partition(".")[0] if args else ""
        if top not in STATE.allowed_imports:
            _refuse(f"import of '{top}'")
        return
    if event in ("os.listdir", "os.scandir"):
        real = _resolve(args[0] if args and args[0] is not None else ".")
        if real is None or not _under(real, STATE.read_roots + (STATE.scratch,)):
            _refuse(event)
        return
    if event in _SCRATCH_EVENTS:
        # both ends of a rename; a dir_fd would make a relative path mean another directory
        paths = args[:2] if event == "os.rename" else args[:1]
        if any(fd not in (None, -1) for fd in args[_DIR_FD_AT.get(event, len(args)) :]):
            _refuse(event, "dir_fd")
        for path in paths or (None,):
            real = _resolve(path)
            if real is None or not _under(real, (STATE.scratch,)):
                _refuse(event)
        return
    if event in _DENIED_EVENTS or event.startswith(_PREFIX_DENIED):
        caller = sys._getframe(1).f_code
        _refuse(event, f"in {caller.co_filename.rsplit('site-packages/', 1)[-1]}:{caller.co_name}")


def _is_codegen(filename: str, name: str) -> bool:
    for suffix, fn in CODEGEN_ALLOWED:
        if name == fn and filename.endswith(os.sep + suffix):
            return _under(os.path.realpath(filename), STATE.read_roots)
    return False


def install(*, read_roots: list[str], scratch: str, policy_modules: list[str]) -> None:
    """Install the hook (once per worker process; audit hooks cannot be removed)."""
    STATE.read_roots = tuple(os.path.realpath(r) for r in read_roots)
    STATE.scratch = os.path.realpath(scratch)
    stdlib = {m for m in sys.stdlib_module_names if m not in DENIED_IMPORTS}
    tops = {m.partition(".")[0] for m in policy_modules}
    STATE.allowed_imports = frozenset(stdlib | LIBRARY_IMPORTS | tops)
    sys.addaudithook(_hook)


def allow_code(code: Any) -> None:
    """Let the worker's own compiled code objects run under the armed hook."""
    STATE.codes[id(code)] = code


def forget_code(code: Any) -> None:
    STATE.codes.pop(id(code), None)


@contextlib.contextmanager
def armed() -> Iterator[list[str]]:
    """Arm the tripwire for the block; yields the list of violations seen in it."""
    STATE.fired = []
    STATE.armed = True
    try:
        yield STATE.fired
    finally:
        STATE.armed = False


@contextlib.contextmanager
def trusted() -> Iterator[None]:
    """Disarm briefly for a vetted library call that compiles its own template."""
    was = STATE.armed
    STATE.armed = False
    try:
        yield
    finally:
        STATE.armed = was
