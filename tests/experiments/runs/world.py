"""A scripted world for experiment runs: fixture items, scripted cheap and strong models whose
replies (and token usage) are fixed per item and method, a curated library and a fake solver.

Per item (7 items: 3 BIG-Bench, 2 TabMWP, 2 MATH), what each method gets right:

    direct      BIG-Bench only                      3/7   22 tokens  (20 + 2)
    cot         all                                 7/7   50 tokens  (30 + 20)
    cheap_pot   TabMWP and MATH                     4/7   50 tokens  (40 + 10)
    strong_pot  all                                 7/7  150 tokens  (100 + 50)
    sc          seeds 0 and 2 all, seed 1 not MATH 19/21 3 samples of 50 tokens (budget 150)
    curated     the 5 items where a tool runs       5/7   35 tokens  (30 + 5), making 700

Prices per 1M tokens: cheap 1 in / 2 out, strong 10 in / 20 out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.data import Item
from experiments.methods import ToolAnswer, register_solver
from experiments.runs import DataSpec, load_data, parse_config, select_items
from library import Library, NewTool
from maker.llm import (
    ChatClient,
    ChatResponse,
    CostLedger,
    LedgerEntry,
    RoleConfig,
    Rule,
    ScriptedModel,
    Usage,
)
from maker.llm.prices import Price, PriceTable

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PRICES = PriceTable("test", {"cheap": Price(1.0, 2.0), "strong": Price(10.0, 20.0)})
WRONG = "wrong"


def config_data(lib: Path | None = None, ledger: Path | None = None) -> dict[str, Any]:
    methods: list[dict[str, Any]] = [
        {"name": "direct", "kind": "direct"},
        {"name": "cot", "kind": "cot"},
        {"name": "cheap_pot", "kind": "pot"},
        {"name": "strong_pot", "kind": "pot", "role": "maker"},
    ]
    if lib is not None:
        methods.append(
            {
                "name": "curated",
                "kind": "tools",
                "solver": "fake",
                "library": str(lib),
                "make_ledger": [str(ledger)],
            }
        )
    methods.append({"name": "sc", "kind": "pot_sc", "match": "strong_pot", "temperature": 0.7})
    return {
        "name": "smoke",
        "data": {
            "bbh": {"path": str(FIXTURES / "bbh"), "per_task": 1},
            "tabmwp": {"path": str(FIXTURES / "tabmwp"), "limit": 2},
            "math": {"path": str(FIXTURES / "math500.jsonl"), "limit": 2},
        },
        "methods": methods,
        "report": {"baseline": "cheap_pot"},
    }


def items() -> list[Item]:
    cfg = parse_config(config_data(), "smoke.toml")
    out: list[Item] = []
    for spec in cfg.data:
        assert isinstance(spec, DataSpec)
        out += select_items(spec, load_data(spec), cfg.seed)
    return out


def reply(text: str, prompt: int, completion: int, model: str) -> ChatResponse:
    return ChatResponse(text, "stop", Usage(prompt, completion), model)


def program(answer: str) -> str:
    return f"```python\ndef solution():\n    return {answer!r}\n```"


@dataclass(frozen=True)
class _asks:  # noqa: N801 - used like a function
    """Matches a call in ``phase`` about ``item``."""

    item: Item
    phase: str

    def __call__(self, messages: Any, got: str) -> bool:
        return got == self.phase and self.item.question in str(messages[-1]["content"])


def sc_correct(seed: int, item: Item) -> bool:
    return not (seed == 1 and item.dataset == "math")


ALL_CHEAP = ("direct", "cot", "cheap_pot", "use", "sc")


def cheap_rules(
    its: list[Item], *, tools: bool, seeds: tuple[int, ...] = (0, 1, 2), only: tuple = ALL_CHEAP
) -> list[Rule]:
    """Every reply the cheap model gives in a full run (each served exactly once); ``only``
    keeps the replies of some methods ("use" is the curated arm's solver)."""
    rules: list[Rule] = []
    for it in its:
        bbh = it.dataset == "bbh"
        direct = it.gold if bbh else WRONG
        rules.append(Rule(_asks(it, "direct/answer"), reply(direct, 20, 2, "cheap")))
        cot = (
            f"Step by step.\n\\boxed{{{it.gold}}}"
            if it.dataset == "math"
            else (f"Step by step.\nAnswer: {it.gold}")
        )
        rules.append(Rule(_asks(it, "cot/answer"), reply(cot, 30, 20, "cheap")))
        if bbh and it.id.startswith("dyck"):
            pot = "I cannot write code for this."  # no code block
        elif bbh and it.id.startswith("logical"):
            pot = "```python\ndef solution():\n    return 1 / 0\n```"  # fails in the sandbox
        else:
            pot = program(it.gold if not bbh else WRONG)
        rules.append(Rule(_asks(it, "cheap_pot/program"), reply(pot, 40, 10, "cheap")))
        if tools:
            rules.append(Rule(_asks(it, "use"), reply("call a tool", 30, 5, "cheap")))
        for seed in seeds:
            answers = [it.gold, WRONG, it.gold] if sc_correct(seed, it) else [WRONG, WRONG, it.gold]
            for a in answers:
                rules.append(Rule(_asks(it, "sc/program"), reply(program(a), 40, 10, "cheap")))
    return [r for r in rules if r.match.phase.split("/")[0] in only]


def strong_rules(its: list[Item]) -> list[Rule]:
    return [
        Rule(_asks(it, "strong_pot/program"), reply(program(it.gold), 100, 50, "strong"))
        for it in its
    ]


def clients(
    cheap: ScriptedModel, strong: ScriptedModel, *, ledger: CostLedger | None = None, cache=None
) -> dict[str, ChatClient]:
    ledger = ledger if ledger is not None else CostLedger()
    return {
        "user": ChatClient(
            cheap, RoleConfig("user", model="cheap"), ledger=ledger, cache=cache, prices=PRICES
        ),
        "maker": ChatClient(
            strong, RoleConfig("maker", model="strong"), ledger=ledger, cache=cache, prices=PRICES
        ),
    }


SORT = (
    "def sort_words(words: str) -> str:\n"
    '    """Sort space-separated words alphabetically."""\n'
    "    return ' '.join(sorted(words.split()))\n"
)
LOOKUP = (
    "def lookup(table: dict, key: str) -> str:\n"
    '    """The value of a key in a table."""\n'
    "    return table[key]\n"
)


def curated_library(tmp: Path) -> tuple[Path, Path]:
    """A library of two hand-written tools and a make ledger of one 700-token strong call."""
    lib = tmp / "curated-lib"
    with Library.open(lib) as library:
        for name, source in (("sort_words", SORT), ("lookup", LOOKUP)):
            published = library.publish(NewTool(name, source))
            assert published.record is not None, published.reason
    ledger_path = tmp / "make-ledger.jsonl"
    CostLedger(ledger_path).record(
        LedgerEntry(
            role="maker",
            phase="propose",
            model="strong",
            prompt_tokens=500,
            completion_tokens=200,
            cached_tokens=0,
            latency_s=2.0,
            cache_hit=False,
            attempts=1,
            dollars=(500 * 10 + 200 * 20) / 1e6,
            pricing="table",
        )
    )
    return lib, ledger_path


def fake_solver(item: Item, *, library_dir: str, client: ChatClient, sandbox, seed: int):
    """Asks the cheap model once, then runs a library tool in the sandbox where one fits."""
    client.complete([{"role": "user", "content": item.question}], phase="use")
    with Library.open(library_dir, read_only=True) as lib:
        if item.id.startswith("word_sorting"):
            rec, kwargs = lib.resolve("sort_words"), {"words": item.question.split("List: ")[1]}
        elif item.dataset in ("tabmwp", "math"):
            rec, kwargs = lib.resolve("lookup"), {"table": {"k": item.gold}, "key": "k"}
        else:
            return ToolAnswer(answer=WRONG, output="no tool fits")
    result = sandbox.run(rec.source, rec.entry, kwargs=kwargs)
    call = {"tool": f"{rec.name}@{rec.version}", "args": kwargs, "ok": result.ok}
    return ToolAnswer(answer=str(result.value), tool_calls=(call,), output=str(result.value))


register_solver("fake", fake_solver)
