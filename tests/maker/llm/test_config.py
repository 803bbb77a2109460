"""Config: file < environment < overrides; one-line errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from maker.llm import (
    ConfigError,
    LLMConfig,
    RoleConfig,
    load_config,
    missing_endpoint_message,
    require_endpoint,
)

TOML = """
[project]
unrelated = true

[llm]
cache_dir = "/tmp/llm-cache"

[llm.maker]
base_url = "https://file.example/v1"
model = "file-model"
api_key = "file-key"
timeout = 30
concurrency = 4

[llm.maker.sampling]
temperature = 0.3
max_tokens = 512
stop = ["###"]

[llm.user]
base_url = "http://localhost:11434/v1"
model = "small"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "maker.toml"
    path.write_text(TOML)
    return path


def test_file_values_are_read(config_file: Path) -> None:
    config = load_config(config_file, env={})
    assert config.maker.model == "file-model"
    assert config.maker.base_url == "https://file.example/v1"
    assert config.maker.api_key == "file-key"
    assert config.maker.timeout == 30.0
    assert config.maker.concurrency == 4
    assert config.maker.sampling.temperature == 0.3
    assert config.maker.sampling.stop == ("###",)
    assert config.maker.sampling.as_params() == {
        "temperature": 0.3,
        "max_tokens": 512,
        "stop": ["###"],
    }
    assert config.user.model == "small" and config.user.is_local
    assert not config.maker.is_local
    assert config.cache_dir == Path("/tmp/llm-cache")


def test_precedence_file_then_env_then_overrides(config_file: Path) -> None:
    env = {
        "MAKER_MAKER_MODEL": "env-model",
        "MAKER_MAKER_TEMPERATURE": "0.7",
        "MAKER_USER_MODEL": "env-user",
        "MAKER_LLM_CACHE_DIR": "/tmp/env-cache",
    }
    overrides = {"maker.model": "cli-model", "user.model": None, "maker.sampling.max_tokens": "64"}
    config = load_config(config_file, env=env, overrides=overrides)
    assert config.maker.model == "cli-model"  # override beats env beats file
    assert config.maker.sampling.temperature == 0.7  # env beats file
    assert config.maker.sampling.max_tokens == 64  # override beats file
    assert config.maker.base_url == "https://file.example/v1"  # file only
    assert config.user.model == "env-user"  # None override leaves env in place
    assert config.cache_dir == Path("/tmp/env-cache")


def test_openai_api_key_is_the_fallback_key() -> None:
    config = load_config(None, env={"OPENAI_API_KEY": "sk-fallback", "MAKER_USER_API_KEY": "u"})
    assert config.maker.api_key == "sk-fallback"
    assert config.user.api_key == "u"


def test_api_key_env_names_the_variable_to_read() -> None:
    env = {"MAKER_MAKER_API_KEY_ENV": "MY_KEY", "MY_KEY": "secret", "OPENAI_API_KEY": "other"}
    config = load_config(None, env=env, overrides={"maker.model": "m"})
    assert config.maker.api_key == "secret"
    assert "secret" not in repr(config)  # keys never show in reprs or logs


def test_api_key_env_unset_is_a_clear_error_when_the_role_is_used() -> None:
    env = {"MAKER_MAKER_API_KEY_ENV": "MISSING_KEY", "OPENAI_API_KEY": "other"}
    config = load_config(None, env=env, overrides={"maker.model": "m"})
    assert config.maker.api_key is None  # no silent fallback to another provider's key
    with pytest.raises(ConfigError, match="MISSING_KEY, which is not set"):
        require_endpoint(config, "maker")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"maker.temperature": "hot"}, "maker.temperature"),
        ({"maker.temperature": 3}, "maker.temperature"),
        ({"user.concurrency": 0}, "user.concurrency"),
        ({"maker.timeout": -1}, "maker.timeout"),
        ({"maker.max_tokens": 1.5}, "maker.max_tokens"),
        ({"maker.base_url": "localhost:8000"}, "maker.base_url"),
        ({"maker.colour": "blue"}, "maker.colour"),
        ({"judge.model": "x"}, "judge.model"),
    ],
)
def test_bad_values_raise_one_line_errors_naming_the_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={}, overrides=overrides)
    message = str(info.value)
    assert field in message
    assert "\n" not in message


def test_bad_env_value_names_the_variable_source() -> None:
    with pytest.raises(ConfigError, match=r"environment user\.max_retries"):
        load_config(None, env={"MAKER_USER_MAX_RETRIES": "many"})


def test_bad_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[llm.maker]\nmodel = \n")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_config(path, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml", env={})
    path.write_text("[llm.maker.sampling]\nwarmth = 1\n")
    with pytest.raises(ConfigError, match=r"llm\.maker\.warmth: unknown setting"):
        load_config(path, env={})


def test_missing_endpoint_says_what_to_set() -> None:
    config = load_config(None, env={})
    with pytest.raises(ConfigError) as info:
        require_endpoint(config, "user")
    message = str(info.value)
    assert message == missing_endpoint_message("user")
    assert "MAKER_USER_MODEL" in message and "MAKER_USER_BASE_URL" in message
    assert "\n" not in message


def test_endpoint_is_configured_by_model_and_url_or_key() -> None:
    assert not RoleConfig("maker", model="m").is_configured
    assert RoleConfig("maker", model="m", base_url="http://127.0.0.1:1/v1").is_configured
    assert RoleConfig("maker", model="m", api_key="k").is_configured  # OpenAI's own endpoint
    assert not RoleConfig("maker", base_url="http://127.0.0.1:1/v1").is_configured
    with pytest.raises(ConfigError, match="unknown role"):
        LLMConfig().role("critic")


def test_config_is_frozen() -> None:
    config = load_config(None, env={})
    with pytest.raises(AttributeError):
        config.maker.model = "x"  # type: ignore[misc]
