"""``python -m maker.llm.testing.fake_endpoint``: run the fake OpenAI-compatible server until Ctrl-C.

Prints one JSON line (``{"base_url": ..., "model": ...}``) once it serves. Options: ``--latency``,
``--model``, ``--reply-factory MODULE:FUNCTION`` with ``--factory-args JSON`` (see
`maker.llm.testing.fake_server.main`). For example, the shipped example tasks answered by the oracle::

    python -m maker.llm.testing.fake_endpoint --reply-factory maker.bench.oracle:example_server_reply
"""

from __future__ import annotations

import sys

from maker.llm.testing.fake_server import main

if __name__ == "__main__":
    sys.exit(main())
