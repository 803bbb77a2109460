"""`maker bench server`: the engine's local server against llama-cpp-python's own server, on
the tool user's requests.

Both serve the same local model with the same settings, one after the other (the other
stopped), and get the same requests at temperature 0:

- ``decision``: the tool user's JSON-schema constrained reply (`maker.use.reply.decision_schema`
  over three tools) to a problem; every problem differs, the system prompt and tool cards are
  shared, as in a solve run;
- ``program``: a free-text program-of-thought reply (no schema), as the experiments' PoT arms.

llama-cpp-python's server answers one request at a time; it gets them one at a time. The
engine's server (`maker.llm.local.batched`) gets them one at a time, then ``in_flight`` at a
time, as the engine sends them, and decodes those together. Reported: per kind, seconds per
request one at a time on each server and the ratio (llama-cpp-python's over the engine's); for
all requests, wall seconds per request with ``in_flight`` at a time and its ratio; and how many
replies are the same text as llama-cpp-python's (at temperature 0 they should be, though a batch
sums in another order than one sequence does, so a near tie can go the other way). Figures are
measurements of this machine; the last line printed is one JSON object with all of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

SYSTEM = (
    "You solve a problem by calling one of the listed tools. Reply with one JSON object: "
    '{"tool": NAME, "arguments": {...}} to call a tool, or {"tool": "none", "answer": ...} '
    "when no tool fits. An argument that is the problem's whole text is written "
    '"<problem>".'
)
CARDS = """Tools:
- gcd(a: int, b: int) -> int: the greatest common divisor of two whole numbers.
  Problem: What is the greatest common divisor of 12 and 18?
      Reply: {"tool": "gcd", "arguments": {"a": 12, "b": 18}}
- lcm(a: int, b: int) -> int: the least common multiple of two whole numbers.
  Problem: What is the least common multiple of 4 and 6?
      Reply: {"tool": "lcm", "arguments": {"a": 4, "b": 6}}
- mean_of(problem: str) -> float: the mean of the numbers in a problem's table.
  Problem: Table: Coins | 76 | 94 | 86. What is the mean of the numbers?
      Reply: {"tool": "mean_of", "arguments": {"problem": "<problem>"}}"""
INT_ARGS = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}
TOOLS = {
    "gcd": INT_ARGS,
    "lcm": INT_ARGS,
    "mean_of": {
        "type": "object",
        "properties": {"problem": {"type": "string"}},
        "required": ["problem"],
    },
}
PROGRAM_SYSTEM = (
    "You solve problems by writing a short Python program that defines `solution()` and "
    "returns the answer."
)


def problems(n: int) -> list[str]:
    """`n` different short problems, of the three tools' kinds in turn."""
    out = []
    for i in range(n):
        a, b = 6 + 3 * i, 8 + 5 * i
        kind = i % 3
        if kind == 0:
            out.append(f"What is the greatest common divisor of {a} and {b}?")
        elif kind == 1:
            out.append(
                f"Two buses leave every {a} and every {b} minutes. After how many minutes do they leave together again?"
            )
        else:
            out.append(f"Table: Scores | {a} | {b} | {a + b}. What is the mean of the numbers?")
    return out


def requests(n: int) -> list[dict[str, Any]]:
    """The benchmark's requests: for each problem a decision, then a program."""
    from maker.llm.structured import grammar_safe
    from maker.use.reply import decision_schema

    schema = grammar_safe(decision_schema(TOOLS))
    out: list[dict[str, Any]] = []
    for problem in problems(n):
        decision = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{CARDS}\n\nProblem to solve:\n\n{problem}"},
        ]
        out.append(
            {
                "kind": "decision",
                "messages": decision,
                "response_format": {"type": "json_object", "schema": schema},
                "max_tokens": 64,
            }
        )
        program = [
            {"role": "system", "content": PROGRAM_SYSTEM},
            {
                "role": "user",
                "content": f"Problem:\n\n{problem}\n\nReply with one ```python block.",
            },
        ]
        out.append({"kind": "program", "messages": program, "max_tokens": 160})
    return out


def timed_replies(
    base_url: str, alias: str, reqs: Sequence[dict[str, Any]], in_flight: int = 1
) -> tuple[list[dict[str, Any]], float]:
    """Each request's reply text and seconds, in order, sent `in_flight` at a time; and the
    wall seconds of them all."""
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key="local", max_retries=0, timeout=900)

    def one(req: dict[str, Any]) -> dict[str, Any]:
        extra = {"response_format": req["response_format"]} if "response_format" in req else {}
        t0 = time.perf_counter()
        resp = client.chat.completions.create(
            model=alias,
            messages=req["messages"],
            max_tokens=req["max_tokens"],
            temperature=0,
            seed=0,
            **extra,
        )
        seconds = time.perf_counter() - t0
        usage = resp.usage
        return {
            "kind": req["kind"],
            "text": resp.choices[0].message.content or "",
            "seconds": seconds,
            "completion_tokens": usage.completion_tokens if usage else 0,
        }

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        out = list(pool.map(one, reqs))
    return out, time.perf_counter() - began


def own_server_launch(config_file: Path, port: int) -> list[str]:
    """llama-cpp-python's server module itself, with the same config file."""
    return ["llama_cpp.server", "--config_file", str(config_file)]


def compare(
    baseline: Sequence[dict[str, Any]], engine: Sequence[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per kind (and ``all``): requests, seconds per request on each side, the ratio, and the
    replies that are the same text."""
    rows: dict[str, dict[str, Any]] = {}
    kinds = sorted({r["kind"] for r in baseline}) + ["all"]
    for kind in kinds:
        pairs = [
            (b, e) for b, e in zip(baseline, engine, strict=True) if kind in ("all", b["kind"])
        ]
        base_s = sum(b["seconds"] for b, _ in pairs)
        eng_s = sum(e["seconds"] for _, e in pairs)
        rows[kind] = {
            "requests": len(pairs),
            "baseline_s_per_request": round(base_s / len(pairs), 3),
            "engine_s_per_request": round(eng_s / len(pairs), 3),
            "speedup": round(base_s / eng_s, 3) if eng_s else 0.0,
            "same_replies": sum(b["text"] == e["text"] for b, e in pairs),
        }
    return rows


def run_bench(
    *, problems_n: int = 8, role: str = "user", in_flight: int = 4, console: Console | None = None
) -> dict[str, Any]:
    """Run both servers on the same requests (see the module docstring); print and return."""
    from maker.llm.local import LOCAL_MODELS, LocalServer
    from maker.llm.local.server import ServerSettings, batched_launch

    console = console or Console()
    model = next(m for m in LOCAL_MODELS if m.role == role)
    reqs = requests(problems_n)
    runs: dict[str, tuple[list[dict[str, Any]], float]] = {}
    sides = (
        ("baseline", own_server_launch, (1,)),
        ("engine", batched_launch, (1, in_flight)),
    )
    for side, launch, flights in sides:
        settings = ServerSettings(parallel=max(flights))
        server = LocalServer([model], settings, launch=launch, progress=False)
        try:
            base_url = server.ensure_started()
            timed_replies(base_url, model.alias, reqs[:1])  # the model loaded, its pages warm
            for flight in flights:
                runs[f"{side}@{flight}"] = timed_replies(base_url, model.alias, reqs, flight)
        finally:
            server.stop()
    (base, base_wall), (one, _) = runs["baseline@1"], runs["engine@1"]
    many, many_wall = runs[f"engine@{in_flight}"]
    rows = compare(base, one)
    rows["all"]["in_flight"] = in_flight
    rows["all"]["engine_wall_s_per_request_in_flight"] = round(many_wall / len(many), 3)
    rows["all"]["speedup_in_flight"] = round(base_wall / many_wall, 3) if many_wall else 0.0
    rows["all"]["same_replies_in_flight"] = sum(
        b["text"] == e["text"] for b, e in zip(base, many, strict=True)
    )
    table = Table(title=f"{model.alias}: llama-cpp-python's server against the engine's")
    for col in (
        "requests",
        "kind",
        "s / request (theirs)",
        "s / request (engine)",
        "speedup",
        "same replies",
    ):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for kind, row in rows.items():
        table.add_row(
            str(row["requests"]),
            f"{kind}, one at a time",
            f"{row['baseline_s_per_request']:.2f}",
            f"{row['engine_s_per_request']:.2f}",
            f"{row['speedup']:.2f}x",
            f"{row['same_replies']} of {row['requests']}",
        )
    every = rows["all"]
    table.add_row(
        str(every["requests"]),
        f"all, engine {in_flight} in flight (wall)",
        f"{base_wall / len(base):.2f}",
        f"{every['engine_wall_s_per_request_in_flight']:.2f}",
        f"{every['speedup_in_flight']:.2f}x",
        f"{every['same_replies_in_flight']} of {every['requests']}",
    )
    console.print(table)
    result = {"model": model.alias, "problems": problems_n, **rows}
    console.print(json.dumps(result), soft_wrap=True)
    return result
