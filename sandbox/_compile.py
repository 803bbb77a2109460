"""Compiling tool code under the policy: RestrictedPython plus size, depth and `global` checks.

A leaf of the worker's modules (the runtime and the property runner both compile with it).
"""

from __future__ import annotations

import ast
import copy
import re
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec

TOOL_FILE = "<tool>"
TESTS_FILE = "<tests>"
PROPERTY_FILE = "<property>"
_LINE_RE = re.compile(r"^Line (\d+): (.*)$", re.S)


class ToolTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no `global` statements, and annotated assignments
    (``total: int = 0``, which RestrictedPython refuses and models write often) run as plain
    assignments: the annotation is dropped unevaluated, the assignment is checked as any other."""

    def visit_Global(self, node: ast.Global) -> Any:
        self.error(node, "global statements are not allowed; pass values as arguments")
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        """``counts[k] += 1`` (RestrictedPython refuses augmented assignment to items and
        attributes; models write it all the time, and the real 1.5B's Boolean tool failed three
        repairs on ``stack[-1] += ...``) runs as ``counts[k] = counts[k] + 1`` when evaluating
        the target twice cannot differ from once (names, constants, attributes, items and
        arithmetic, no calls); the plain assignment is then checked as any other."""
        target = node.target
        if isinstance(target, ast.Subscript | ast.Attribute) and _pure(target):
            load = _as_load(target)
            value = ast.copy_location(ast.BinOp(left=load, op=node.op, right=node.value), node)
            plain = ast.copy_location(ast.Assign(targets=[target], value=value), node)
            return self.visit(ast.fix_missing_locations(plain))
        return super().visit_AugAssign(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        if node.value is None:  # `x: int` alone binds nothing
            return ast.copy_location(ast.Pass(), node)
        plain = ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)
        return self.visit(plain)


_PURE_NODES = (
    ast.Name,
    ast.Constant,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Tuple,
    ast.BinOp,
    ast.UnaryOp,
    ast.operator,
    ast.unaryop,
    ast.expr_context,
)


def _pure(node: ast.AST) -> bool:
    """Whether evaluating ``node`` twice is the same as once: no calls or other effects."""
    return all(isinstance(n, _PURE_NODES) for n in ast.walk(node))


def _as_load(target: ast.AST) -> ast.AST:
    """A copy of an assignment target that reads it."""
    node = copy.deepcopy(target)
    node.ctx = ast.Load()  # type: ignore[attr-defined]
    return node


class CompileFailure(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "compile failed")
        self.errors = errors


def _depth(tree: ast.AST, limit: int) -> int:
    """Deepest nesting of the tree, computed without recursion, stopping past ``limit``."""
    stack = [(tree, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def compile_source(source: str, filename: str, limits: Any) -> tuple[Any, list[str]]:
    """Compile under policy; raise CompileFailure with line-numbered errors."""
    if len(source.encode("utf-8", "replace")) > limits.max_source_bytes:
        raise CompileFailure(
            [
                {
                    "type": "SourceTooLarge",
                    "message": f"source is larger than {limits.max_source_bytes} bytes",
                    "line": None,
                }
            ]
        )
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise CompileFailure(
            [{"type": "SyntaxError", "message": str(exc.msg), "line": exc.lineno}]
        ) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise CompileFailure(
            [
                {
                    "type": "SyntaxError",
                    "message": f"source cannot be parsed: {type(exc).__name__}",
                    "line": None,
                }
            ]
        ) from None
    if _depth(tree, limits.max_ast_depth) > limits.max_ast_depth:
        raise CompileFailure(
            [
                {
                    "type": "PolicyError",
                    "message": f"code is nested more than {limits.max_ast_depth} levels deep",
                    "line": None,
                }
            ]
        )
    result = compile_restricted_exec(tree, filename, policy=ToolTransformer)
    if result.errors or result.code is None:
        errors = []
        for text in result.errors or ("compile failed",):
            m = _LINE_RE.match(text)
            line, message = (int(m.group(1)), m.group(2)) if m else (None, text)
            errors.append({"type": "PolicyError", "message": message.strip(), "line": line})
        raise CompileFailure(errors)
    functions = [
        n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    return result.code, functions
