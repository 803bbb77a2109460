"""A rename-insensitive hash of a tool's code, for de-duplication.

Two sources get the same `ast_hash` when they differ only in formatting, comments, docstrings
or the names they bind (functions, parameters, locals, import aliases). Names they do not bind
(builtins, module attributes) are kept, so `max` and `min` stay different.
"""

from __future__ import annotations

import ast
import functools
import hashlib

from sandbox.parsing import parse_source


def _strip_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            return body[1:] or [ast.Pass()]
    return body


class _Bound(ast.NodeVisitor):
    """Collect every name the source binds."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.names.add(node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.names.add(node.name)
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        self.names.add(node.arg)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.names.add(node.id)

    def visit_alias(self, node: ast.alias) -> None:
        self.names.add(node.asname or node.name.split(".")[0])

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)


class _Renamer(ast.NodeTransformer):
    """Rename bound names to v0, v1, ... in order of first appearance; drop docstrings."""

    def __init__(self, bound: set[str]) -> None:
        self.bound = bound
        self.mapping: dict[str, str] = {}

    def _new(self, name: str) -> str:
        if name not in self.bound:
            return name
        if name not in self.mapping:
            self.mapping[name] = f"v{len(self.mapping)}"
        return self.mapping[name]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._new(node.name)
        node.body = _strip_docstring(node.body)
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self._new(node.name)
        node.body = _strip_docstring(node.body)
        return self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._new(node.arg)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._new(node.id)
        return node

    def visit_alias(self, node: ast.alias) -> ast.AST:
        bound = node.asname or node.name.split(".")[0]
        new = self._new(bound)
        if node.asname or "." not in node.name:
            node.asname = new
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name:
            node.name = self._new(node.name)
        return self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> ast.AST:
        node.names = [self._new(n) for n in node.names]
        return node

    def visit_Nonlocal(self, node: ast.Nonlocal) -> ast.AST:
        node.names = [self._new(n) for n in node.names]
        return node


def normalized_dump(source: str) -> str:
    """The normalized AST of `source` as text; raises SyntaxError for unparsable source."""
    tree = parse_source(source)
    tree.body = _strip_docstring(tree.body)
    finder = _Bound()
    finder.visit(tree)
    tree = _Renamer(finder.names).visit(tree)
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


@functools.lru_cache(maxsize=1024)
def ast_hash(source: str) -> str:
    """Hex sha256 of the normalized AST; for unparsable source, of the raw text (memoized)."""
    try:
        text = "ast:" + normalized_dump(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        text = "raw:" + source
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
