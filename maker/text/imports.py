"""Star imports rewritten as explicit ones: `from typing import *` -> `from typing import List`.

Small models often write ``from typing import *`` or ``from collections import *``;
RestrictedPython refuses star imports whatever the module, and asked to change it, a model at
temperature 0 tends to send the same reply again. The rewrite is mechanical and exact: a star
import of a module the policy allows becomes an import of the names the code uses, does not
define itself, and that module exports under the policy (the first star import that exports a
name gets it; `typing` last, so `Counter` comes from `collections` when both are starred). A star import that provides nothing the code uses is dropped. Modules the policy
does not allow are left alone (the usual import check then says what to do).

    >>> src = "from typing import *\\ndef f(xs: List[int]) -> int:\\n    return len(xs)\\n"
    >>> new, notes = expand_star_imports(src, DEFAULT_POLICY)
    >>> new.splitlines()[0], notes
    ('from typing import List', ['rewrote `from typing import *` as `from typing import List`'])

A module used but never imported (``math.sqrt(n)`` with no ``import math``: the local 1.5B's
CRAFT solution failed on it) is imported by `add_missing_imports`, when the policy allows that
module and the code binds the name nowhere itself.

    >>> add_missing_imports("def f(n: int) -> float:\\n    return math.sqrt(n)\\n")[1]
    ['added `import math` (used, never imported)']

So is a conventional alias (``sp.symbols`` with no ``import sympy as sp``), and a function the
code calls but never imports: from the module the code already imports from (``from sympy import
symbols, Eq, solve`` then ``sqrt(x)``: the 1.5B's MATH solutions failed so 8 times), or from the
one module that offers that name (``Rational(1, 3)`` with no import at all). A name more than
one module offers, the code importing from none of them or from several, is left alone.

    >>> add_missing_imports("from sympy import symbols\\ndef f() -> str:\\n    return str(sqrt(8))\\n")[1]
    ['added `from sympy import sqrt` (used, never imported)']
"""

from __future__ import annotations

import ast
import builtins
import importlib

from maker.text.astutil import walk
from sandbox import ALL_PUBLIC, DEFAULT_POLICY, Policy
from sandbox.parsing import parse_source


def _exports(module: str, policy: Policy) -> set[str]:
    """The names `module` offers under `policy` (its public names for an ``ALL_PUBLIC`` entry;
    the module is one the policy allows, imported here only to list them)."""
    names = policy.modules[module]
    if names != ALL_PUBLIC:
        return {n for n in names if not n.startswith("_")}
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return set()
    return {n for n in dir(mod) if not n.startswith("_")}


def _free_names(tree: ast.Module) -> set[str]:
    """Names the code reads but never binds itself (nor are builtins)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias) and node.name != "*":
            bound.add((node.asname or node.name).partition(".")[0])
    return loaded - bound - set(dir(builtins))


def expand_star_imports(source: str, policy: Policy = DEFAULT_POLICY) -> tuple[str, list[str]]:
    """``source`` with its top-level star imports of allowed modules made explicit, and a note
    per rewrite; unchanged (and no notes) when there is nothing to rewrite or it cannot parse."""
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, []
    stars = [
        n
        for n in tree.body
        if isinstance(n, ast.ImportFrom)
        and not n.level
        and n.module in policy.modules
        and any(a.name == "*" for a in n.names)
    ]
    if not stars:
        return source, []
    wanted = _free_names(tree)
    lines = source.split("\n")
    notes: list[str] = []
    # top to bottom, the first module that exports a name provides it; typing last, as its
    # aliases of real classes (typing.Counter, typing.Deque) are for annotations only
    for node in sorted(stars, key=lambda n: n.module == "typing"):
        module = str(node.module)
        names = sorted(wanted & _exports(module, policy))
        wanted -= set(names)
        new = f"from {module} import {', '.join(names)}" if names else ""
        notes.append(
            f"rewrote `from {module} import *` as `{new}`"
            if names
            else f"dropped `from {module} import *` (nothing of it is used)"
        )
        lines[node.lineno - 1] = new
        for i in range(node.lineno, node.end_lineno or node.lineno):
            lines[i] = ""
    return "\n".join(lines).lstrip("\n"), notes


ALIASES: dict[str, str] = {"sp": "sympy", "np": "numpy"}
"""Conventional short names of modules: ``sp.sqrt`` means ``import sympy as sp``."""


def add_missing_imports(source: str, policy: Policy = DEFAULT_POLICY) -> tuple[str, list[str]]:
    """``source`` with the imports it uses but never wrote added on top, and a note per import:
    ``import X`` for each module X the policy allows that the code uses as ``X.name`` (``import
    sympy as sp`` for an alias in `ALIASES`), and ``from X import f`` for a function ``f`` it
    calls that X offers, X being the one module the code imports that offers `f` or else the one
    module of the policy that does. Unchanged (and no notes) when there is none or it cannot
    parse."""
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, []
    free = _free_names(tree)
    if not free:
        return source, []
    nodes = walk(tree)
    used = {
        node.value.id
        for node in nodes
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and isinstance(node.value.ctx, ast.Load)
    }
    added = [f"import {m}" for m in sorted(used & free) if m in policy.modules]
    added += [
        f"import {ALIASES[a]} as {a}"
        for a in sorted(used & free)
        if a in ALIASES and ALIASES[a] in policy.modules
    ]
    called = {
        node.func.id
        for node in nodes
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in free
    } - used
    if called:
        added += [
            f"from {m} import {n}" for n, m in sorted(_providers(tree, called, policy).items())
        ]
    if not added:
        return source, []
    lines = source.split("\n")
    # after a leading `from __future__` import, which must stay first
    at = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            at = node.end_lineno or node.lineno
    lines[at:at] = added
    return "\n".join(lines), [f"added `{line}` (used, never imported)" for line in added]


def _providers(tree: ast.Module, names: set[str], policy: Policy) -> dict[str, str]:
    """The module each of `names` is imported from: the one module the code imports (``import
    X`` or ``from X import ...``) that offers it, or else the one module of `policy` that does
    (`typing` never). A module so found counts as imported for the names left (``Rational`` is
    sympy's alone, so ``log`` beside it is sympy's too). A name no module or several modules
    offer is left out."""
    imported = {
        str(node.module) if isinstance(node, ast.ImportFrom) else a.name
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0)
        for a in node.names
    } & set(policy.modules)
    everywhere: dict[str, list[str]] = {}
    for m in sorted(set(policy.modules) - {"typing"}):
        for n in _exports(m, policy) & names:
            everywhere.setdefault(n, []).append(m)
    out: dict[str, str] = {}
    while True:
        found = {}
        for name in sorted(names - set(out)):
            mine = [m for m in everywhere.get(name, ()) if m in imported]
            if not mine and len(name) > 1:
                mine = everywhere.get(name, [])
            if len(mine) == 1:
                found[name] = mine[0]
        if not found:
            return out
        out |= found
        imported |= set(found.values())


def eval_as_safe_eval(source: str, policy: Policy = DEFAULT_POLICY) -> tuple[str, list[str]]:
    """``eval(...)`` calls rewritten as calls of the sandbox's ``safe_eval`` (`sandbox.expression`:
    expression strings of literals and operators), when the policy offers it and the code binds
    no ``eval`` of its own; with a note. RestrictedPython refuses any call named ``eval``, and
    ``eval(expression)`` is how small models compute an expression given as text (the real
    1.5B's Boolean-expression tools, refused it, were hand-written stack evaluators, wrong on
    every repair). Source that does not parse is returned unchanged.

    >>> eval_as_safe_eval("def f(s: str) -> bool:\\n    return eval(s)\\n")
    ('def f(s: str) -> bool:\\n    return safe_eval(s)\\n', ['ran `eval(...)` as `safe_eval(...)` (literals and operators only)'])
    """
    if "safe_eval" not in policy.builtins or "eval" not in source:
        return source, []
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, []
    source, tree, notes = _drop_eval_wrappers(source, tree)
    nodes = walk(tree)
    bound = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {n.arg for n in nodes if isinstance(n, ast.arg)}
    bound |= {n.name for n in nodes if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    if bound & {"eval", "safe_eval"}:  # the code's own names win
        return source, notes
    spots = sorted(
        (n.func.lineno, n.func.col_offset)
        for n in nodes
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "eval"
    )
    if not spots:
        return source, notes
    lines = source.splitlines(keepends=True)
    for lineno, col in reversed(spots):  # col offsets are in UTF-8 bytes
        raw = lines[lineno - 1].encode("utf-8")
        lines[lineno - 1] = (raw[:col] + b"safe_eval" + raw[col + 4 :]).decode("utf-8")
    notes.append("ran `eval(...)` as `safe_eval(...)` (literals and operators only)")
    return "".join(lines), notes


def _drop_eval_wrappers(source: str, tree: ast.Module) -> tuple[str, ast.Module, list[str]]:
    """A ``def safe_eval(...)`` of the code's own (top-level or nested) whose body calls ``eval``
    is dropped, so the sandbox's `safe_eval` is the one called: the real 1.5B, told that
    ``safe_eval(text)`` computes an expression given as text, wrote its own ``safe_eval`` around
    ``eval`` (refused: the sandbox has no ``eval``) three LATM proposals running, and nested in
    its tool in CREATOR repairs. A ``safe_eval`` of its own that does not call ``eval`` (a
    parser, say) is kept. Returns the source, its tree and the notes."""
    spans: list[tuple[int, int]] = []
    for node in walk(tree):  # top-level or nested in the tool (the real 1.5B wrote both)
        if isinstance(node, ast.FunctionDef) and node.name == "safe_eval":
            calls_eval = any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "eval"
                for n in walk(node)
            )
            if calls_eval and node.end_lineno is not None:
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                spans.append((first, node.end_lineno))
    if not spans:
        return source, tree, []
    spans.sort()
    outer = [
        span
        for i, span in enumerate(spans)
        if not any(o[0] <= span[0] and span[1] <= o[1] for o in spans[:i])
    ]
    lines = source.splitlines(keepends=True)
    for first, last in reversed(outer):
        del lines[first - 1 : last]
    new = "".join(lines)
    try:
        new_tree = parse_source(new)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, tree, []
    note = (
        "dropped the code's own `safe_eval` (it called `eval`, which the sandbox does not "
        "have); the sandbox's `safe_eval` is used"
    )
    return new, new_tree, [note]


def drop_builtin_typing_imports(source: str) -> tuple[str, list[str]]:
    """``from typing import List, float``: builtin names (``float``, ``int``, ``str``...) that a
    ``from typing import`` line asks for are dropped from it (they are builtins already; typing
    has no such names and the import would fail), with a note. The real 1.5B wrote
    ``from typing import List, float`` in a repair and lost the unit to it.

    >>> drop_builtin_typing_imports("from typing import List, float\\nx: List[float] = []\\n")
    ('from typing import List\\nx: List[float] = []\\n', ['dropped `float` from `from typing import` (a builtin)'])
    """
    if "typing" not in source:
        return source, []
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, []
    lines = source.splitlines(keepends=True)
    notes: list[str] = []
    for node in sorted(
        (n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "typing"),
        key=lambda n: -n.lineno,
    ):
        dropped = [a.name for a in node.names if a.asname is None and a.name in _BUILTIN_TYPES]
        if not dropped:
            continue
        kept = [a for a in node.names if a.name not in dropped or a.asname]
        names = ", ".join(f"{a.name} as {a.asname}" if a.asname else a.name for a in kept)
        end = node.end_lineno or node.lineno
        lines[node.lineno - 1 : end] = [f"from typing import {names}\n"] if kept else []
        notes += [f"dropped `{n}` from `from typing import` (a builtin)" for n in dropped]
    return ("".join(lines), notes[::-1]) if notes else (source, [])


_BUILTIN_TYPES = frozenset(
    {
        "int",
        "float",
        "str",
        "bool",
        "list",
        "dict",
        "tuple",
        "set",
        "frozenset",
        "bytes",
        "complex",
        "object",
        "type",
    }
)
