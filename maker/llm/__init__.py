"""Model access: the one seam for every model call in the project.

    >>> from maker.llm import load_config, make_client
    >>> client = make_client(load_config("maker.toml"), "maker")        # doctest: +SKIP
    >>> client.complete([{"role": "user", "content": "hi"}], phase="propose").text  # doctest: +SKIP

Offline, put a `ScriptedModel` behind the same seam: ``ChatClient(ScriptedModel([...]), rc)``.
"""

from __future__ import annotations

from maker.llm.cache import ResponseCache, request_key
from maker.llm.client import ChatClient, make_client
from maker.llm.config import (
    LLMConfig,
    RoleConfig,
    Sampling,
    env_var,
    is_local_url,
    load_config,
    missing_endpoint_message,
    require_endpoint,
)
from maker.llm.errors import (
    ConfigError,
    LLMError,
    MalformedResponseError,
    ModelCallError,
    PriceTableError,
    ScriptError,
)
from maker.llm.ledger import CostLedger, LedgerEntry, Totals
from maker.llm.openai_model import OpenAIChatModel, parse_completion
from maker.llm.prices import Price, PriceTable, default_price_table, load_price_table
from maker.llm.testing.fake_server import FakeOpenAIServer, FakeServerProcess, Fault, ServerStats
from maker.llm.testing.scripted import Rule, ScriptedCall, ScriptedModel
from maker.llm.types import ChatModel, ChatResponse, Message, Usage

__all__ = [
    "ChatClient",
    "ChatModel",
    "ChatResponse",
    "ConfigError",
    "CostLedger",
    "FakeOpenAIServer",
    "FakeServerProcess",
    "Fault",
    "LLMConfig",
    "LLMError",
    "LedgerEntry",
    "MalformedResponseError",
    "Message",
    "ModelCallError",
    "OpenAIChatModel",
    "Price",
    "PriceTable",
    "PriceTableError",
    "ResponseCache",
    "RoleConfig",
    "Rule",
    "Sampling",
    "ScriptError",
    "ScriptedCall",
    "ScriptedModel",
    "ServerStats",
    "Totals",
    "Usage",
    "default_price_table",
    "env_var",
    "is_local_url",
    "load_config",
    "load_price_table",
    "make_client",
    "missing_endpoint_message",
    "parse_completion",
    "request_key",
    "require_endpoint",
]
