"""``python -m maker.llm.local.watchdog --parent PID [--cleanup DIR] MODULE [ARGS...]``: run
MODULE as ``__main__`` in this process, and exit at once when the parent goes away.

The parent is gone when standard input reaches end of file (the parent closed it, or died and
the kernel closed it) or when this process is re-parented (the parent's pid is no longer our
parent's). Either way the process ends with ``os._exit``: a model server holds nothing that
needs a clean shutdown, and a server left running after its owner died is the one outcome that
must not happen. This works whichever of the parent's threads started us (``PR_SET_PDEATHSIG``
fires when the *thread* that forked exits, which would kill a server started from a worker
thread while the run is still going). When the parent went away, DIR, its private temporary
directory (config file, log), is removed too: a parent that was killed cannot remove it itself.
"""

from __future__ import annotations

import os
import runpy
import shutil
import sys
import threading
import time
import traceback

POLL_S = 0.25
"""How often the parent's pid is checked."""

USAGE = "usage: python -m maker.llm.local.watchdog --parent PID [--cleanup DIR] MODULE [ARGS...]"

_cleanup: str | None = None


def _exit(code: int, *, clean: bool = True) -> None:
    if clean and _cleanup:
        shutil.rmtree(_cleanup, ignore_errors=True)
    os._exit(code)


def _watch_stdin() -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    _exit(0)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    _exit(0)


def main(argv: list[str]) -> None:
    """Start both watchers, then run the module with ``sys.argv = [MODULE, *ARGS]``."""
    global _cleanup
    if len(argv) >= 4 and argv[2] == "--cleanup":
        _cleanup = argv[3]
        argv = argv[:2] + argv[4:]
    if len(argv) < 3 or argv[0] != "--parent" or not argv[1].isdigit():
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    parent, module, args = int(argv[1]), argv[2], argv[3:]
    if os.getppid() != parent:  # the parent died before we got here
        _exit(0)
    threading.Thread(target=_watch_stdin, name="watchdog-stdin", daemon=True).start()
    threading.Thread(
        target=_watch_parent, args=(parent,), name="watchdog-ppid", daemon=True
    ).start()
    sys.argv = [module, *args]
    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - reported like the interpreter would, then exit
        traceback.print_exc()
        code = 1
    # os._exit, not a normal exit: the stdin watcher is blocked in a read, and interpreter
    # shutdown would abort on its lock. The parent is alive (it reads the log, then cleans up).
    sys.stdout.flush()
    sys.stderr.flush()
    _exit(code, clean=False)


if __name__ == "__main__":
    main(sys.argv[1:])
