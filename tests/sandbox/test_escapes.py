"""Escape attempts against the sandbox, layer by layer.

Policy layer (compile-time RestrictedPython, runtime guards, facades): imports, dunder walks,
frames, format strings, builtins recovery, class tricks, sympy/numpy surfaces. Every attempt must
come back as a refused result (ok False with the specific error), never a leaked object.

Process layer: a deliberately permissive policy (``os``, ``socket``, ``sys``... allowed) shows
that what gets past the policy is still refused by the audit hook or contained by the kernel
(unprivileged uid, rlimits, private network and mount namespaces, empty environment).
Resource bombs live in test_bombs.py.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import textwrap
import types
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import DEFAULT_POLICY, Sandbox
from sandbox._guards import DENIED_TYPES, DENIED_VALUES, PolicyEnv, guarded_getattr
from sandbox._process import PACKAGE_PARENT, read_roots

ONE = "def f():\n    return 1\n"


def tool(body: str, params: str = "") -> str:
    """A tool ``f(params)`` whose body is ``body`` (dedented)."""
    return f"def f({params}):\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def refused(r: Any, *types_: str) -> None:
    assert not r.ok, f"expected refusal, got value {r.value!r}"
    assert r.value is None
    assert r.error is not None
    if types_:
        assert r.error.type in types_, r.error


def serves(sb: Sandbox) -> None:
    r = sb.run(ONE, entry="f")
    assert r.ok and r.value == 1, r


# ---------------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------------

FORBIDDEN_MODULES = [
    "os",
    "sys",
    "subprocess",
    "socket",
    "ctypes",
    "importlib",
    "builtins",
    "pickle",
    "marshal",
    "gc",
    "inspect",
    "io",
    "shutil",
    "pathlib",
    "tempfile",
    "threading",
    "signal",
    "resource",
    "posix",
    "_thread",
    "multiprocessing",
    "asyncio",
    "code",
    "runpy",
    "types",
    "weakref",
    "time",
    "sandbox",
    "RestrictedPython",
    "hypothesis",
    "mpmath",
    # submodules of allowed packages that are not themselves allowed
    "numpy.ctypeslib",
    "numpy.lib",
    "numpy.lib.npyio",
    "sympy.parsing",
    "sympy.utilities",
    "json.decoder",
    "re._compiler",
    "collections.abc",
    "importlib.util",
    "os.path",
]


def test_forbidden_modules_are_really_outside_the_policy() -> None:
    assert not set(FORBIDDEN_MODULES) & set(DEFAULT_POLICY.modules)


@pytest.mark.parametrize("module", FORBIDDEN_MODULES)
def test_import_of_unlisted_module_is_refused(sb: Sandbox, module: str) -> None:
    leaf = module.rpartition(".")[2]
    forms = [
        f"import {module}",
        f"import {module} as m",
        f"from {module} import {'x' if module == leaf else leaf}",
    ]
    if "." in module:
        parent, _, child = module.rpartition(".")
        forms.append(f"from {parent} import {child}")
    for form in forms:
        r = sb.run(tool(f"{form}\nreturn 1"), entry="f")
        refused(r, "ImportError", "PolicyError")
        assert r.error.line == 2
    serves(sb)


@pytest.mark.parametrize(
    "source",
    [
        "return __import__('o' + 's')",
        "return __builtins__['__import__']('os')",
        "import json\nreturn json.__loader__.load_module('os')",
        "import json\nreturn json.__spec__.loader",
        "import json\nreturn json.__dict__['codecs']",
    ],
)
def test_computed_and_loader_imports_do_not_compile(sb: Sandbox, source: str) -> None:
    r = sb.run(tool(source), entry="f")
    refused(r, "PolicyError")
    assert not sb.compile(tool(source)).ok


@pytest.mark.parametrize(
    "attr", ["__loader__", "__spec__", "__dict__", "__builtins__", "__import__"]
)
def test_loader_walks_through_getattr_are_refused(sb: Sandbox, attr: str) -> None:
    r = sb.run(tool("import json\nreturn str(getattr(json, name))", "name"), entry="f", args=[attr])
    refused(r, "AttributeError")


def _module_valued_names(name: str) -> list[str]:
    real = importlib.import_module(name)
    found = [n for n in dir(real) if isinstance(getattr(real, n, None), types.ModuleType)]
    return sorted(
        set(found)
        | {
            "sys",
            "os",
            "builtins",
            "codecs",
            "importlib",
            "ctypes",
            "sre_compile",
            "_os",
            "_sys",
            "__builtins__",
            "__loader__",
            "__spec__",
            "__dict__",
            "__file__",
        }
    )


@pytest.mark.parametrize("module", sorted(DEFAULT_POLICY.modules))
def test_allowed_module_facade_hands_back_no_module(sb: Sandbox, module: str) -> None:
    names = _module_valued_names(module)
    if module == "numpy":
        names.remove("linalg")  # the one allowed submodule: its facade, checked below
    source = tool(
        f"""
        import {module} as m
        leaked = []
        for n in names:
            if getattr(m, n, None) is not None or hasattr(m, n):
                leaked.append(n)
        return [leaked, str(m)]
    """,
        "names",
    )
    r = sb.run(source, entry="f", args=[names])
    assert r.ok, r
    assert r.value == [[], f"<sandboxed module '{module}'>"]


@pytest.mark.parametrize(
    "walk",
    [
        "import json\nreturn json.codecs.sys",
        "import json\nreturn json.decoder",
        "import re\nreturn re.sre_compile",
        "import re\nreturn re.enum",
        "import functools\nreturn functools.sys",
        "import collections\nreturn collections.sys",
        "import statistics\nreturn statistics.sys",
        "import numpy\nreturn numpy.lib",
        "import numpy\nreturn numpy.core",
        "import numpy\nreturn numpy.ctypeslib",
        "import numpy.linalg\nreturn numpy.linalg.linalg",
        "import sympy\nreturn sympy.parsing",
        "import sympy\nreturn sympy.core",
        "import string\nreturn string.Formatter",
        "import random\nreturn random.Random",
        "import math\nreturn math.inf.real.imag.os",
    ],
)
def test_attribute_walks_from_facades_fail(sb: Sandbox, walk: str) -> None:
    refused(sb.run(tool(walk), entry="f"), "AttributeError")


def test_numpy_linalg_is_a_facade_too(sb: Sandbox) -> None:
    r = sb.run(
        tool("import numpy\nreturn [str(numpy.linalg), str(numpy.linalg.det([[2]]))]"), entry="f"
    )
    assert r.ok and r.value[0] == "<sandboxed module 'numpy.linalg'>", r


DANGEROUS_HOMES = {
    "os",
    "posix",
    "sys",
    "subprocess",
    "socket",
    "ctypes",
    "importlib",
    "io",
    "_io",
    "builtins",
    "pickle",
    "marshal",
    "gc",
    "inspect",
    "code",
    "runpy",
    "shutil",
    "tempfile",
    "pathlib",
    "_imp",
    "signal",
    "resource",
    "sandbox",
}


def test_no_dangerous_object_is_reachable_through_the_guards() -> None:
    """Breadth-first walk (two attribute steps) from every facade item and builtin, through the
    same `guarded_getattr` that tool code uses: no module, frame, code object, real builtin such
    as eval/open, or function of os/sys/subprocess/... may show up."""
    env = PolicyEnv(DEFAULT_POLICY)
    start: list[tuple[str, Any]] = [
        (f"{m}.{k}", v) for m, fa in env.facades.items() for k, v in fa._items.items()
    ]
    start += list(env.builtins.items())
    allowed_builtins = set(DEFAULT_POLICY.builtins)
    problems: list[str] = []
    seen: set[int] = set()
    frontier = start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(3):
            nxt: list[tuple[str, Any]] = []
            for path, obj in frontier:
                if id(obj) in seen:
                    continue
                seen.add(id(obj))
                if isinstance(obj, DENIED_TYPES) or id(obj) in DENIED_VALUES:
                    problems.append(f"{path}: {type(obj).__name__}")
                    continue
                if (
                    isinstance(obj, types.BuiltinFunctionType)
                    and getattr(obj, "__self__", None) is __builtins__
                    and obj.__name__ not in allowed_builtins
                ):
                    problems.append(f"{path}: builtin {obj.__name__}")
                if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
                    module = str(getattr(obj, "__module__", "") or "")
                    home = module.partition(".")[0]
                    if (
                        home in DANGEROUS_HOMES
                        and obj.__name__ not in allowed_builtins
                        and module != "sandbox._guards"
                    ):  # the guards' own replacements
                        problems.append(f"{path}: {home}.{obj.__name__}")
                if step == 2 or isinstance(obj, (int, float, str, bytes, bool, complex)):
                    continue
                try:
                    names = [n for n in dir(obj) if not n.startswith("_")]
                except Exception:  # noqa: BLE001 - a hostile-looking __dir__ just ends the walk
                    continue
                for n in names:
                    try:
                        nxt.append((f"{path}.{n}", guarded_getattr(obj, n)))
                    except Exception:  # noqa: BLE001 - refused or broken attribute: not reachable
                        pass
            frontier = nxt
    assert len(seen) > 1000  # the walk really walked
    assert problems == [], problems


# ---------------------------------------------------------------------------------------------
# Dunder walks and frames
# ---------------------------------------------------------------------------------------------

DUNDERS = [
    "__class__",
    "__bases__",
    "__base__",
    "__mro__",
    "__subclasses__",
    "__globals__",
    "__builtins__",
    "__dict__",
    "__code__",
    "__closure__",
    "__defaults__",
    "__kwdefaults__",
    "__loader__",
    "__spec__",
    "__traceback__",
    "__context__",
    "__cause__",
    "__self__",
    "__func__",
    "__init__",
    "__new__",
    "__getattribute__",
    "__reduce_ex__",
    "__import__",
    "__module__",
    "__wrapped__",
    "__objclass__",
    "__call__",
]
FRAME_NAMES = [
    "gi_frame",
    "gi_code",
    "gi_yieldfrom",
    "cr_frame",
    "cr_code",
    "ag_frame",
    "tb_frame",
    "tb_next",
    "f_back",
    "f_globals",
    "f_builtins",
    "f_locals",
    "f_code",
    "co_code",
    "co_consts",
    "func_globals",
    "ctypes",
    "tofile",
    "dump",
]

OBJECTS_SOURCE = """
import json
import sympy
import numpy
def g():
    yield 1
try:
    1 / 0
except Exception as e:
    err = e
objs = [1, "s", [], {}, len, str.join, g, g(), err, json, json.loads, sympy.Symbol("x"),
        sympy.sqrt, numpy.zeros(1), numpy.sum, int, object, f, Exception, sympy.Symbol]
"""


@pytest.mark.parametrize("name", DUNDERS + FRAME_NAMES)
def test_getattr_with_forbidden_name_is_refused_on_every_kind_of_object(
    sb: Sandbox, name: str
) -> None:
    source = tool(
        OBJECTS_SOURCE
        + """
leaked = []
for i, o in enumerate(objs):
    try:
        getattr(o, name)
        leaked.append(i)
    except AttributeError:
        pass
    try:
        if getattr(o, name, None) is not None:
            leaked.append(i)
    except AttributeError:
        pass
    if hasattr(o, name):
        leaked.append(i)
return [leaked, len(objs)]
""",
        "name",
    )
    r = sb.run(source, entry="f", args=[name])
    assert r.ok, r
    assert r.value == [[], 20]


@pytest.mark.parametrize(
    "name", DUNDERS + ["gi_frame", "cr_frame", "tb_frame", "f_back", "f_globals"]
)
def test_forbidden_attribute_names_do_not_compile(sb: Sandbox, name: str) -> None:
    for source in (
        tool(f"return x.{name}", "x"),
        tool(f"x.{name} = 1", "x"),
        tool(f"return [y for y in x.{name}]", "x"),
    ):
        c = sb.compile(source)
        assert not c.ok
        assert c.errors[0].type == "PolicyError" and c.errors[0].line is not None


@pytest.mark.parametrize(
    "source",
    [
        "return ().__class__.__bases__[0].__subclasses__()",
        "return f.__globals__",
        "return f.__globals__['__builtins__']",
        "return [].__class__.__mro__[-1].__subclasses__()",
        "def g():\n    yield 1\nreturn g().gi_frame.f_back.f_globals",
        "try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame.f_globals",
        "import sys\nreturn sys._getframe(0).f_globals",
        "async def c():\n    return 1\nreturn c().cr_frame",
        "return (lambda: 0).__code__.co_consts",
        "class A:\n    def __getattribute__(self, n):\n        return 1\nreturn A().__dict__",
        "return _getattr_",
        "return __name__",
    ],
)
def test_classic_dunder_and_frame_walks_are_refused_at_compile_time(
    sb: Sandbox, source: str
) -> None:
    r = sb.run(tool(source), entry="f")
    refused(r, "PolicyError")
    assert r.error.line is not None


@pytest.mark.parametrize(
    "source",
    [
        "def g():\n    yield 1\nreturn getattr(getattr(g(), 'gi_frame'), 'f_globals')",
        "try:\n    1 / 0\nexcept Exception as e:\n    return getattr(e, '__traceback__')",
        "try:\n    1 / 0\nexcept Exception as e:\n    return getattr(e, 'with_traceback')(None).args",
        "return getattr(getattr(getattr((), '__cl' + 'ass__'), '__bases__')[0], '__subclasses__')()",
        "return getattr(f, '__glo' + 'bals__')",
        "return getattr(len, '__self__')",
        "return [getattr(c, '__subclasses__') for c in Exception.mro()]",
    ],
)
def test_dunder_and_frame_walks_through_getattr_are_refused(sb: Sandbox, source: str) -> None:
    r = sb.run(tool(source), entry="f")
    if r.ok:  # only harmless plain values may come back
        assert r.value == ["division by zero"] or r.value == ("division by zero",)
        return
    refused(r, "AttributeError")


def test_generator_frame_is_refused_but_generators_work(sb: Sandbox) -> None:
    src = tool(
        "def g():\n    yield 1\n    yield 2\nit = g()\nreturn [list(it), getattr(g(), 'gi_running', 0)]"
    )
    r = sb.run(src, entry="f")
    refused(r, "AttributeError")
    assert "gi_running" in r.error.message
    assert sb.run(
        tool("def g():\n    yield 1\n    yield 2\nreturn list(g())"), entry="f"
    ).value == [1, 2]


# ---------------------------------------------------------------------------------------------
# Format strings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "return '{0.__class__}'.format(1)",
        "return '{0.__class__.__mro__}'.format(1)",
        "return '{0.__globals__}'.format(f)",
        "return '{x.__class__}'.format(x=1)",
        "return '{0.real.__class__}'.format(1)",
        "return '{0.__class__!r:>{1}}'.format(1, 5)",
        "return '{0[0].__class__}'.format([1])",
        "return '{a.__class__}'.format_map({'a': 1})",
        "return str.format('{0.__class__}', 1)",
        "return str.format_map('{a.__class__}', {'a': 1})",
        "fmt = str.format\nreturn fmt('{0.__class__}', 1)",
        "return list(map('{0.__class__}'.format, [1]))",
        "class S(str):\n    pass\nreturn S('{0.__class__}').format(1)",
        "return getattr('{0.__class__}', 'format')(1)",
        "def g():\n    yield 1\nreturn '{0.gi_frame}'.format(g())",
        "import json\nreturn '{0.codecs}'.format(json)",
    ],
)
def test_format_string_attribute_walks_are_refused(sb: Sandbox, source: str) -> None:
    refused(sb.run(tool(source), entry="f"), "AttributeError")


def test_format_strings_still_work_for_plain_fields(sb: Sandbox) -> None:
    src = tool(
        "return ['{0.real}'.format(3), '{a[b]}'.format_map({'a': {'b': 2}}), "
        "'{:>4}'.format(7), f'{1 + 1}', str.format('{}', 5)]"
    )
    r = sb.run(src, entry="f")
    assert r.ok and r.value == ["3", "2", "   7", "2", "5"], r


def test_string_formatter_and_template_are_not_exposed(sb: Sandbox) -> None:
    for name in ("Formatter", "Template"):
        r = sb.run(tool(f"import string\nreturn str(string.{name})"), entry="f")
        refused(r, "AttributeError")


# ---------------------------------------------------------------------------------------------
# Builtins recovery
# ---------------------------------------------------------------------------------------------

MISSING_BUILTINS = [
    "eval",
    "exec",
    "open",
    "type",
    "vars",
    "globals",
    "locals",
    "compile",
    "dir",
    "setattr",
    "delattr",
    "input",
    "breakpoint",
    "memoryview",
    "help",
    "exit",
    "quit",
    "copyright",
    "license",
    "BaseException",
    "SystemExit",
    "KeyboardInterrupt",
    "GeneratorExit",
    "__import__",
    "__builtins__",
    "__build_class__",
    "__loader__",
    "__spec__",
]


def test_policy_builtins_exclude_the_missing_ones() -> None:
    for name in MISSING_BUILTINS:
        if name not in ("__import__", "__build_class__"):  # guarded or needed, but unnamed
            assert name not in DEFAULT_POLICY.builtins


@pytest.mark.parametrize("name", MISSING_BUILTINS)
def test_dangerous_builtins_cannot_be_recovered(sb: Sandbox, name: str) -> None:
    for body in (f"return {name}", f"return str({name})", f"x = {name}\nreturn x('1')"):
        r = sb.run(tool(body), entry="f")
        refused(r, "NameError", "PolicyError")


@pytest.mark.parametrize(
    "source",
    [
        "return eval('1 + 1')",
        "exec('x = 1')",
        "return compile('1', 'x', 'eval')",
        "return open('/etc/passwd').read()",
    ],
)
def test_builtin_calls_that_run_or_read_code_are_refused(sb: Sandbox, source: str) -> None:
    refused(sb.run(tool(source), entry="f"), "PolicyError", "NameError")


def test_base_exceptions_cannot_escape_the_call(sb: Sandbox) -> None:
    # a bare except may catch anything, but BaseException subclasses are not nameable
    r = sb.run(tool("try:\n    1 / 0\nexcept:\n    return 3"), entry="f")
    assert r.ok and r.value == 3
    refused(sb.run(tool("raise SystemExit(0)"), entry="f"), "NameError")
    refused(sb.run(tool("raise KeyboardInterrupt"), entry="f"), "NameError")
    serves(sb)


# ---------------------------------------------------------------------------------------------
# Class-based tricks and writes to shared objects
# ---------------------------------------------------------------------------------------------


def test_metaclass_keyword_is_refused(sb: Sandbox) -> None:
    src = tool("class M(object):\n    pass\nclass A(metaclass=M):\n    pass\nreturn 1")
    refused(sb.run(src, entry="f"), "PolicyError")


@pytest.mark.parametrize(
    "source",
    [
        "import math\nmath.pi = 3",
        "import math\ndel math.pi",
        "import math\nmath.sqrt = abs",
        "import json\njson.loads = None",
        "import numpy.linalg\nnumpy.linalg.solve = None",
        "import random\nrandom.random = None",
        "from fractions import Fraction\nFraction.x = 1",
        "from fractions import Fraction\nFraction.limit_denominator = None",
        "import collections\ncollections.Counter.most_common = None",
        "import sympy\nsympy.Symbol.is_positive = True",
        "import sympy\nsympy.pi = 3",
        "import numpy\nnumpy.ndarray.sum = None",
        "import numpy\nnumpy.pi = 3",
        "import datetime\ndatetime.date.today = None",
        "int.bit_length = None",
        "str.upper = None",
        "object.x = 1",
        "Exception.x = 1",
        "len.x = 1",
        "f.x = 1",
    ],
)
def test_writes_to_modules_library_classes_and_builtins_are_refused(
    sb: Sandbox, source: str
) -> None:
    refused(sb.run(tool(source + "\nreturn 1"), entry="f"), "TypeError", "AttributeError")


def test_refused_writes_leave_shared_state_intact(sb: Sandbox) -> None:
    for _ in range(2):  # reach both workers
        sb.run(tool("import math\nmath.pi = 3\nreturn 1"), entry="f")
    src = tool(
        "import math\nimport numpy\nfrom fractions import Fraction\n"
        "return [math.pi, float(numpy.pi), hasattr(Fraction, 'x'), len([1, 2])]"
    )
    for _ in range(3):
        r = sb.run(src, entry="f")
        assert r.ok and r.value == [3.141592653589793, 3.141592653589793, False, 2], r


def test_tool_classes_stay_writable(sb: Sandbox) -> None:
    src = tool(
        "class P:\n    def __init__(self):\n        self.x = 1\np = P()\np.y = 2\n"
        "d = {}\nd['k'] = 3\nreturn [p.x, p.y, d['k']]"
    )
    assert sb.run(src, entry="f").value == [1, 2, 3]


# ---------------------------------------------------------------------------------------------
# sympy and numpy surfaces
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        "sympy.S(\"__import__('os').system('id')\")",
        "sympy.N(\"__import__('os')\")",
        "sympy.simplify(\"__import__('os')\")",
        "sympy.Poly(\"__import__('os')\")",
        "sympy.Lambda(sympy.Symbol('x'), \"__import__('os')\")",
        "(sympy.Symbol('x') + 1).subs('x', \"__import__('os').getpid()\")",
        "(sympy.Symbol('x') + 1).subs({'x': \"__import__('os')\"})",
        "sympy.Eq(\"__import__('os')\", 1)",
        "sympy.Symbol('x') + \"__import__('os')\"",
        "sympy.sympify(\"__import__('os')\")",
        "sympy.parse_expr(\"__import__('os')\")",
        "sympy.lambdify(sympy.Symbol('x'), sympy.Symbol('x'))",
    ],
)
def test_sympy_string_evaluation_is_refused(sb: Sandbox, expr: str) -> None:
    r = sb.run(tool(f"import sympy\nreturn str({expr})"), entry="f")
    refused(r, "ValueError", "SympifyError", "TypeError", "AttributeError", "SandboxViolation")
    serves(sb)


def test_sympy_still_computes(sb: Sandbox) -> None:
    src = tool("import sympy\nx = sympy.Symbol('x')\nreturn str(sympy.factor(x**2 - 1))")
    assert sb.run(src, entry="f").value == "(x - 1)*(x + 1)"


@pytest.mark.parametrize(
    "source",
    [
        "return numpy.load('/etc/passwd')",
        "return numpy.save('/tmp/x.npy', numpy.zeros(1))",
        "return numpy.fromfile('/etc/passwd')",
        "return numpy.loadtxt('/etc/passwd')",
        "return numpy.genfromtxt('/etc/passwd')",
        "return numpy.memmap('/tmp/x', mode='w+', shape=(1,))",
        "return numpy.frombuffer(b'abcdefgh')",
        "return numpy.ctypeslib",
        "return numpy.zeros(3).tofile('/tmp/x')",
        "return numpy.zeros(3).dump('/tmp/x')",
        "return numpy.zeros(3).ctypes",
        "return str(numpy.zeros(3).ctypes.data)",
        "return numpy.lib.npyio",
        "return numpy.random",
    ],
)
def test_numpy_file_and_memory_routes_are_refused(sb: Sandbox, source: str) -> None:
    refused(sb.run(tool("import numpy\n" + source), entry="f"), "AttributeError")


def test_numpy_object_views_and_bad_strides_are_refused(sb: Sandbox) -> None:
    for body in (
        "a = numpy.zeros(3)\na.dtype = object\nreturn 1",
        "return str(numpy.zeros(3).view(object))",
        "a = numpy.zeros(3)\na.strides = (10**9,)\nreturn float(a[2])",
    ):
        r = sb.run(tool("import numpy\n" + body), entry="f")
        refused(r, "ImportError", "TypeError", "ValueError")
    serves(sb)


# ---------------------------------------------------------------------------------------------
# Files, environment, network, processes and signals under the default policy
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "/root/.bashrc",
        "/proc/self/environ",
        "/proc/self/mem",
        "../../../../etc/shadow",
        "/tmp/evil",
    ],
)
def test_no_file_route_in_the_default_policy(sb: Sandbox, path: str) -> None:
    for body in (
        f"return open({path!r}).read()",
        f"import os\nreturn os.open({path!r}, 0)",
        f"import io\nreturn io.open({path!r}).read()",
        f"import pathlib\nreturn pathlib.Path({path!r}).read_text()",
        f"import numpy\nreturn numpy.fromfile({path!r})",
        f"import json\nreturn json.load({path!r})",
    ):
        refused(
            sb.run(tool(body), entry="f"),
            "NameError",
            "ImportError",
            "AttributeError",
            "PolicyError",
        )


@pytest.mark.parametrize(
    "body",
    [
        "import os\nreturn os.system('id')",
        "import subprocess\nreturn subprocess.run(['id'])",
        "import socket\nreturn socket.socket()",
        "import signal\nreturn signal.alarm(1)",
        "import resource\nreturn resource.setrlimit(0, (-1, -1))",
        "import os\nreturn os.fork()",
        "import os\nreturn dict(os.environ)",
        "import ctypes\nreturn ctypes.CDLL(None)",
    ],
)
def test_dangerous_capabilities_are_unreachable_in_the_default_policy(
    sb: Sandbox, body: str
) -> None:
    refused(sb.run(tool(body), entry="f"), "ImportError")


# ---------------------------------------------------------------------------------------------
# Layered: what a permissive policy lets through, the audit hook and the kernel still stop
# ---------------------------------------------------------------------------------------------

PERMISSIVE = dataclasses.replace(
    DEFAULT_POLICY.allow("os")
    .allow("socket")
    .allow("signal")
    .allow("resource")
    .allow("sys")
    .allow("gc")
    .allow("subprocess")
    .allow("threading"),
    preload=(),  # so sympy's string parser is NOT disabled: the audit hook has to stop it
)


@pytest.fixture(scope="module")
def loose() -> Iterator[Sandbox]:
    with Sandbox(policy=PERMISSIVE, workers=1) as box:
        yield box


def _worker_pid(box: Sandbox) -> int:
    r = box.run(tool("import os\nreturn os.getpid()"), entry="f")
    assert r.ok, r
    assert r.value != os.getpid()
    return int(r.value)


def test_permissive_policy_really_exposes_os(loose: Sandbox) -> None:
    r = loose.run(tool("import os\nreturn [os.getcwd(), os.getpid() > 0]"), entry="f")
    assert r.ok and r.value[1] is True, r


def test_worker_runs_unprivileged(loose: Sandbox) -> None:
    caps = loose.capabilities
    if os.geteuid() != 0 or caps.get("worker_uid") != "per-worker unprivileged uid":
        pytest.skip(f"no uid drop on this machine: {caps}")
    r = loose.run(
        tool("import os\nreturn [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]"),
        entry="f",
    )
    assert r.ok, r
    uid, euid, gid, groups = r.value
    assert uid != 0 and euid != 0 and gid != 0 and groups == []
    # os.setuid raises no audit event: the kernel is what refuses it
    refused(loose.run(tool("import os\nos.setuid(0)\nreturn 1"), entry="f"), "PermissionError")
    refused(loose.run(tool("import os\nos.nice(-5)\nreturn 1"), entry="f"), "PermissionError")
    pid = _worker_pid(loose)
    with open(f"/proc/{pid}/status") as fh:
        status = dict(line.split(":", 1) for line in fh if ":" in line)
    assert status["Uid"].split()[0] != "0"
    assert status["NoNewPrivs"].strip() == "1"
    assert status["CapEff"].strip() == "0000000000000000"


def test_worker_rlimits_are_hard(loose: Sandbox) -> None:
    pid = _worker_pid(loose)
    with open(f"/proc/{pid}/limits") as fh:
        rows = {line[:26].strip(): line[26:].split() for line in fh.readlines()[1:]}
    for name in (
        "Max address space",
        "Max cpu time",
        "Max file size",
        "Max open files",
        "Max processes",
        "Max core file size",
    ):
        soft, hard = rows[name][0], rows[name][1]
        assert soft == hard != "unlimited", (name, rows[name])
    assert rows["Max processes"][0] == "0"
    assert rows["Max core file size"][0] == "0"
    r = loose.run(
        tool("import resource\nreturn resource.getrlimit(resource.RLIMIT_NPROC)"), entry="f"
    )
    assert r.ok and r.value == [0, 0], r


@pytest.mark.parametrize(
    "body",
    [
        "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))",
        "import resource\nresource.setrlimit(resource.RLIMIT_NPROC, (100, 100))",
        "import resource\nresource.prlimit(0, resource.RLIMIT_CPU, (-1, -1))",
    ],
)
def test_rlimit_changes_are_refused(loose: Sandbox, body: str) -> None:
    r = loose.run(tool(body + "\nreturn 1"), entry="f")
    refused(r, "SandboxViolation")
    assert r.limit == "policy"


def test_threads_and_forks_hit_rlimit_nproc(loose: Sandbox) -> None:
    # starting a thread raises no audit event the hook refuses: RLIMIT_NPROC=0 stops the clone()
    r = loose.run(
        tool("import threading\nt = threading.Thread(target=len, args=([],))\nt.start()\nreturn 1"),
        entry="f",
    )
    refused(r, "RuntimeError")
    assert "can't start new thread" in r.error.message
    serves(loose)


@pytest.mark.parametrize(
    "body",
    [
        "import os\nreturn os.system('id')",
        "import os\nreturn os.fork()",
        "import os\nreturn os.posix_spawn('/bin/true', ['true'], {})",
        "import os\nreturn os.execv('/bin/true', ['true'])",
        "import os\nreturn os.popen('id').read()",
        "import subprocess\nreturn subprocess.run(['id']).returncode",
        "import subprocess\nreturn subprocess.check_output('id', shell=True)",
        "import os\nreturn os.kill(HOSTPID, 0)",
        "import os\nreturn os.killpg(0, 9)",
        "import signal\nreturn signal.pthread_kill(1, 0)",
        "import sys\nreturn sys.modules.get('os').system('id')",
        "import sys\nreturn sys.modules.get('posix').system('id')",
        "import gc\nreturn len(gc.get_objects())",
        "import gc\nreturn len(gc.get_referrers(len))",
        "import sys\nreturn sys.addaudithook(len)",
        "import sys\nreturn sys.settrace(None)",
        "import os\nos.chdir('/')\nreturn 1",
        "import os\nos.putenv('X', '1')\nreturn 1",
    ],
)
def test_processes_signals_and_introspection_are_refused_by_the_hook(
    loose: Sandbox, body: str
) -> None:
    r = loose.run(tool(body.replace("HOSTPID", str(os.getpid()))), entry="f")
    refused(r, "SandboxViolation")
    assert r.limit == "policy"
    assert "not allowed in the sandbox" in r.error.message
    serves(loose)


def test_network_is_refused_and_only_loopback_exists(loose: Sandbox) -> None:
    for body in (
        "import socket\nreturn socket.socket()",
        "import socket\nreturn socket.create_connection(('1.1.1.1', 53), 1)",
        "import socket\nreturn socket.getaddrinfo('example.com', 80)",
        "import socket\nreturn socket.socketpair()",
    ):
        r = loose.run(tool(body), entry="f")
        refused(r, "SandboxViolation")
        assert r.limit == "policy"
    if not loose.capabilities.get("netns"):
        pytest.skip("no private network namespace on this machine")
    # if_nameindex raises no audit event: the namespace is what hides the host's interfaces
    r = loose.run(tool("import socket\nreturn socket.if_nameindex()"), entry="f")
    assert r.ok and r.value == [[1, "lo"]], r
    pid = _worker_pid(loose)
    with open(f"/proc/{pid}/net/dev") as fh:
        interfaces = [line.split(":")[0].strip() for line in fh.readlines()[2:]]
    assert interfaces == ["lo"]


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "/root/.bashrc",
        "/proc/self/environ",
        "/proc/1/environ",
        "/proc/self/mem",
        "/etc/shadow",
        "/work/../etc/hostname",
    ],
)
def test_reads_outside_the_sandbox_are_refused_by_the_hook(loose: Sandbox, path: str) -> None:
    for body in (
        f"import os\nreturn os.read(os.open({path!r}, os.O_RDONLY), 100)",
        f"import sys\nreturn sys.modules.get('io').FileIO({path!r}).read()",
        f"import os\nreturn os.listdir({path!r})",
    ):
        r = loose.run(tool(body), entry="f")
        refused(r, "SandboxViolation")
        assert r.limit == "policy"


def test_root_home_is_hidden_by_the_mount_namespace(loose: Sandbox) -> None:
    caps = loose.capabilities
    if "/root" not in caps.get("covered", []):
        pytest.skip(f"/root is not covered on this machine: {caps}")
    # the Python installation may be bound back into the cover; everything else must be gone
    roots = read_roots()
    entries = sorted(
        n
        for n in os.listdir("/root")
        if not any(r.startswith(os.path.join("/root", n) + os.sep) for r in roots)
    )
    assert entries
    # os.stat raises no audit event: only the process layer can hide these
    r = loose.run(
        tool(
            "import os\nout = []\nfor n in names:\n"
            "    try:\n        os.stat('/root/' + n)\n        out.append(n)\n"
            "    except Exception:\n        pass\nreturn out",
            "names",
        ),
        entry="f",
        args=[entries],
    )
    assert r.ok and r.value == [], r


@pytest.mark.parametrize(
    "body",
    [
        "fd = os.open(P, os.O_WRONLY | os.O_CREAT)\nos.write(fd, b'x')",
        "os.mkdir(P)",
        "fd = os.open('a', os.O_WRONLY | os.O_CREAT)\nos.rename('a', P)",
        "os.mkdir('x', dir_fd=os.open(ROOT, os.O_RDONLY))",
        "os.rename('a', 'x', dst_dir_fd=os.open(ROOT, os.O_RDONLY))",
        "os.symlink('/etc/passwd', P)",
        "os.truncate('/etc/hostname', 0)",
        "os.remove('/etc/hostname')",
        "os.utime('/etc/hostname')",
        "os.chmod('/tmp', 0o777)",
        "sys.modules.get('io').FileIO(P, 'w').write(b'x')",
    ],
)
def test_writes_outside_scratch_are_refused_by_the_hook(loose: Sandbox, body: str) -> None:
    path = f"/tmp/sandbox-escape-{uuid.uuid4().hex}"
    source = f"import os\nimport sys\nP = {path!r}\nROOT = {PACKAGE_PARENT!r}\n{body}\nreturn 1"
    r = loose.run(tool(source), entry="f")
    refused(r, "SandboxViolation")
    assert r.limit == "policy"
    assert not os.path.lexists(path)
    assert not os.path.lexists(os.path.join(PACKAGE_PARENT, "x"))


def test_open_relative_to_a_directory_fd_is_contained(loose: Sandbox) -> None:
    """The open audit event carries no dir_fd, so the hook sees a harmless relative name; the
    worker's uid must still be unable to write into a directory it may read (the sandbox
    package)."""
    if loose.capabilities.get("worker_uid") != "per-worker unprivileged uid":
        pytest.skip("no uid drop on this machine")
    READABLE_DIR = os.path.join(PACKAGE_PARENT, "sandbox")
    name = f"sandbox-escape-{uuid.uuid4().hex}"
    r = loose.run(
        tool(
            f"import os\nd = os.open({READABLE_DIR!r}, os.O_RDONLY)\n"
            f"os.open({name!r}, os.O_WRONLY | os.O_CREAT, dir_fd=d)\nreturn 1"
        ),
        entry="f",
    )
    try:
        refused(r, "PermissionError")
        assert not os.path.lexists(os.path.join(READABLE_DIR, name))
    finally:
        if os.path.lexists(os.path.join(READABLE_DIR, name)):
            os.unlink(os.path.join(READABLE_DIR, name))


@pytest.mark.parametrize("directory", ["/tmp", "/var/tmp", "/dev/shm"])
@pytest.mark.parametrize("call", ["os.mkfifo(P)", "os.mknod(P)"])
def test_hook_blind_writes_outside_scratch_do_not_reach_the_host(
    loose: Sandbox, directory: str, call: str
) -> None:
    """os.mkfifo and os.mknod raise no audit event; the process layer must keep them from
    creating files in the host's shared world-writable directories."""
    if not os.path.isdir(directory):
        pytest.skip(f"no {directory} here")
    path = os.path.join(directory, f"sandbox-escape-{uuid.uuid4().hex}")
    try:
        r = loose.run(tool(f"import os\nP = {path!r}\n{call}\nreturn 1"), entry="f")
        assert not os.path.lexists(path), f"worker created {path} on the host"
        assert not r.ok or directory in loose.capabilities.get("private_tmp", []), r
    finally:
        if os.path.lexists(path):
            os.unlink(path)


def test_writes_inside_scratch_work(loose: Sandbox) -> None:
    r = loose.run(
        tool(
            "import os\nfd = os.open('note.txt', os.O_WRONLY | os.O_CREAT)\n"
            "os.write(fd, b'hi')\nos.close(fd)\nreturn os.listdir('.')"
        ),
        entry="f",
    )
    assert r.ok and "note.txt" in r.value, r


def test_sympy_string_parsing_is_stopped_by_the_hook_when_not_disabled(loose: Sandbox) -> None:
    # PERMISSIVE has no preload, so the zygote did not replace sympy's parser: the audit hook
    # sees the compile() that sympify would evaluate
    r = loose.run(
        tool("import sympy\nreturn str(sympy.S(\"__import__('os').getpid()\"))"), entry="f"
    )
    refused(r, "SandboxViolation")
    assert r.limit == "policy" and "dynamic code execution" in r.error.message


def test_environment_secrets_are_invisible(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-" + uuid.uuid4().hex
    monkeypatch.setenv("TOOLMAKER_FAKE_SECRET", secret)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    host_pid = os.getpid()
    attempts = [
        "import os\nreturn dict(os.environ)",
        "import os\nreturn [os.getenv('TOOLMAKER_FAKE_SECRET'), os.getenv('OPENAI_API_KEY')]",
        "import os\nreturn [str(k) + '=' + str(v) for k, v in os.environb.items()]",
        "import os\nreturn os.read(os.open('/proc/self/environ', os.O_RDONLY), 10**5)",
        "import os\nreturn os.read(os.open('/proc/' + str(os.getppid()) + '/environ', 0), 10**5)",
        f"import os\nreturn os.read(os.open('/proc/{host_pid}/environ', 0), 10**5)",
        f"import os\nreturn os.read(os.open('/proc/{host_pid}/cmdline', 0), 10**5)",
        "import sys\nreturn [str(a) for a in sys.argv] + [str(sys.flags)]",
    ]
    with Sandbox(policy=PERMISSIVE, workers=1) as box:
        outputs = []
        for body in attempts:
            r = box.run(tool(body), entry="f")
            outputs.append(json.dumps([r.value, r.stdout, r.error and r.error.message]))
        # and under the default policy there is not even an os module
        r = box.run(tool("import os\nreturn dict(os.environ)"), entry="f", policy=DEFAULT_POLICY)
        refused(r, "ImportError")
        pid = _worker_pid(box)
        zygote_pid = box._zygote.proc.pid  # noqa: SLF001 - the host may look at its own child
        for p in (pid, zygote_pid):
            with open(f"/proc/{p}/environ", "rb") as fh:
                outputs.append(fh.read().decode(errors="replace"))
    assert all(secret not in out for out in outputs), outputs
    # the plain os.environ route worked (so the test could have seen a leak) and held nothing
    assert json.loads(outputs[0])[0] is not None


def test_project_files_outside_the_sandbox_package_cannot_be_read(loose: Sandbox) -> None:
    """The user's project (a .env with keys, .git) is not among the directories workers read."""
    secret = os.path.join(PACKAGE_PARENT, f".sandbox-test-secret-{uuid.uuid4().hex}")
    with open(secret, "w") as fh:
        fh.write("OPENAI_API_KEY=sk-test-not-a-real-key\n")
    try:
        r = loose.run(
            tool(
                f"import os\nfd = os.open({secret!r}, os.O_RDONLY)\n"
                "return os.read(fd, 100).decode()"
            ),
            entry="f",
        )
        refused(r, "SandboxViolation")
        assert "sk-test" not in json.dumps(r.to_json())
    finally:
        os.unlink(secret)
