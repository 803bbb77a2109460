"""The one root exception of the maker package.

Expected failures (a rejected draft, a failing tool, malformed model output) come back as values;
a `MakerError` is raised when the work cannot go on: a bad setting, a job dir of another job, a
model endpoint that keeps failing. Its message is one line meant for a user and says what to do.
``exit_code`` is the `maker` CLI's exit status for it: 2 when the input (a setting, a file, an
argument) is wrong, 1 when the work failed; a subclass says which.
"""

from __future__ import annotations


class MakerError(Exception):
    """Root of every error the maker raises for a user to read (never for a bug)."""

    exit_code = 1
