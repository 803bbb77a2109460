"""The batched local server's parts that need no model: stop strings, prefixes, the chat
plumbing (with a stand-in engine and chat handler) and the HTTP routes. Skipped without
llama-cpp-python; the decoding itself is checked against the real models
(`test_real_models.py`)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("llama_cpp")

from maker.llm.local.batched import (  # noqa: E402
    REQUEST_DEFAULTS,
    SHARED_PREFIX_WAIT,
    Handler,
    Job,
    RequestError,
    Served,
    Slot,
    common_prefix,
    waits_for_prefix,
)

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([7, 8], [7, 8]) == 2


def test_a_prompt_waits_for_a_sequence_still_reading_the_beginning_it_shares() -> None:
    prompt = list(range(300))
    reading = Slot(
        0, cached=prompt[:40], job=Job(prompt=prompt, max_tokens=9, stop=[], sampling={})
    )
    reading.pending = prompt[40:]
    idle = Slot(1)
    # the same prompt (a second draft): wait, and copy the beginning once it is read
    assert waits_for_prefix(prompt, [reading, idle])
    # another prompt sharing only a chat template's first tokens: start now
    other = prompt[:10] + [999] * 290
    assert not waits_for_prefix(other, [reading, idle])
    # the beginning already held somewhere (or the reader done): nothing to wait for
    done = Slot(2, cached=prompt[: 300 - SHARED_PREFIX_WAIT + 1])
    assert not waits_for_prefix(prompt, [reading, done])
    reading.pending = []
    assert not waits_for_prefix(prompt, [reading, idle])


def test_a_reply_is_cut_at_the_first_stop_string_even_across_pieces() -> None:
    job = Job(prompt=[1], max_tokens=10, stop=[b"<|im_end|>", b"\n\n"], sampling={})
    for part in (b"x = 1", b"<|im", b"_end", b"|> more"):
        before = len(job.text)
        job.text += part
        stopped = job.check_stop(before)
    assert stopped and bytes(job.text) == b"x = 1"
    other = Job(prompt=[1], max_tokens=10, stop=[b"STOP"], sampling={})
    other.text += b"no stop here"
    assert not other.check_stop(0) and bytes(other.text) == b"no stop here"


class StandInEngine:
    """Finishes every job at once with a canned reply, recording what it was given."""

    n_ctx = 4096

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def submit(self, job: Job) -> Job:
        self.jobs.append(job)
        job.tokens = [5, 6, 7]
        job.text += b'{"answer": 5}'
        job.compute_s = 0.25
        job.started = job.queued
        job.finished("stop")
        return job


class StandInLlama:
    chat_format = "stand-in"
    _chat_handlers: dict[str, Any] = {}

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}

        def handler(*, llama: Served, messages: list[dict[str, str]], **kw: Any) -> Any:
            self.seen = kw
            prompt = llama.tokenize(messages[-1]["content"].encode())
            done = llama.create_completion(
                prompt=prompt,
                stop=["<|im_end|>"],
                **{k: kw[k] for k in ("temperature", "seed", "max_tokens", "repeat_penalty")},
            )
            text = done["choices"][0]["text"]
            return {
                "object": "chat.completion",
                "model": done["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
                "usage": done["usage"],
            }

        self.chat_handler = handler

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return list(text[:4])


@pytest.fixture
def served() -> Served:
    return Served("stand-in-model", StandInLlama(), StandInEngine())  # type: ignore[arg-type]


def test_a_chat_request_runs_through_the_models_chat_handler_with_the_servers_defaults(
    served: Served,
) -> None:
    reply = served.chat({"messages": [{"role": "user", "content": "abcdef"}], "max_tokens": 9})
    job = served.engine.jobs[0]  # type: ignore[attr-defined]
    assert job.prompt == list(b"abcd") and job.max_tokens == 9 and job.stop == [b"<|im_end|>"]
    # what llama-cpp-python's server would use for fields the request leaves out
    assert job.sampling["temperature"] == REQUEST_DEFAULTS["temperature"] == 0.8
    assert job.sampling["repeat_penalty"] == 1.1
    assert reply["choices"][0]["message"]["content"] == '{"answer": 5}'
    assert reply["usage"] == {
        "prompt_tokens": 4,
        "completion_tokens": 3,
        "total_tokens": 7,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    assert reply["maker_timing"]["compute_s"] == 0.25
    served.chat({"messages": [{"role": "user", "content": "x"}], "temperature": 0, "seed": 3})
    again = served.engine.jobs[1]  # type: ignore[attr-defined]
    assert (again.sampling["temperature"], again.sampling["seed"]) == (0, 3)
    assert again.max_tokens == StandInEngine.n_ctx  # no max_tokens: up to the context


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": []}, "'messages' must be a non-empty list"),
        ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "'n' must be 1"),
        ({"messages": [{"role": "user", "content": "x"}], "logprobs": True}, "'logprobs'"),
        (
            {
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema", "json_schema": {}},
            },
            "response_format: expected type 'text' or 'json_object'",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "stream": True},
            "streaming is not supported",
        ),
    ],
)
def test_requests_it_cannot_serve_are_refused_with_the_reason(
    served: Served, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(RequestError, match=message):
        served.chat(body)


@pytest.fixture
def http(served: Served) -> Iterator[str]:
    Handler.served = {served.alias: served}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()
        Handler.served = {}


def post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with OPENER.open(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_http_routes_answer_like_an_openai_endpoint(http: str) -> None:
    with OPENER.open(http + "/models", timeout=10) as resp:
        assert [m["id"] for m in json.loads(resp.read())["data"]] == ["stand-in-model"]
    ask = {"model": "stand-in-model", "messages": [{"role": "user", "content": "hi"}]}
    code, reply = post(http + "/chat/completions", ask)
    assert code == 200 and reply["choices"][0]["message"]["content"] == '{"answer": 5}'
    code, reply = post(http + "/chat/completions", {**ask, "model": "other"})
    assert code == 400 and "unknown model 'other'" in reply["error"]["message"]
    code, reply = post(http + "/chat/completions", b"{not json")
    assert code == 400 and "JSONDecodeError" in reply["error"]["message"]
    code, reply = post(http + "/chat/completions", {**ask, "n": 3})
    assert code == 400 and "'n' must be 1" in reply["error"]["message"]
    code, reply = post(http + "/embeddings", ask)
    assert code == 404


def test_the_numpy_greedy_pick_is_the_sampler_chains_pick() -> None:
    """At temperature 0 llama-cpp-python's chain is llama.cpp's penalties sampler (the last 64
    generated tokens) then its greedy sampler; `greedy` must pick the same token, for negative
    and positive logits, repeated tokens, ties and every penalty kind."""
    import llama_cpp
    import numpy as np
    from llama_cpp._internals import LlamaSampler

    from maker.llm.local.batched import greedy
    from maker.llm.local.llama_child import pick

    rng = np.random.default_rng(7)
    vocab = 5000
    cases = 0
    for repeat, freq, present in [(1.1, 0.0, 0.0), (1.3, 0.2, 0.5), (1.0, 0.0, 0.0), (0.9, 0, 0)]:
        for trial in range(40):
            logits = rng.normal(0, 3, vocab).astype(np.float32)
            window = [int(t) for t in rng.integers(0, vocab, int(rng.integers(0, 80)))]
            if trial % 4 == 0 and window:
                # the top tokens are in the window, some of them several times
                top = [int(t) for t in np.argsort(logits)[-6:]]
                window += top + top[:2]
            if trial % 5 == 0:
                logits[10] = logits[20] = logits.max() + 1  # a tie: the first one wins
            if trial % 7 == 0:
                logits -= logits.max() + 0.5  # every logit negative
            chain = LlamaSampler()
            chain.add_penalties(
                n_vocab=vocab,
                penalty_last_n=64,
                penalty_repeat=repeat,
                penalty_freq=freq,
                penalty_present=present,
            )
            chain.add_greedy()
            for token in window:
                llama_cpp.llama_sampler_accept(chain.sampler, token)
            expected = pick(chain.sampler, logits)
            chain.close()
            assert greedy(logits, window[-64:], repeat, freq, present) == expected
            cases += 1
    assert cases == 160
