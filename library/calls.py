"""Literal calls of a tool, ``name(arg, key=value)``, and arguments checked against its spec.

Every door to a tool reads a call or its arguments here: doctest examples of a hand-written
tool (`library.authoring`), the call a maker model decides on and the usage demonstrations it
writes (`maker.make`), and the JSON arguments of the tool user, the CLI and the MCP server.
Calls are read with `ast` only: nothing is evaluated but literals and, in a call's arguments,
constant arithmetic on numbers (``f(a=21.73 - 18.27)``, ``f(45 * math.pi)``; computed from the
syntax tree by `sandbox.expression.arithmetic_value`, never run).

>>> parse_literal_call("gcd(12, b=18)", "gcd", ["a", "b"])
{'a': 12, 'b': 18}
>>> parse_literal_call("gcd(n)", "gcd", ["a", "b"], names={"n": 4})
{'a': 4}
>>> print(parse_literal_call("gcd(a=x)", "gcd", ["a", "b"]))
argument 'a': 'x' is not a literal
>>> parse_literal_call("print('hi')", "gcd", ["a", "b"]) is None
True
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from library.records import JSON, ToolSpec
from sandbox.expression import arithmetic_value
from sandbox.parsing import parse_source

_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)


class NotLiteral(ValueError):
    """A value that is not a literal (or, as JSON, has no JSON form); the message says which."""


def as_plain_json(value: Any) -> JSON:
    """A literal as JSON: tuples become lists, sets sorted lists; anything else is refused.

    >>> as_plain_json((1, {2, 3}))
    [1, [2, 3]]
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [as_plain_json(v) for v in value]
    if isinstance(value, set | frozenset):
        try:
            return [as_plain_json(v) for v in sorted(value)]
        except TypeError:
            raise NotLiteral("a set of mixed types") from None
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise NotLiteral("a dict with non-string keys")
        return {k: as_plain_json(v) for k, v in value.items()}
    raise NotLiteral(f"a {type(value).__name__} value")


def literal_value(
    node: ast.expr | str,
    *,
    names: Mapping[str, Any] | None = None,
    as_json: bool = False,
    fold: bool = False,
) -> Any:
    """The value of a literal (an expression node or its text), or `NotLiteral` saying why.

    ``names`` binds bare names to values (``n = 36`` earlier in the same block); ``as_json``
    returns the plain JSON form (`as_plain_json`); ``fold`` also takes constant arithmetic on
    numbers (``21.73 - 18.27``, ``45 * math.pi``; `sandbox.expression.arithmetic_value`), as
    models write a call's arguments.

    >>> literal_value("45 * math.pi", fold=True), literal_value("a - 1", names={"a": 4}, fold=True)
    (141.371669411541, 3)
    """
    if isinstance(node, ast.Name) and names is not None and node.id in names:
        value = names[node.id]
    else:
        try:
            value = ast.literal_eval(node.strip() if isinstance(node, str) else node)
        except _LITERAL_ERRORS:
            text = node.strip() if isinstance(node, str) else ast.unparse(node)
            value = _folded(node, names) if fold else None
            if value is None:
                raise NotLiteral(f"{text[:60]!r} is not a literal") from None
    return as_plain_json(value) if as_json else value


def _folded(node: ast.expr | str, names: Mapping[str, Any] | None) -> int | float | None:
    """The number a constant arithmetic expression computes, or None when it is not one."""
    try:
        tree = parse_source(node.strip(), mode="eval").body if isinstance(node, str) else node
        return arithmetic_value(tree, names)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def literal_assignment(
    code: str, *, names: Mapping[str, Any] | None = None, as_json: bool = False
) -> tuple[str, Any] | None:
    """``(name, value)`` when `code` is one statement ``name = <literal>`` (the value may use
    names bound in ``names``), else None. Models bind an argument before the call (``n = 36``
    then ``f(n)``); nothing is evaluated but literals and constant arithmetic on numbers.

    >>> literal_assignment("words = 'b a'")
    ('words', 'b a')
    >>> literal_assignment("w = open('x').read()") is None, literal_assignment("a == 1") is None
    (True, True)
    """
    code = code.strip()
    if not re.match(r"^[A-Za-z_]\w*\s*=[^=]", code):
        return None
    try:
        body = parse_source(code).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not (
        len(body) == 1
        and isinstance(body[0], ast.Assign)
        and len(body[0].targets) == 1
        and isinstance(body[0].targets[0], ast.Name)
    ):
        return None
    try:
        value = literal_value(body[0].value, names=names, as_json=as_json, fold=True)
        return body[0].targets[0].id, value
    except NotLiteral:
        return None


def call_arguments(
    node: ast.Call,
    params: Sequence[str],
    *,
    required: Collection[str] = (),
    names: Mapping[str, Any] | None = None,
    as_json: bool = False,
    pack: str | None = None,
) -> dict[str, Any] | str:
    """The arguments of a parsed call by parameter name, or a one-line problem.

    Positional arguments map to ``params`` in order; keywords must name a parameter, once;
    every value must be a literal, a name bound in ``names``, or constant arithmetic on numbers
    (and such names); every name in ``required``
    must be given. ``pack``, the one parameter of a tool that takes a list: several positional
    arguments and no keyword are that list (``f("a", "b")`` -> ``{pack: ["a", "b"]}``).
    """
    if pack is not None and list(params) == [pack] and len(node.args) > 1 and not node.keywords:
        packed = ast.List(elts=list(node.args), ctx=ast.Load())
        node = ast.Call(func=node.func, args=[packed], keywords=[])
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        return "*args and **kwargs are not supported; pass literal arguments by name"
    if len(node.args) > len(params):
        return f"{len(node.args)} positional arguments, the tool takes {len(params)}"
    out: dict[str, Any] = {}
    given = list(zip(params, node.args, strict=False))
    given += [(k.arg, k.value) for k in node.keywords if k.arg is not None]
    for name, value in given:
        if name not in params:
            return f"unknown argument {name!r}; the tool takes ({', '.join(params)})"
        if name in out:
            return f"argument {name!r} is given twice"
        try:
            out[name] = literal_value(value, names=names, as_json=as_json, fold=True)
        except NotLiteral as exc:
            return f"argument {name!r}: {exc}"
    missing = [p for p in params if p in required and p not in out]
    if missing:
        return f"missing argument {missing[0]!r}"
    return out


def parse_literal_call(
    text: str,
    name: str,
    params: Sequence[str],
    *,
    required: Collection[str] = (),
    names: Mapping[str, Any] | None = None,
    as_json: bool = False,
    pack: str | None = None,
) -> dict[str, Any] | str | None:
    """The arguments of ``text`` when it is one call ``name(...)``: a dict, or a one-line problem
    with its arguments (see `call_arguments`, and ``pack`` there); None when ``text`` is not a
    call of ``name``."""
    try:
        node = parse_source(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ):
        return None
    return call_arguments(node, params, required=required, names=names, as_json=as_json, pack=pack)


# ---------------------------------------------------------------- JSON arguments


def _json_type(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


@functools.lru_cache(maxsize=4096)
def _validator(schema_json: str) -> Any:
    """A validator for one schema, built (and the schema checked) once."""
    import jsonschema

    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_error(schema: Mapping[str, Any], value: Any) -> Any:
    """The most relevant `jsonschema.ValidationError` of ``value`` against ``schema``, or None.

    Raises `jsonschema.SchemaError` for a schema the validator cannot read.
    """
    import jsonschema

    validator = _validator(json.dumps(schema, sort_keys=True))
    return jsonschema.exceptions.best_match(validator.iter_errors(value))


def argument_problems(spec: ToolSpec, arguments: Mapping[str, Any]) -> list[str]:
    """Why JSON ``arguments`` do not fit the tool's input schema, one phrase per problem.

    Unknown and missing arguments by name, then each argument against its own schema, with
    the path inside it and the JSON type it had: ``"words[1]: 3 is not of type 'string' (got
    integer)"``. Empty when they fit. A parameter schema the validator cannot read is skipped
    (the sandbox run decides).
    """
    import jsonschema

    schema = spec.input_schema()
    props = schema.get("properties", {})
    problems: list[str] = []
    extra = [k for k in arguments if k not in props]
    if extra:
        problems.append(f"unknown argument(s) {', '.join(map(repr, extra))}")
    missing = [k for k in schema.get("required", []) if k not in arguments]
    if missing:
        problems.append(f"missing required argument(s) {', '.join(map(repr, missing))}")
    for name, value in arguments.items():
        if name not in props:
            continue
        try:
            error = schema_error(props[name], value)
        except jsonschema.SchemaError:
            continue
        if error is not None:
            where = "".join(f"[{p!r}]" for p in error.absolute_path)
            problems.append(f"{name}{where}: {error.message} (got {_json_type(error.instance)})")
    return problems


def argument_problem(spec: ToolSpec, arguments: object) -> str | None:
    """Why ``arguments`` (any JSON value) do not fit the spec's whole input schema, in one line
    (``"a: '12' is not of type 'integer'"``), or None. The check the CLI, MCP and API apply."""
    error = schema_error(spec.input_schema(), arguments)
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message
