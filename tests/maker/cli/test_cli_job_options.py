"""Every job command takes the job flags from one decorator (`job_options`), in one wording."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from maker.cli import main
from maker.cli.common import JobOption
from maker.llm import RoleConfig
from maker.llm.local.roles import LOCAL_LIMITS
from maker.llm.local.server import default_parallel

JOB_FLAGS = {
    "job_dir": "--job-dir",
    "concurrency": "--concurrency",
    "units_in_flight": "--units-in-flight",
}
HELP = {
    "--job-dir": r"Where progress is kept \(default: LIBRARY/jobs/\S.*\); re-run the same "
    r"command to resume\.",
    "--concurrency": r"Model requests in flight at once: the (maker|user) role's limit"
    r"( \(default: \[llm\.\1\] concurrency; 8, or 4 for a local model: what its server "
    r"decodes together\))?\.",
    "--units-in-flight": r"[A-Z].* worked on at once \(default: twice --concurrency, so the "
    r"sandbox work of some overlaps the model waits of others\)\.",
}
ENV_KEYS = [k for k in os.environ if k.startswith(("MAKER_", "OPENAI"))]
EXPECTED = {
    "make": ("--job-dir", "--concurrency", "--units-in-flight"),
    "solve": ("--job-dir", "--concurrency", "--units-in-flight"),
    "bench make": ("--concurrency", "--units-in-flight"),
    "bench solve": ("--concurrency", "--units-in-flight"),
}


def commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command under `group` (sub-groups included), with its full name."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_job_flag_comes_from_job_options_with_the_shared_help() -> None:
    found: dict[str, tuple[str, ...]] = {}
    for name, command in commands(main):
        flags = []
        for param in command.params:
            spelled = set(getattr(param, "opts", ())) & set(JOB_FLAGS.values())
            if param.name not in JOB_FLAGS and not spelled:
                continue
            where = f"{name} {'/'.join(getattr(param, 'opts', [param.name or '']))}"
            assert isinstance(param, JobOption), f"{where}: a copy, not from job_options"
            flag = JOB_FLAGS[param.name or ""]
            assert param.opts == [flag] and re.fullmatch(HELP[flag], param.help or ""), where
            flags.append(flag)
        if flags:
            found[name] = tuple(flags)
    assert found == EXPECTED  # a new job command is added here knowingly


def test_the_help_names_the_role_and_the_unit_of_each_command() -> None:
    def help_of(*args: str) -> str:
        result = CliRunner().invoke(main, [*args, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    make, solve = help_of("make"), help_of("solve")
    assert "the maker role's limit (default: [llm.maker] concurrency; 8" in make
    assert "Work units (tasks, or task types for latm/craft) worked on at once" in make
    assert "(default: LIBRARY/jobs/STRATEGY-<tasks digest>)" in make
    assert "the user role's limit (default: [llm.user] concurrency; 8" in solve
    assert "Problems worked on at once" in solve and "jobs/solve-<digest" in solve
    bench_make, bench_solve = help_of("bench", "make"), help_of("bench", "solve")
    assert "the maker role's limit. [default: 16;" in bench_make and "Tasks worked" in bench_make
    assert "the user role's limit. [default: 16;" in bench_solve
    assert "Problems worked on at once" in bench_solve and "--job-dir" not in bench_solve
    # the defaults the help names: an endpoint role's, and a local model's
    assert "or 4 for a local model" in make and "or 4 for a local model" in solve
    assert RoleConfig("maker").concurrency == 8 and LOCAL_LIMITS["concurrency"] is None
    assert default_parallel() == 4  # what a local role's concurrency is set to


def test_bench_solve_passes_units_in_flight_on(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    monkeypatch.setattr("maker.bench.solve.run_bench", lambda **kw: seen.update(kw))
    result = CliRunner().invoke(main, ["bench", "solve", "--units-in-flight", "5"])
    assert result.exit_code == 0, result.output
    assert seen["units_in_flight"] == 5 and seen["concurrency"] == 16
    result = CliRunner().invoke(main, ["bench", "solve", "--units-in-flight", "0"])
    assert result.exit_code == 2 and "--units-in-flight" in result.output


@pytest.mark.parametrize(("flags", "units"), [((), 8), (("--concurrency", "3"), 6)])
def test_solve_works_on_twice_the_resolved_limit_of_a_local_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], units: int
) -> None:
    """A local user role has 4 request slots (what the local server decodes together), not
    [llm.user]'s 8: the help's "twice --concurrency" is twice the limit the role runs with (was
    16 problems on a local role's one slot before the server decoded requests together)."""
    from library import Library
    from maker.llm.local import LOCAL_MODELS, default_model
    from maker.llm.local.roles import local_role
    from maker.tasks import Task, dump_tasks

    class Stop(Exception):
        pass

    seen: dict[str, Any] = {}

    def run_solve(tasks: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise Stop

    def resolve_role(config: Any, role: str, **_: Any) -> Any:  # as with the model installed
        return local_role(config.role(role), default_model(role, LOCAL_MODELS))

    monkeypatch.setattr("maker.llm.local.resolve_role", resolve_role)
    monkeypatch.setattr("maker.llm.make_client", lambda *a, **k: object())
    monkeypatch.setattr("maker.use.job.run_solve", run_solve)
    with Library.open(tmp_path / "lib"):
        pass
    problems = tmp_path / "p.jsonl"
    dump_tasks([Task("a", "What is 1 + 1?", answer=2)], problems)
    args = ["solve", str(problems), "--library", str(tmp_path / "lib"), *flags, "--no-progress"]
    monkeypatch.delenv("MAKER_LOCAL_PARALLEL", raising=False)
    result = CliRunner().invoke(main, args, env=dict.fromkeys(ENV_KEYS))
    assert isinstance(result.exception, Stop), result.output
    assert seen["concurrency"] == units
