"""Hypothesis property tests inside the worker: derandomized, no example database.

The property function is restricted code like the tool. Its inputs come from data (strategy specs
or type hints, see `sandbox.strategies`). When it fails, the reply carries Hypothesis' shrunk
minimal failing input: Hypothesis replays the minimal example last, so the last failing call's
arguments are the minimal ones.

A request with ``"phases": "explicit"`` runs only the explicit examples (no generation, no
shrinking); the host uses it to check a property's explicit examples apart from its generated
ones, whose outcome it can then reuse (see `sandbox.suite_runner`).
"""

from __future__ import annotations

import inspect
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings

from sandbox import _tripwire
from sandbox._compile import PROPERTY_FILE, CompileFailure
from sandbox._guards import PolicyEnv
from sandbox.strategies import StrategyError, from_hint, from_spec
from sandbox.values import ValueLimitError, to_plain


def _strategies(fn: Any, specs: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    params = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    hints = dict(getattr(fn, "__annotations__", {}) or {})
    strategies = {}
    for name in params:
        if name in specs:
            strategies[name] = from_spec(specs[name])
        elif name in hints:
            strategies[name] = from_hint(hints[name])
        else:
            raise StrategyError(
                f"parameter '{name}' of the property has no type hint and no strategy spec"
            )
    return params, strategies


def run_property(runtime: Any, request: dict[str, Any], env: PolicyEnv) -> dict[str, Any]:
    name = request["name"]
    try:
        codes = runtime.tool_and_tests(request, env, PROPERTY_FILE)
    except CompileFailure as exc:
        return runtime.compile_error(exc)
    record: dict[str, Any] = {"count": 0, "last_fail": None}

    def body(g: dict[str, Any]) -> None:
        for code in codes:
            exec(code, g)
        fn = g.get(name)
        if not callable(fn):
            raise NameError(f"the property source defines no function named '{name}'")
        with _tripwire.trusted():
            params, strategies = _strategies(fn, request.get("strategies") or {})

            def runner(**kwargs: Any) -> None:
                record["count"] += 1
                try:
                    fn(**kwargs)
                except BaseException:
                    record["last_fail"] = dict(kwargs)
                    raise

            runner.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
                [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY) for p in params]
            )
            test = given(**strategies)(runner)
            for ex in reversed(request.get("examples") or []):
                test = example(**ex)(test)
            test = settings(
                max_examples=int(request.get("max_examples", 100)),
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                phases=(
                    (Phase.explicit,)
                    if request.get("phases") == "explicit"
                    else (Phase.explicit, Phase.generate, Phase.shrink)
                ),
                report_multiple_bugs=False,
                print_blob=False,
                verbosity=Verbosity.quiet,
            )(test)
        test()

    reply = runtime.execute(request, env, body)
    reply["examples_run"] = record["count"]
    if not reply["ok"] and record["last_fail"] is not None:
        try:
            reply["minimal_input"] = to_plain(record["last_fail"], max_nodes=10_000)
        except ValueLimitError:
            reply["minimal_input"] = {"repr": repr(record["last_fail"])[:1000]}
    return reply
