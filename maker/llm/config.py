"""Model configuration: roles `maker` and `user`, read in one place.

Sources, lowest precedence first:

1. a TOML file, tables ``[llm]``, ``[llm.maker]``, ``[llm.maker.sampling]``, ``[llm.user]``...
2. environment variables ``MAKER_<ROLE>_<FIELD>`` (e.g. ``MAKER_MAKER_BASE_URL``,
   ``MAKER_USER_MODEL``, ``MAKER_USER_TEMPERATURE``) and ``MAKER_LLM_CACHE_DIR``,
   ``MAKER_LLM_PRICE_TABLE``; ``OPENAI_API_KEY`` is the fallback key of both roles;
3. CLI-style overrides, a dict with dotted keys (``{"maker.model": "gpt-4o",
   "user.temperature": "0.2", "cache_dir": "/tmp/c"}``; ``user.sampling.temperature`` works
   too); ``None`` values are ignored, so unset CLI flags can be passed straight through.

Example file::

    [llm]
    cache_dir = ".maker/llm-cache"
    # price_table = "my-prices.json"

    [llm.maker]
    base_url = "https://api.openai.com/v1"
    model = "gpt-4.1"
    api_key_env = "OPENAI_API_KEY"     # or api_key = "..." (not recommended)
    timeout = 120
    max_retries = 4
    concurrency = 8

    [llm.maker.sampling]
    temperature = 0.2
    max_tokens = 4096

    [llm.user]
    base_url = "http://localhost:11434/v1"
    model = "qwen2.5:7b"
    structured = "auto"                # or "json_schema", "json_object", "off"

Local models (see `maker.llm.local`): a role with no endpoint configured uses the local model
of its role (maker: 1.5B, user: 0.5B) when it is installed; ``model = "local:<alias>"`` or
``provider = "local"`` asks for a local model explicitly, ``provider = "endpoint"`` never
falls back to one, and ``[llm] local = "off"`` turns the local default off for both roles.
``[llm] price_per_hour`` prices calls to local endpoints by their wall time (0 by default).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from maker.llm.errors import ConfigError
from maker.llm.structured import STRUCTURED_MODES

ROLES: tuple[str, ...] = ("maker", "user")
OPENAI_BASE_URL = "https://api.openai.com/v1"
FALLBACK_KEY_ENV = "OPENAI_API_KEY"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
PROVIDERS: tuple[str, ...] = ("auto", "local", "endpoint")
"""``auto``: the configured endpoint, else the local model; ``local``: always the local model;
``endpoint``: always the configured endpoint (an error when there is none)."""
LOCAL_PREFIX = "local:"
LOCAL_SWITCH: tuple[str, ...] = ("auto", "off")


@dataclass(frozen=True)
class Sampling:
    """Default sampling settings of a role; `None` means "let the endpoint decide"."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None

    def as_params(self) -> dict[str, Any]:
        """The settings that are set, as request parameters."""
        params = {f.name: getattr(self, f.name) for f in fields(self)}
        if params["stop"] is not None:
            params["stop"] = list(params["stop"])
        return {k: v for k, v in params.items() if v is not None}

    def for_sample(self, sample: int, warm: float | None) -> dict[str, Any]:
        """Overrides for the ``sample``-th call of one step: none for the first; later ones at
        least `warm` with the seed moved by ``sample``, when this role samples colder than that
        (at temperature 0 a model asked again tends to repeat its reply word for word).

        >>> Sampling(temperature=0.0, seed=7).for_sample(2, 0.7)
        {'temperature': 0.7, 'seed': 9}
        >>> Sampling(temperature=0.0).for_sample(0, 0.7), Sampling(temperature=1.0).for_sample(1, 0.7)
        ({}, {})
        """
        cold = self.temperature is not None and warm is not None and self.temperature < warm
        if sample <= 0 or not cold:
            return {}
        return {"temperature": warm, "seed": (self.seed or 0) + sample}


@dataclass(frozen=True)
class RoleConfig:
    """Endpoint, model, key and limits of one role. The key is resolved at load time."""

    role: str
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    sampling: Sampling = Sampling()
    timeout: float = 120.0
    max_retries: int = 4
    concurrency: int = 8
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    provider: str = "auto"
    structured: str = "auto"
    explicit: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """The fields a config layer set (the rest are defaults); local roles fill in their own."""

    @property
    def effective_base_url(self) -> str:
        """The base URL to call: the configured one, else OpenAI's."""
        return self.base_url or OPENAI_BASE_URL

    @property
    def is_local(self) -> bool:
        """True for the local models and endpoints on this machine (priced by machine time)."""
        return self.provider == "local" or is_local_url(self.effective_base_url)

    @property
    def wants_local(self) -> bool:
        """The config asks for a local model explicitly (``local:`` model or provider)."""
        return self.provider == "local" or (self.model or "").startswith(LOCAL_PREFIX)

    @property
    def is_configured(self) -> bool:
        """A model is named, and there is either a base URL or a key for OpenAI's endpoint."""
        return bool(self.model) and bool(self.base_url or self.api_key)


@dataclass(frozen=True)
class LLMConfig:
    """The whole model-access configuration."""

    maker: RoleConfig = RoleConfig("maker")
    user: RoleConfig = RoleConfig("user")
    cache_dir: Path | None = None
    price_table: Path | None = None
    price_per_hour: float = 0.0
    local: str = "auto"

    def role(self, name: str) -> RoleConfig:
        """The config of role `name` ("maker" or "user")."""
        if name not in ROLES:
            raise ConfigError(f"unknown role {name!r}: use one of {', '.join(ROLES)}")
        return self.maker if name == "maker" else self.user


def is_local_url(url: str) -> bool:
    """True when `url` points at this machine (localhost, 127.0.0.1, ::1)."""
    host = (urlparse(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


# ---- field table: policy as data -----------------------------------------------------------

_ROLE_FIELDS: dict[str, type] = {
    "model": str,
    "base_url": str,
    "api_key": str,
    "api_key_env": str,
    "timeout": float,
    "max_retries": int,
    "concurrency": int,
    "backoff_initial": float,
    "backoff_max": float,
    "provider": str,
    "structured": str,
}
_SAMPLING_FIELDS: dict[str, type] = {
    "temperature": float,
    "top_p": float,
    "max_tokens": int,
    "seed": int,
    "stop": tuple,
    "presence_penalty": float,
    "frequency_penalty": float,
}
_TOP_FIELDS: dict[str, type] = {
    "cache_dir": Path,
    "price_table": Path,
    "price_per_hour": float,
    "local": str,
}
ENV_PREFIX = "MAKER_"
"""Env scheme: MAKER_<ROLE>_<FIELD> for role and sampling fields, MAKER_LLM_<FIELD> for top."""


def env_var(role: str, name: str) -> str:
    """The environment variable for a role field, e.g. ``env_var("user", "model")``."""
    return f"{ENV_PREFIX}{role.upper()}_{name.upper()}"


def _coerce(where: str, kind: type, value: Any) -> Any:
    try:
        if kind is tuple:
            if isinstance(value, str):
                return tuple(s for s in value.split(",") if s)
            if isinstance(value, list | tuple) and all(isinstance(s, str) for s in value):
                return tuple(value)
            raise TypeError
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if kind is Path:
            return Path(str(value)).expanduser()
        if not isinstance(value, str):
            raise TypeError
        return value
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: expected {kind.__name__}, got {value!r}; fix this value"
        ) from None


def _layer_from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; create it or pass another") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    llm = data.get("llm", {})
    if not isinstance(llm, dict):
        raise ConfigError(f"{path}: [llm] must be a table")
    flat: dict[str, Any] = {}
    for key, value in llm.items():
        if key in ROLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: llm.{key} must be a table")
            for name, item in value.items():
                if name == "sampling":
                    if not isinstance(item, dict):
                        raise ConfigError(f"{path}: llm.{key}.sampling must be a table")
                    flat.update({f"{key}.{n}": v for n, v in item.items()})
                else:
                    flat[f"{key}.{name}"] = item
        else:
            flat[key] = value
    return _checked(flat, f"{path}: llm.")


def _unknown_env(env: Mapping[str, str]) -> None:
    """Refuse a set ``MAKER_<ROLE>_<FIELD>`` / ``MAKER_LLM_<FIELD>`` that names no setting, as
    an unknown TOML key is refused (a misspelt variable would otherwise be ignored)."""
    known = {env_var(role, n) for role in ROLES for n in (*_ROLE_FIELDS, *_SAMPLING_FIELDS)}
    known |= {f"{ENV_PREFIX}LLM_{n.upper()}" for n in _TOP_FIELDS}
    prefixes = tuple(f"{ENV_PREFIX}{scope.upper()}_" for scope in (*ROLES, "llm"))
    for key in sorted(env):
        if key.startswith(prefixes) and key not in known and env[key] != "":
            fields = ", ".join([*_ROLE_FIELDS, *_SAMPLING_FIELDS])
            raise ConfigError(
                f"environment variable {key}: unknown setting; "
                f"MAKER_<ROLE>_<FIELD> takes the fields {fields}"
            )


def _layer_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    _unknown_env(env)
    flat: dict[str, Any] = {}
    for role in ROLES:
        for name in (*_ROLE_FIELDS, *_SAMPLING_FIELDS):
            value = env.get(env_var(role, name))
            if value not in (None, ""):
                flat[f"{role}.{name}"] = value
    for name in _TOP_FIELDS:
        value = env.get(f"{ENV_PREFIX}LLM_{name.upper()}")
        if value not in (None, ""):
            flat[name] = value
    return _checked(flat, "environment ")


def _checked(flat: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate keys and coerce values of one flat layer (dotted keys)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None:
            continue
        role, _, name = key.replace(".sampling.", ".").rpartition(".")
        if not role:
            kind = _TOP_FIELDS.get(name)
        elif role in ROLES:
            kind = _ROLE_FIELDS.get(name) or _SAMPLING_FIELDS.get(name)
        else:
            kind = None
        if kind is None:
            raise ConfigError(
                f"{where}{key}: unknown setting; role fields are "
                f"{', '.join([*_ROLE_FIELDS, *_SAMPLING_FIELDS])}"
            )
        out[f"{role}.{name}" if role else name] = _coerce(f"{where}{key}", kind, value)
    return out


def _validate(rc: RoleConfig) -> None:
    def bad(name: str, rule: str) -> ConfigError:
        return ConfigError(f"{rc.role}.{name} must be {rule}; set it with {env_var(rc.role, name)}")

    s = rc.sampling
    if rc.timeout <= 0:
        raise bad("timeout", "> 0 seconds")
    if rc.max_retries < 0:
        raise bad("max_retries", ">= 0")
    if rc.concurrency < 1:
        raise bad("concurrency", ">= 1")
    if rc.backoff_initial < 0 or rc.backoff_max < rc.backoff_initial:
        raise bad("backoff_initial", ">= 0 and <= backoff_max")
    if s.temperature is not None and not 0 <= s.temperature <= 2:
        raise bad("temperature", "between 0 and 2")
    if s.top_p is not None and not 0 < s.top_p <= 1:
        raise bad("top_p", "in (0, 1]")
    if s.max_tokens is not None and s.max_tokens < 1:
        raise bad("max_tokens", ">= 1")
    if rc.base_url is not None and urlparse(rc.base_url).scheme not in ("http", "https"):
        raise bad("base_url", "an http(s) URL such as http://localhost:8000/v1")
    if rc.provider not in PROVIDERS:
        raise bad("provider", f"one of {', '.join(PROVIDERS)}")
    if rc.structured not in STRUCTURED_MODES:
        raise bad("structured", f"one of {', '.join(STRUCTURED_MODES)}")


def _build_role(role: str, flat: Mapping[str, Any], env: Mapping[str, str]) -> RoleConfig:
    mine = {k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith(f"{role}.")}
    sampling = Sampling(**{k: v for k, v in mine.items() if k in _SAMPLING_FIELDS})
    rc = RoleConfig(
        role=role,
        sampling=sampling,
        explicit=frozenset(mine),
        **{k: v for k, v in mine.items() if k in _ROLE_FIELDS},
    )
    key = rc.api_key
    if not key and rc.api_key_env:
        key = env.get(rc.api_key_env) or None  # named but unset: no fallback, see require_endpoint
    elif not key:
        key = env.get(FALLBACK_KEY_ENV) or None
    rc = replace(rc, api_key=key)
    _validate(rc)
    return rc


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LLMConfig:
    """Read the model configuration: file, then environment, then overrides.

    Args:
        path: a TOML file with ``[llm...]`` tables, or None for no file.
        env: the environment to read (``os.environ`` by default; tests pass a dict).
        overrides: CLI-style dotted keys, e.g. ``{"maker.model": "gpt-4o"}``; None values skip.

    Returns:
        A frozen `LLMConfig`. Raises `ConfigError` naming the field on any bad value.
    """
    env = os.environ if env is None else env
    flat: dict[str, Any] = {}
    if path is not None:
        flat.update(_layer_from_file(Path(path)))
    flat.update(_layer_from_env(env))
    flat.update(_checked(overrides or {}, "override "))
    price_per_hour = flat.get("price_per_hour", 0.0)
    if price_per_hour < 0:
        raise ConfigError(
            "price_per_hour must be >= 0 dollars; set it with "
            f"{ENV_PREFIX}LLM_PRICE_PER_HOUR or [llm] price_per_hour"
        )
    local = flat.get("local", "auto")
    if local not in LOCAL_SWITCH:
        raise ConfigError(
            f"local must be one of {', '.join(LOCAL_SWITCH)}, got {local!r}; set "
            f"it with {ENV_PREFIX}LLM_LOCAL or [llm] local"
        )
    return LLMConfig(
        maker=_build_role("maker", flat, env),
        user=_build_role("user", flat, env),
        cache_dir=flat.get("cache_dir"),
        price_table=flat.get("price_table"),
        price_per_hour=price_per_hour,
        local=local,
    )


def missing_endpoint_message(role: str = "maker", rc: RoleConfig | None = None) -> str:
    """One line saying what to set when `role` has no endpoint configured (given the role's
    config `rc`, only what is actually missing)."""
    model, url = env_var(role, "model"), env_var(role, "base_url")
    if rc is not None and rc.model and not (rc.base_url or rc.api_key):
        return (
            f"role '{role}' names model {rc.model!r} but no endpoint: set {url} (e.g. "
            f"http://localhost:11434/v1) or {FALLBACK_KEY_ENV} for api.openai.com, "
            f"or [llm.{role}] base_url in your config file"
        )
    if rc is not None and not rc.model and (rc.base_url or rc.api_key):
        where = rc.base_url or OPENAI_BASE_URL
        return (
            f"role '{role}' has an endpoint ({where}) but no model: set {model} to a model "
            f"it serves, or [llm.{role}] model in your config file"
        )
    return (
        f"no model endpoint configured for role '{role}': set {model} and "
        f"{url} (or {FALLBACK_KEY_ENV} for api.openai.com), "
        f"or [llm.{role}] model/base_url in your config file"
    )


def missing_model_message(role: str, local_problem: str) -> str:
    """One line for a role with neither an endpoint nor usable local models: both fixes."""
    return f"{missing_endpoint_message(role)}; or use the local models: {local_problem}"


def require_endpoint(config: LLMConfig, role: str = "maker") -> RoleConfig:
    """The role's config if it names an endpoint, else `ConfigError` saying what to set."""
    rc = config.role(role)
    if rc.api_key_env and not rc.api_key:
        raise ConfigError(f"{role}.api_key_env names {rc.api_key_env}, which is not set; export it")
    if not rc.is_configured:
        raise ConfigError(missing_endpoint_message(role, rc))
    return rc
