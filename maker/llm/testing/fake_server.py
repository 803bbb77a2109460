"""A local fake OpenAI-compatible HTTP server for tests and benchmarks.

Serves ``POST /v1/chat/completions`` and ``GET /v1/models`` on 127.0.0.1 with scripted or
generated replies, a configurable latency, and injected faults. It counts what it served so a
test can compare the cost ledger with the server's own view.

    >>> with FakeOpenAIServer(replies=["hello"]) as server:   # doctest: +SKIP
    ...     client = OpenAI(base_url=server.base_url, api_key="x")

Faults are queued: each request takes the next fault from the queue (normal service once the
queue is empty). Kinds: see `FAULT_KINDS`.

Structured replies: `accept_formats` lists the `response_format` types the server takes (like
llama-cpp-python's ``text``/``json_object``, or OpenAI's ``json_schema``); a request with any
other type is refused the way such servers refuse it (HTTP `format_status`, an error naming
``response_format``). `received` keeps every request body, so tests can check what was sent.

`FakeServerProcess` runs the same server in a child process (``python -m
maker.llm.testing.fake_endpoint``), the way a real endpoint runs: its request handling does not compete
with the client process for the GIL. Benchmarks use it; its counters are read over HTTP
(``GET /fake/stats``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULT_KINDS: Mapping[str, str] = {
    "429": "rate limited: HTTP 429 with a Retry-After header",
    "500": "HTTP 500 with an error body",
    "timeout": "hang past the client's timeout, then close without answering",
    "truncated": "a 200 whose body stops halfway (Content-Length promises more)",
    "malformed": "a 200 whose body is not JSON",
    "no_usage": "a valid completion without the usage field",
    "no_choices": "a 200 with an empty choices list",
    "no_content": "a 200 whose message has no content",
}
"""Policy as data: every fault kind the server can inject, with what it does."""

STATS_PATH = "/fake/stats"
"""``GET`` here returns the server's `ServerStats` as JSON (not an OpenAI route)."""


@dataclass(frozen=True)
class Fault:
    """One injected fault. `retry_after` (seconds) is sent with 429; `hang_s` is for timeouts."""

    kind: str
    retry_after: float = 0.0
    hang_s: float = 5.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {sorted(FAULT_KINDS)}")


@dataclass(frozen=True)
class ServerStats:
    """Counters of a `FakeOpenAIServer`, read at one instant.

    `requests` counts every chat request received (faulty or not); `completions` those answered
    with a usable body; token counts are what the server put in its `usage` fields.
    """

    requests: int
    completions: int
    faults: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    max_in_flight: int


def count_tokens(text: str) -> int:
    """The fake server's token count: whitespace-separated words (at least 1 for any message)."""
    return max(1, len(text.split()))


def echo_reply(body: Mapping[str, Any]) -> str:
    """Default generated reply: echoes the last message's content."""
    messages = body.get("messages") or [{}]
    return f"echo: {messages[-1].get('content', '')}"


Reply = str | Callable[[Mapping[str, Any]], str]


class FakeOpenAIServer:
    """An OpenAI-compatible chat server on 127.0.0.1, a free port, run in a background thread.

    Args:
        replies: texts served in order, then `default` for the rest; or a callable from the
            request body to a reply text.
        default: the reply once `replies` runs out (a text or a callable; echo by default).
        latency: seconds each chat request waits before answering (requests wait in parallel).
        faults: faults served to the first requests, in order (`Fault` or a kind string).
        model: the model id reported by the server.
        cached_tokens: prompt tokens reported as cached in each usage (capped at the prompt).
        accept_formats: `response_format` types served (None: any); others are refused.
        format_status: the HTTP status of that refusal (400 like vLLM, 500 like
            llama-cpp-python 0.3.x, whose request validation fails inside the handler).
        port: the port to bind (0: a free one).
    """

    def __init__(
        self,
        replies: Iterable[str] | Callable[[Mapping[str, Any]], str] = (),
        *,
        default: Reply = echo_reply,
        latency: float = 0.0,
        faults: Iterable[Fault | str] = (),
        model: str = "fake-model",
        cached_tokens: int = 0,
        accept_formats: Iterable[str] | None = None,
        format_status: int = 400,
        port: int = 0,
    ) -> None:
        self.accept_formats = None if accept_formats is None else frozenset(accept_formats)
        self.format_status = format_status
        self.requested_port = port
        self.latency = latency
        self.model = model
        self.cached_tokens = cached_tokens
        self._reply_fn = replies if callable(replies) else None
        self._replies: deque[str] = deque() if callable(replies) else deque(replies)
        self._default = default
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._received: list[dict[str, Any]] = []
        self._authorizations: list[str] = []
        self._counts = {"requests": 0, "completions": 0, "faults": 0}
        self._tokens = {"prompt": 0, "completion": 0, "cached": 0}
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_faults(*faults)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"fake": self})
        httpd = _Server(("127.0.0.1", self.requested_port), handler)
        self._stop.clear()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any hanging handlers, and close the socket."""
        if self._httpd is None:
            return
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running: call start() or use `with`")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- control and counters ------------------------------------------------------------

    def add_faults(self, *faults: Fault | str) -> None:
        """Queue faults for the next requests."""
        with self._lock:
            self._faults.extend(f if isinstance(f, Fault) else Fault(f) for f in faults)

    def add_replies(self, *replies: str) -> None:
        """Queue scripted reply texts."""
        with self._lock:
            self._replies.extend(replies)

    def stats(self) -> ServerStats:
        """A snapshot of the counters."""
        with self._lock:
            return ServerStats(
                requests=self._counts["requests"],
                completions=self._counts["completions"],
                faults=self._counts["faults"],
                prompt_tokens=self._tokens["prompt"],
                completion_tokens=self._tokens["completion"],
                cached_tokens=self._tokens["cached"],
                max_in_flight=self._max_in_flight,
            )

    @property
    def received(self) -> list[dict[str, Any]]:
        """Copies of the chat request bodies received, in arrival order."""
        with self._lock:
            return list(self._received)

    @property
    def authorizations(self) -> list[str]:
        """The Authorization header of each chat request ("" when absent), in arrival order."""
        with self._lock:
            return list(self._authorizations)

    # -- request handling (called from handler threads) ----------------------------------

    def _begin(self, body: dict[str, Any], authorization: str) -> tuple[Fault | None, str]:
        with self._lock:
            self._counts["requests"] += 1
            self._received.append(body)
            self._authorizations.append(authorization)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            fault = self._faults.popleft() if self._faults else None
            if fault is not None:
                self._counts["faults"] += 1
                if fault.kind != "no_usage":  # the others carry no usable reply
                    return fault, "(fault)"
            if self._reply_fn is not None:
                source: Reply = self._reply_fn
            elif self._replies:
                return fault, self._replies.popleft()
            else:
                source = self._default
        return fault, source if isinstance(source, str) else source(body)

    def _refused_format(self, body: Mapping[str, Any]) -> str | None:
        """The refused `response_format` type of `body`, or None when it is served."""
        fmt = body.get("response_format")
        if self.accept_formats is None or not isinstance(fmt, dict):
            return None
        kind = str(fmt.get("type"))
        return None if kind in self.accept_formats else kind

    def _end(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _completion(
        self, body: Mapping[str, Any], text: str, *, usage: bool, count: bool = True
    ) -> dict[str, Any]:
        n = int(body.get("n") or 1)
        prompt = sum(count_tokens(str(m.get("content") or "")) for m in body.get("messages", []))
        completion = count_tokens(text) * n
        cached = min(self.cached_tokens, prompt)
        data: dict[str, Any] = {
            "id": f"chatcmpl-fake-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
                for i in range(n)
            ],
        }
        if usage:
            data["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
            }
        if not count:
            return data
        with self._lock:
            self._counts["completions"] += 1
            if usage:
                self._tokens["prompt"] += prompt
                self._tokens["completion"] += completion
                self._tokens["cached"] += cached
        return data


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout) leaves a broken pipe behind: not an error here.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    fake: FakeOpenAIServer  # set on the subclass made by FakeOpenAIServer.start

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # quiet: tests read counters, not logs

    def _send_json(self, status: int, data: Any, headers: Mapping[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self._send_bytes(status, payload, headers)

    def _send_bytes(
        self, status: int, payload: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.rstrip("/") == STATS_PATH:
            self._send_json(200, asdict(self.fake.stats()))
            return
        if self.path.rstrip("/") != "/v1/models":
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        model = {"id": self.fake.model, "object": "model", "created": 0, "owned_by": "fake"}
        self._send_json(200, {"object": "list", "data": [model]})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"error": {"message": "request body is not JSON"}})
            return
        fake = self.fake
        refused = fake._refused_format(body)
        if refused is not None:
            with fake._lock:
                fake._counts["requests"] += 1
                fake._received.append(body)
                fake._authorizations.append(self.headers.get("Authorization", ""))
            allowed = " or ".join(repr(k) for k in sorted(fake.accept_formats or ()))
            self._send_json(
                fake.format_status,
                {
                    "error": {
                        "message": f"response_format.type: input should be {allowed}, got {refused!r}",
                        "type": "invalid_request_error",
                        "param": "response_format",
                    }
                },
            )
            return
        fault, text = fake._begin(body, self.headers.get("Authorization", ""))
        try:
            if fake.latency > 0 and fake._stop.wait(fake.latency):
                self.close_connection = True
                return
            self._answer(fake, body, fault, text)
        finally:
            fake._end()

    def _answer(
        self, fake: FakeOpenAIServer, body: Mapping[str, Any], fault: Fault | None, text: str
    ) -> None:
        if fault is None:
            self._send_json(200, fake._completion(body, text, usage=True))
            return
        kind = fault.kind
        if kind == "429":
            error = {"error": {"message": "rate limited (fake)", "type": "rate_limit_error"}}
            headers = {
                "Retry-After": f"{fault.retry_after:g}",
                "retry-after-ms": str(int(fault.retry_after * 1000)),
            }
            self._send_json(429, error, headers)
        elif kind == "500":
            self._send_json(500, {"error": {"message": "internal error (fake)"}})
        elif kind == "timeout":
            fake._stop.wait(fault.hang_s)
            self.close_connection = True
        elif kind == "truncated":
            payload = json.dumps(fake._completion(body, text, usage=True, count=False)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif kind == "malformed":
            self._send_bytes(200, b'{"id": "chatcmpl-fake", "choices": [ this is not json')
        elif kind == "no_usage":
            self._send_json(200, fake._completion(body, text, usage=False))
        elif kind == "no_choices":
            data = fake._completion(body, text, usage=False, count=False)
            data["choices"] = []
            self._send_json(200, data)
        elif kind == "no_content":
            data = fake._completion(body, text, usage=False, count=False)
            for choice in data["choices"]:
                choice["message"].pop("content", None)
            self._send_json(200, data)


# -- the server in its own process ----------------------------------------------------------


def load_reply_factory(spec: str, args: Sequence[Any] = ()) -> Callable[[Mapping[str, Any]], str]:
    """Import ``module:function`` and call it with `args`; it must return a reply callable.

    Raises:
        ValueError: the spec is not ``module:function``, or it cannot be imported or called.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"reply factory {spec!r} is not of the form module:function")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"reply factory {spec!r} cannot be imported: {exc}") from None
    try:
        reply = factory(*args)
    except Exception as exc:  # noqa: BLE001 - reported as the factory's failure, in one line
        raise ValueError(f"reply factory {spec!r} failed: {type(exc).__name__}: {exc}") from None
    if not callable(reply):
        raise ValueError(
            f"reply factory {spec!r} returned {type(reply).__name__}, "
            "not a callable from request body to reply text"
        )
    return reply


class FakeServerProcess:
    """A `FakeOpenAIServer` in a child process; stops when `stop()` is called or the parent dies.

    Args:
        reply_factory: ``"module:function"``; the child calls ``function(*factory_args)`` and
            serves the callable it returns (request body -> reply text). None: echo replies.
        factory_args: JSON-serializable arguments for the factory.
        latency: seconds each chat request waits before answering.
        model: the model id reported by the server.
        start_timeout: seconds to wait for the child to report its address.

    Same surface as `FakeOpenAIServer` for a client: `base_url`, `model`, `stats()`.
    """

    def __init__(
        self,
        reply_factory: str | None = None,
        factory_args: Sequence[Any] = (),
        *,
        latency: float = 0.0,
        model: str = "fake-model",
        start_timeout: float = 60.0,
    ) -> None:
        self.reply_factory = reply_factory
        self.factory_args = list(factory_args)
        self.latency = latency
        self.model = model
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._base_url: str | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self) -> FakeServerProcess:
        """Start the child and wait until it serves; raises RuntimeError naming its error."""
        if self._proc is not None:
            return self
        cmd = [
            sys.executable,
            "-m",
            "maker.llm.testing.fake_endpoint",
            "--until-stdin-closes",
            "--latency",
            str(self.latency),
            "--model",
            self.model,
        ]
        if self.reply_factory:
            cmd += [
                "--reply-factory",
                self.reply_factory,
                "--factory-args",
                json.dumps(self.factory_args),
            ]
        self._stderr = tempfile.TemporaryFile()  # a file, not a pipe: never blocks the child
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
        )
        self._proc = proc
        line = b""
        ready = select.select([proc.stdout], [], [], self.start_timeout)[0]
        if ready and proc.stdout is not None:
            line = proc.stdout.readline()
        try:
            info = json.loads(line)
            self._base_url = str(info["base_url"])
        except (ValueError, KeyError, TypeError):
            err = self._stop_and_read_stderr()
            last = err.splitlines()[-1] if err else "no address reported in time"
            raise RuntimeError(f"the fake server process did not start: {last}") from None
        return self

    def stop(self) -> None:
        """Close the child's stdin (it stops serving and exits); kill it if it lingers."""
        self._stop_and_read_stderr()

    def _stop_and_read_stderr(self) -> str:
        proc, self._proc = self._proc, None
        if proc is None:
            return ""
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._stderr.seek(0)
        err = self._stderr.read().decode("utf-8", "replace").strip()
        self._stderr.close()
        return err

    def __enter__(self) -> FakeServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        if self._base_url is None or self._proc is None:
            raise RuntimeError("the fake server process is not running: call start() or use `with`")
        return self._base_url

    def stats(self) -> ServerStats:
        """The child's counters, read over HTTP."""
        root = self.base_url.removesuffix("/v1")
        with self._opener.open(root + STATS_PATH, timeout=10) as resp:
            return ServerStats(**json.loads(resp.read()))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m maker.llm.testing.fake_endpoint``: print the address, then serve until stopped."""
    parser = argparse.ArgumentParser(
        prog="python -m maker.llm.testing.fake_endpoint",
        description="A fake OpenAI-compatible chat server on 127.0.0.1 (for tests and "
        "benchmarks). Prints one JSON line with its base_url, then serves until "
        "Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per chat request")
    parser.add_argument("--model", default="fake-model", help="model id to report")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument(
        "--reply-factory",
        default=None,
        metavar="MODULE:FUNCTION",
        help="called with --factory-args; returns body -> reply text "
        "(default: echo the last message)",
    )
    parser.add_argument(
        "--factory-args",
        default="[]",
        metavar="JSON",
        help="a JSON list of arguments for the factory",
    )
    parser.add_argument(
        "--until-stdin-closes",
        action="store_true",
        help="stop when standard input reaches end of file (for a parent "
        "process that owns the server)",
    )
    ns = parser.parse_args(argv)
    try:
        args = json.loads(ns.factory_args)
        if not isinstance(args, list):
            raise ValueError("--factory-args must be a JSON list")
        reply: Any = load_reply_factory(ns.reply_factory, args) if ns.reply_factory else ()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if ns.latency < 0:
        print("error: --latency must be >= 0", file=sys.stderr)
        return 2
    with FakeOpenAIServer(reply, latency=ns.latency, model=ns.model, port=ns.port) as server:
        print(json.dumps({"base_url": server.base_url, "model": server.model}), flush=True)
        try:
            if ns.until_stdin_closes:
                sys.stdin.buffer.read()  # returns at EOF: the parent closed our stdin or died
            else:
                signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
                threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0
