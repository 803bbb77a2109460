"""MATH answer normalization in the style of the PRM800K grader (pure string functions).

Two normal forms, as openai/prm800k's ``grade_answer`` uses them:

- `normalize_mathd`: the Hendrycks MATH ``strip_string`` (``\\left``/``\\right``, ``dfrac``,
  ``\\frac12``, ``a/b``, ``0.5``, ``x = ...``, units after ``\\text{ ``, degrees, percent);
- `normalize_prm`: PRM800K's ``_normalize`` (``\\text{}``, ``$``, ``%``, unit words, degrees,
  thousands commas, ``5.0`` -> ``5``, mixed numbers, lower case), kept in LaTeX so that a
  parser that never evaluates code can read it (PRM800K itself ran sympy's ``parse_expr``,
  which uses ``eval``).

Percent follows MATH's convention: ``10\\%`` means ``10``, not ``0.1``.
"""

from __future__ import annotations

import re

UNITS = (
    "degree",
    "cm",
    "centimeter",
    "meter",
    "mile",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
    "foot",
    "feet",
    "inch",
    "yard",
    "unit",
    "sq",
)
TUPLE_CHARS = "()[]"
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|mbox|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}")


# --- Hendrycks MATH (math_normalize.normalize_answer) -------------------------------------------


def _fix_fracs(s: str) -> str:
    parts = s.split("\\frac")
    out = parts[0]
    for part in parts[1:]:
        out += "\\frac"
        if part.startswith("{") or len(part) < 2:
            out += part
            continue
        a, b, rest = part[0], part[1], part[2:]
        if b == "{":
            out += "{" + a + "}" + b + rest
        else:
            out += "{" + a + "}{" + b + "}" + rest
    return out


def _fix_a_slash_b(s: str) -> str:
    m = re.fullmatch(r"(-?\d+)/(\d+)", s)
    return f"\\frac{{{m.group(1)}}}{{{m.group(2)}}}" if m else s


def _fix_sqrt(s: str) -> str:
    return re.sub(r"\\sqrt(?![{\[])\s*([A-Za-z0-9])", r"\\sqrt{\1}", s)


def normalize_mathd(answer: str) -> str:
    """Hendrycks MATH's ``strip_string``: the first, LaTeX-level normal form."""
    s = answer.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    s = s.replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("^{\\circ}", "").replace("^\\circ", "")
    s = s.replace("\\$", "")
    if "\\text{ " in s:  # units after "\text{ "
        s = s.split("\\text{ ")[0]
    s = s.replace("\\%", "").replace("%", "")
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    if s.startswith("."):
        s = "0" + s
    sides = s.split("=")
    if len(sides) == 2 and len(sides[0].strip()) <= 2:
        s = sides[1]
    s = _fix_sqrt(s).replace(" ", "")
    s = _fix_fracs(s)
    if s == "0.5":
        s = "\\frac{1}{2}"
    return _fix_a_slash_b(s)


# --- PRM800K (_normalize), kept in LaTeX -----------------------------------------------------------


def strip_thousands(s: str) -> str:
    """``1,000,000`` -> ``1000000`` (only properly placed commas: ``1,2`` stays a tuple)."""
    prev = None
    while prev != s:
        prev = s
        s = re.sub(r"(\d)(,|\{,\})(\d\d\d)($|\D)", r"\1\3\4", s)
    return s


def is_float(s: str) -> bool:
    """Whether ``s`` is a plain decimal number. Python's ``float`` also reads digit groups
    joined by underscores (``float("52_8") == 528.0``), which in a MATH answer are a base
    subscript: ``52_8`` is not the number 528."""
    if "_" in s:
        return False
    try:
        float(s)
    except ValueError:
        return False
    return True


def str_is_int(s: str) -> bool:
    """Whether ``s`` reads as an integer (``1,000`` and ``5.0`` do; ``1/2`` does not)."""
    s = strip_thousands(s)
    if not is_float(s):
        return False
    x = float(s)
    return x == x and abs(x) != float("inf") and abs(x - round(x)) <= 1e-7


def frac_parts(s: str) -> tuple[int, int] | None:
    """``(a, b)`` for ``a/b`` or ``\\frac{a}{b}`` with integers, else None."""
    m = re.fullmatch(r"(-?\d+)/(\d+)", s) or re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", s)
    if m is None:
        return None
    if m.re.pattern.startswith("(-?)"):
        return int(m.group(1) + m.group(2)), int(m.group(3))
    return int(m.group(1)), int(m.group(2))


def _drop_spaces(s: str) -> str:
    """Remove spaces, except one after a command name followed by a letter (``\\pi r``)."""
    s = re.sub(r"(\\[A-Za-z]+) +(?=[A-Za-z])", "\\1\x00", s)
    return s.replace(" ", "").replace("\x00", " ")


def normalize_prm(answer: str) -> str:
    """PRM800K's ``_normalize``, producing LaTeX a non-evaluating parser can read."""
    s = answer.strip()
    m = re.fullmatch(r"\\text\{(.+?)\}", s)
    if m:
        s = m.group(1)
    s = s.replace("\\%", "%").replace("\\$", "$").replace("$", "").replace("%", "")
    s = s.replace(" or ", " , ").replace(" and ", " , ")
    s = s.replace("million", "\\cdot 10^6").replace("billion", "\\cdot 10^9")
    s = s.replace("trillion", "\\cdot 10^12")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("tfrac", "frac").replace("dfrac", "frac")
    s = re.sub(r"\\[,;:! ]", " ", s).replace("~", " ")
    prev = None
    while prev != s:
        prev = s
        s = _TEXT_CMD.sub(r"\1", s)
    for unit in UNITS:
        s = re.sub(rf"(?<![A-Za-z\\]){unit}(es)?(s)? *(\^ *\{{?[0-9]+\}}?)?(?![A-Za-z])", "", s)
    s = re.sub(r"\^ *\{? *\\circ *\}?", "", s)
    s = s.strip()
    if len(s) > 1 and s[0] == "{" and s[-1] == "}":
        s = s[1:-1]
    s = re.sub(r",\\! *", "", s)
    s = strip_thousands(s)
    if is_float(s) and str_is_int(s):
        s = str(int(round(float(s))))
    s = re.sub(r"- *", "-", s)
    s = re.sub(r"\\frac *(\d) *(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"(\d) +(\d)", r"\1+\2", s)  # mixed numbers "3 1/2"
    s = _fix_sqrt(s)
    s = _drop_spaces(_fix_fracs(s))
    s = re.sub(r"_\{(\w+)\}", r"_\1", s)  # a base or index subscript: 4210_{5} is 4210_5
    s = s.lower()
    if str_is_int(s):
        s = str(int(round(float(strip_thousands(s)))))
    return s


def split_tuple(s: str) -> list[str]:
    """Elements of a tuple/interval ``(a,b]`` (brackets kept out), else ``[s]``.

    Only a bracketed list without inner brackets is split, as PRM800K does.
    """
    s = strip_thousands(s)
    if not s:
        return []
    inner = s[1:-1]
    if (
        len(s) > 2
        and s[0] in TUPLE_CHARS
        and s[-1] in TUPLE_CHARS
        and not any(ch in inner for ch in TUPLE_CHARS)
    ):
        return [e.strip() for e in inner.split(",")]
    return [s]


def count_unknown_letters(s: str) -> int:
    """Distinct letters outside LaTeX command names (``\\frac``, ``\\pi``, ``\\sqrt``...)."""
    bare = re.sub(r"\\[A-Za-z]+", "", s)
    return len({ch for ch in bare if ch.isalpha()})


def should_compare_symbolically(s: str) -> bool:
    """PRM800K's guard: no text with many unknowns, no towers or big powers."""
    if count_unknown_letters(s) > 2:
        return False
    if re.search(r"\^ *(\{[^{}]*|[0-9]+ *)\^", s):  # a power tower
        return False
    if re.search(r"\^ *\{? *-?[0-9]{3,}", s):  # a power with a 3+ digit exponent
        return False
    return True
