"""Sandbox policy as data: allowed modules and their names, builtins, and limits.

The policy is one table that the runtime, the host and the tests all read. A call may override it
(`Sandbox.run(..., policy=...)`); `Policy.to_json()` is what crosses into the worker.

Module entries map a module name to the names it exposes. ``ALL_PUBLIC`` exposes every public
name of the module that is not itself a module (for pure modules such as `math`). Everything else
is an explicit list: libraries that evaluate strings or reach attributes (sympy's `sympify`,
`parse_expr`, `lambdify`; `string.Formatter`; `numpy.load`) are left out on purpose.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

ALL_PUBLIC = "*"

SAFE_BUILTINS: tuple[str, ...] = (
    # constants and basic types
    "None",
    "True",
    "False",
    "bool",
    "int",
    "float",
    "complex",
    "str",
    "bytes",
    "bytearray",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "slice",
    "range",
    "object",
    # functions
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "callable",
    "chr",
    "divmod",
    "enumerate",
    "filter",
    "format",
    "hash",
    "hex",
    "id",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "map",
    "max",
    "min",
    "next",
    "oct",
    "ord",
    "pow",
    "repr",
    "reversed",
    "round",
    "sorted",
    "sum",
    "zip",
    # class support (attribute writes stay guarded)
    "property",
    "staticmethod",
    "classmethod",
    "super",
    "__build_class__",
    # guarded replacements supplied by the runtime
    "getattr",
    "hasattr",
    "__import__",
    "safe_eval",  # expression strings of literals and operators (sandbox.expression)
    # exceptions a tool may raise or catch (never BaseException, SystemExit, KeyboardInterrupt)
    "Exception",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "EOFError",
    "IndexError",
    "KeyError",
    "LookupError",
    "NameError",
    "NotImplementedError",
    "OverflowError",
    "RecursionError",
    "RuntimeError",
    "StopIteration",
    "TypeError",
    "UnboundLocalError",
    "ValueError",
    "ZeroDivisionError",
    "FloatingPointError",
    "UnicodeError",
    "NotImplemented",
    "Ellipsis",
)

SYMPY_NAMES: tuple[str, ...] = (
    "Symbol",
    "symbols",
    "Integer",
    "Rational",
    "Float",
    "Eq",
    "Ne",
    "Lt",
    "Le",
    "Gt",
    "Ge",
    "Abs",
    "sqrt",
    "cbrt",
    "root",
    "exp",
    "log",
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "tanh",
    "floor",
    "ceiling",
    "Mod",
    "Min",
    "Max",
    "pi",
    "E",
    "I",
    "oo",
    "zoo",
    "nan",
    "S",
    "Poly",
    "Matrix",
    "eye",
    "zeros",
    "ones",
    "simplify",
    "expand",
    "factor",
    "cancel",
    "apart",
    "together",
    "collect",
    "nsimplify",
    "trigsimp",
    "powsimp",
    "radsimp",
    "solve",
    "solveset",
    "linsolve",
    "nonlinsolve",
    "roots",
    "real_roots",
    "diff",
    "integrate",
    "limit",
    "series",
    "summation",
    "product",
    "binomial",
    "factorial",
    "gcd",
    "lcm",
    "igcd",
    "ilcm",
    "factorint",
    "divisors",
    "divisor_count",
    "totient",
    "isprime",
    "prime",
    "primerange",
    "nextprime",
    "prevprime",
    "primepi",
    "mod_inverse",
    "N",
    "Interval",
    "FiniteSet",
    "Union",
    "Intersection",
    "re",
    "im",
    "conjugate",
    "arg",
    "fibonacci",
    "lucas",
    "catalan",
    "harmonic",
    "Sum",
    "Product",
    "Derivative",
    "Integral",
    "Piecewise",
    "And",
    "Or",
    "Not",
    "true",
    "false",
    "degree",
    "LC",
    "quo",
    "rem",
    "div",
    "det",
    "numer",
    "denom",
    "fraction",
    "continued_fraction",
    "perfect_power",
    "integer_nthroot",
    "sqrt_mod",
    "discrete_log",
    "n_order",
    "primitive_root",
    "legendre_symbol",
    "jacobi_symbol",
    "multinomial_coefficients",
    "binomial_coefficients",
    "ff",
    "rf",
    "subfactorial",
    "stirling",
    "bell",
    "Function",
    "Lambda",
    "ln",
    "sign",
    # names the real 1.5B imported on MATH problems and was refused (primefactors, 3 solutions)
    "primefactors",
    "divisor_sigma",
    "mobius",
    "primeomega",
    "reduced_totient",
    "npartitions",
    "factor_list",
    "expand_trig",
    "nroots",
    "minimal_polynomial",
    "frac",
    "deg",
    "rad",
    "reduce_inequalities",
    "solve_univariate_inequality",
    "Point",
    "Line",
    "Segment",
    "Circle",
    "Triangle",
    "Polygon",
)

NUMPY_NAMES: tuple[str, ...] = (
    "array",
    "asarray",
    "arange",
    "linspace",
    "zeros",
    "ones",
    "full",
    "eye",
    "identity",
    "sum",
    "prod",
    "mean",
    "median",
    "std",
    "var",
    "min",
    "max",
    "amin",
    "amax",
    "argmin",
    "argmax",
    "sort",
    "argsort",
    "cumsum",
    "cumprod",
    "diff",
    "dot",
    "matmul",
    "outer",
    "cross",
    "round",
    "abs",
    "absolute",
    "sqrt",
    "exp",
    "log",
    "log2",
    "log10",
    "floor",
    "ceil",
    "trunc",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "arctan2",
    "degrees",
    "radians",
    "hypot",
    "unique",
    "where",
    "clip",
    "allclose",
    "isclose",
    "array_equal",
    "concatenate",
    "stack",
    "vstack",
    "hstack",
    "reshape",
    "transpose",
    "flip",
    "roll",
    "count_nonzero",
    "nonzero",
    "percentile",
    "quantile",
    "average",
    "polyfit",
    "polyval",
    "roots",
    "gcd",
    "lcm",
    "mod",
    "floor_divide",
    "power",
    "maximum",
    "minimum",
    "bincount",
    "histogram",
    "interp",
    "trace",
    "pi",
    "e",
    "inf",
    "nan",
    "isnan",
    "isinf",
    "isfinite",
    "int64",
    "float64",
    "bool_",
    "searchsorted",
    "tile",
    "repeat",
    "meshgrid",
    "convolve",
    "corrcoef",
    "cov",
    "ptp",
    "sign",
)

NUMPY_LINALG_NAMES: tuple[str, ...] = (
    "solve",
    "det",
    "inv",
    "norm",
    "eig",
    "eigvals",
    "matrix_rank",
    "lstsq",
    "pinv",
    "matrix_power",
    "LinAlgError",
)

# `typing`: the names models use in annotations, and nothing more. Annotations are evaluated
# when a function is defined, so `from typing import List` must work for `def f(xs: List[int])`.
# Left out on purpose: everything that evaluates or compiles strings (get_type_hints, ForwardRef,
# get_origin/get_args, which hand back an alias's inner objects, ForwardRefs included), class
# machinery a tool does not need and the sandbox does not vet (TypeVar, ParamSpec, Generic,
# Protocol, NamedTuple and TypedDict, which build classes from templates and metaclasses,
# NewType), process-wide registries that would outlive a call in a warm worker (overload,
# get_overloads, runtime_checkable), helpers that mutate functions or print (no_type_check,
# reveal_type) and `Type`, whose call is `type(x)` (the builtin the sandbox withholds). The
# abstract collection aliases forward attribute reads to their `collections.abc` class; the
# guards refuse `register` on those (see `sandbox._guards.guarded_getattr`).
TYPING_NAMES: tuple[str, ...] = (
    "Any",
    "List",
    "Dict",
    "Tuple",
    "Set",
    "FrozenSet",
    "Optional",
    "Union",
    "Literal",
    "Callable",
    "Iterable",
    "Iterator",
    "Generator",
    "Sequence",
    "MutableSequence",
    "Mapping",
    "MutableMapping",
    "AbstractSet",
    "MutableSet",
    "Collection",
    "Container",
    "Hashable",
    "Sized",
    "Reversible",
    "Deque",
    "DefaultDict",
    "Counter",
    "OrderedDict",
    "Text",
    "NoReturn",
    "Final",
    "TYPE_CHECKING",
    "cast",
)

# `operator`: the functions of Python's operators (`functools.reduce(operator.mul, xs)`, a dict
# of operator names to functions), which real models import as often as `typing`. Left out:
# `attrgetter` and `methodcaller`, which read attributes from C and so around the guards
# (``attrgetter("__class__")``), and the in-place forms. `itemgetter` is the sandbox's own,
# reading items through the item guard (`sandbox._guards.guarded_itemgetter`).
OPERATOR_NAMES: tuple[str, ...] = (
    "abs",
    "add",
    "and_",
    "concat",
    "contains",
    "countOf",
    "eq",
    "floordiv",
    "ge",
    "gt",
    "index",
    "indexOf",
    "inv",
    "invert",
    "is_",
    "is_not",
    "itemgetter",
    "le",
    "lshift",
    "lt",
    "mod",
    "mul",
    "ne",
    "neg",
    "not_",
    "or_",
    "pos",
    "pow",
    "rshift",
    "sub",
    "truediv",
    "truth",
    "xor",
)

DEFAULT_MODULES: dict[str, Any] = {
    "math": ALL_PUBLIC,
    "cmath": ALL_PUBLIC,
    "fractions": ("Fraction",),
    "decimal": (
        "Decimal",
        "localcontext",
        "getcontext",
        "Context",
        "InvalidOperation",
        "DivisionByZero",
        "ROUND_HALF_UP",
        "ROUND_HALF_EVEN",
        "ROUND_HALF_DOWN",
        "ROUND_UP",
        "ROUND_DOWN",
        "ROUND_CEILING",
        "ROUND_FLOOR",
    ),
    "statistics": ALL_PUBLIC,
    "itertools": ALL_PUBLIC,
    "functools": (
        "reduce",
        "partial",
        "lru_cache",
        "cache",
        "cmp_to_key",
        "total_ordering",
        "cached_property",
    ),
    "collections": ("Counter", "defaultdict", "OrderedDict", "deque", "namedtuple", "ChainMap"),
    "heapq": ALL_PUBLIC,
    "bisect": ALL_PUBLIC,
    "re": (
        "compile",
        "match",
        "search",
        "fullmatch",
        "findall",
        "finditer",
        "sub",
        "subn",
        "split",
        "escape",
        "IGNORECASE",
        "I",
        "MULTILINE",
        "M",
        "DOTALL",
        "S",
        "VERBOSE",
        "X",
        "ASCII",
        "A",
        "error",
        "Pattern",
        "Match",
    ),
    "string": (
        "ascii_letters",
        "ascii_lowercase",
        "ascii_uppercase",
        "digits",
        "hexdigits",
        "octdigits",
        "punctuation",
        "printable",
        "whitespace",
        "capwords",
    ),
    "datetime": ("date", "datetime", "time", "timedelta", "timezone", "MINYEAR", "MAXYEAR"),
    "json": ("loads", "dumps", "JSONDecodeError"),
    # `random` is special: each call gets its own seeded random.Random behind this facade.
    "random": (
        "random",
        "randint",
        "randrange",
        "choice",
        "choices",
        "shuffle",
        "sample",
        "uniform",
        "gauss",
        "seed",
    ),
    "sympy": SYMPY_NAMES,
    "numpy": NUMPY_NAMES,
    "numpy.linalg": NUMPY_LINALG_NAMES,
    "typing": TYPING_NAMES,
    "operator": OPERATOR_NAMES,
}


@dataclass(frozen=True)
class Limits:
    """Resource limits. Process-level ones (memory, CPU, files) are fixed per worker process."""

    timeout_s: float = 5.0  # wall clock per call, owned and enforced by the host
    test_timeout_s: float = 30.0  # wall clock for one property test (many examples)
    memory_mb: int = 512  # address space a worker may add above the pre-imported baseline
    cpu_s: int = 120  # CPU seconds per worker process (warm) or per call (strict)
    file_size_mb: int = 8  # largest file a worker may write (scratch only)
    open_files: int = 64
    scratch_mb: int = 32  # size of the scratch tmpfs, where the kernel allows mounting one
    max_source_bytes: int = 200_000
    max_ast_depth: int = 60
    stdout_bytes: int = 65_536
    error_chars: int = 2_000
    result_bytes: int = 1_000_000
    result_depth: int = 64
    result_nodes: int = 100_000
    int_digits: int = 4_300
    max_calls_per_worker: int = 2_000
    recursion_limit: int = 3_000

    def process_key(self) -> tuple[int, ...]:
        """The limits that are set on a worker process, and so decide which worker can serve
        (the recursion limit is set once, when the worker starts)."""
        return (
            self.memory_mb,
            self.cpu_s,
            self.file_size_mb,
            self.open_files,
            self.scratch_mb,
            self.recursion_limit,
        )


@dataclass(frozen=True)
class Policy:
    """What tool code may use: modules (name -> exposed names or ALL_PUBLIC), builtins, limits."""

    modules: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_MODULES))
    builtins: tuple[str, ...] = SAFE_BUILTINS
    preload: tuple[str, ...] = ("sympy", "numpy")
    limits: Limits = field(default_factory=Limits)

    def to_json(self) -> dict[str, Any]:
        return {
            "modules": {
                k: (v if v == ALL_PUBLIC else list(v)) for k, v in sorted(self.modules.items())
            },
            "builtins": list(self.builtins),
            "preload": list(self.preload),
            "limits": asdict(self.limits),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        modules = {
            k: (v if v == ALL_PUBLIC else tuple(v)) for k, v in dict(data["modules"]).items()
        }
        return cls(
            modules=modules,
            builtins=tuple(data["builtins"]),
            preload=tuple(data.get("preload", ())),
            limits=Limits(**data.get("limits", {})),
        )

    def key(self) -> str:
        """A content hash naming this policy (the worker caches by it).

        Computed once per instance (the host asks for it on every sandbox call): a policy is
        frozen, and every change (`with_limits`, `allow`, `deny`, `dataclasses.replace`) makes a
        new instance. Mutating ``modules`` in place is not supported."""
        return self._key

    @cached_property
    def _key(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_limits(self, **changes: Any) -> Policy:
        return replace(self, limits=replace(self.limits, **changes))

    def allow(self, module: str, names: Any = ALL_PUBLIC) -> Policy:
        modules = dict(self.modules)
        modules[module] = names
        return replace(self, modules=modules)

    def deny(self, module: str) -> Policy:
        modules = {
            k: v for k, v in self.modules.items() if k != module and not k.startswith(module + ".")
        }
        return replace(self, modules=modules)


DEFAULT_POLICY = Policy()
