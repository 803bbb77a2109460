"""OpenAIChatModel against the local fake server: happy path, every fault, concurrency."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from maker.llm import (
    ChatClient,
    ConfigError,
    FakeOpenAIServer,
    Fault,
    MalformedResponseError,
    ModelCallError,
    OpenAIChatModel,
    RoleConfig,
    Sampling,
    load_config,
    make_client,
)
from maker.llm.testing.fake_server import FAULT_KINDS


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def role(server: FakeOpenAIServer, **kw: object) -> RoleConfig:
    settings: dict[str, object] = {
        "model": "fake-model",
        "base_url": server.base_url,
        "api_key": "test-key",
        "timeout": 2.0,
        "max_retries": 2,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
    }
    settings.update(kw)
    return RoleConfig("maker", **settings)  # type: ignore[arg-type]


def test_happy_path(server: FakeOpenAIServer) -> None:
    server.add_replies("def add(a, b):\n    return a + b")
    config = role(server, sampling=Sampling(temperature=0.2, max_tokens=100, seed=7))
    model = OpenAIChatModel(config)
    response = model.complete(ask("write add please"), top_k=5)
    assert response.text == "def add(a, b):\n    return a + b"
    assert response.finish_reason == "stop"
    assert response.model == "fake-model"
    assert response.attempts == 1 and not response.cache_hit
    assert response.usage.prompt_tokens == 3 and response.usage.reported
    assert response.latency_s > 0
    (body,) = server.received
    assert body["temperature"] == 0.2 and body["max_tokens"] == 100 and body["seed"] == 7
    assert body["top_k"] == 5  # unknown params travel as extra body fields
    assert body["messages"] == ask("write add please")


def test_n_choices_are_all_returned(server: FakeOpenAIServer) -> None:
    response = OpenAIChatModel(role(server)).complete(ask("hi"), n=3)
    assert response.texts == ("echo: hi",) * 3


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_every_fault_kind_then_success(server: FakeOpenAIServer, kind: str) -> None:
    server.add_faults(Fault(kind, hang_s=3.0))
    server.add_replies("ok")
    model = OpenAIChatModel(role(server, timeout=0.3))
    response = model.complete(ask("x"))
    assert response.text == "ok"
    stats = server.stats()
    if kind == "no_usage":  # a usable reply: no retry, usage flagged as missing
        assert response.attempts == 1 and not response.usage.reported
        assert stats.requests == 1
    else:
        assert response.attempts == 2 and response.usage.reported
        assert stats.requests == 2 and stats.faults == 1 and stats.completions == 1


def test_retry_after_is_honoured(server: FakeOpenAIServer) -> None:
    server.add_faults(Fault("429", retry_after=0.3))
    model = OpenAIChatModel(role(server, backoff_max=1.0))
    started = time.monotonic()
    model.complete(ask("x"))
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("malformed", "not JSON"),
        ("truncated", "truncated"),
        ("no_choices", "no choices"),
        ("no_content", "no message content"),
    ],
)
def test_persistent_bad_bodies_become_clear_errors(
    server: FakeOpenAIServer, kind: str, reason: str
) -> None:
    server.add_faults(*[kind] * 3)
    with pytest.raises(ModelCallError, match=reason) as info:
        OpenAIChatModel(role(server, max_retries=2)).complete(ask("x"))
    assert info.value.attempts == 3 and info.value.recoverable
    assert "after 3 attempt(s)" in str(info.value)
    assert server.stats().requests == 3
    if kind != "truncated":
        assert isinstance(info.value, MalformedResponseError)


def test_retries_exhausted_on_server_errors(server: FakeOpenAIServer) -> None:
    server.add_faults("500", "500")
    with pytest.raises(ModelCallError, match="HTTP 500") as info:
        OpenAIChatModel(role(server, max_retries=1)).complete(ask("x"))
    assert info.value.attempts == 2
    assert server.stats().requests == 2


def test_client_errors_are_not_retried() -> None:
    # A 404 (wrong path under base_url) is the caller's mistake: one attempt, terminal.
    with FakeOpenAIServer() as fake:
        config = role(fake, base_url=f"http://127.0.0.1:{fake.port}/wrong")
        with pytest.raises(ModelCallError, match="HTTP 404") as info:
            OpenAIChatModel(config).complete(ask("x"))
        assert info.value.attempts == 1 and not info.value.recoverable
        assert fake.stats().requests == 0  # never reached the chat route


def test_missing_usage_is_a_flagged_zero(server: FakeOpenAIServer) -> None:
    server.add_faults("no_usage")
    client = ChatClient(OpenAIChatModel(role(server)), role(server))
    response = client.complete(ask("x"), phase="propose")
    assert response.text == "echo: x"
    assert not response.usage.reported
    assert response.usage.prompt_tokens == 0
    (entry,) = client.ledger.entries
    assert not entry.usage_reported and entry.dollars == 0.0
    assert client.ledger.total().usage_missing == 1


def test_failed_calls_are_recorded_with_their_attempts(server: FakeOpenAIServer) -> None:
    server.add_faults("500", "500", "500")
    client = ChatClient(OpenAIChatModel(role(server)), role(server))
    with pytest.raises(ModelCallError):
        client.complete(ask("x"), phase="repair")
    (entry,) = client.ledger.entries
    assert entry.attempts == 3 and entry.pricing == "failed"
    assert entry.error is not None and "HTTP 500" in entry.error


def test_api_key_is_sent_as_bearer_token() -> None:
    seen: list[str] = []

    def reply(body: object) -> str:
        return "ok"

    with FakeOpenAIServer(reply) as fake:
        OpenAIChatModel(role(fake, api_key="sk-secret")).complete(ask("x"))
        seen.extend(fake.authorizations)
    assert seen == ["Bearer sk-secret"]


def test_concurrency_limit_is_honoured() -> None:
    with FakeOpenAIServer(latency=0.1) as fake:
        model = OpenAIChatModel(role(fake, concurrency=3))
        threads = [threading.Thread(target=model.complete, args=(ask(f"q{i}"),)) for i in range(12)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        stats = fake.stats()
    assert stats.completions == 12
    assert stats.max_in_flight == 3  # reached, never exceeded
    assert elapsed >= 0.4 - 0.02  # 12 calls / 3 slots x 0.1 s


def test_server_latency_does_not_serialize_requests() -> None:
    # a second of latency: on a loaded 2-core machine starting 16 threads took longer than
    # the 0.2 s this test used to allow, and one request finished before the last began
    with FakeOpenAIServer(latency=1.0) as fake:
        model = OpenAIChatModel(role(fake, concurrency=16))
        threads = [threading.Thread(target=model.complete, args=(ask(f"q{i}"),)) for i in range(16)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        assert fake.stats().max_in_flight >= 12
    assert elapsed < 8.0  # serialized would be 16 x 1.0 = 16 s


def test_models_endpoint(server: FakeOpenAIServer) -> None:
    model = OpenAIChatModel(role(server))
    assert [m.id for m in model.client.models.list()] == ["fake-model"]


def test_make_client_wires_config_cache_and_ledger(tmp_path: Path) -> None:
    with FakeOpenAIServer(["from config"]) as fake:
        config = load_config(
            None,
            env={"MAKER_MAKER_BASE_URL": fake.base_url, "MAKER_MAKER_MODEL": "gpt-4o"},
            overrides={"cache_dir": str(tmp_path / "cache")},
        )
        client = make_client(config, "maker")
        assert client.complete(ask("x"), phase="p").text == "from config"
        assert client.complete(ask("x"), phase="p").cache_hit
        assert fake.stats().requests == 1
    assert [e.pricing for e in client.ledger.entries] == ["local", "cache"]
    with pytest.raises(ConfigError, match="MAKER_USER_MODEL"):
        make_client(config, "user", local_models=())  # no local model either


@pytest.mark.live
def test_live_endpoint_answers() -> None:
    """Opt-in: MAKER_LIVE_BASE_URL, MAKER_LIVE_MODEL (and OPENAI_API_KEY if needed)."""
    config = load_config(
        None,
        overrides={
            "maker.base_url": os.environ["MAKER_LIVE_BASE_URL"],
            "maker.model": os.environ.get("MAKER_LIVE_MODEL", "gpt-4o-mini"),
            "maker.max_tokens": 5,
        },
    )
    response = make_client(config, "maker").complete(ask("Reply with the word OK."), phase="live")
    assert response.text.strip()
