"""`safe_eval`: the sandbox's stand-in for ``eval``, for expression strings of literals only.

Small models asked for a tool that computes an expression given as text (``"not ( True and
False ) or False"``, ``"3 * (4 + 5)"``) write ``eval(expression)``. The sandbox refuses ``eval``
(RestrictedPython refuses the call outright), and the real 1.5B, told to parse the text itself,
wrote stack evaluators that were wrong on every repair. `safe_eval` computes such a string from
its syntax tree with a closed list of nodes: literals (numbers, strings, booleans, None),
tuples and lists of them, arithmetic, comparisons, ``and``/``or``/``not``, ``x if c else y``.
There are no names, attributes, subscripts or calls, so nothing can be reached from it; sizes
are bounded (text length, nesting, exponents, repeated strings and lists).

Any other expression raises ``ValueError`` saying what is not allowed (a tool's way to signal a
bad input). It runs on the host side of the guards, inside the sandbox worker.

`arithmetic_value` is the engine's own, narrower reader: the number a call argument written as
constant arithmetic stands for (``21.73 - 18.27``, ``45 * math.pi``), computed from the syntax
tree in the host process when a model's call is read (`library.calls`).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Mapping
from typing import Any

from sandbox.parsing import parse_source

MAX_CHARS = 10_000
MAX_DEPTH = 100
MAX_EXPONENT = 10_000
MAX_BITS = 100_000  # an integer result of ** or << at most this large
MAX_ITEMS = 100_000  # a string or list made by * at most this long

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_LITERALS = (int, float, str, bool, type(None))


def safe_eval(expression: Any, globals: Any = None, locals: Any = None) -> Any:
    """The value of ``expression``, a string holding one expression of literals (see the module
    docstring); ``ValueError`` for anything else. ``globals``/``locals`` are accepted for
    ``eval``'s call shape (``eval(text, {"__builtins__": None}, {})``) when they give no names.

    >>> safe_eval("not ( True and False ) or False"), safe_eval("3 * (4 + 5) - 2 ** 3")
    (True, 19)
    """
    for names in (globals, locals):
        if names is not None and (not isinstance(names, dict) or set(names) - {"__builtins__"}):
            raise ValueError(  # the real 1.5B passed a dict of "variables" True/False
                "safe_eval takes no names: call it with the text alone, safe_eval(text); "
                "True, False, None, numbers and strings are literals in the text"
            )
    if not isinstance(expression, str):
        raise ValueError(f"safe_eval needs a str expression, not {type(expression).__name__}")
    text = expression.strip()
    if len(text) > MAX_CHARS:
        raise ValueError(f"expression longer than {MAX_CHARS} characters")
    try:
        tree = parse_source(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError("expression nested too deeply") from None
    return _value(tree.body, 0)


_OPERATORS = (ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.IfExp)
_EXPRESSION_NODES = (
    ast.Constant,
    ast.Tuple,
    ast.List,
    *_OPERATORS,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
    ast.expr_context,
)


def is_expression(text: Any) -> bool:
    """Whether ``text`` is an expression string `safe_eval` takes that holds an operator
    (``"True and not False"``, ``"3 * (4 + 5)"``; not ``"12"``, ``"-5"``, ``"x + 1"`` or prose). Only its
    syntax is looked at: nothing is computed.

    >>> is_expression("not ( True and False ) or False"), is_expression("apple banana")
    (True, False)
    """
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARS:
        return False
    try:
        tree = parse_source(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return False
    nodes = list(ast.walk(tree.body))
    return (
        all(isinstance(n, _EXPRESSION_NODES) for n in nodes)
        and all(not isinstance(n, ast.Constant) or isinstance(n.value, _LITERALS) for n in nodes)
        and any(isinstance(n, _OPERATORS) and not _signed_number(n) for n in nodes)
    )


def _signed_number(node: ast.AST) -> bool:
    """``-5``, ``+2.5``: a number written with its sign, not a computation."""
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
    )


def _value(node: ast.AST, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("expression nested too deeply")
    depth += 1
    if isinstance(node, ast.Constant) and isinstance(node.value, _LITERALS):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        items = [_value(e, depth) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand, depth))
    if isinstance(node, ast.BoolOp):
        is_and = isinstance(node.op, ast.And)
        result: Any = None
        for operand in node.values:  # short-circuit as Python does
            result = _value(operand, depth)
            if bool(result) != is_and:
                return result
        return result
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left, depth), _value(node.right, depth)
        _check_size(node.op, left, right)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _value(node.left, depth)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _value(comparator, depth)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        test = _value(node.test, depth)
        return _value(node.body if test else node.orelse, depth)
    what = type(node).__name__
    if isinstance(node, ast.Name):
        what = f"the name {node.id!r}"
    elif isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
        what = {ast.Call: "a call", ast.Attribute: "an attribute", ast.Subscript: "indexing"}[
            type(node)
        ]
    raise ValueError(f"safe_eval computes literals and operators only; {what} is not allowed")


def _check_size(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse results too large to build (a tool's input should not stall the worker)."""
    if isinstance(op, ast.Pow) and isinstance(left, int) and isinstance(right, int):
        if abs(right) > MAX_EXPONENT or abs(left).bit_length() * abs(right) > MAX_BITS:
            raise ValueError("the power is too large to compute")
    if isinstance(op, ast.Mult):
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                if len(seq) * max(times, 0) > MAX_ITEMS:
                    raise ValueError("the repeated sequence would be too long")


# ------------------------------------------------------------- constant arithmetic (host side)

MAX_ARITHMETIC_NODES = 200
MAX_ARITHMETIC_BITS = 13_000  # about 3,900 digits
_MATH_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
_MATH_FUNCTIONS: dict[str, Any] = {
    name: getattr(math, name)
    for name in (
        "sqrt",
        "pow",
        "exp",
        "log",
        "log10",
        "log2",
        "sin",
        "cos",
        "tan",
        "radians",
        "degrees",
        "floor",
        "ceil",
        "fabs",
    )
}
_BUILTIN_FUNCTIONS: dict[str, Any] = {"abs": abs, "round": round}
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


def arithmetic_value(node: ast.expr, names: Mapping[str, Any] | None = None) -> int | float:
    """The number a constant arithmetic expression stands for, or ``ValueError`` saying why not.

    Models write a tool call's argument as the sum they mean (``f(a=21.73 - 18.27)``,
    ``f(volume=45 * math.pi)``, ``f(math.pow(6, 3))``). This computes such a node from its
    syntax tree alone, so it may run in the host process: numbers (not booleans), ``+ - * / //
    % **`` and signs, ``math.pi``/``math.e``/``math.tau``, and the pure number functions
    ``math.sqrt``, ``math.pow``, ``math.exp``, ``math.log`` (and ``log10``, ``log2``),
    ``math.sin``/``cos``/``tan``, ``math.radians``/``degrees``, ``math.floor``/``ceil``/``fabs``,
    ``abs`` and ``round``, with numbers as arguments, and the names in ``names`` bound to numbers
    (``a = 21.73`` earlier in the same block). No other names, no strings, no other calls; sizes
    are bounded (node count, exponents, integer digits). A float result is given to 15
    significant digits, so ``21.73 - 18.27`` is 3.46, not 3.460000000000001.

    >>> import ast
    >>> arithmetic_value(ast.parse("21.73 - 18.27", mode="eval").body)
    3.46
    >>> arithmetic_value(ast.parse("1 * math.pow(6, 3)", mode="eval").body)
    216.0
    """
    if sum(1 for _ in ast.walk(node)) > MAX_ARITHMETIC_NODES:
        raise ValueError("the expression is too long to compute")
    try:
        value = _number(node, names or {})
    except (ArithmeticError, ValueError, TypeError) as exc:  # 1 / 0, math.sqrt(-1), 10.0 ** 400
        raise ValueError(f"the expression cannot be computed: {exc}") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("the expression is not a finite number")
        value = float(f"{value:.15g}")
    return value


def _number(node: ast.AST, names: Mapping[str, Any]) -> int | float:
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(node, ast.Name) and node.id in names:
        value = names[node.id]
    if isinstance(node, ast.Constant | ast.Name):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise ValueError(f"{ast.unparse(node)[:60]} is not a number")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _UNARY[type(node.op)](_number(node.operand, names))
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
        left, right = _number(node.left, names), _number(node.right, names)
        _check_size(node.op, left, right)
        return _bounded(_BINARY[type(node.op)](left, right))
    if _is_math(node) and node.attr in _MATH_CONSTANTS:
        return _MATH_CONSTANTS[node.attr]
    if isinstance(node, ast.Call) and not node.keywords:
        func = node.func
        if _is_math(func) and func.attr in _MATH_FUNCTIONS:
            chosen = _MATH_FUNCTIONS[func.attr]
        elif isinstance(func, ast.Name) and func.id in _BUILTIN_FUNCTIONS:
            chosen = _BUILTIN_FUNCTIONS[func.id]
        else:
            raise ValueError(f"{ast.unparse(func)}() is not a number function")
        args = [_number(a, names) for a in node.args]
        if chosen is math.pow and len(args) == 2:
            _check_size(ast.Pow(), *args)
        return _bounded(chosen(*args))
    raise ValueError(f"{ast.unparse(node)[:60]!r} is not constant arithmetic")


def _bounded(value: Any) -> int | float:
    """An integer result short enough to print (Python refuses over 4,300 digits)."""
    if isinstance(value, int) and value.bit_length() > MAX_ARITHMETIC_BITS:
        raise ValueError("the number is too large")
    return value


def _is_math(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "math"
    )
