"""maker package: everything a model drives (making, checking and using tools, jobs, CLI)."""

from maker.errors import MakerError

__all__ = ["MakerError"]
