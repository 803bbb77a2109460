"""Model-written tests in the usual pytest and Hypothesis spellings, mapped onto the harness.

Models write ``from hypothesis import given, strategies as st`` and ``@given(st.integers())``;
the sandbox has no Hypothesis or pytest for tool code, so those tests would die on a NameError.
Everything here reads the test source with `ast` in the host and rewrites it; nothing is
executed or imported. What maps:

- ``@given(...)`` (positional or keyword strategies), ``@settings(max_examples=N)`` and
  ``@example(...)`` become a `MappedProperty`: the function without its decorators, JSON strategy
  specs (`sandbox.strategies.from_spec`), explicit examples and the example budget. Strategies:
  integers, floats, booleans, text, characters, lists, tuples, dictionaries, sets, frozensets,
  sampled_from, just, none, one_of (and ``a | b``), fractions, from_type(int|float|str|bool);
  a top-level ``.filter(f)`` or ``.map(f)`` (a lambda or a function) becomes a guard or a
  conversion at the top of the property's body, which runs in the sandbox like the rest.
- In a body, ``assume(c)`` becomes ``if not c: return``; ``note(...)``/``event(...)`` go.
- ``with pytest.raises(E):`` becomes try/except/else; ``@pytest.mark.parametrize`` a loop.

Anything else that needs pytest, Hypothesis or unittest raises `Unmappable` with what to write
instead; the caller drops that test with the message as a note.
"""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FRAMEWORKS",
    "MappedProperty",
    "Unmappable",
    "aliases",
    "bound_names",
    "dotted",
    "framework_modules",
    "map_test",
    "strategy_spec",
    "uses_framework",
]

FRAMEWORKS = ("hypothesis", "pytest", "unittest")
MAX_EXAMPLES = 1_000

# The constants of `string` a model may pass as an alphabet (read from this table, not evaluated).
_STRING_CONSTANTS = {
    n: getattr(string, n)
    for n in (
        "ascii_letters",
        "ascii_lowercase",
        "ascii_uppercase",
        "digits",
        "hexdigits",
        "octdigits",
        "punctuation",
        "printable",
        "whitespace",
    )
}

WRITE_INSTEAD = (
    "write a Hypothesis property as `def prop_name(x: int, ...):` that asserts, with input "
    "ranges in a `json properties` block, or a plain `def test_name():` with `assert`"
)


class Unmappable(Exception):  # noqa: N818 - a value the caller turns into a note
    """A test that needs a framework feature the harness has no equivalent for."""


@dataclass(frozen=True)
class MappedProperty:
    """A ``@given`` test as a property: source without decorators, JSON strategies, examples."""

    name: str
    source: str
    strategies: dict[str, Any] = field(default_factory=dict)
    examples: tuple[dict[str, Any], ...] = ()
    max_examples: int | None = None


def framework_modules(node: ast.Import | ast.ImportFrom) -> bool:
    """Whether an import statement imports only test frameworks (pytest, hypothesis...)."""
    names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    return bool(names) and all(n.partition(".")[0] in FRAMEWORKS for n in names)


# Names models use without importing them (the import was left out of the reply): taken as the
# framework's unless the test source binds them itself.
UNIMPORTED = {
    "st": "hypothesis.strategies",
    "strategies": "hypothesis.strategies",
    "given": "hypothesis.given",
    "settings": "hypothesis.settings",
    "assume": "hypothesis.assume",
    "hypothesis": "hypothesis",
    "pytest": "pytest",
}


def aliases(
    imports: list[ast.stmt], bound: set[str] | frozenset[str] = frozenset()
) -> dict[str, str]:
    """Local name -> dotted path, for the framework imports among ``imports`` (plus the usual
    names in `UNIMPORTED` that the source does not bind: ``bound``)."""
    out: dict[str, str] = {k: v for k, v in UNIMPORTED.items() if k not in bound}
    for node in imports:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.partition(".")[0] in FRAMEWORKS:
                    if a.asname:
                        out[a.asname] = a.name
                    else:
                        top = a.name.partition(".")[0]
                        out[top] = top
        elif (
            isinstance(node, ast.ImportFrom) and (node.module or "").partition(".")[0] in FRAMEWORKS
        ):
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def bound_names(tree: ast.Module) -> set[str]:
    """Names a test source binds itself (definitions, assignments, parameters, imports)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).partition(".")[0])
    return out


def dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    """The dotted path a Name/Attribute chain stands for, through the framework aliases."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in names:
        return None
    return ".".join([names[node.id], *reversed(parts)])


def uses_framework(node: ast.AST, names: dict[str, str]) -> str | None:
    """The first framework name that ``node`` still refers to (None: it needs none)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id in names:
            return sub.id
    return None


# -- strategies ------------------------------------------------------------------------------
def _literal(node: ast.AST) -> Any:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "string"
        and node.attr in _STRING_CONSTANTS
    ):
        return _STRING_CONSTANTS[node.attr]
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise Unmappable(f"`{ast.unparse(node)[:60]}` is not a literal value") from None
    return list(value) if isinstance(value, tuple | set | frozenset) else value


def _args(call: ast.Call, order: tuple[str, ...]) -> dict[str, ast.AST]:
    found: dict[str, ast.AST] = dict(zip(order, call.args, strict=False))
    if len(call.args) > len(order):
        raise Unmappable(f"too many arguments in `{ast.unparse(call)[:60]}`")
    for kw in call.keywords:
        if kw.arg is None:
            raise Unmappable(f"`**` arguments in `{ast.unparse(call)[:60]}`")
        found[kw.arg] = kw.value
    return found


def _sized(spec: dict[str, Any], args: dict[str, ast.AST], *keys: str) -> dict[str, Any]:
    for key in keys:
        if key in args:
            value = _literal(args[key])
            if value is not None:
                spec[key] = value
    return spec


_TYPES = {
    "int": {"type": "integers"},
    "float": {"type": "floats"},
    "str": {"type": "text"},
    "bool": {"type": "booleans"},
}


def strategy_spec(node: ast.AST, names: dict[str, str]) -> dict[str, Any]:
    """The JSON spec of a Hypothesis strategy expression, or `Unmappable`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return {
            "type": "one_of",
            "options": [strategy_spec(node.left, names), strategy_spec(node.right, names)],
        }
    if not isinstance(node, ast.Call):
        raise Unmappable(f"`{ast.unparse(node)[:60]}` is not a strategy call")
    path = dotted(node.func, names) or ""
    kind = path.rpartition(".")[2] if path.startswith("hypothesis.strategies.") else ""
    if not kind:
        raise Unmappable(f"`{ast.unparse(node.func)[:60]}` is not a Hypothesis strategy")
    if kind == "integers":
        return _sized(
            {"type": "integers"}, _args(node, ("min_value", "max_value")), "min_value", "max_value"
        )
    if kind == "floats":
        return _sized(
            {"type": "floats"}, _args(node, ("min_value", "max_value")), "min_value", "max_value"
        )
    if kind in ("booleans", "none"):
        return {"type": kind}
    if kind == "text":
        args = _args(node, ("alphabet", "min_size", "max_size"))
        spec = _sized({"type": "text"}, args, "min_size", "max_size")
        alphabet = args.get("alphabet")
        if alphabet is not None and not (isinstance(alphabet, ast.Call)):
            value = _literal(alphabet)
            if isinstance(value, list):
                value = "".join(str(v) for v in value)
            if isinstance(value, str) and value:
                spec["alphabet"] = value
        return spec
    if kind == "characters":
        return {"type": "text", "min_size": 1, "max_size": 1}
    if kind in ("lists", "sets", "frozensets"):
        args = _args(node, ("elements", "min_size", "max_size"))
        spec = {
            "type": "lists" if kind == "lists" else "sets",
            "elements": strategy_spec(args["elements"], names)
            if "elements" in args
            else {"type": "integers"},
        }
        if kind == "lists" and "unique" in args:
            spec["unique"] = bool(_literal(args["unique"]))
        return _sized(spec, args, "min_size", "max_size")
    if kind == "tuples":
        return {"type": "tuples", "elements": [strategy_spec(a, names) for a in node.args]}
    if kind == "dictionaries":
        args = _args(node, ("keys", "values", "dict_class", "min_size", "max_size"))
        if "keys" not in args or "values" not in args:
            raise Unmappable("st.dictionaries needs keys and values strategies")
        return _sized(
            {
                "type": "dictionaries",
                "keys": strategy_spec(args["keys"], names),
                "values": strategy_spec(args["values"], names),
            },
            args,
            "max_size",
        )
    if kind == "sampled_from":
        values = _literal(_args(node, ("elements",)).get("elements", ast.List([], ast.Load())))
        if not isinstance(values, list) or not values:
            raise Unmappable("st.sampled_from needs a non-empty literal list")
        return {"type": "sampled_from", "values": values}
    if kind == "just":
        return {"type": "just", "value": _literal(_args(node, ("value",))["value"])}
    if kind == "one_of":
        options = list(node.args)
        if len(options) == 1 and isinstance(options[0], ast.List | ast.Tuple):
            options = list(options[0].elts)
        return {"type": "one_of", "options": [strategy_spec(o, names) for o in options]}
    if kind == "fractions":
        return _sized(
            {"type": "fractions"},
            _args(node, ("min_value", "max_value", "max_denominator")),
            "min_value",
            "max_value",
            "max_denominator",
        )
    if (
        kind == "from_type"
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id in _TYPES
    ):
        return dict(_TYPES[node.args[0].id])
    raise Unmappable(f"st.{kind} has no equivalent in the harness")


def _top_strategy(node: ast.AST, names: dict[str, str]) -> tuple[dict[str, Any], list[Any]]:
    """A strategy with top-level ``.filter``/``.map`` calls peeled off (outermost last)."""
    steps: list[tuple[str, ast.expr]] = []
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("filter", "map")
        and len(node.args) == 1
        and not node.keywords
    ):
        steps.append((node.func.attr, node.args[0]))  # a lambda or a function: runs sandboxed
        node = node.func.value
    return strategy_spec(node, names), list(reversed(steps))


# -- bodies ----------------------------------------------------------------------------------
class _Body(ast.NodeTransformer):
    """assume -> early return; note/event -> gone; pytest.raises -> try/except/else."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Expr(self, node: ast.Expr) -> Any:
        if isinstance(node.value, ast.Call):
            path = dotted(node.value.func, self.names) or ""
            if path in ("hypothesis.assume", "hypothesis.reject") and (
                path.endswith("reject") or len(node.value.args) == 1
            ):
                test = (
                    ast.Constant(True)
                    if path.endswith("reject")
                    else ast.UnaryOp(ast.Not(), node.value.args[0])
                )
                return ast.copy_location(ast.If(test, [ast.Return(None)], []), node)
            if path in ("hypothesis.note", "hypothesis.event", "hypothesis.target"):
                return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_With(self, node: ast.With) -> Any:
        self.generic_visit(node)
        if len(node.items) != 1 or not isinstance(node.items[0].context_expr, ast.Call):
            return node
        call = node.items[0].context_expr
        if dotted(call.func, self.names) != "pytest.raises" or not call.args:
            return node
        expected = call.args[0]
        message = ast.Constant(f"expected {ast.unparse(expected)} to be raised")
        handler = ast.ExceptHandler(type=expected, name=None, body=[ast.Pass()])
        fail = ast.Raise(ast.Call(ast.Name("AssertionError", ast.Load()), [message], []), None)
        return ast.copy_location(ast.Try(node.body, [handler], [fail], []), node)


def _rewrite(fn: ast.FunctionDef, names: dict[str, str]) -> ast.FunctionDef:
    fn = _Body(names).visit(fn)
    ast.fix_missing_locations(fn)
    return fn


def _decorator_path(node: ast.expr, names: dict[str, str]) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return dotted(target, names) or ""


def _params(fn: ast.FunctionDef) -> list[str]:
    return [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]


def map_test(fn: ast.FunctionDef, names: dict[str, str]) -> tuple[str, MappedProperty | None]:
    """A test function rewritten for the harness: (unit-test source, None), or ("", property)
    for a ``@given`` test. Raises `Unmappable` saying what to write instead."""
    decorators = [(d, _decorator_path(d, names)) for d in fn.decorator_list]
    given = [d for d, p in decorators if p == "hypothesis.given"]
    if given:
        return "", _map_given(fn, given[0], decorators, names)
    params = [d for d, p in decorators if p == "pytest.mark.parametrize"]
    other = [p or ast.unparse(d) for d, p in decorators if p != "pytest.mark.parametrize"]
    if other:
        raise Unmappable(
            f"`{fn.name}` has the decorator @{other[0][:40]}, which the harness "
            f"does not run; {WRITE_INSTEAD}"
        )
    fn = _rewrite(fn, names)
    if params:
        fn = _parametrized(fn, params)
    if _params(fn):
        raise Unmappable(
            f"`{fn.name}` takes parameters (pytest fixtures are not available); "
            "unit tests are `def test_name():` with no parameters"
        )
    left = uses_framework(fn, names)
    if left is not None:
        raise Unmappable(
            f"`{fn.name}` uses `{left}` from a test framework the harness does not "
            f"provide; {WRITE_INSTEAD}"
        )
    fn.decorator_list = []
    return ast.unparse(fn), None


def _parametrized(fn: ast.FunctionDef, decorators: list[ast.expr]) -> ast.FunctionDef:
    body = fn.body
    for deco in reversed(decorators):
        if not isinstance(deco, ast.Call) or len(deco.args) < 2:
            raise Unmappable("@pytest.mark.parametrize needs argument names and values")
        argnames = _literal(deco.args[0])
        if isinstance(argnames, str):
            argnames = [n.strip() for n in argnames.split(",") if n.strip()]
        if not isinstance(argnames, list) or not all(
            isinstance(n, str) and n.isidentifier() for n in argnames
        ):
            raise Unmappable("@pytest.mark.parametrize argument names must be literal strings")
        _literal(deco.args[1])  # the values must be literal
        target: ast.expr = (
            ast.Name(argnames[0], ast.Store())
            if len(argnames) == 1
            else ast.Tuple([ast.Name(n, ast.Store()) for n in argnames], ast.Store())
        )
        body = [ast.For(target, deco.args[1], body, [])]
    keep = {n for d in decorators if isinstance(d, ast.Call) for n in _param_names(d)}
    args = [a for a in fn.args.args if a.arg not in keep]
    arguments = ast.arguments(
        posonlyargs=[],
        args=args,
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )
    new = ast.FunctionDef(name=fn.name, args=arguments, body=body, decorator_list=[], returns=None)
    return ast.fix_missing_locations(ast.copy_location(new, fn))


def _param_names(deco: ast.Call) -> list[str]:
    try:
        names = ast.literal_eval(deco.args[0])
    except (ValueError, SyntaxError):
        return []
    return [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)


def _map_given(
    fn: ast.FunctionDef,
    given: ast.expr,
    decorators: list[tuple[ast.expr, str]],
    names: dict[str, str],
) -> MappedProperty:
    if not isinstance(given, ast.Call):
        raise Unmappable(f"`{fn.name}`: @given needs strategies")
    params = _params(fn)
    if fn.args.vararg or fn.args.kwarg:
        raise Unmappable(f"`{fn.name}` takes *args or **kwargs; name every input")
    named = {kw.arg for kw in given.keywords}
    free = [p for p in params if p not in named]
    if len(given.args) > len(free):
        raise Unmappable(f"`{fn.name}`: @given has more strategies than parameters")
    # as in Hypothesis, positional strategies fill the rightmost parameters
    targets = dict(zip(free[len(free) - len(given.args) :], given.args, strict=True))
    for kw in given.keywords:
        if kw.arg is None or kw.arg not in params:
            raise Unmappable(f"`{fn.name}`: @given names an unknown parameter {kw.arg!r}")
        targets[kw.arg] = kw.value
    strategies: dict[str, Any] = {}
    prelude: list[ast.stmt] = []
    for param, node in targets.items():
        try:
            spec, steps = _top_strategy(node, names)
        except Unmappable as exc:
            raise Unmappable(f"`{fn.name}`: {exc}; {WRITE_INSTEAD}") from None
        strategies[param] = spec
        for kind, fn_node in steps:
            call = ast.Call(fn_node, [ast.Name(param, ast.Load())], [])
            prelude.append(
                ast.If(ast.UnaryOp(ast.Not(), call), [ast.Return(None)], [])
                if kind == "filter"
                else ast.Assign([ast.Name(param, ast.Store())], call)
            )
    missing = [p for p in params if p not in strategies and not _hinted(fn, p)]
    if missing:
        raise Unmappable(f"`{fn.name}`: parameter '{missing[0]}' has no strategy and no type hint")
    examples: list[dict[str, Any]] = []
    max_examples = None
    for deco, path in decorators:
        if path == "hypothesis.given":
            continue
        if path == "hypothesis.settings" and isinstance(deco, ast.Call):
            for kw in deco.keywords:
                if kw.arg == "max_examples":
                    value = _literal(kw.value)
                    if type(value) is int and value > 0:
                        max_examples = min(value, MAX_EXAMPLES)
        elif path == "hypothesis.example" and isinstance(deco, ast.Call):
            row = {p: _literal(a) for p, a in zip(params, deco.args, strict=False)}
            row |= {kw.arg: _literal(kw.value) for kw in deco.keywords if kw.arg}
            if set(row) == set(params):
                examples.append(row)
        else:
            raise Unmappable(
                f"`{fn.name}` has the decorator @{(path or ast.unparse(deco))[:40]},"
                f" which the harness does not run; {WRITE_INSTEAD}"
            )
    fn = _rewrite(fn, names)
    fn.body = [*prelude, *fn.body]
    fn.decorator_list = []
    ast.fix_missing_locations(fn)
    left = uses_framework(fn, names)
    if left is not None:
        raise Unmappable(f"`{fn.name}` uses `{left}` in its body (e.g. st.data()); {WRITE_INSTEAD}")
    return MappedProperty(
        fn.name, ast.unparse(fn) + "\n", strategies, tuple(examples), max_examples
    )


def _hinted(fn: ast.FunctionDef, param: str) -> bool:
    return any(
        a.arg == param and a.annotation is not None
        for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    )
