"""`Options.drafts`: LATM's propose draws several first drafts at once and the one that does best
on what the maker saw goes on (`maker.make.steps.best_of_drafts`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from library import Library, MemoryStore
from maker.llm import ChatClient, RoleConfig, ScriptedModel
from maker.llm.config import Sampling
from maker.llm.types import ChatResponse, Message
from maker.make import Context, Options
from maker.make.steps import DRAFT_SAMPLE_STRIDE
from sandbox import Sandbox
from tests.maker.make import test_latm as ex
from tests.maker.make import test_latm_text as tx

SEED = 5


class BySeed:
    """Propose replies by the call's seed (draws run on threads, in any order); every other
    phase from a script in order."""

    def __init__(self, proposals: Sequence[str], rest: Sequence[str]) -> None:
        seeds = [SEED + DRAFT_SAMPLE_STRIDE * j for j in range(len(proposals))]
        self.proposals = {s: ScriptedModel([r]) for s, r in zip(seeds, proposals, strict=True)}
        self.rest = ScriptedModel(rest)
        self.lock = threading.Lock()
        self.params: list[dict[str, Any]] = []

    def complete(
        self, messages: Sequence[Message], *, phase: str = "", **params: Any
    ) -> ChatResponse:
        if phase != "propose":
            return self.rest.complete(messages, phase=phase, **params)
        with self.lock:
            self.params.append(dict(params))
        return self.proposals[params.get("seed")].complete(messages, phase=phase, **params)

    def assert_consumed(self) -> None:
        for model in [*self.proposals.values(), self.rest]:
            model.assert_consumed()


def _ctx(sb: Sandbox, model: BySeed, **options: Any) -> Context:
    role = RoleConfig("maker", model="scripted", sampling=Sampling(temperature=0.0, seed=SEED))
    opts = Options(**{"max_examples": 10, **options})
    return Context(ChatClient(model, role, local=True), sb, Library(MemoryStore()), None, opts)


def test_the_draft_right_on_most_shown_questions_goes_on_and_the_others_are_recorded(
    sb: Sandbox,
) -> None:
    # text mode: draw 0 sorts nothing (right on 1 of 3 shown questions), draw 1 is right on
    # all, draw 2 is no tool at all; no repair is left, so only the choice can save the unit
    model = BySeed(
        [tx.OVERFIT + tx.SHOWN_CALLS, tx.TOOL + tx.SHOWN_CALLS, "sorry"], [tx.HELD_CALLS]
    )
    ctx = _ctx(sb, model, max_repairs=0, drafts=3)
    state = tx._run(ctx, tx._tasks())
    model.assert_consumed()
    assert state["status"] == "accepted", state["reason"]
    assert ctx.library.resolve("sort_words").source.count("sorted(") == 1
    temperatures = sorted(str(p.get("temperature")) for p in model.params)
    assert temperatures == ["0.0", "0.7", "0.7"]  # draw 0 as before, the others warm
    assert state["usage"]["calls"] == 4  # three drafts and the held-out calls
    reasons = {r["reason"]: r for r in state["rejections"]}
    assert sorted(reasons) == ["no_code_block", "not_chosen"]  # draw 3 wrote no tool
    chosen = reasons["not_chosen"]
    assert (chosen["draft"], chosen["score"][:2]) == (1, [0, -2])  # 2 shown questions wrong
    assert "draft 2 was taken" in chosen["message"]
    assert len(state["rejections"]) == 2


def test_one_draft_is_the_step_as_before(sb: Sandbox) -> None:
    model = BySeed([tx.OVERFIT + tx.SHOWN_CALLS], [tx.HELD_CALLS])
    state = tx._run(_ctx(sb, model, max_repairs=0), tx._tasks())
    model.assert_consumed()
    assert state["status"] == "rejected" and "repairs exhausted" in state["reason"]
    assert model.params == [{"model": "scripted", "temperature": 0.0, "seed": SEED}]


def test_worked_examples_the_draft_failing_fewest_checks_goes_on_ties_to_the_first(
    sb: Sandbox,
) -> None:
    # WRONG is right on the shown examples but fails its own unit test and a held-out case;
    # GOOD passes all; the hostile draft is refused. GOOD goes on: no repair is needed.
    model = BySeed([ex.WRONG, ex.GOOD, ex.HOSTILE], [ex.WRAP])
    ctx = _ctx(sb, model, drafts=3)
    [state] = ex._run(ctx, ex._tasks())
    model.assert_consumed()
    assert state["status"] == "accepted" and state["repairs"] == 0
    assert "while b:\n" in ctx.library.resolve("gcd").source
    assert [(r["reason"], r.get("draft")) for r in state["rejections"]][:2] == [
        ("not_chosen", 1),
        ("forbidden_import", None),
    ]
    assert [c.phase for c in model.rest.calls] == ["wrap"]

    # two drafts that both pass: the earlier draw goes on
    second = ex.GOOD.replace("Greatest common divisor", "The greatest common divisor")
    model = BySeed([ex.GOOD, second], [ex.WRAP])
    ctx = _ctx(sb, model, drafts=2)
    [state] = ex._run(ctx, ex._tasks())
    assert state["status"] == "accepted"
    assert '"""Greatest common divisor' in ctx.library.resolve("gcd").source
