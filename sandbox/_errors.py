"""Exceptions shared by the worker's modules (a leaf: imports nothing of the sandbox)."""

from __future__ import annotations


class SandboxError(Exception):
    """Root of the sandbox's errors: the sandbox itself could not do its job (never an error in
    tool code, which comes back as a value). ``exit_code`` is the `maker` CLI's exit status for
    it: 1, the work failed."""

    exit_code = 1


class SandboxViolation(BaseException):
    """Raised when tool code attempts something the sandbox forbids at run time.

    A BaseException, so that `except Exception` in tool code does not swallow it.
    """


__all__ = ["SandboxError", "SandboxViolation"]
