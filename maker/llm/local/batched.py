"""``python -m maker.llm.local.batched --config_file F``: the engine's local model server, which
decodes the requests in flight together (continuous batching).

llama-cpp-python's server answers one request at a time: a second request waits for the whole
reply of the first. On a CPU, generating one token reads every weight of the model once, and
reading, not arithmetic, is what takes the time; one ``llama_decode`` over a batch of several
sequences reads the weights once for all of them. Measured on 2 cores: with llama.cpp's batch
API, 4 sequences at once generate 2.4x (0.5B) and 2x (1.5B) the tokens per second of one; through
this server (`maker bench server`), 4 tool-user requests in flight take 0.52x (0.5B) and 0.54x
(1.5B) the wall time per request of one at a time, and 0.23x and 0.27x that of llama-cpp-python's
server; TabMWP's program arms ran 1.56x faster in wall time (prompts are read at the same speed
either way).

What the server does:

- It loads every configured model at start and keeps them loaded (no unloading when requests
  alternate between the maker and the user model). Each model has one llama.cpp context with
  ``2 x parallel`` sequences over a unified KV cache of ``parallel x n_ctx`` cells, and one
  scheduler thread. Only one model decodes at a time (one lock), so two models never fight for
  the cores.
- A request is formatted with llama-cpp-python's own chat handler for the model (its chat
  template, stop strings, the grammar of a ``response_format`` JSON schema or a chosen tool),
  so prompts, grammars and the reply's shape are the ones llama-cpp-python's server gives.
- Each step the scheduler builds one batch: the next token of every sequence generating, then
  prompt tokens of newly admitted sequences up to ``n_batch``. Up to ``parallel`` requests are
  served at once; the rest wait in arrival order.
- Sampling is llama-cpp-python's sampler chain for the request's settings (its defaults: repeat
  penalty 1.1 over the last 64 tokens, top-k 40, top-p 0.95, min-p 0.05), built per request and
  seeded with the request's ``seed``; at temperature 0 its pick is computed in numpy (`greedy`:
  the same token, 20x less work per token). A grammar is checked on the picked token and applied
  to every candidate only when it refuses it (`maker.llm.local.llama_child.LazyGrammar`).
- Prompt reuse: a sequence keeps the KV of its last prompt and reply. A new request goes to the
  free sequence that shares the longest prefix with its prompt, or copies the prefix another
  sequence holds (a shared system prompt costs its tokens once); only the rest is evaluated.
  The reply's ``usage.prompt_tokens_details.cached_tokens`` says how many were reused, as
  OpenAI's prompt caching does (the ledger records them).
  When the KV cache is full, idle sequences are cleared, least recently used first.
- Each reply carries ``maker_timing``: ``compute_s``, the decoding time the request used (each
  ``llama_decode`` shared among its sequences by tokens, plus its own sampling), ``queue_s``
  (waiting for a free place) and ``wall_s``. With requests in flight together, a request's wall
  time counts the others' work too; ``compute_s`` does not.

Routes: ``GET /v1/models``, ``POST /v1/chat/completions`` (no streaming, ``n`` = 1). Bad requests
get HTTP 400 with ``{"error": {"message": ...}}``.

No process of the engine other than this child imports it.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import llama_chat_format

from maker.llm.local.llama_child import allows, grammar_sampler, pick

DEFAULT_PARALLEL = 4
"""Requests decoded together per model, unless the config sets ``parallel``."""

# llama-cpp-python's server defaults for a chat request (``llama_cpp.server.types``).
REQUEST_DEFAULTS: dict[str, Any] = {
    "temperature": 0.8,
    "top_p": 0.95,
    "top_k": 40,
    "min_p": 0.05,
    "typical_p": 1.0,
    "repeat_penalty": 1.1,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "stop": None,
    "seed": None,
    "max_tokens": None,
}
SAMPLING = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "typical_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "seed",
)
UNSUPPORTED = ("logprobs", "top_logprobs", "logit_bias", "logits_processor")
KNOWN_FORMATS = ("text", "json_object")


class RequestError(ValueError):
    """A request this server cannot serve (HTTP 400)."""


@dataclass
class Job:
    """One completion: the prompt's tokens, how to sample and stop, and (when done) the reply."""

    prompt: list[int]
    max_tokens: int
    stop: list[bytes]
    sampling: dict[str, Any]
    grammar: Any = None  # a llama_cpp.LlamaGrammar
    queued: float = field(default_factory=time.monotonic)
    started: float | None = None
    tokens: list[int] = field(default_factory=list)
    text: bytearray = field(default_factory=bytearray)
    finish: str | None = None
    error: str | None = None
    compute_s: float = 0.0
    wall_s: float = 0.0
    reused: int = 0  # prompt tokens whose KV a sequence already held (not evaluated again)
    done: threading.Event = field(default_factory=threading.Event)

    def finished(self, reason: str | None = None, error: str | None = None) -> None:
        self.finish, self.error = reason, error
        self.wall_s = time.monotonic() - self.queued
        self.done.set()

    def check_stop(self, before: int) -> bool:
        """Cut the text at the first stop string that appeared since byte `before`."""
        for stop in self.stop:
            at = self.text.find(stop, max(0, before - len(stop) + 1))
            if at >= 0:
                del self.text[at:]
                return True
        return False


@dataclass
class Slot:
    """One sequence of the context: the tokens whose KV it holds, and the job it serves."""

    seq: int
    cached: list[int] = field(default_factory=list)
    job: Job | None = None
    pending: list[int] = field(default_factory=list)  # prompt tokens not yet evaluated
    feed: int | None = None  # the token sampled last, to evaluate next
    chain: Any = None  # llama-cpp-python's LlamaSampler
    rules: Any = None  # the grammar's llama.cpp sampler
    used: float = 0.0


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


SHARED_PREFIX_WAIT = 64
"""A queued prompt waits for a sequence still reading a prompt it shares at least this many more
tokens with than any sequence holds (`waits_for_prefix`)."""


def waits_for_prefix(prompt: Sequence[int], slots: Sequence[Slot]) -> bool:
    """Whether a job with this `prompt` should wait rather than start now: some sequence is
    still evaluating a prompt that shares a longer beginning with it (by `SHARED_PREFIX_WAIT`
    tokens or more) than any sequence holds yet. Once that sequence has read its prompt, the
    job copies the shared part (`llama_memory_seq_cp`) instead of reading it again.

    Several samples of one prompt sent together (best-of-N drafts, self-consistency) otherwise
    all read the same prompt side by side: the real 1.5B's 8 drafts of one 1,262-token
    prompt read it 8 times."""
    held = max((common_prefix(s.cached, prompt) for s in slots), default=0)
    return any(
        s.job is not None
        and s.pending
        and common_prefix(s.job.prompt, prompt) >= held + SHARED_PREFIX_WAIT
        for s in slots
    )


class Engine:
    """The scheduler of one model: admits jobs into sequences and decodes them together."""

    def __init__(
        self,
        llama: llama_cpp.Llama,
        *,
        n_ctx: int,
        n_batch: int,
        n_threads: int,
        parallel: int,
        decode_lock: threading.Lock,
    ) -> None:
        self.llama = llama
        self.n_ctx = n_ctx
        self.n_batch = n_batch
        self.parallel = parallel
        self.decode_lock = decode_lock
        self.vocab = llama._model.vocab
        self.n_vocab = llama.n_vocab()
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx * parallel
        params.n_batch = params.n_ubatch = n_batch
        params.n_seq_max = 2 * parallel
        params.kv_unified = True
        params.n_threads = params.n_threads_batch = n_threads
        params.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(llama._model.model, params)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create a context for batched decoding")
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, params.n_seq_max)
        self.slots = [Slot(seq) for seq in range(params.n_seq_max)]
        self.queue: deque[Job] = deque()
        self.wake = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="maker-batched", daemon=True)
        self.thread.start()

    # ---- the request side -----------------------------------------------------------------

    def submit(self, job: Job) -> Job:
        if len(job.prompt) >= self.n_ctx:
            raise RequestError(
                f"the prompt has {len(job.prompt)} tokens; the context holds {self.n_ctx}"
            )
        job.max_tokens = max(1, min(job.max_tokens, self.n_ctx - len(job.prompt)))
        with self.wake:
            self.queue.append(job)
            self.wake.notify()
        return job

    # ---- the scheduler --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self.wake:
                while not self.queue and not self._active():
                    self.wake.wait()
                self._admit()
            try:
                self._step()
            except Exception as exc:  # noqa: BLE001 - the server must outlive one bad step
                traceback.print_exc()
                self._fail_active(f"the local server failed a decoding step: {exc}")

    def _active(self) -> list[Slot]:
        return [s for s in self.slots if s.job is not None]

    def _admit(self) -> None:
        waiting: list[Job] = []
        while self.queue and len(self._active()) < self.parallel:
            job = self.queue.popleft()
            if waits_for_prefix(job.prompt, self.slots):
                waiting.append(job)  # its shared beginning is being read: copy it after
                continue
            try:
                self._place(job)
            except Exception as exc:  # noqa: BLE001 - a job's sampler or grammar failed
                job.finished(error=f"{type(exc).__name__}: {exc}")
        self.queue.extendleft(reversed(waiting))

    def _place(self, job: Job) -> None:
        free = [s for s in self.slots if s.job is None]
        own = {s.seq: common_prefix(s.cached, job.prompt) for s in self.slots}
        source = max(self.slots, key=lambda s: (own[s.seq], s.job is None, -s.used))
        if source.job is None and 2 * own[source.seq] >= len(source.cached):
            slot = source  # mostly the same prompt (a growing chat): continue it in place
        else:  # keep what other prompts hold: the emptiest, then least recently used, slot
            slot = min(free, key=lambda s: (bool(s.cached), s.used))
        keep = own[slot.seq]
        if own[source.seq] > keep and source is not slot:
            keep = own[source.seq]
            llama_cpp.llama_memory_seq_rm(self.memory, slot.seq, 0, -1)
            llama_cpp.llama_memory_seq_cp(self.memory, source.seq, slot.seq, 0, keep)
            slot.cached = list(job.prompt[:keep])
        keep = min(keep, len(job.prompt) - 1)  # the last prompt token is evaluated for logits
        if not llama_cpp.llama_memory_seq_rm(self.memory, slot.seq, keep, -1):
            llama_cpp.llama_memory_seq_rm(self.memory, slot.seq, 0, -1)
            keep = 0
        job.reused = max(keep, 0)
        del slot.cached[keep:]
        slot.pending = list(job.prompt[keep:])
        slot.chain, slot.rules = self._samplers(job)
        slot.feed = None
        slot.job = job
        job.started = time.monotonic()

    def _samplers(self, job: Job) -> tuple[Any, Any]:
        """llama-cpp-python's sampler chain for the job's settings (its grammar left out) and
        the grammar as a sampler of its own."""
        s = job.sampling
        seed = s.get("seed")
        self.llama.set_seed(seed if seed is not None else int(np.random.randint(0, 2**31)))
        chain = self.llama._init_sampler(
            top_k=s["top_k"],
            top_p=s["top_p"],
            min_p=s["min_p"],
            typical_p=s["typical_p"],
            temp=s["temperature"],
            repeat_penalty=s["repeat_penalty"],
            frequency_penalty=s["frequency_penalty"],
            presence_penalty=s["presence_penalty"],
        )
        rules = grammar_sampler(self.vocab, job.grammar) if job.grammar is not None else None
        return chain, rules

    def _release(self, slot: Slot) -> None:
        if slot.rules:
            llama_cpp.llama_sampler_free(slot.rules)
        if slot.chain is not None:
            slot.chain.close()
        slot.job, slot.chain, slot.rules, slot.feed = None, None, None, None
        slot.pending = []
        slot.used = time.monotonic()

    def _fail_active(self, message: str) -> None:
        for slot in self._active():
            assert slot.job is not None
            slot.job.finished(error=message)
            self._release(slot)
            llama_cpp.llama_memory_seq_rm(self.memory, slot.seq, 0, -1)
            slot.cached = []

    def _step(self) -> None:
        active = self._active()
        # (slot, token, wants logits): every generating sequence's next token, then prompt
        # chunks; a failed decode fails every active job, so taking from `pending` now is safe
        entries: list[tuple[Slot, int, bool]] = [
            (s, s.feed, True) for s in active if s.feed is not None
        ]
        for slot in active:
            room = self.n_batch - len(entries)
            if slot.feed is None and slot.pending and room > 0:
                chunk, slot.pending = slot.pending[:room], slot.pending[room:]
                last = len(chunk) - 1 if not slot.pending else -1
                entries += [(slot, t, i == last) for i, t in enumerate(chunk)]
        if not entries:
            return
        share = self._decode(entries) / len(entries)
        for slot, token, _ in entries:
            slot.cached.append(token)
            assert slot.job is not None
            slot.job.compute_s += share
        for index, (slot, _, wants) in enumerate(entries):
            if wants:
                self._sample(slot, index)

    def _decode(self, entries: list[tuple[Slot, int, bool]]) -> float:
        b = self.batch
        b.n_tokens = len(entries)
        positions: dict[int, int] = {}
        for i, (slot, token, wants) in enumerate(entries):
            pos = positions.get(slot.seq, len(slot.cached))
            positions[slot.seq] = pos + 1
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = slot.seq
            b.logits[i] = wants
        while True:
            with self.decode_lock:
                began = time.monotonic()
                code = llama_cpp.llama_decode(self.ctx, b)
                seconds = time.monotonic() - began
            if code == 0:
                return seconds
            if code == 1 and self._evict_idle():
                continue  # room was made: the same batch again
            raise RuntimeError(f"llama_decode returned {code} (the KV cache is full)")

    def _evict_idle(self) -> bool:
        idle = [s for s in self.slots if s.job is None and s.cached]
        if not idle:
            return False
        oldest = min(idle, key=lambda s: s.used)
        llama_cpp.llama_memory_seq_rm(self.memory, oldest.seq, 0, -1)
        oldest.cached = []
        return True

    def _sample(self, slot: Slot, index: int) -> None:
        job = slot.job
        assert job is not None
        began = time.monotonic()
        pointer = llama_cpp.llama_get_logits_ith(self.ctx, index)
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))
        s = job.sampling
        if s["temperature"] == 0:
            last_n = self.llama.last_n_tokens_size
            window = job.tokens[-last_n:] if last_n > 0 else []
            token = greedy(
                logits,
                window,
                s["repeat_penalty"],
                s["frequency_penalty"],
                s["presence_penalty"],
            )
        else:
            token = pick(slot.chain.sampler, logits)
        if slot.rules and not allows(slot.rules, token, float(logits[token])):
            token = pick(slot.chain.sampler, logits, slot.rules)
        if slot.rules:
            llama_cpp.llama_sampler_accept(slot.rules, token)
        llama_cpp.llama_sampler_accept(slot.chain.sampler, token)
        job.compute_s += time.monotonic() - began
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            return self._finish(slot, "stop")
        job.tokens.append(token)
        before = len(job.text)
        job.text += piece(self.vocab, token)
        if job.check_stop(before):
            return self._finish(slot, "stop")
        if len(job.tokens) >= job.max_tokens:
            return self._finish(slot, "length")
        slot.feed = token

    def _finish(self, slot: Slot, reason: str) -> None:
        assert slot.job is not None
        slot.job.finished(reason)
        self._release(slot)


def greedy(
    logits: np.ndarray, window: Sequence[int], repeat: float, freq: float, present: float
) -> int:
    """The token llama.cpp's penalties sampler followed by its greedy sampler picks (the chain
    llama-cpp-python builds at temperature 0), in numpy: the penalties touch only the tokens of
    `window` (the last tokens generated), then the first highest logit wins. The same float32
    operations as llama.cpp's, so the same token; 0.05 ms where the sampler chain over every
    candidate takes 1.2 ms, per sequence and token."""
    if not len(window) or (repeat == 1.0 and freq == 0.0 and present == 0.0):
        return int(np.argmax(logits))
    tokens, counts = np.unique(np.asarray(window, dtype=np.intc), return_counts=True)
    values = logits[tokens].astype(np.float32)
    values = np.where(values <= 0, values * np.float32(repeat), values / np.float32(repeat))
    values -= counts.astype(np.float32) * np.float32(freq) + np.float32(present)
    penalized = logits.astype(np.float32, copy=True)
    penalized[tokens] = values
    return int(np.argmax(penalized))


def piece(vocab: Any, token: int) -> bytes:
    """The bytes of `token` as text (special tokens render as nothing)."""
    size = 32
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, size, 0, False)
        if n < 0:
            size = -n
            continue
        return buf.raw[:n]


class Served:
    """One model as served: llama-cpp-python's ``Llama`` (weights, tokenizer, chat handler)
    and its `Engine`. It stands in for the ``Llama`` the chat handler formats for."""

    verbose = False

    def __init__(self, alias: str, llama: llama_cpp.Llama, engine: Engine) -> None:
        self.alias = alias
        self.llama = llama
        self.engine = engine
        self.handler: Callable[..., Any] = (
            llama.chat_handler
            or llama._chat_handlers.get(llama.chat_format)
            or llama_chat_format.get_chat_completion_handler(llama.chat_format)
        )
        self._jobs = threading.local()

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return self.llama.tokenize(text, add_bos=add_bos, special=special)

    def create_completion(self, *, prompt: list[int], **kw: Any) -> dict[str, Any]:
        """What the chat handler calls: run the completion on the engine."""
        if kw.get("stream"):
            raise RequestError("streaming is not supported by this server")
        stop = kw.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        max_tokens = kw.get("max_tokens")
        job = Job(
            prompt=list(prompt),
            max_tokens=int(max_tokens) if max_tokens and max_tokens > 0 else self.engine.n_ctx,
            stop=[s.encode("utf-8") for s in stop if s],
            sampling={k: kw.get(k, REQUEST_DEFAULTS[k]) for k in SAMPLING},
            grammar=kw.get("grammar"),
        )
        self.engine.submit(job).done.wait()
        self._jobs.last = job
        if job.error is not None:
            raise RuntimeError(job.error)
        return {
            "id": f"cmpl-{uuid.uuid4()}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": self.alias,
            "choices": [
                {
                    "text": job.text.decode("utf-8", errors="ignore"),
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": job.finish,
                }
            ],
            "usage": {
                "prompt_tokens": len(job.prompt),
                "completion_tokens": len(job.tokens),
                "total_tokens": len(job.prompt) + len(job.tokens),
                "prompt_tokens_details": {"cached_tokens": job.reused},
            },
        }

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """One chat completion request's reply (raises `RequestError` for a bad request)."""
        for name in UNSUPPORTED:
            if body.get(name) not in (None, False):
                raise RequestError(f"{name!r} is not supported by this server")
        if body.get("n", 1) != 1:
            raise RequestError("'n' must be 1 on this server")
        if body.get("stream"):
            raise RequestError("streaming is not supported by this server")
        fmt = body.get("response_format")
        if fmt is not None and (not isinstance(fmt, dict) or fmt.get("type") not in KNOWN_FORMATS):
            raise RequestError(
                "response_format: expected type 'text' or 'json_object' (with an optional "
                "'schema'); this server does not take 'json_schema'"
            )
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            raise RequestError("'messages' must be a non-empty list")
        args = {**REQUEST_DEFAULTS, **{k: v for k, v in body.items() if v is not None}}
        args.pop("model", None)
        args.pop("n", None)
        args.pop("user", None)
        reply = self.handler(llama=self, **args)
        job: Job = self._jobs.last
        reply["maker_timing"] = {
            "compute_s": round(job.compute_s, 6),
            "queue_s": round((job.started or job.queued) - job.queued, 6),
            "wall_s": round(job.wall_s, 6),
        }
        return reply


def load(config: dict[str, Any]) -> dict[str, Served]:
    """Every model of the config loaded, each with its engine."""
    parallel = int(config.get("parallel") or DEFAULT_PARALLEL)
    lock = threading.Lock()
    served: dict[str, Served] = {}
    for entry in config["models"]:
        threads = int(entry.get("n_threads") or 1)
        llama = llama_cpp.Llama(
            model_path=entry["model"],
            n_ctx=64,  # the Llama's own context is not used: the engine has its own
            n_batch=64,
            n_threads=threads,
            seed=int(entry.get("seed") or 0),
            verbose=bool(entry.get("verbose", False)),
        )
        engine = Engine(
            llama,
            n_ctx=int(entry.get("n_ctx") or 8192),
            n_batch=int(entry.get("n_batch") or 512),
            n_threads=threads,
            parallel=parallel,
            decode_lock=lock,
        )
        alias = entry.get("model_alias") or Path(entry["model"]).name
        served[alias] = Served(alias, llama, engine)
    return served


class Handler(BaseHTTPRequestHandler):
    served: dict[str, Served] = {}
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def _send(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, message: str) -> None:
        self._send(code, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:  # noqa: N802 - the base's name
        if self.path.rstrip("/") != "/v1/models":
            return self._error(404, f"no route {self.path}")
        data = [{"id": a, "object": "model", "owned_by": "me"} for a in self.served]
        self._send(200, {"object": "list", "data": data})

    def do_POST(self) -> None:  # noqa: N802 - the base's name
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._error(404, f"no route {self.path}")
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            if not isinstance(body, dict):
                raise RequestError("the request body must be a JSON object")
            alias = body.get("model") or next(iter(self.served))
            if alias not in self.served:
                raise RequestError(f"unknown model {alias!r}; served: {', '.join(self.served)}")
            reply = self.served[alias].chat(body)
        except (RequestError, json.JSONDecodeError, TypeError, ValueError) as exc:
            return self._error(400, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - answered as a server error, logged
            traceback.print_exc()
            return self._error(500, f"{type(exc).__name__}: {exc}")
        self._send(200, reply)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m maker.llm.local.batched")
    parser.add_argument("--config_file", required=True, type=Path)
    args = parser.parse_args(argv)
    config = json.loads(args.config_file.read_text(encoding="utf-8"))
    Handler.served = load(config)
    server = ThreadingHTTPServer((config.get("host", "127.0.0.1"), int(config["port"])), Handler)
    server.daemon_threads = True
    print(f"serving {', '.join(Handler.served)} on port {config['port']}", file=sys.stderr)
    server.serve_forever()


if __name__ == "__main__":
    main()
