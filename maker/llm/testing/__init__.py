"""Fakes shipped as public API: a scripted chat model behind the client seam, and a fake
OpenAI-compatible HTTP server for the wire path."""

from maker.llm.testing.fake_server import FakeOpenAIServer, FakeServerProcess, Fault, ServerStats
from maker.llm.testing.scripted import Rule, ScriptedCall, ScriptedModel

__all__ = [
    "FakeOpenAIServer",
    "FakeServerProcess",
    "Fault",
    "ServerStats",
    "Rule",
    "ScriptedCall",
    "ScriptedModel",
]
