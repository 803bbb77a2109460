"""The fake OpenAI-compatible server itself: routes, replies, faults, counters, lifecycle."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from maker.llm import FakeOpenAIServer, Fault
from maker.llm.testing.fake_server import FAULT_KINDS


def post(server: FakeOpenAIServer, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


CHAT = {"model": "m", "messages": [{"role": "user", "content": "three little words"}]}


def test_replies_in_order_then_default_and_counters() -> None:
    with FakeOpenAIServer(["first", "second"], cached_tokens=1) as server:
        texts = []
        for _ in range(3):
            status, _, raw = post(server, CHAT)
            assert status == 200
            data = json.loads(raw)
            texts.append(data["choices"][0]["message"]["content"])
            assert data["usage"]["prompt_tokens"] == 3
        stats = server.stats()
    assert texts == ["first", "second", "echo: three little words"]
    assert stats.requests == stats.completions == 3
    assert stats.prompt_tokens == 9 and stats.cached_tokens == 3
    assert stats.completion_tokens == 1 + 1 + 4


def test_models_route_and_unknown_routes() -> None:
    with FakeOpenAIServer(model="tiny") as server:
        with urllib.request.urlopen(f"{server.base_url}/models", timeout=5) as response:
            assert json.loads(response.read())["data"][0]["id"] == "tiny"
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}/nope", data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=5)
        assert info.value.code == 404
        assert server.stats().requests == 0


def test_rate_limit_carries_retry_after() -> None:
    with FakeOpenAIServer(faults=[Fault("429", retry_after=1.5)]) as server:
        status, headers, _ = post(server, CHAT)
        assert status == 429
        assert {k.lower(): v for k, v in headers.items()}["retry-after-ms"] == "1500"
        assert post(server, CHAT)[0] == 200  # the queue is empty again


def test_bad_bodies_are_what_they_claim() -> None:
    with FakeOpenAIServer(faults=["malformed", "no_usage", "no_choices", "no_content"]) as s:
        with pytest.raises(ValueError):
            json.loads(post(s, CHAT)[2])
        assert "usage" not in json.loads(post(s, CHAT)[2])
        assert json.loads(post(s, CHAT)[2])["choices"] == []
        assert "content" not in json.loads(post(s, CHAT)[2])["choices"][0]["message"]
        stats = s.stats()
    assert stats.faults == 4 and stats.completions == 1 and stats.prompt_tokens == 0


def test_unknown_fault_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("slow")
    assert set(FAULT_KINDS) >= {"429", "500", "timeout", "truncated", "malformed", "no_usage"}


def test_stop_releases_the_port_and_wakes_hanging_requests() -> None:
    server = FakeOpenAIServer(faults=[Fault("timeout", hang_s=30)]).start()
    port = server.port
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    deadline = time.monotonic() + 2
    while server.stats().requests == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    sock.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url


def test_server_process_serves_counts_and_stops() -> None:
    from maker.llm import FakeServerProcess

    server = FakeServerProcess("maker.bench.oracle:synthetic_server_reply", [3], latency=0.05)
    with server:
        proc = server._proc
        status, _, raw = post(
            server,
            {"model": "m", "messages": [{"role": "user", "content": "what is the weather?"}]},
        )
        assert status == 200
        assert json.loads(raw)["choices"][0]["message"]["content"] == "I cannot help with that."
        stats = server.stats()
        assert (stats.requests, stats.completions, stats.max_in_flight) == (1, 1, 1)
        assert stats.completion_tokens == 5
    assert proc is not None and proc.poll() is not None  # the child exited with the context
    with pytest.raises(RuntimeError, match="not running"):
        server.base_url  # noqa: B018 - the property raises


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        ("maker.bench.oracle", "not of the form module:function"),
        ("maker.bench.oracle:no_such_thing", "cannot be imported"),
        ("no_such_module_xyz:f", "cannot be imported"),
        ("maker.bench.oracle:Solution", "missing"),
    ],
)
def test_server_process_reports_a_bad_factory_in_one_line(factory: str, message: str) -> None:
    from maker.llm import FakeServerProcess

    with pytest.raises(RuntimeError, match="did not start") as info:
        FakeServerProcess(factory).start()
    assert message in str(info.value) and "\n" not in str(info.value)
