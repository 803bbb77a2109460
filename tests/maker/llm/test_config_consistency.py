"""Configuration says what it means: unknown environment settings are refused like unknown TOML
keys, the missing-endpoint message names what is missing, the README spells fields as the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maker.llm import ConfigError, load_config, require_endpoint
from maker.llm.config import _ROLE_FIELDS, _SAMPLING_FIELDS
from maker.llm.structured import STRUCTURED_MODES

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.parametrize(
    "name",
    [
        "MAKER_MAKER_RETRIES",
        "MAKER_USER_TEMPRATURE",
        "MAKER_LLM_CACHE",
        "MAKER_MAKER_SAMPLING_TEMPERATURE",
    ],
)
def test_unknown_environment_settings_are_refused(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={name: "3"})
    message = str(info.value)
    assert name in message and "unknown setting" in message and "max_retries" in message
    assert "\n" not in message


def test_known_and_unrelated_environment_variables_pass() -> None:
    env = {
        "MAKER_MAKER_MAX_RETRIES": "2",
        "MAKER_USER_TEMPERATURE": "0.5",
        "MAKER_LLM_CACHE_DIR": "/tmp/c",
        "MAKER_LIBRARY": "lib",
        "MAKER_LIVE_MODEL": "m",
        "MAKER_USER_TOP_P": "",
    }
    config = load_config(None, env=env)
    assert config.maker.max_retries == 2 and config.user.sampling.temperature == 0.5


@pytest.mark.parametrize(
    ("env", "says", "not_says"),
    [
        ({}, ["MAKER_MAKER_MODEL", "MAKER_MAKER_BASE_URL"], []),
        (
            {"MAKER_MAKER_MODEL": "gpt-4.1"},
            ["gpt-4.1", "MAKER_MAKER_BASE_URL", "OPENAI_API_KEY"],
            ["set MAKER_MAKER_MODEL"],
        ),
        (
            {"MAKER_MAKER_BASE_URL": "http://localhost:11434/v1"},
            ["MAKER_MAKER_MODEL", "http://localhost:11434/v1"],
            ["set MAKER_MAKER_BASE_URL"],
        ),
    ],
)
def test_missing_endpoint_names_what_is_missing(
    env: dict[str, str], says: list[str], not_says: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        require_endpoint(load_config(None, env=env), "maker")
    message = str(info.value)
    assert all(s in message for s in says), message
    assert not any(s in message for s in not_says), message
    assert "\n" not in message


def test_readme_names_the_fields_as_the_code_spells_them() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("Model configuration") : text.index("## The library")]
    named = set(re.findall(r"`([a-z_]+)`", section))
    fields = {*_ROLE_FIELDS, *_SAMPLING_FIELDS}
    assert {"max_retries", "base_url", "api_key_env", "timeout", "concurrency"} <= named
    assert named & {"retries"} == set()
    unknown = (
        {n for n in named if "_" in n or n in ("model", "timeout", "concurrency", "seed", "stop")}
        - fields
        - {"cache_dir", "price_table", "price_per_hour", *STRUCTURED_MODES}
    )
    assert not unknown, unknown
