"""Exceptions shared by the worker's modules (a leaf: imports nothing of the sandbox)."""

from __future__ import annotations


class SandboxViolation(BaseException):
    """Raised when tool code attempts something the sandbox forbids at run time.

    A BaseException, so that `except Exception` in tool code does not swallow it.
    """


__all__ = ["SandboxViolation"]
