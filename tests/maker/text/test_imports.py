"""Star imports made explicit (a real Qwen2.5-Coder-1.5B reply on the example tasks: it wrote
`from typing import *` and `from collections import *`, and at temperature 0 sent the same
reply again when told to import the names it needs)."""

from __future__ import annotations

from maker.text.drafts import Rejection, ToolDraft, parse_reply
from maker.text.imports import add_missing_imports, expand_star_imports
from sandbox import DEFAULT_POLICY, Sandbox

REAL_REPLY = '''1. `python tool`
```python
from typing import *
from collections import *

def sum_of_divisors(n: int) -> int:
    """Sum of all positive divisors of a given integer."""
    if n <= 0:
        return 0

    total = 1
    for i in range(2, int(sqrt(n)) + 1):
        if n % i == 0:
            total += i
            if i != n // i:
                total += n // i

    if n > 1:
        total += n

    return total
```

2. `python tests`
```python
def test_known():
    assert sum_of_divisors(36) == 91
```
'''


def test_the_real_reply_parses_with_its_unused_star_imports_dropped() -> None:
    draft = parse_reply(REAL_REPLY)
    assert isinstance(draft, ToolDraft), draft
    assert "import *" not in draft.source and draft.name == "sum_of_divisors"
    assert "dropped `from typing import *` (nothing of it is used)" in draft.notes


def test_used_names_are_imported_from_the_first_module_that_has_them() -> None:
    src = (
        "from typing import *\nfrom collections import *\nfrom math import *\n"
        "def f(xs: List[int]) -> Dict[int, int]:\n"
        "    c = Counter(xs)\n    return {k: int(sqrt(v)) for k, v in c.items()}\n"
    )
    new, notes = expand_star_imports(src, DEFAULT_POLICY)
    assert new.splitlines()[:3] == [
        "from typing import Dict, List",
        "from collections import Counter",
        "from math import sqrt",
    ]
    assert notes[0].startswith("rewrote `from collections import *`")  # typing comes last


def test_the_rewritten_tool_runs_in_the_sandbox(sb: Sandbox) -> None:
    src = (
        "from math import *\ndef hyp(a: float, b: float) -> float:\n"
        '    """Hypotenuse."""\n    return sqrt(a*a + b*b)\n'
    )
    draft = parse_reply(f"```python\n{src}```")
    assert isinstance(draft, ToolDraft)
    assert sb.run(draft.source, "hyp", kwargs={"a": 3, "b": 4}).value == 5.0


def test_local_names_and_disallowed_modules_are_left_alone() -> None:
    src = "from math import *\ndef f(pi: float) -> float:\n    e = 2\n    return pi * e\n"
    new, notes = expand_star_imports(src, DEFAULT_POLICY)
    assert new.startswith("def f")
    assert notes == ["dropped `from math import *` (nothing of it is used)"]
    bad = parse_reply(
        '```python\nfrom os import *\ndef f(x: int) -> int:\n    """X."""\n    return x\n```'
    )
    assert isinstance(bad, Rejection) and bad.reason == "forbidden_import"


# The real 1.5B's MATH solution (geometry): it imported three sympy names and called a fourth
SEMICIRCLE_SOLUTION = """```python
from sympy import symbols, Eq, solve


def solution():
    R = 14
    r = symbols('r')
    distance_between_centers = sqrt(R**2 - (2*r)**2)
    equation = Eq(distance_between_centers, r + r)
    return solve(equation, r)[0]
```"""


def test_a_called_name_is_imported_from_the_module_that_offers_it(sb: Sandbox) -> None:
    draft = parse_reply(SEMICIRCLE_SOLUTION, entry="solution", program=True)
    assert isinstance(draft, ToolDraft), draft
    assert draft.source.startswith("from sympy import sqrt\n")
    assert "added `from sympy import sqrt` (used, never imported)" in draft.notes
    assert str(sb.run(draft.source, "solution").value) == "7*sqrt(2)/2"
    # with no import at all: the one module that offers the name, and a conventional alias
    # (log is also math's, numpy's and cmath's: sympy's here, as Rational is sympy's alone)
    src = "def f() -> str:\n    return str(Rational(1, 3) + sp.Integer(1) + log(1))\n"
    new, notes = add_missing_imports(src)
    assert new.splitlines()[:3] == [
        "import sympy as sp",
        "from sympy import Rational",
        "from sympy import log",
    ], new
    assert sb.run(new, "f").value == "4/3"


def test_a_name_several_modules_offer_is_left_alone() -> None:
    # sqrt: math, cmath, numpy and sympy all have one; the code imports from none or from two
    for src in (
        "def f(x: float) -> float:\n    return sqrt(x)\n",
        "import math\nfrom sympy import Rational\ndef f(x: float) -> float:\n    return sqrt(x)\n",
    ):
        assert add_missing_imports(src) == (src, [])
    # a helper the code forgot to write is not guessed, nor a one-letter name from nowhere
    for src in (
        "def f() -> int:\n    return solve_part_one(3)\n",
        "def f() -> int:\n    return N(3)\n",
    ):
        assert add_missing_imports(src) == (src, [])
    # but from the module the code imports from, it is that module's
    mine = "from sympy import symbols\ndef f() -> int:\n    return N(3)\n"
    assert add_missing_imports(mine)[0].startswith("from sympy import N\n")
