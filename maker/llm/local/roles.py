"""Which model a role uses: its configured endpoint, else the local model of its role.

Precedence, per role:

1. ``model = "local:<alias>"`` or ``provider = "local"``: that local model (the role's default
   one when no model is named); an error if it is not installed.
2. A configured endpoint (model plus base URL or key): always wins over the local default.
3. Some endpoint setting given but incomplete (a model without a key, ``provider = "endpoint"``),
   or ``[llm] local = "off"``: the usual "what to set" error.
4. Nothing configured: the role's local model (maker: 1.5B, user: 0.5B) if it and
   llama-cpp-python are installed; else one line naming what is missing and both fixes.

A local role is reproducible by default: temperature 0 and seed 0 unless configured, a bound on
reply length, as many requests in flight as the local server decodes together
(`ServerSettings.parallel`) and a longer timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from maker.llm.config import (
    LLMConfig,
    RoleConfig,
    missing_endpoint_message,
    missing_model_message,
)
from maker.llm.errors import ConfigError, ModelCallError
from maker.llm.local.models import (
    INSTALL_HINT,
    LOCAL_MODELS,
    LocalModel,
    LocalModelError,
    default_model,
    find_model,
    model_status,
    server_installed,
)
from maker.llm.local.server import LocalServer, default_parallel
from maker.llm.openai_model import OpenAIChatModel
from maker.llm.types import ChatResponse, Message

LOCAL_SAMPLING: dict[str, Any] = {"temperature": 0.0, "seed": 0, "max_tokens": 1024}
"""Sampling a local role uses for every setting the config leaves unset. ``max_tokens``: every
usable reply of the local 1.5B maker so far took at most 794 tokens (58 replies, all phases);
the ones that reached the old cap of 2048 were greedy loops (``'[', '[', '[', ...``) that cost
29 minutes on a loaded machine."""

LOCAL_LIMITS: dict[str, Any] = {"timeout": 1800.0, "concurrency": None}
"""Role limits a local role uses unless the config sets them. ``timeout``: long enough for a
whole `max_tokens` reply at ~1 token/s. The local server does not stop generating a request its
client gave up on, so a timeout followed by a retry queues the same long generation again.
``concurrency`` (None here): the requests the local server decodes together,
`default_parallel`."""


def local_role(rc: RoleConfig, model: LocalModel) -> RoleConfig:
    """`rc` turned into a role served by the local `model`, with the local defaults filled in."""
    sampling = rc.sampling
    for name, value in LOCAL_SAMPLING.items():
        if getattr(sampling, name) is None:
            sampling = replace(sampling, **{name: value})
    limits = {k: v for k, v in LOCAL_LIMITS.items() if k not in rc.explicit}
    if "concurrency" in limits:
        limits["concurrency"] = default_parallel()
    return replace(
        rc,
        provider="local",
        model=model.alias,
        base_url=None,
        api_key=None,
        api_key_env=None,
        sampling=sampling,
        **limits,
    )


def local_problem(
    model: LocalModel,
    directory: Path | None = None,
    *,
    server_check: Callable[[], bool] = server_installed,
) -> str | None:
    """Why `model` cannot be served here (one clause naming the fix), or None when it can."""
    status = model_status(model, directory)
    if not status.available:
        return (
            f"{model.alias} is not installed ({status.installed_parts} of "
            f"{model.parts} chunk packages); {INSTALL_HINT}"
        )
    if not server_check():
        return f"llama-cpp-python's server is not installed; {INSTALL_HINT}"
    return None


def resolve_role(
    config: LLMConfig,
    role: str,
    *,
    models: Sequence[LocalModel] = LOCAL_MODELS,
    directory: Path | None = None,
    server_check: Callable[[], bool] = server_installed,
) -> RoleConfig:
    """The config `role` runs with: its endpoint's, or a local model's (see module docstring).

    Raises:
        ConfigError: one line saying what is missing and what to set or install.
    """
    rc = config.role(role)
    if rc.wants_local:
        fallback = default_model(role, models)
        name = rc.model or (fallback.alias if fallback else "")
        try:
            model = find_model(name, models)
        except LocalModelError as exc:
            raise ConfigError(f"{role}.model: {exc}") from None
        problem = local_problem(model, directory, server_check=server_check)
        if problem:
            raise ConfigError(f"{role} is set to the local model {model.alias}, but {problem}")
        return local_role(rc, model)
    if rc.api_key_env and not rc.api_key:
        raise ConfigError(f"{role}.api_key_env names {rc.api_key_env}, which is not set; export it")
    if rc.is_configured:
        return rc
    if rc.provider == "endpoint" or rc.model or rc.base_url or config.local == "off":
        raise ConfigError(missing_endpoint_message(role))
    model = default_model(role, models)
    if model is None:
        raise ConfigError(missing_model_message(role, f"there is no local model for {role}"))
    problem = local_problem(model, directory, server_check=server_check)
    if problem:
        raise ConfigError(missing_model_message(role, problem))
    return local_role(rc, model)


class LocalServerModel:
    """`ChatModel` for a local role: starts the (shared) local server on the first call, then
    talks to it like any OpenAI-compatible endpoint.

    A server that cannot start makes every call fail with a non-recoverable `ModelCallError`
    carrying the reason (so a batch job stops instead of retrying).
    """

    def __init__(self, config: RoleConfig, server: LocalServer) -> None:
        self.config = config
        self.server = server
        self._inner: OpenAIChatModel | None = None
        self._lock = threading.Lock()

    def wire(self) -> OpenAIChatModel:
        """The wire model, pointed at the running server (started here if needed)."""
        with self._lock:
            if self._inner is None:
                try:
                    url = self.server.ensure_started()
                except LocalModelError as exc:
                    raise ModelCallError(str(exc), attempts=0, recoverable=False) from None
                self._inner = OpenAIChatModel(replace(self.config, base_url=url))
            return self._inner

    def complete(
        self, messages: Sequence[Message], *, phase: str = "", **params: Any
    ) -> ChatResponse:
        """Answer through the local server; a server that died is named as the cause."""
        try:
            return self.wire().complete(messages, phase=phase, **params)
        except ModelCallError as exc:
            report = self.server.exit_report()
            if report is None:
                raise
            raise ModelCallError(
                f"{exc}; {report}", attempts=exc.attempts, recoverable=False
            ) from None
