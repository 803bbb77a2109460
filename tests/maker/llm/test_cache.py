"""Response cache: identical re-runs make zero requests and return identical answers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from maker.llm import (
    ChatClient,
    ChatResponse,
    CostLedger,
    FakeOpenAIServer,
    OpenAIChatModel,
    ResponseCache,
    RoleConfig,
    Sampling,
    ScriptedModel,
    Usage,
    request_key,
)

PROMPTS = [f"make a tool for problem {i}" for i in range(6)]


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You write tools."}, {"role": "user", "content": text}]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    counter = iter(range(10_000))
    # Each reply carries a fresh number: a re-run that reached the server would differ.
    with FakeOpenAIServer(lambda body: f"tool #{next(counter)}", cached_tokens=2) as fake:
        yield fake


def role(server: FakeOpenAIServer) -> RoleConfig:
    return RoleConfig(
        "maker",
        model="gpt-4o",
        base_url=server.base_url,
        api_key="k1",
        sampling=Sampling(temperature=0.0),
        backoff_initial=0.01,
        backoff_max=0.05,
    )


def run_batch(server: FakeOpenAIServer, cache_dir: Path, ledger: CostLedger) -> list[str]:
    """A fresh client and cache object each time, as a re-run of a job would build them."""
    config = role(server)
    with ResponseCache(cache_dir) as cache:
        client = ChatClient(OpenAIChatModel(config), config, ledger=ledger, cache=cache)
        texts: list[str] = [""] * len(PROMPTS)

        def one(i: int) -> None:
            texts[i] = client.complete(ask(PROMPTS[i]), phase="propose").text

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(PROMPTS))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return texts


def test_rerun_makes_zero_requests_and_identical_results(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    first_ledger, second_ledger = CostLedger(), CostLedger()
    first = run_batch(server, tmp_path / "cache", first_ledger)
    requests_after_first = server.stats().requests
    assert requests_after_first == len(PROMPTS)
    second = run_batch(server, tmp_path / "cache", second_ledger)
    assert server.stats().requests == requests_after_first  # zero new HTTP requests
    assert second == first
    assert len(set(first)) == len(PROMPTS)
    total = second_ledger.total()
    assert total.calls == len(PROMPTS) and total.cache_hits == len(PROMPTS)
    assert total.dollars == 0 and total.attempts == 0
    assert total.prompt_tokens == 0  # nothing billed on a replay
    assert {e.pricing for e in second_ledger.entries} == {"cache"}


def test_cached_response_equals_the_original(tmp_path: Path) -> None:
    config = RoleConfig("maker", model="m")
    with ResponseCache(tmp_path) as cache:
        client = ChatClient(ScriptedModel(["only once"]), config, cache=cache)
        fresh = client.complete(ask("q"), n=1)
        replay = client.complete(ask("q"), n=1)
    assert replay.cache_hit and not fresh.cache_hit
    assert (replay.text, replay.usage, replay.model, replay.texts) == (
        fresh.text,
        fresh.usage,
        fresh.model,
        fresh.texts,
    )


def test_sample_index_gives_distinct_cached_samples(tmp_path: Path) -> None:
    config = RoleConfig("maker", model="m")
    with ResponseCache(tmp_path) as cache:
        with ScriptedModel(["a", "b"]) as model:
            client = ChatClient(model, config, cache=cache)
            assert client.complete(ask("q"), sample=0).text == "a"
            assert client.complete(ask("q"), sample=1).text == "b"
            assert client.complete(ask("q"), sample=0).text == "a"  # replay, no new call
            assert client.complete(ask("q"), sample=1).text == "b"


def test_use_cache_false_calls_again(tmp_path: Path) -> None:
    with ResponseCache(tmp_path) as cache:
        with ScriptedModel(["a", "b"]) as model:
            client = ChatClient(model, RoleConfig("maker", model="m"), cache=cache)
            client.complete(ask("q"))
            assert client.complete(ask("q"), use_cache=False).text == "b"
            assert client.complete(ask("q")).text == "b"  # the fresh answer was stored


def test_key_covers_model_messages_and_sampling_but_not_secrets() -> None:
    base = request_key("m", ask("q"), {"temperature": 0.0})
    assert base == request_key("m", ask("q"), {"temperature": 0.0, "timeout": 5, "seed": None})
    assert base == request_key(
        "m", [dict(reversed(list(m.items()))) for m in ask("q")], {"temperature": 0.0}
    )  # key order does not matter
    assert base != request_key("m2", ask("q"), {"temperature": 0.0})
    assert base != request_key("m", ask("q2"), {"temperature": 0.0})
    assert base != request_key("m", ask("q"), {"temperature": 0.5})
    assert base != request_key("m", ask("q"), {"temperature": 0.0}, sample=1)
    assert len(base) == 64


def test_api_key_is_not_in_the_key(tmp_path: Path) -> None:
    with ResponseCache(tmp_path) as cache:
        with ScriptedModel(["a"]) as model:
            for key in ("k1", "k2"):
                config = RoleConfig("maker", model="m", api_key=key)
                assert ChatClient(model, config, cache=cache).complete(ask("q")).text == "a"


def test_storage_is_json_never_pickle(tmp_path: Path) -> None:
    with ResponseCache(tmp_path) as cache:
        response = ChatResponse(text="x", finish_reason="stop", usage=Usage(1, 2), model="m")
        cache.put("k", response)
        assert cache.get("k") == response
    rows = sqlite3.connect(tmp_path / "cache.db").execute("SELECT mode FROM Cache").fetchall()
    assert rows and all(mode != 4 for (mode,) in rows)  # diskcache MODE_PICKLE == 4


def test_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    with ResponseCache(tmp_path) as cache:
        cache._cache.set("k", {"not": "a response"})
        assert cache.get("k") is None
