"""Runtime policy inside the worker: guarded attribute access, writes, imports and builtins.

Restricted code (compiled by RestrictedPython) calls these hooks for every attribute read
(`_getattr_`), attribute or item write (`_write_`), import (`__import__`), print and in-place
operator. Imports return read-only facades holding only the approved functions, never a real
module: real modules lead back to `sys`, `os` and `builtins` (e.g. `json.codecs.sys`).
"""

from __future__ import annotations

import abc
import builtins
import collections
import decimal
import functools
import importlib
import operator
import random
import string
import types
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from sandbox import _tripwire
from sandbox.expression import safe_eval
from sandbox.policy import ALL_PUBLIC, Policy

try:  # the private helper that str.format itself uses to split "a.b[c]" field names
    from _string import formatter_field_name_split
except ImportError:  # pragma: no cover - CPython always has it
    formatter_field_name_split = None


# Attribute names that lead to frames, code, globals or raw memory although they have no
# leading underscore (RestrictedPython already refuses every name starting with "_").
DENIED_ATTRIBUTES = frozenset(
    {
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "gi_running",
        "gi_suspended",
        "cr_frame",
        "cr_code",
        "cr_await",
        "cr_origin",
        "cr_running",
        "cr_suspended",
        "ag_frame",
        "ag_code",
        "ag_await",
        "ag_running",
        "f_back",
        "f_builtins",
        "f_code",
        "f_globals",
        "f_locals",
        "f_trace",
        "f_lasti",
        "f_lineno",
        "tb_frame",
        "tb_next",
        "tb_lasti",
        "tb_lineno",
        "co_code",
        "co_consts",
        "co_names",
        "co_varnames",
        "co_filename",
        "func_globals",
        "func_code",
        "im_func",
        "im_self",
        "ctypes",
        "tofile",
        "dump",
    }
)

DENIED_TYPES = (
    types.ModuleType,
    types.FrameType,
    types.CodeType,
    types.TracebackType,
)

_REAL_BUILTINS = vars(builtins)
DENIED_VALUES = {
    id(_REAL_BUILTINS[name])
    for name in (
        "eval",
        "exec",
        "compile",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "__import__",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "help",
        "type",
        "memoryview",
        "dir",
    )
    if name in _REAL_BUILTINS
}

_MISSING = object()

# `ABCMeta.register` adds a virtual subclass to a process-wide registry; `typing.Iterable` and
# the other abstract aliases forward attribute reads to their `collections.abc` class, so a tool
# could reach it and change `isinstance` for every later call in a warm worker.
_ABC_REGISTER = abc.ABCMeta.register

# Modules that C functions of allowed modules import for themselves (see guarded_import).
C_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})


class Facade:
    """A read-only stand-in for an allowed module, holding only its approved names."""

    __slots__ = ("_name", "_items")

    def __init__(self, name: str, items: dict[str, Any]) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_items", types.MappingProxyType(dict(items)))

    def __getattr__(self, attr: str) -> Any:
        try:
            return self._items[attr]
        except KeyError:
            raise AttributeError(
                f"module '{self._name}' has no attribute '{attr}' allowed in the sandbox"
            ) from None

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"module '{self._name}' is read-only in the sandbox")

    def __delattr__(self, attr: str) -> None:
        raise AttributeError(f"module '{self._name}' is read-only in the sandbox")

    def __repr__(self) -> str:
        return f"<sandboxed module '{self._name}'>"

    def __dir__(self) -> list[str]:
        return sorted(self._items)


class SandboxMeta(type):
    """Metaclass of classes defined by tool code: their instances accept attribute writes."""


class _SafeFormatter(string.Formatter):
    """str.format without the attribute walk: "{0.__class__}" goes through the getattr guard."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        first, rest = formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = guarded_getattr(obj, key) if is_attr else obj[key]
        return obj, first


_FORMATTER = _SafeFormatter()


def _safe_format(template: str, /, *args: Any, **kwargs: Any) -> str:
    if not isinstance(template, str):
        raise TypeError("format() needs a string")
    return _FORMATTER.vformat(template, args, kwargs)


def _safe_format_map(template: str, mapping: Any, /) -> str:
    if not isinstance(template, str):
        raise TypeError("format_map() needs a string")
    return _FORMATTER.vformat(template, (), mapping)


def guarded_getattr(obj: Any, name: Any, default: Any = _MISSING) -> Any:
    """getattr for tool code: no private or frame-walking names, no modules, frames or code."""
    if type(obj) is Facade:
        try:
            return obj._items[name]
        except (KeyError, TypeError):
            if default is not _MISSING:
                return default
            raise AttributeError(
                f"module '{obj._name}' has no attribute {name!r} allowed in the sandbox"
            ) from None
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_") or name in DENIED_ATTRIBUTES:
        raise AttributeError(f"access to attribute '{name}' is not allowed in the sandbox")
    if name in ("format", "format_map") and (
        isinstance(obj, str) or (isinstance(obj, type) and issubclass(obj, str))
    ):
        fn = _safe_format if name == "format" else _safe_format_map
        return functools.partial(fn, obj) if isinstance(obj, str) else fn
    if default is _MISSING:
        value = getattr(obj, name)
    else:
        value = getattr(obj, name, default)
    if isinstance(value, DENIED_TYPES) or id(value) in DENIED_VALUES:
        raise AttributeError(f"attribute '{name}' leads outside the sandbox")
    if getattr(value, "__func__", None) is _ABC_REGISTER:
        raise AttributeError(f"attribute '{name}' changes shared state; not allowed in the sandbox")
    return value


def guarded_hasattr(obj: Any, name: Any) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def guarded_getitem(obj: Any, key: Any) -> Any:
    value = obj[key]
    if isinstance(value, DENIED_TYPES):
        raise KeyError("item leads outside the sandbox")
    return value


def guarded_itemgetter(item: Any, *items: Any) -> Any:
    """operator.itemgetter reading through `guarded_getitem` (the C one reads items around it)."""
    keys = (item, *items)

    def get(obj: Any) -> Any:
        if len(keys) == 1:
            return guarded_getitem(obj, keys[0])
        return tuple(guarded_getitem(obj, k) for k in keys)

    return get


class _ReadOnly:
    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def _refuse(self, *_: Any) -> None:
        kind = type(self._target).__name__
        raise TypeError(f"cannot modify objects of type '{kind}' in the sandbox")

    __setattr__ = __delattr__ = __setitem__ = __delitem__ = _refuse


def _writable_types() -> tuple[type, ...]:
    found: list[type] = [dict, list, bytearray, set, collections.deque]
    try:
        import numpy

        found.append(numpy.ndarray)
    except ImportError:  # pragma: no cover
        pass
    try:
        from sympy.matrices import MutableDenseMatrix

        found.append(MutableDenseMatrix)
    except ImportError:  # pragma: no cover
        pass
    return tuple(found)


_WRITABLE: tuple[type, ...] = ()


def guarded_write(obj: Any) -> Any:
    """Allow item writes on containers and attribute writes on instances of tool classes."""
    global _WRITABLE
    if not _WRITABLE:
        _WRITABLE = _writable_types()
    if type(type(obj)) is SandboxMeta or (isinstance(obj, _WRITABLE) and type(obj) is not Facade):
        return obj
    return _ReadOnly(obj)


_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "^=": operator.ixor,
    "|=": operator.ior,
    "@=": operator.imatmul,
}


def inplacevar(op: str, x: Any, y: Any) -> Any:
    return _INPLACE[op](x, y)


def apply(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class Stdout:
    """Captured print output with a byte cap; output past the cap is counted, not kept."""

    def __init__(self, cap: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.cap = cap
        self.dropped = 0

    def write(self, text: str) -> None:
        room = self.cap - self.size
        if room <= 0:
            self.dropped += len(text)
            return
        if len(text) > room:
            self.dropped += len(text) - room
            text = text[:room]
        self.parts.append(text)
        self.size += len(text)

    def getvalue(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[output truncated: {self.dropped} more characters]"
        return out


class _Printer:
    """What RestrictedPython's `print` calls; writes to the call's capped Stdout."""

    def __init__(self, out: Stdout) -> None:
        self._out = out

    def _call_print(
        self, *objects: Any, sep: Any = " ", end: Any = "\n", file: Any = None, flush: bool = False
    ) -> None:
        if file is not None:
            raise TypeError("print(file=...) is not allowed in the sandbox")
        sep = " " if sep is None else str(sep)
        end = "\n" if end is None else str(end)
        self._out.write(sep.join(str(o) for o in objects) + end)

    def __call__(self) -> str:
        return self._out.getvalue()


def _public_names(module: Any) -> list[str]:
    return [n for n in dir(module) if not n.startswith("_")]


def _namedtuple(
    typename: Any,
    field_names: Any,
    *,
    rename: bool = False,
    defaults: Any = None,
    module: Any = None,
) -> Any:
    """collections.namedtuple with plain-string inputs (it compiles a small template)."""
    typename = str.__str__(str(typename))
    if isinstance(field_names, str):
        fields = field_names.replace(",", " ").split()
    else:
        fields = [str.__str__(str(f)) for f in field_names]
    defaults = tuple(defaults) if defaults is not None else None
    with _tripwire.trusted():
        return collections.namedtuple(typename, fields, rename=bool(rename), defaults=defaults)


def _module_items(name: str, spec: Any) -> dict[str, Any]:
    module = importlib.import_module(name)
    names = _public_names(module) if spec == ALL_PUBLIC else list(spec)
    items = {}
    for n in names:
        if n.startswith("_") or not hasattr(module, n):
            continue
        value = getattr(module, n)
        if isinstance(value, DENIED_TYPES) or id(value) in DENIED_VALUES:
            continue
        items[n] = value
    if name == "collections" and "namedtuple" in items:
        items["namedtuple"] = _namedtuple
    if name == "operator" and "itemgetter" in items:
        items["itemgetter"] = guarded_itemgetter
    return items


class PolicyEnv:
    """Everything a policy needs at call time, built once per worker per policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.limits = policy.limits
        self.random_names = tuple(policy.modules.get("random", ()))
        item_sets: dict[str, dict[str, Any]] = {}
        self.unavailable: list[str] = []
        for name in sorted(policy.modules):
            if name == "random":
                continue
            try:
                item_sets[name] = _module_items(name, policy.modules[name])
            except ImportError:
                self.unavailable.append(name)
        # attach submodule facades (numpy.linalg) to their parents, deepest first
        facades: dict[str, Facade] = {}
        for name in sorted(item_sets, key=lambda n: -n.count(".")):
            facade = Facade(name, item_sets[name])
            facades[name] = facade
            parent, _, child = name.rpartition(".")
            if parent in item_sets:
                item_sets[parent][child] = facade
        self.facades = facades
        self.current_random: Facade | None = None
        self.builtins = self._builtins()

    def _builtins(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.policy.builtins:
            if name == "getattr":
                out[name] = guarded_getattr
            elif name == "hasattr":
                out[name] = guarded_hasattr
            elif name == "__import__":
                out[name] = self.guarded_import
            elif name == "safe_eval":
                out[name] = safe_eval
            elif name in _REAL_BUILTINS:
                out[name] = _REAL_BUILTINS[name]
        return out

    def guarded_import(
        self, name: Any, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> Any:
        if level:
            raise ImportError("relative imports are not allowed in the sandbox")
        if type(name) is not str:
            raise ImportError("module name must be a string")
        if type(fromlist) is list and not fromlist and name in C_INTERNAL_IMPORTS:
            # C code importing its helper (date.strftime needs `time`): CPython's
            # PyImport_Import passes an empty list, which tool code cannot produce (it cannot
            # name __import__), and the module goes back to that C code, not to the tool.
            return importlib.import_module(name)
        top = name.partition(".")[0]
        if name == "random" and self.current_random is not None:
            return self.current_random
        facade = self.facades.get(name)
        if facade is None:
            allowed = ", ".join(
                sorted(set(self.facades) | ({"random"} if self.random_names else set()))
            )
            raise ImportError(
                f"import of '{name}' is not allowed in the sandbox (allowed: {allowed})"
            )
        if fromlist:
            return facade
        if top not in self.facades:
            raise ImportError(f"import of '{top}' is not allowed in the sandbox")
        return self.facades[top]

    def fresh_globals(self, seed: int, out: Stdout) -> dict[str, Any]:
        """New globals for one call: a copy of the builtins, a per-call random, the guards."""
        if self.random_names:
            rng = random.Random(seed)
            self.current_random = Facade(
                "random", {n: getattr(rng, n) for n in self.random_names if hasattr(rng, n)}
            )
        decimal.setcontext(decimal.Context())
        return {
            "__builtins__": dict(self.builtins),
            "__name__": "tool",
            "__metaclass__": SandboxMeta,
            "_getattr_": guarded_getattr,
            "_getitem_": guarded_getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": guarded_write,
            "_inplacevar_": inplacevar,
            "_apply_": apply,
            "_print_": lambda _getattr_=None: _Printer(out),
        }
