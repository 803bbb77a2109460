"""Compiling tool code under the policy: RestrictedPython plus size, depth and `global` checks.

A leaf of the worker's modules (the runtime and the property runner both compile with it).
"""

from __future__ import annotations

import ast
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

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        if node.value is None:  # `x: int` alone binds nothing
            return ast.copy_location(ast.Pass(), node)
        plain = ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)
        return self.visit(plain)


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
