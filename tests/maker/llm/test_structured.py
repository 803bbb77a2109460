"""Structured replies: a JSON schema becomes the `response_format` each endpoint takes, with
the fallback (json_schema -> json_object -> schema in the prompt) in auto mode, remembered per
role; the fake server refuses formats the way llama-cpp-python (500, a validation error) and
others (400, 422) do."""

from __future__ import annotations

import json

import pytest

from maker.llm import (
    ChatClient,
    FakeOpenAIServer,
    ModelCallError,
    OpenAIChatModel,
    ResponseCache,
    RoleConfig,
    ScriptedModel,
)
from maker.llm.structured import (
    can_fall_back,
    initial_mode,
    response_format,
    schema_in_prompt,
)

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
REPLY = json.dumps({"name": "Ada", "age": 36})


def ask(text: str = "Who?") -> list[dict[str, str]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


def role(server: FakeOpenAIServer, **kw: object) -> RoleConfig:
    settings: dict[str, object] = {
        "model": "m",
        "base_url": server.base_url,
        "max_retries": 1,
        "backoff_initial": 0.01,
        "backoff_max": 0.02,
    }
    settings.update(kw)
    return RoleConfig("user", **settings)  # type: ignore[arg-type]


def formats(server: FakeOpenAIServer) -> list[str | None]:
    return [(b.get("response_format") or {}).get("type") for b in server.received]


def test_each_mode_maps_to_its_wire_shape() -> None:
    assert response_format("json_schema", SCHEMA, "person") == {
        "type": "json_schema",
        "json_schema": {"name": "person", "schema": SCHEMA, "strict": True},
    }
    assert response_format("json_object", SCHEMA) == {"type": "json_object", "schema": SCHEMA}
    assert response_format("off", SCHEMA) is None
    with pytest.raises(ValueError, match="unknown structured mode"):
        response_format("yaml", SCHEMA)
    assert initial_mode("auto", provider="local") == "json_object"
    assert initial_mode("auto", provider="auto") == "json_schema"
    assert initial_mode("off", provider="local") == "off"
    assert not can_fall_back("auto", provider="auto", base_url="https://api.openai.com/v1")
    assert not can_fall_back("auto", provider="local", base_url="http://127.0.0.1:1/v1")
    assert not can_fall_back("json_schema", provider="auto", base_url="http://h:1/v1")
    assert can_fall_back("auto", provider="auto", base_url="http://vllm.lan:8000/v1")
    prompt = schema_in_prompt(ask(), SCHEMA)
    assert prompt[-1]["content"].startswith("Who?\n\n") and '"required"' in prompt[-1]["content"]
    assert ask()[-1]["content"] == "Who?"  # the caller's messages are not changed


def test_local_server_gets_json_object_with_the_schema() -> None:
    with FakeOpenAIServer(
        [REPLY], accept_formats={"text", "json_object"}, format_status=422
    ) as server:
        model = OpenAIChatModel(role(server, provider="local"))
        assert json.loads(model.complete(ask(), schema=SCHEMA).text)["age"] == 36
        assert server.received[0]["response_format"] == {"type": "json_object", "schema": SCHEMA}


def test_json_schema_mode_sends_openai_shape() -> None:
    with FakeOpenAIServer([REPLY]) as server:
        OpenAIChatModel(role(server, structured="json_schema")).complete(ask(), schema=SCHEMA)
        fmt = server.received[0]["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == SCHEMA
        assert fmt["json_schema"]["strict"] is True


@pytest.mark.parametrize("status", [422, 500])
def test_auto_falls_back_to_json_object_and_remembers(status: int) -> None:
    # llama-cpp-python 0.3.36, reached as a plain endpoint (MAKER_USER_BASE_URL), answered
    # json_schema with HTTP 500 "1 validation error ... response_format"; taken for a
    # transient error, every request was retried 5 times and `maker solve` stopped
    with FakeOpenAIServer(
        [REPLY, REPLY], accept_formats={"text", "json_object"}, format_status=status
    ) as server:  # like llama-cpp-python's server
        model = OpenAIChatModel(role(server))
        first = model.complete(ask(), schema=SCHEMA)
        assert first.text == REPLY and first.attempts == 2
        assert model.structured_mode == "json_object"
        model.complete(ask("again"), schema=SCHEMA)
        assert formats(server) == ["json_schema", "json_object", "json_object"]


def test_auto_falls_back_to_the_schema_in_the_prompt() -> None:
    with FakeOpenAIServer([REPLY], accept_formats={"text"}, format_status=400) as server:
        model = OpenAIChatModel(role(server))
        assert model.complete(ask(), schema=SCHEMA).text == REPLY
        assert formats(server) == ["json_schema", "json_object", None]
        last = server.received[-1]["messages"][-1]["content"]
        assert "JSON schema" in last and '"age"' in last and model.structured_mode == "off"


def test_an_explicit_mode_that_is_refused_is_an_error_not_a_fallback() -> None:
    with FakeOpenAIServer([REPLY], accept_formats={"text", "json_object"}) as server:
        model = OpenAIChatModel(role(server, structured="json_schema"))
        with pytest.raises(ModelCallError, match="set user.structured") as info:
            model.complete(ask(), schema=SCHEMA)
        assert not info.value.recoverable and len(server.received) == 1


def test_off_puts_the_schema_in_the_prompt_only() -> None:
    with FakeOpenAIServer([REPLY]) as server:
        OpenAIChatModel(role(server, structured="off")).complete(ask(), schema=SCHEMA)
        body = server.received[0]
        assert "response_format" not in body and "JSON schema" in body["messages"][-1]["content"]


def test_plain_calls_are_unchanged() -> None:
    with FakeOpenAIServer(["hi"], accept_formats={"text"}) as server:
        OpenAIChatModel(role(server)).complete(ask())
        assert "response_format" not in server.received[0]
        assert server.received[0]["messages"] == ask()


def test_the_cache_key_includes_the_schema(tmp_path) -> None:
    scripted = ScriptedModel([REPLY, REPLY, "plain"])
    client = ChatClient(
        scripted, RoleConfig("user", model="m"), cache=ResponseCache(tmp_path / "cache")
    )
    client.complete(ask(), schema=SCHEMA)
    assert client.complete(ask(), schema=SCHEMA).cache_hit
    other = {**SCHEMA, "required": ["name"]}
    assert not client.complete(ask(), schema=other).cache_hit
    assert client.complete(ask()).text == "plain"
    assert [c.params.get("schema") for c in scripted.calls] == [SCHEMA, other, None]
    scripted.assert_consumed()


def test_large_bounds_stay_out_of_a_llama_cpp_grammar() -> None:
    """A `maxLength: 4000` string made llama.cpp's server crash (SIGSEGV) building its grammar."""
    from maker.llm.structured import grammar_safe, response_format

    schema = {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "program": {"type": "string", "maxLength": 4000, "minLength": 1},
                    "items": {"type": "array", "maxItems": 10_000, "maxItems_note": 5},
                },
            }
        ]
    }
    sent = response_format("json_object", schema)["schema"]
    program = sent["anyOf"][0]["properties"]["program"]
    assert program == {"type": "string", "minLength": 1}
    assert "maxItems" not in sent["anyOf"][0]["properties"]["items"]
    assert response_format("json_schema", schema)["json_schema"]["schema"] == schema  # untouched
    assert grammar_safe({"maxLength": 12}) == {"maxLength": 12}  # small bounds kept
