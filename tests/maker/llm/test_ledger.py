"""Cost ledger and price table: totals match the server, dollars come from the table."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from maker.llm import (
    ChatClient,
    ChatResponse,
    CostLedger,
    FakeOpenAIServer,
    OpenAIChatModel,
    PriceTableError,
    ResponseCache,
    RoleConfig,
    ScriptedModel,
    Usage,
    default_price_table,
    load_price_table,
)
from maker.llm.ledger import price_call
from maker.llm.openai_model import parse_completion


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_ledger_totals_equal_the_servers_usage(tmp_path: Path) -> None:
    with FakeOpenAIServer(cached_tokens=1, faults=["429", "no_usage", "500"]) as fake:
        config = RoleConfig(
            "maker",
            model="gpt-4o-mini",
            base_url=fake.base_url,
            concurrency=4,
            backoff_initial=0.01,
            backoff_max=0.05,
        )
        ledger = CostLedger(tmp_path / "ledger.jsonl")
        client = ChatClient(OpenAIChatModel(config), config, ledger=ledger, local=False)
        phases = ["propose", "repair", "test"]

        def one(i: int) -> None:
            client.complete(ask("word " * (i + 1)), phase=phases[i % 3], max_tokens=50)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = fake.stats()

    total = ledger.total()
    assert total.calls == 20 == stats.completions
    assert total.attempts == stats.requests == 22  # two retried faults
    assert total.prompt_tokens == stats.prompt_tokens
    assert total.completion_tokens == stats.completion_tokens
    assert total.cached_tokens == stats.cached_tokens > 0
    assert total.usage_missing == 1
    by_phase = ledger.totals("phase")
    assert sorted(by_phase) == phases and sum(t.calls for t in by_phase.values()) == 20
    assert ledger.totals("role")["maker"].calls == 20
    assert ledger.totals("model")["gpt-4o-mini"].dollars == pytest.approx(total.dollars)
    price = default_price_table().lookup("gpt-4o-mini")
    assert price is not None
    expected = (
        (stats.prompt_tokens - stats.cached_tokens) * price.input
        + stats.cached_tokens * (price.cached_input or price.input)
        + stats.completion_tokens * price.output
    ) / 1e6
    assert total.dollars == pytest.approx(expected) and total.dollars > 0

    reloaded = CostLedger.load(tmp_path / "ledger.jsonl")
    assert reloaded.total() == total


def test_local_endpoints_cost_nothing() -> None:
    with FakeOpenAIServer() as fake:
        config = RoleConfig("maker", model="gpt-4o", base_url=fake.base_url)
        client = ChatClient(OpenAIChatModel(config), config)
        client.complete(ask("hello there"))
    (entry,) = client.ledger.entries
    assert entry.pricing == "local" and entry.dollars == 0 and entry.prompt_tokens == 2


def test_unknown_models_are_flagged_not_priced() -> None:
    client = ChatClient(ScriptedModel(["x"]), RoleConfig("user", model="mystery-model"))
    client.complete(ask("q"))
    (entry,) = client.ledger.entries
    assert entry.pricing == "unknown" and entry.dollars == 0
    assert client.ledger.unpriced_models() == {"mystery-model"}
    assert client.ledger.total().unpriced == 1


def test_price_lookup_and_cost() -> None:
    table = default_price_table()
    assert table.version
    assert table.lookup("gpt-4o-2024-08-06") == table.lookup("gpt-4o")
    assert table.lookup("gpt-4o-mini-2024-07-18") == table.lookup("gpt-4o-mini")
    assert table.lookup("gpt-4o") != table.lookup("gpt-4o-mini")
    assert table.lookup("llama3") is None
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000, cached_tokens=500_000)
    dollars, how = price_call(table, "gpt-4o", usage, local=False, cache_hit=False)
    assert how == "table" and dollars == pytest.approx(0.5 * 2.5 + 0.5 * 1.25 + 10.0)


def test_user_price_file_overrides_and_adds(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "version": "mine-1",
                "models": {
                    "gpt-4o": {"input": 1.0, "output": 2.0},
                    "llama3": {"input": 0, "output": 0.1},
                },
            }
        )
    )
    table = load_price_table(path)
    assert table.version.endswith("+mine-1")
    gpt = table.lookup("gpt-4o")
    assert gpt is not None and (gpt.input, gpt.output) == (1.0, 2.0)
    assert table.lookup("llama3") is not None
    assert table.lookup("gpt-4o-mini") == default_price_table().lookup("gpt-4o-mini")
    client = ChatClient(ScriptedModel(["a b"]), RoleConfig("user", model="gpt-4o"), prices=table)
    client.complete(ask("one two three"))
    assert client.ledger.total().dollars == pytest.approx((3 * 1.0 + 2 * 2.0) / 1e6)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"models": {}}', "version"),
        ('{"version": "v", "models": {"m": {"input": 1}}}', "models.m"),
        ('{"version": "v", "models": {"m": {"input": -1, "output": 1}}}', "negative"),
    ],
)
def test_bad_price_files_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(PriceTableError, match=message):
        load_price_table(path)
    with pytest.raises(PriceTableError, match="does not exist"):
        load_price_table(tmp_path / "absent.json")


def test_local_calls_cost_their_wall_time_at_the_machine_price() -> None:
    reply = ChatResponse("ok", "stop", Usage(10, 5), "local-model", latency_s=72.0)
    client = ChatClient(
        ScriptedModel([reply]),
        RoleConfig("maker", model="local-model"),
        local=True,
        price_per_hour=2.5,
    )
    client.complete([{"role": "user", "content": "x"}], phase="p")
    entry = client.ledger.entries[0]
    assert entry.pricing == "local" and (entry.prompt_tokens, entry.completion_tokens) == (10, 5)
    assert entry.dollars == pytest.approx(72.0 / 3600 * 2.5)
    free = ChatClient(ScriptedModel([reply]), RoleConfig("maker", model="local-model"), local=True)
    free.complete([{"role": "user", "content": "x"}])
    assert free.ledger.entries[0].dollars == 0.0  # no machine price: free


def test_a_server_reported_compute_is_the_calls_seconds_and_its_price(tmp_path: Path) -> None:
    """The engine's local server decodes requests in flight together, so a call's wall time
    counts the others' work; the compute it reports (``maker_timing.compute_s``) is what the
    ledger counts as the call's seconds and prices. A cache hit costs none of it again."""
    body = json.dumps(
        {
            "model": "local-model",
            "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5},
            "maker_timing": {"compute_s": 18.0, "queue_s": 0.5, "wall_s": 72.0},
        }
    ).encode()
    parsed = parse_completion(body, requested_model="local-model")
    assert parsed.compute_s == 18.0
    reply = replace(parsed, latency_s=72.0)
    assert reply.seconds == 18.0 and ChatResponse.from_json(reply.to_json()) == reply
    cache = ResponseCache(tmp_path / "cache")
    client = ChatClient(
        ScriptedModel([reply]),
        RoleConfig("maker", model="local-model"),
        local=True,
        price_per_hour=3.6,
        cache=cache,
    )
    client.complete([{"role": "user", "content": "x"}], phase="p")
    hit = client.complete([{"role": "user", "content": "x"}], phase="p")
    first, second = client.ledger.entries
    assert (first.latency_s, first.compute_s, first.seconds) == (72.0, 18.0, 18.0)
    assert first.dollars == pytest.approx(18.0 / 3600 * 3.6)
    assert hit.cache_hit and hit.compute_s is None and second.seconds < 1.0
    assert client.ledger.total().seconds == pytest.approx(18.0 + second.latency_s)
    assert client.ledger.total().latency_s == pytest.approx(72.0 + second.latency_s)
    # a server that reports nothing (or nonsense): the call's latency, as before
    for timing in (None, {"compute_s": -1}, {"compute_s": "fast"}, {"compute_s": True}):
        data = json.loads(body)
        data["maker_timing"] = timing
        assert parse_completion(json.dumps(data).encode(), requested_model="m").compute_s is None
