"""The exit-status policy: a package's error ends a command in one line with its code (2 bad
input, 1 work failed); any other exception is a bug and keeps its traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import library.api
from experiments import ExperimentError
from experiments.runs import RunDirError
from library import Library, LibraryError
from maker import MakerError
from maker.cli import main
from maker.cli.common import exit_code_of
from maker.jobs import JobBusy, JobError
from maker.llm import ConfigError, ModelCallError
from maker.make import StrategyUnavailable
from sandbox import SandboxError

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("errors") / "lib"
    Library.open(d).close()
    return d


def _list_raising(monkeypatch: pytest.MonkeyPatch, lib_dir: Path, error: Exception):
    """`maker library list` with the library's opening raising ``error`` mid-command."""

    def boom(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(library.api, "open_library", boom)
    return CliRunner().invoke(main, ["library", "list", "--library", str(lib_dir)])


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (LibraryError("unknown tool 'x'"), 1),
        (ConfigError("no model for the user role: set MAKER_USER_MODEL"), 2),
        (ModelCallError("the endpoint answered 503 five times"), 1),
        (JobError("the job dir belongs to another library"), 2),
        (JobBusy("another run (pid 7) holds the job dir"), 1),
        (StrategyUnavailable("unknown strategy 'x'"), 2),
        (SandboxError("could not start a sandbox worker"), 1),
    ],
)
def test_a_package_error_is_one_line_with_its_code(
    monkeypatch: pytest.MonkeyPatch, lib_dir: Path, error: Exception, code: int
) -> None:
    result = _list_raising(monkeypatch, lib_dir, error)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, (error, result.output)
    assert result.stderr == f"Error: {error}\n"


@pytest.mark.parametrize(
    "bug", [KeyError("spec"), ValueError("bad state"), OSError(5, "I/O error"), TypeError("x")]
)
def test_any_other_exception_is_a_bug_and_keeps_its_traceback(
    monkeypatch: pytest.MonkeyPatch, lib_dir: Path, bug: Exception
) -> None:
    result = _list_raising(monkeypatch, lib_dir, bug)
    assert result.exception is bug  # not turned into a one-line message
    assert result.exc_info is not None and result.exc_info[2] is not None
    assert "Error:" not in result.stderr


def test_every_root_is_a_package_error_and_subclasses_keep_their_old_bases() -> None:
    assert issubclass(ConfigError, MakerError) and issubclass(JobError, ValueError)
    assert issubclass(StrategyUnavailable, LookupError) and issubclass(RunDirError, ValueError)
    assert exit_code_of(MakerError("x")) == 1 and exit_code_of(SandboxError("x")) == 1
    assert exit_code_of(ExperimentError("x")) is None  # below experiments, only with its group
    assert exit_code_of(ExperimentError("x"), (ExperimentError,)) == 2
    assert exit_code_of(RuntimeError("x")) is None


def test_experiment_errors_are_one_line_and_bugs_keep_their_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-run"
    result = CliRunner().invoke(main, ["experiment", "report", str(missing)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith("Error: ") and str(missing) in result.stderr

    import experiments.report

    def bug(run_dir: Path, against: object = ()) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(experiments.report, "write_report", bug)
    result = CliRunner().invoke(main, ["experiment", "report", str(missing)])
    assert isinstance(result.exception, ZeroDivisionError)


def test_a_bug_in_a_real_process_prints_its_traceback(lib_dir: Path) -> None:
    code = (
        "import sys, library.api\n"
        "def bug(*a, **k):\n"
        "    raise KeyError('a bug in the code')\n"
        "library.api.open_library = bug\n"
        "from maker.cli import main\n"
        "sys.argv = ['maker', 'library', 'list', '--library', sys.argv[1]]\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(lib_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback (most recent call last)" in proc.stderr
    assert "KeyError: 'a bug in the code'" in proc.stderr


def test_experiments_cli_imported_first_still_registers_its_commands() -> None:
    code = (
        "import experiments.cli\n"
        "from maker.cli import main\n"
        "main(['experiment', 'report', '--help'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0 and "unavailable" not in proc.stdout + proc.stderr, proc.stderr
    assert "report.md" in proc.stdout
