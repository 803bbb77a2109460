"""The one root exception of the library package.

Expected failures (a tool that fails to parse, a duplicate publish, a failed gate) come back as
values; `LibraryError` is raised for a caller's mistake (unknown tool or version, a write to a
read-only library, a lock that no longer matches) and always carries a one-line message that
names the input and says what is wrong.
"""

from __future__ import annotations


class LibraryError(Exception):
    """A caller's mistake or an unusable library; the message is one line meant for a user.

    ``exit_code`` is the `maker` CLI's exit status for it: 1, the library refused the work (an
    unknown tool, a damaged or read-only library, a failed call).
    """

    exit_code = 1


class UnknownToolError(LibraryError):
    """A reference (`name`, `name@latest`, `name@N`) that names no tool version in the library."""


class ReadOnlyError(LibraryError):
    """A write was attempted on a library opened read-only."""
