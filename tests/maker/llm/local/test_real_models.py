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


@pytest.mark.local_models
def test_the_batched_server_decodes_requests_in_flight_together() -> None:
    """Four tool decisions sent at once are decoded together (`maker.llm.local.batched`):
    each is well-formed, each reports the compute it used and the prompt tokens it reused, and
    the compute of all four is less than the sum of their wall times (each one's wall time
    counts the others' work too)."""
    from concurrent.futures import ThreadPoolExecutor

    small = next(m for m in LOCAL_MODELS if m.role == "user")
    server = LocalServer([small], ServerSettings(n_ctx=2048, parallel=4), progress=False)
    try:
        client = make_client(load_config(None, env={}), "user", server=server, ledger=CostLedger())
        assert client.config.concurrency == 4

        def ask(n: int):
            question = f"What is {n} + {2 * n}? Answer in JSON."
            return client.complete(
                [{"role": "user", "content": question}],
                phase="check",
                schema=SCHEMA,
                max_tokens=24,
                use_cache=False,
            )

        ask(1)  # the model's pages warm
        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(ask, [2, 3, 4, 5]))
    finally:
        server.stop()
    for reply in replies:
        jsonschema.validate(json.loads(reply.text), SCHEMA)
        assert reply.compute_s is not None and 0 < reply.compute_s <= reply.latency_s
        # the chat template and "What is " were held from the first question: not read again
        assert 0 < reply.usage.cached_tokens < reply.usage.prompt_tokens
    assert sum(r.compute_s or 0 for r in replies) < 0.9 * sum(r.latency_s for r in replies)
    entries = client.ledger.entries[1:]
    assert [e.seconds for e in entries] == [e.compute_s for e in entries]


@pytest.mark.local_models
def test_the_batched_server_makes_room_and_refuses_what_cannot_fit() -> None:
    """With room for one prompt at a time (n_ctx 256, one request at a time), a second,
    different prompt clears the first one's cached tokens; a prompt longer than the context is
    refused with the reason, and the server goes on serving."""
    from maker.llm import ModelCallError

    small = next(m for m in LOCAL_MODELS if m.role == "user")
    server = LocalServer([small], ServerSettings(n_ctx=256, parallel=1), progress=False)
    try:
        client = make_client(load_config(None, env={}), "user", server=server, ledger=CostLedger())
        for topic in ("apples " * 60, "rivers " * 60, "apples " * 60):
            reply = client.complete(
                [{"role": "user", "content": f"{topic}\nSay OK."}],
                phase="check",
                max_tokens=8,
                use_cache=False,
            )
            assert reply.text and reply.usage.prompt_tokens > 60
        with pytest.raises(ModelCallError, match="tokens; the context holds 256"):
            client.complete(
                [{"role": "user", "content": "pears " * 400}], phase="check", use_cache=False
            )
        again = client.complete(
            [{"role": "user", "content": "Say OK."}], phase="check", max_tokens=4, use_cache=False
        )
        assert again.text
    finally:
        server.stop()
