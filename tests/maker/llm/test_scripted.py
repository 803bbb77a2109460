"""ScriptedModel: plays its script, records calls, fails on over- and under-consumption."""

from __future__ import annotations

import pytest

from maker.llm import (
    ChatClient,
    ChatModel,
    ChatResponse,
    ModelCallError,
    RoleConfig,
    Rule,
    ScriptedModel,
    ScriptError,
    Usage,
)


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_replies_in_order_and_calls_recorded() -> None:
    model = ScriptedModel(["one", "two"])
    assert isinstance(model, ChatModel)
    assert model.complete(ask("a"), phase="propose").text == "one"
    assert model.complete(ask("b"), phase="repair", temperature=0.5).text == "two"
    assert [c.phase for c in model.calls] == ["propose", "repair"]
    assert model.calls[1].messages == ({"role": "user", "content": "b"},)
    assert model.calls[1].params == {"temperature": 0.5}
    model.assert_consumed()


@pytest.mark.script_leftover
def test_over_consumption_fails_loudly_even_if_swallowed() -> None:
    model = ScriptedModel(["only"])
    model.complete(ask("a"))
    with pytest.raises(ScriptError, match="call #2"):
        model.complete(ask("b"))
    with pytest.raises(ScriptError, match="call #2"):
        model.assert_consumed()  # the overrun is remembered


@pytest.mark.script_leftover
def test_under_consumption_is_caught_by_the_context_manager() -> None:
    with pytest.raises(ScriptError, match="1 scripted reply was never used"):
        with ScriptedModel(["used", "unused"]) as model:
            model.complete(ask("a"))


def test_context_manager_passes_when_fully_consumed() -> None:
    with ScriptedModel(["x"]) as model:
        model.complete(ask("a"))


def test_rules_match_before_the_queue() -> None:
    rules = [
        Rule("repair", "fixed code"),
        Rule(lambda messages, phase: phase == "judge", "yes", times=None),
    ]
    model = ScriptedModel([*rules, "plain"])
    assert model.complete(ask("please repair f")).text == "fixed code"
    assert model.complete(ask("x"), phase="judge").text == "yes"
    assert model.complete(ask("y"), phase="judge").text == "yes"  # unlimited rule
    assert model.complete(ask("please repair g")).text == "plain"  # rule used up: queue
    model.assert_consumed()


@pytest.mark.script_leftover
def test_unused_rule_counts_as_under_consumption() -> None:
    model = ScriptedModel([Rule("never", "x")])
    with pytest.raises(ScriptError, match="never used"):
        model.assert_consumed()


def test_scripted_exceptions_and_responses_are_played_back() -> None:
    canned = ChatResponse(text="t", finish_reason="length", usage=Usage(5, 7), model="m")
    model = ScriptedModel([ModelCallError("boom", attempts=3), canned])
    with pytest.raises(ModelCallError, match="boom"):
        model.complete(ask("a"))
    assert model.complete(ask("b")) is canned


def test_scripted_model_behind_the_seam_is_metered() -> None:
    model = ScriptedModel(["four words right here"])
    client = ChatClient(model, RoleConfig("maker", model="gpt-4o"))
    response = client.complete(ask("two words"), phase="propose")
    assert response.usage.completion_tokens == 4
    (entry,) = client.ledger.entries
    assert (entry.role, entry.phase, entry.model) == ("maker", "propose", "gpt-4o")
    assert entry.prompt_tokens == 2 and entry.completion_tokens == 4
    assert entry.pricing == "table" and entry.dollars == pytest.approx((2 * 2.5 + 4 * 10) / 1e6)
