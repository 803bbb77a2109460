"""Content hashes of source text (a leaf module: the host and the suite runner both use it)."""

from __future__ import annotations

import hashlib


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
