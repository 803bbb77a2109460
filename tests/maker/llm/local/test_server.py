"""The local server manager, with the fake OpenAI-compatible server standing in for
llama-cpp-python's: started on demand at a free port, shared, stopped, and never orphaned."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from maker.llm import ChatClient, CostLedger, load_config, make_client
from maker.llm.local import (
    LocalModelError,
    LocalServer,
    ServerSettings,
    server_config,
)
from tests.maker.llm.local.conftest import stand_in

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def models_of(url: str) -> list[str]:
    with OPENER.open(url + "/models", timeout=5) as resp:
        return [m["id"] for m in json.loads(resp.read())["data"]]


def gone(pid: int, within: float = 10.0) -> bool:
    """True once `pid` no longer runs (a zombie waiting for init counts as gone)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in "ZX":
            return True
        time.sleep(0.1)
    return False


def test_server_config_serves_every_model_with_its_alias(
    fake_models, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("MAKER_LOCAL_THREADS", raising=False)
    files = [(m, tmp_path / m.filename) for m in fake_models]
    config = server_config(files, ServerSettings(n_threads=2, n_ctx=4096), 8123)
    assert (config["host"], config["port"]) == ("127.0.0.1", 8123)
    assert [m["model_alias"] for m in config["models"]] == [m.alias for m in fake_models]
    first = config["models"][0]
    assert first["model"] == str(tmp_path / fake_models[0].filename)
    assert (first["n_ctx"], first["n_threads"], first["cache"]) == (4096, 2, True)
    assert first["logits_all"] is False  # else every prompt token costs a vocabulary of logits
    assert ServerSettings().n_threads == os.cpu_count()


def test_the_default_child_is_the_batched_server_told_how_many_requests_to_decode_together(
    fake_models, tmp_path: Path
) -> None:
    from maker.llm.local.server import batched_config, batched_launch, llama_launch

    server = LocalServer(fake_models, ServerSettings(parallel=3))
    assert server.launch is batched_launch
    assert batched_launch(tmp_path / "s.json", 1)[0] == "maker.llm.local.batched"
    assert llama_launch(tmp_path / "s.json", 1)[0] == "maker.llm.local.llama_child"
    files = [(m, tmp_path / m.filename) for m in fake_models]
    config = batched_config(files, ServerSettings(parallel=3), 8123)
    assert config["parallel"] == 3
    assert {k: v for k, v in config.items() if k != "parallel"} == server_config(
        files, ServerSettings(parallel=3), 8123
    )
    # llama-cpp-python's own server refuses keys it does not know: its config has none
    assert "parallel" not in server_config(files, ServerSettings(), 8123)


def test_threads_can_be_set_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MAKER_LOCAL_THREADS", "1")
    assert ServerSettings().n_threads == 1
    monkeypatch.setenv("MAKER_LOCAL_THREADS", "many")
    with pytest.raises(LocalModelError, match="MAKER_LOCAL_THREADS='many'"):
        ServerSettings()


def test_starts_on_demand_shares_and_stops(fake_models, models_dir: Path) -> None:
    server = LocalServer(fake_models, launch=stand_in(), progress=False)
    assert not server.running and server.pid is None
    url = server.ensure_started()
    try:
        assert url.startswith("http://127.0.0.1:") and server.running
        assert models_of(url) == ["stand-in"]
        assert (models_dir / fake_models[0].filename).exists()  # assembled before starting
        pid = server.pid
        assert server.ensure_started() == url and server.pid == pid  # shared, not restarted
        assert server.started_s is not None and server.started_s > 0
    finally:
        server.stop()
    assert pid is not None and gone(pid) and not server.running


def test_a_server_that_exits_reports_its_log_tail(fake_models, models_dir: Path) -> None:
    server = LocalServer(
        fake_models, launch=stand_in("--reply-factory", "no_such_mod:f"), progress=False
    )
    with pytest.raises(LocalModelError) as info:
        server.ensure_started()
    message = str(info.value)
    assert "exited with code 2" in message and "cannot be imported" in message
    assert "\n" not in message
    with pytest.raises(LocalModelError, match="exited with code 2"):
        server.ensure_started()  # remembered: no second child
    server.stop()


def test_a_server_that_never_answers_times_out(
    fake_models, models_dir: Path, tmp_path: Path
) -> None:
    def silent(config_file: Path, port: int) -> list[str]:
        return ["http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)]

    server = LocalServer(
        fake_models, ServerSettings(start_timeout=1.5), launch=silent, progress=False
    )
    started = time.monotonic()
    with pytest.raises(LocalModelError, match=r"did not answer .*/v1/models within 1.5s"):
        server.ensure_started()
    assert time.monotonic() - started < 15
    assert not server.running


def test_missing_llama_cpp_is_a_clear_error(fake_models, monkeypatch) -> None:
    import maker.llm.local.server as srv

    monkeypatch.setattr(srv, "server_installed", lambda: False)
    with pytest.raises(LocalModelError, match=r"pip install -e '\.\[local\]'"):
        LocalServer(fake_models, progress=False).ensure_started()


def test_started_from_a_thread_that_ends_it_keeps_serving(fake_models, models_dir: Path) -> None:
    server = LocalServer(fake_models, launch=stand_in(), progress=False)
    worker = threading.Thread(target=server.ensure_started)
    worker.start()
    worker.join()
    try:
        time.sleep(1.0)  # a PR_SET_PDEATHSIG child would be dead by now
        assert server.running and models_of(server.base_url) == ["stand-in"]
    finally:
        server.stop()


PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    from maker.llm.local import LocalModel, LocalServer
    from tests.maker.llm.local.conftest import stand_in
    model = LocalModel(**__import__("json").loads(sys.argv[3]))
    server = LocalServer([model], launch=stand_in(), progress=False)
    print(server.ensure_started(), server.pid, flush=True)
    if sys.argv[4] == "wait":
        time.sleep(120)
    elif sys.argv[4] == "raise":
        raise KeyboardInterrupt
""")


def _parent(fake_model, mode: str) -> tuple[subprocess.Popen[str], str, int]:
    root = str(Path(__file__).resolve().parents[4])
    spec = json.dumps({k: getattr(fake_model, k) for k in fake_model.__dataclass_fields__})
    site = next(p for p in sys.path if p.endswith("/site"))
    proc = subprocess.Popen(
        [sys.executable, "-c", PARENT, root, site, spec, mode],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert proc.stdout is not None
    url, pid = proc.stdout.readline().split()
    return proc, url, int(pid)


def test_no_orphan_when_the_parent_is_killed(fake_models, models_dir: Path) -> None:
    proc, url, child = _parent(fake_models[0], "wait")
    assert models_of(url) == ["stand-in"]
    args = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
    config_dir = Path(args[args.index("--cleanup") + 1])
    assert config_dir.name.startswith("maker-local-server-") and config_dir.is_dir()
    proc.send_signal(signal.SIGKILL)  # no atexit, no cleanup in the parent
    proc.wait()
    assert gone(child), "the server outlived its killed parent"
    assert not config_dir.exists()  # the watchdog removed the parent's temporary directory


def test_no_orphan_after_ctrl_c_or_a_normal_exit(fake_models, models_dir: Path) -> None:
    for mode in ("raise", "exit"):
        proc, _, child = _parent(fake_models[0], mode)
        proc.wait(timeout=30)
        assert gone(child, within=5), f"the server outlived its parent ({mode})"


def test_make_client_starts_the_local_server_lazily(fake_models, models_dir: Path) -> None:
    config = load_config(None, env={"MAKER_LLM_PRICE_PER_HOUR": "3.6"})
    server = LocalServer(fake_models, launch=stand_in(), progress=False)
    try:
        client = make_client(
            config, "maker", local_models=fake_models, server=server, ledger=CostLedger()
        )
        assert isinstance(client, ChatClient) and client.local
        assert not server.running  # nothing started until a call needs it
        reply = client.complete([{"role": "user", "content": "hello"}], phase="p")
        assert reply.text == "echo: hello" and server.running
        sent = client.backend.wire()  # the wire model now points at the running server
        assert sent.config.base_url == server.base_url
        assert sent.config.model == fake_models[0].alias
        entry = client.ledger.entries[0]
        assert entry.pricing == "local" and entry.prompt_tokens > 0
        assert entry.dollars == pytest.approx(entry.latency_s * 3.6 / 3600)
    finally:
        server.stop()


def test_a_server_that_dies_mid_run_is_named_as_the_cause(fake_models, models_dir: Path) -> None:
    from maker.llm import ModelCallError

    config = load_config(None, env={"MAKER_MAKER_MAX_RETRIES": "0"})
    server = LocalServer(fake_models, launch=stand_in(), progress=False)
    try:
        client = make_client(config, "maker", local_models=fake_models, server=server)
        client.complete([{"role": "user", "content": "one"}])
        assert server.exit_report() is None
        os.kill(server.pid, signal.SIGKILL)
        server._proc.wait()
        with pytest.raises(ModelCallError, match=r"server died \(killed by SIGKILL\)") as info:
            client.complete([{"role": "user", "content": "two"}])
        assert not info.value.recoverable
        with pytest.raises(LocalModelError, match="killed by SIGKILL.* during the run"):
            server.ensure_started()  # not silently restarted mid-run
    finally:
        server.stop()
