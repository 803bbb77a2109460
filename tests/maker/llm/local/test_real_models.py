"""Against the real local models (skipped unless they and llama-cpp-python are installed):
the managed server starts and the 0.5B model gives a short schema-constrained JSON reply."""

from __future__ import annotations

import json

import jsonschema
import pytest

from maker.llm import CostLedger, load_config, make_client
from maker.llm.local import LOCAL_MODELS, LocalServer, ServerSettings

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}},
    "required": ["answer"],
}


@pytest.mark.local_models
def test_real_server_gives_a_constrained_json_reply() -> None:
    small = next(m for m in LOCAL_MODELS if m.role == "user")
    server = LocalServer([small], ServerSettings(n_ctx=2048), progress=False)
    try:
        client = make_client(load_config(None, env={}), "user", server=server, ledger=CostLedger())
        assert client.config.model == small.alias and client.local
        reply = client.complete(
            [{"role": "user", "content": "What is 2 + 3? Answer in JSON."}],
            phase="check",
            schema=SCHEMA,
            max_tokens=24,
            use_cache=False,
        )
        data = json.loads(reply.text)
        jsonschema.validate(data, SCHEMA)
        assert reply.usage.completion_tokens > 0
        entry = client.ledger.entries[0]
        assert entry.pricing == "local" and entry.latency_s > 0
    finally:
        server.stop()


@pytest.mark.local_models
def test_real_server_survives_the_tool_users_decision_schema() -> None:
    """The tool user's decision schema (a program string with maxLength 4000) made the real
    llama.cpp server die of SIGSEGV: large bounds are left out of the grammar it is sent."""
    from maker.use.reply import decision_schema, parse_decision

    small = next(m for m in LOCAL_MODELS if m.role == "user")
    server = LocalServer([small], ServerSettings(n_ctx=2048), progress=False)
    try:
        client = make_client(load_config(None, env={}), "user", server=server, ledger=CostLedger())
        schema = decision_schema(["sum_of_divisors"])
        question = (
            "Tool: sum_of_divisors(n: int) -> int. What is the sum of the divisors of "
            "36? Reply in JSON: a call of the tool."
        )
        reply = client.complete(
            [{"role": "user", "content": question}],
            phase="check",
            schema=schema,
            max_tokens=60,
            use_cache=False,
        )
        jsonschema.validate(json.loads(reply.text), schema)
        from maker.use.reply import Decision

        assert isinstance(parse_decision(reply.text), Decision)
        assert server.running
    finally:
        server.stop()


SUM_OF_DIVISORS = '''def sum_of_divisors(n: int) -> int:
    """Sum of the positive integer divisors of n."""
    return sum(d for d in range(1, n + 1) if n % d == 0)
'''


@pytest.mark.local_models
def test_the_real_small_model_calls_a_fitting_tool_it_is_offered() -> None:
    """Offered a fitting tool with {"kind": "call" | "answer", ...} replies, the real 0.5B
    answered directly (and wrongly) 6 of 6 times; with the tool-first reply form it calls it."""
    from library import Library, MemoryStore, NewTool
    from library.records import StoredSuite
    from maker.use import Solver
    from sandbox import Sandbox

    small = next(m for m in LOCAL_MODELS if m.role == "user")
    server = LocalServer([small], ServerSettings(n_ctx=4096), progress=False)
    lib = Library(MemoryStore())
    tests = StoredSuite(examples=({"input": {"n": 6}, "expected": 12},))
    assert lib.publish(NewTool("sum_of_divisors", SUM_OF_DIVISORS, tests=tests)).ok
    try:
        client = make_client(load_config(None, env={}), "user", server=server, ledger=CostLedger())
        with Sandbox(workers=1) as sb, Solver(lib, client, sandbox=sb) as solver:
            sol = solver.solve("What is the sum of all of the positive divisors of 36?", gold=91)
        assert sol.tools_used == ("sum_of_divisors@1",), sol.state["last_reply"]
        assert sol.correct is True
    finally:
        server.stop()


@pytest.mark.local_models
def test_the_servers_lazy_grammar_gives_the_same_greedy_reply_as_the_full_one() -> None:
    """The server child checks a JSON schema's grammar on the picked token only
    (`maker.llm.local.llama_child.LazyGrammar`): at temperature 0 the reply is the one
    llama-cpp-python's own sampler (the grammar over every candidate) gives in-process."""
    from llama_cpp import Llama, LlamaGrammar

    from maker.llm.local.assemble import ensure_model
    from maker.llm.structured import grammar_safe
    from maker.use.reply import decision_schema

    small = next(m for m in LOCAL_MODELS if m.role == "user")
    schema = decision_schema({"sum_of_divisors": {"type": "object", "properties": {"n": {}}}})
    messages = [
        {
            "role": "user",
            "content": "Tool: sum_of_divisors(n: int) -> int. What is the sum of the divisors "
            "of 36? Reply in JSON: a call of the tool.",
        }
    ]
    llm = Llama(model_path=str(ensure_model(small).path), n_ctx=2048, verbose=False)
    grammar = LlamaGrammar.from_json_schema(json.dumps(grammar_safe(schema)), verbose=False)
    full = llm.create_chat_completion(messages, temperature=0, max_tokens=48, grammar=grammar)
    del llm
    server = LocalServer([small], ServerSettings(n_ctx=2048), progress=False)
    try:
        client = make_client(load_config(None, env={}), "user", server=server, ledger=CostLedger())
        reply = client.complete(
            messages, phase="check", schema=schema, max_tokens=48, use_cache=False, temperature=0
        )
    finally:
        server.stop()
    assert reply.text == full["choices"][0]["message"]["content"]
