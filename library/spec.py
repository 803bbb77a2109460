"""Derive a tool's typed spec from its source with `ast`, never executing it.

Tool source is untrusted LLM output: it is parsed, never imported or exec'd in this process.

>>> src = 'def add(a: int, b: int = 2) -> int:\\n    \"\"\"Add two ints.\\n\\n    Args:\\n        a: first.\\n    \"\"\"\\n    return a + b\\n'
>>> spec = derive_spec(src)
>>> spec.input_schema()["required"], spec.params[0].description
(['a'], 'first.')
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from library.records import JSON, ParamSpec, ToolSpec
from sandbox.parsing import parse_source

SpecErrorCode = Literal[
    "syntax",
    "missing_function",
    "ambiguous_function",
    "missing_docstring",
    "missing_annotation",
    "unsupported_annotation",
    "unsupported_parameter",
    "too_large",
]

MAX_SOURCE_CHARS = 200_000  # larger sources are refused before parsing


@dataclass(frozen=True)
class SpecError:
    """Why a spec could not be derived; `message` is one line naming the culprit."""

    code: SpecErrorCode
    message: str
    line: int | None = None


# Annotation names mapped to JSON schema: policy as data, read by the tests too.
SCALARS: dict[str, dict[str, JSON]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "None": {"type": "null"},
    "NoneType": {"type": "null"},
    "Any": {},
    "object": {},
    # exact numbers and symbolic values cross the JSON boundary as strings
    "Fraction": {"type": "string", "format": "fraction"},
    "Decimal": {"type": "string", "format": "decimal"},
    "complex": {"type": "string", "format": "complex"},
    "Expr": {"type": "string", "format": "sympy"},
    "Rational": {"type": "string", "format": "fraction"},
    "Symbol": {"type": "string", "format": "sympy"},
}
ARRAYS = {"list", "List", "Sequence", "Iterable", "Collection", "MutableSequence"}
SETS = {"set", "Set", "frozenset", "FrozenSet", "AbstractSet", "MutableSet"}
MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping"}
TUPLES = {"tuple", "Tuple"}
OPTIONAL = {"Optional"}
UNIONS = {"Union"}
LITERALS = {"Literal"}


class UnsupportedAnnotation(Exception):
    """A type annotation with no JSON schema; ``text`` is the annotation's source."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _tail(node: ast.expr) -> str:
    """Last dotted component of a Name/Attribute (`typing.List` -> `List`)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    raise UnsupportedAnnotation(ast.unparse(node))


def annotation_schema(node: ast.expr) -> dict[str, JSON]:
    """JSON schema for one annotation expression; raises `UnsupportedAnnotation` otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            inner = parse_source(node.value, mode="eval").body
        except SyntaxError:
            raise UnsupportedAnnotation(node.value) from None
        return annotation_schema(inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([node.left, node.right])
    if isinstance(node, ast.Subscript):
        head = _tail(node.value)
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head in ARRAYS:
            return {"type": "array", "items": annotation_schema(args[0])}
        if head in SETS:
            return {"type": "array", "items": annotation_schema(args[0]), "uniqueItems": True}
        if head in MAPPINGS:
            value = annotation_schema(args[1]) if len(args) > 1 else {}
            return {"type": "object", "additionalProperties": value}
        if head in TUPLES:
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                return {"type": "array", "items": annotation_schema(args[0])}
            items = [annotation_schema(a) for a in args]
            return {
                "type": "array",
                "prefixItems": items,
                "minItems": len(items),
                "maxItems": len(items),
            }
        if head in OPTIONAL:
            return _union([args[0], ast.Constant(None)])
        if head in UNIONS:
            return _union(args)
        if head in LITERALS:
            values = []
            for a in args:
                if not isinstance(a, ast.Constant):
                    raise UnsupportedAnnotation(ast.unparse(node))
                values.append(a.value)
            return {"enum": values}
        raise UnsupportedAnnotation(ast.unparse(node))
    name = _tail(node)
    if name in SCALARS:
        return dict(SCALARS[name])
    if name in ARRAYS or name in TUPLES:
        return {"type": "array"}
    if name in SETS:
        return {"type": "array", "uniqueItems": True}
    if name in MAPPINGS:
        return {"type": "object"}
    raise UnsupportedAnnotation(name)


def _union(members: list[ast.expr]) -> dict[str, JSON]:
    flat: list[dict[str, JSON]] = []
    for m in members:
        s = annotation_schema(m)
        flat.extend(s["anyOf"] if set(s) == {"anyOf"} else [s])
    unique: list[dict[str, JSON]] = []
    for s in flat:
        if s not in unique:
            unique.append(s)
    return unique[0] if len(unique) == 1 else {"anyOf": unique}


# ---------------------------------------------------------------- docstrings

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Returns|Return|Yields|Raises|Examples?|Notes?|See Also|References)\s*:?\s*$"
)
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\w+)\s*(?::\s*(.*))?$")
_REST_PARAM = re.compile(
    r"^:(?:param|parameter|arg|argument)\s+(?:[\w\[\], ]+\s+)?(\w+)\s*:\s*(.*)$"
)
_REST_RETURN = re.compile(r"^:returns?\s*:\s*(.*)$")


@dataclass(frozen=True)
class Docstring:
    summary: str
    description: str
    params: dict[str, str]
    returns: str


_ITEM_SECTIONS = ("args", "arguments", "parameters", "params", "keyword args")
_RETURN_SECTIONS = ("returns", "return", "yields")


def _problem_of_example(lines: list[str], i: int) -> bool:
    """Whether line `i` starts the ``Problem:`` paragraph of a doctest example (a ``>>>`` line
    follows it before any blank line; see `library.authoring.doctest_examples`)."""
    if not lines[i].strip().startswith("Problem:"):
        return False
    for line in lines[i + 1 :]:
        if not line.strip():
            return False
        if line.strip().startswith(">>>"):
            return True
    return False


def parse_docstring(doc: str) -> Docstring:
    """Split a Google, numpy or reST docstring into summary, description, params and returns.

    Sections are parsed as sections: doctest examples (``>>>`` lines and the output after them,
    up to a blank line, and the ``Problem:`` paragraph right above one) and ``Examples:``
    sections belong to no description (a tool's examples
    are its tests); text dedented below a Google section's items ends that section.
    """
    lines = [ln.rstrip() for ln in doc.expandtabs().splitlines()]
    params: dict[str, str] = {}
    returns: list[str] = []
    body: list[str] = []
    section: str | None = None
    current: str | None = None
    base_indent = 0
    numpy = False
    in_doctest = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if in_doctest or stripped.startswith(">>>") or _problem_of_example(lines, i):
            in_doctest = bool(stripped)  # a doctest's output runs to the next blank line
            i += 1
            continue
        m_sec = _SECTION.match(line)
        numpy_header = m_sec and nxt and set(nxt) == {"-"}
        if m_sec and (line.rstrip().endswith(":") or numpy_header):
            section = m_sec.group(1).lower()
            numpy = bool(numpy_header)
            current = None
            base_indent = -1
            i += 2 if numpy_header else 1
            continue
        m_rest = _REST_PARAM.match(stripped)
        if m_rest:
            section, current = "rest", m_rest.group(1)
            params[current] = m_rest.group(2).strip()
            i += 1
            continue
        m_ret = _REST_RETURN.match(stripped)
        if m_ret:
            section, current = "rest_returns", None
            returns.append(m_ret.group(1).strip())
            i += 1
            continue
        if stripped.startswith(":"):  # :type x:, :rtype: and other fields
            section, current = "rest_other", None
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        ended = section in (*_ITEM_SECTIONS, *_RETURN_SECTIONS) and not numpy
        if ended and stripped and 0 <= indent < base_indent:
            section, current = None, None  # dedented below the items: the section is over
        if section is None:
            body.append(stripped)
        elif section in _ITEM_SECTIONS:
            if stripped:  # a blank line inside a section keeps it open
                if base_indent < 0:
                    base_indent = indent
                top = indent <= base_indent
                m = _GOOGLE_ITEM.match(stripped) if top and not numpy else None
                m_np = _NUMPY_ITEM.match(stripped.split(":")[0].strip()) if top and numpy else None
                if m:
                    current = m.group(1).lstrip("*")
                    params[current] = m.group(3).strip()
                elif m_np:
                    current = m_np.group(1)
                    params[current] = ""
                elif current:
                    params[current] = (params[current] + " " + stripped).strip()
        elif section in _RETURN_SECTIONS:
            if stripped:
                if base_indent < 0:
                    base_indent = indent
                if numpy and indent <= base_indent:
                    i += 1  # numpy: an unindented line names the type
                    continue
                text = stripped
                m = re.match(r"^[\w\[\], .|]+:\s*(.+)$", stripped)
                if m and not returns:
                    text = m.group(1)
                returns.append(text)
        elif section in ("rest", "rest_returns") and stripped and indent > 0:
            if section == "rest" and current:
                params[current] = (params[current] + " " + stripped).strip()
            elif section == "rest_returns":
                returns.append(stripped)
        i += 1
    while body and not body[-1]:
        body.pop()
    summary = body[0] if body else ""
    description = "\n".join(body).strip()
    description = re.sub(r"\n{3,}", "\n\n", description)
    return Docstring(summary, description, params, " ".join(returns).strip())


# ---------------------------------------------------------------- arguments


def call_signature(name: str, spec: ToolSpec, render_default: Callable[[Any], str] = repr) -> str:
    """``name(a: int, b: int = 2) -> int`` from a stored spec (a default's source text when
    the spec kept it, else ``render_default`` of its value)."""
    params = []
    for p in spec.params:
        text = f"{p.name}: {p.annotation}" if p.annotation else p.name
        if not p.required:
            text += f" = {p.default_expr or render_default(p.default)}"
        params.append(text)
    ret = f" -> {spec.returns_annotation}" if spec.returns_annotation else ""
    return f"{name}({', '.join(params)}){ret}"


# ---------------------------------------------------------------- entry point


NOT_ENTRY_PREFIXES = ("_", "test_", "prop_")
"""Top-level functions with these prefixes are never chosen as the entry unless named:
helpers, and a draft's unit tests and Hypothesis properties."""

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class NoEntry:
    """Why no entry function was chosen: ``missing`` (none, or none of that name) or
    ``ambiguous`` (several could be it); ``names`` are the candidates there were."""

    reason: Literal["missing", "ambiguous"]
    names: tuple[str, ...]


def choose_entry(
    tree: ast.Module, entry: str | None, prefer: str | None = None
) -> Function | NoEntry:
    """The one rule for a module's entry function (the tool), for made and hand-written tools.

    Named: the last top-level function of that name (the one Python keeps). Else, among the
    public top-level functions (not starting with `NOT_ENTRY_PREFIXES`): the only one, or
    else the only one that none of the others calls (a tool with public helpers); when that
    leaves several, the one named `prefer` if there is one (a repair of a known tool that
    kept its name beside stray functions), else the only one named ``*_<prefer>``.

    >>> tree = parse_source("def half(n: int) -> int:\\n    return n // 2\\n"
    ...                     "def solve(n: int) -> int:\\n    return half(n) + 1\\n")
    >>> choose_entry(tree, None).name, choose_entry(tree, "half").name
    ('solve', 'half')
    """
    funcs = [n for n in tree.body if isinstance(n, Function)]
    if entry is not None:
        named = [f for f in funcs if f.name == entry]
        if named:
            return named[-1]
        others = tuple(f.name for f in funcs if not f.name.startswith(NOT_ENTRY_PREFIXES[1:]))
        return NoEntry("missing", others)
    public = [f for f in funcs if not f.name.startswith(NOT_ENTRY_PREFIXES)]
    if len(public) <= 1:
        return public[0] if public else NoEntry("missing", ())
    called = {
        n.func.id
        for f in public
        for n in ast.walk(f)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id != f.name
    }
    roots = [f for f in public if f.name not in called]
    if len(roots) == 1:
        return roots[0]
    preferred = [f for f in public if f.name == prefer]
    if preferred:
        return preferred[-1]
    # the name with a prefix of the model's own (`bbh_dyck_languages` for `dyck_languages`,
    # the real 1.5B's LATM tool beside a stray helper), when only one function has it
    suffixed = {f.name for f in public if prefer and f.name.endswith(f"_{prefer}")}
    if len(suffixed) == 1:
        return [f for f in public if f.name in suffixed][-1]
    return NoEntry("ambiguous", tuple(f.name for f in (roots or public)))


def find_entry(tree: ast.Module, entry: str | None) -> ast.FunctionDef | SpecError:
    """The entry function by `choose_entry`, or a `SpecError` (none, several, or async)."""
    fn = choose_entry(tree, entry)
    if isinstance(fn, NoEntry):
        if fn.reason == "ambiguous":
            names = ", ".join(fn.names)
            return SpecError(
                "ambiguous_function", f"several public functions ({names}); name the entry"
            )
        if entry is not None:
            return SpecError(
                "missing_function", f"no top-level function named {entry!r} in the source"
            )
        return SpecError("missing_function", "the source defines no public top-level function")
    if isinstance(fn, ast.AsyncFunctionDef):
        return SpecError(
            "unsupported_parameter",
            f"function {fn.name!r} is async; tools must be plain functions",
            fn.lineno,
        )
    return fn


@functools.lru_cache(maxsize=256)
def derive_spec(source: str, entry: str | None = None) -> ToolSpec | SpecError:
    """Derive the spec of `entry` (or the only public function) in `source`, without running it.

    Returns a `ToolSpec`, or a `SpecError` for a syntax error, missing function, missing
    docstring, missing or unsupported annotation, or `*args`/`**kwargs`. A pure function of
    its arguments, memoized (the result is frozen; do not change its ``returns`` dict).
    """
    if len(source) > MAX_SOURCE_CHARS:
        return SpecError(
            "too_large", f"source has {len(source)} characters, the limit is {MAX_SOURCE_CHARS}"
        )
    try:
        return _derive(source, entry)
    except (RecursionError, MemoryError):
        return SpecError("syntax", "source is nested too deeply to analyse")


def _derive(source: str, entry: str | None) -> ToolSpec | SpecError:
    try:
        tree = parse_source(source)
    except SyntaxError as exc:
        return SpecError("syntax", f"syntax error: {exc.msg} (line {exc.lineno})", exc.lineno)
    fn = find_entry(tree, entry)
    if isinstance(fn, SpecError):
        return fn
    doc = ast.get_docstring(fn, clean=True)
    if not doc or not doc.strip():
        return SpecError("missing_docstring", f"function {fn.name!r} has no docstring", fn.lineno)
    parsed = parse_docstring(doc)
    a = fn.args
    if a.vararg or a.kwarg:
        star = a.vararg or a.kwarg
        assert star is not None
        return SpecError(
            "unsupported_parameter",
            f"function {fn.name!r} takes *{star.arg}; tools take named parameters only",
            fn.lineno,
        )
    positional = a.posonlyargs + a.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(
        a.defaults
    )
    pairs = list(zip(positional, defaults, strict=True)) + list(
        zip(a.kwonlyargs, a.kw_defaults, strict=True)
    )
    params: list[ParamSpec] = []
    for arg, default in pairs:
        if arg.annotation is None:
            return SpecError(
                "missing_annotation",
                f"parameter {arg.arg!r} of {fn.name!r} has no type annotation",
                arg.lineno,
            )
        try:
            schema = annotation_schema(arg.annotation)
        except UnsupportedAnnotation as exc:
            return SpecError(
                "unsupported_annotation",
                f"parameter {arg.arg!r} of {fn.name!r} has unsupported type {exc.text!r}",
                arg.lineno,
            )
        value: JSON = None
        expr = ""
        if default is not None:
            try:
                value = ast.literal_eval(default)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                expr = ast.unparse(default)  # not a literal: keep its text for readers
            if isinstance(value, tuple | set | frozenset):
                value = list(value)
            if isinstance(value, bytes | complex):
                value = repr(value)
        params.append(
            ParamSpec(
                name=arg.arg,
                annotation=ast.unparse(arg.annotation),
                schema=schema,
                required=default is None,
                default=value,
                description=parsed.params.get(arg.arg, ""),
                default_expr=expr,
            )
        )
    if fn.returns is None:
        return SpecError(
            "missing_annotation", f"function {fn.name!r} has no return annotation", fn.lineno
        )
    try:
        returns = annotation_schema(fn.returns)
    except UnsupportedAnnotation as exc:
        return SpecError(
            "unsupported_annotation",
            f"return type {exc.text!r} of {fn.name!r} is unsupported",
            fn.lineno,
        )
    return ToolSpec(
        entry=fn.name,
        summary=parsed.summary,
        description=parsed.description,
        params=tuple(params),
        returns=returns,
        returns_annotation=ast.unparse(fn.returns),
        returns_description=parsed.returns,
    )
