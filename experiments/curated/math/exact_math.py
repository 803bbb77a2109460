import re

import sympy

TOKEN = re.compile(r"\s*(?:(\d+\.\d*|\.\d+|\d+)|(\\[A-Za-z]+|[A-Za-z]+)|(\*\*|[-+*/^()!{}\[\],=]))")
FUNCTIONS = {
    "sqrt": sympy.sqrt,
    "cbrt": sympy.cbrt,
    "abs": sympy.Abs,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "ln": sympy.log,
    "log": sympy.log,
    "exp": sympy.exp,
    "floor": sympy.floor,
    "ceil": sympy.ceiling,
}
CONSTANTS = {"pi": sympy.pi, "e": sympy.E}
DROPPED = ("\\left", "\\right", "\\displaystyle", "\\,", "\\;", "\\!", "$")
SPELLED = {"\\cdot": "*", "\\times": "*", "\\div": "/", "\\le": "<=", "\\ge": ">="}


def tokens(text):
    """The tokens of an expression: (kind, text) with kind number, name or op."""
    for old in DROPPED:
        text = text.replace(old, " ")
    for old, new in SPELLED.items():
        text = text.replace(old, new)
    text = text.replace("\\%", "%").replace("%", "/100").replace("\\{", "(").replace("\\}", ")")
    out = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        found = TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            raise ValueError(f"cannot read {text[pos : pos + 12]!r} in the expression")
        number, name, op = found.groups()
        if number is not None:
            out.append(("number", number))
        elif name is not None:
            if name.startswith("\\"):
                out.append(("name", name[1:]))
            elif name.lower() in ("mod", "bmod"):
                out.append(("op", "mod"))
            elif name.lower() in FUNCTIONS or name.lower() in ("pi", "binom", "frac"):
                out.append(("name", name.lower()))
            else:  # xy is x times y: letters are one variable each
                out.extend(("name", ch) for ch in name)
        else:
            out.append(("op", "^" if op == "**" else op))
        pos = found.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class Reader:
    """A recursive-descent reader of an expression's tokens into sympy objects."""

    def __init__(self, items):
        self.items = items
        self.at = 0

    def peek(self):
        return self.items[self.at] if self.at < len(self.items) else ("end", "")

    def take(self, op=None):
        kind, text = self.peek()
        if op is not None and (kind != "op" or text != op):
            raise ValueError(f"expected {op!r} in the expression, found {text or 'its end'!r}")
        if kind == "end":
            raise ValueError("the expression ends too early")
        self.at += 1
        return kind, text

    def expression(self):
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            sign = self.take()[1]
            right = self.term()
            value = value + right if sign == "+" else value - right
        return value

    def term(self):
        value = self.signed()
        while True:
            kind, text = self.peek()
            if kind == "op" and text in ("*", "/", "mod"):
                self.take()
                right = self.signed()
                if text == "mod":
                    value = sympy.Mod(value, right)
                else:
                    value = value * right if text == "*" else value / right
            elif kind in ("number", "name") or (kind == "op" and text in ("(", "{", "[")):
                value = value * self.power()  # 2x, x(x + 1): implicit multiplication
            else:
                return value

    def signed(self):
        if self.peek() == ("op", "-"):
            self.take()
            return -self.signed()
        if self.peek() == ("op", "+"):
            self.take()
            return self.signed()
        return self.power()

    def power(self):
        base = self.postfix()
        if self.peek() == ("op", "^"):
            self.take()
            return base ** self.signed()
        return base

    def postfix(self):
        value = self.atom()
        while self.peek() == ("op", "!"):
            self.take()
            value = sympy.factorial(value)
        return value

    def group(self):
        kind, text = self.peek()
        if kind == "op" and text == "{":
            self.take()
            value = self.expression()
            self.take("}")
            return value
        return self.atom()

    def atom(self):
        kind, text = self.take()
        if kind == "number":
            return sympy.Rational(text)
        if kind == "op" and text in ("(", "{", "["):
            close = {"(": ")", "{": "}", "[": "]"}[text]
            value = self.expression()
            self.take(close)
            return value
        if kind == "name":
            return self.named(text)
        raise ValueError(f"unexpected {text!r} in the expression")

    def named(self, name):
        if name in ("frac", "dfrac", "tfrac"):
            top = self.group()
            return top / self.group()
        if name in ("binom", "dbinom", "tbinom"):
            top = self.group()
            return sympy.binomial(top, self.group())
        if name == "sqrt" and self.peek() == ("op", "["):
            self.take()
            degree = self.expression()
            self.take("]")
            return sympy.root(self.group(), degree)
        if name in FUNCTIONS:
            if self.peek() == ("op", "("):
                return FUNCTIONS[name](self.atom())
            return FUNCTIONS[name](self.group())
        if name in CONSTANTS:
            return CONSTANTS[name]
        if len(name) == 1:
            return sympy.Symbol(name)
        raise ValueError(f"unknown name {name!r} in the expression")


def read(text):
    """An expression (or an equation, as left minus right) read into sympy."""
    sides = text.split("=")
    if len(sides) > 2:
        raise ValueError("an equation has one '=' sign")
    values = []
    for side in sides:
        reader = Reader(tokens(side))
        values.append(reader.expression())
        if reader.at != len(reader.items):
            raise ValueError(f"cannot read the expression past {reader.items[reader.at][1]!r}")
    return values[0] - values[1] if len(values) == 2 else values[0]


def latex(value):
    """A sympy value written as MATH answers are: 3\\sqrt{13}, \\frac{3}{4}, x^3+3x-6."""
    value = sympy.nsimplify(value) if value.is_Float else value
    if value.is_Integer or value.is_Symbol:
        return str(value)
    if value == sympy.pi:
        return "\\pi"
    if value == sympy.I:
        return "i"
    if value.is_Add:
        parts = []
        for term in value.as_ordered_terms():
            text = latex(term)
            if parts and not text.startswith("-"):
                text = "+" + text
            parts.append(text)
        return "".join(parts)
    top, bottom = sympy.fraction(value)
    if bottom != 1:
        sign = "-" if top.could_extract_minus_sign() else ""
        return f"{sign}\\frac{{{latex(-top if sign else top)}}}{{{latex(bottom)}}}"
    if value.is_Mul:
        coeff, rest = value.as_coeff_Mul()
        if coeff == -1:
            return "-" + latex(rest)
        factors = [latex(f) if not f.is_Add else f"({latex(f)})" for f in rest.as_ordered_factors()]
        head = "" if coeff == 1 else latex(coeff)
        return head + "".join(factors)
    if value.is_Pow:
        base, power = value.as_base_exp()
        inner = latex(base)
        if power == sympy.Rational(1, 2):
            return f"\\sqrt{{{inner}}}"
        if power.is_Rational and power.p == 1:
            return f"\\sqrt[{power.q}]{{{inner}}}"
        if not (base.is_Symbol or (base.is_Integer and base >= 0)):
            inner = f"({inner})"
        return f"{inner}^{{{latex(power)}}}"
    return str(value)


def terminates(value):
    """Whether a non-integer rational has a finite decimal expansion (its denominator's only
    primes are 2 and 5)."""
    if value.is_Integer:
        return False
    q = int(value.q)
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


def decimal(value):
    """A terminating rational as a decimal (at most 12 places)."""
    text = f"{float(value):.12f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def exact_math(operation: str, expression: str, unknown: str = "x") -> str:
    """Exact math on an expression copied from a problem, with the answer written as MATH
    answers are (3\\sqrt{13}, \\frac{3}{4}, x^3+3x-6). Reads LaTeX ($\\frac{1}{4}$, \\sqrt{2},
    \\dbinom{31}{28}, 2^{10}, \\cdot) or plain math (sqrt(2), 1/4, 2^10, 5!); 2x and x(x+1) are
    products; each letter is one variable; 25\\% is 25/100; "a mod b" is the remainder of a
    divided by b.

    Operations:
    - "value": the exact value of an arithmetic expression.
    - "expand": the expression multiplied out and simplified.
    - "factor": the expression factored.
    - "solve": the values of `unknown` that make an equation true ("=" in the expression;
      without one, the values that make it zero), comma-separated, smallest first.

    Args:
        operation: "value", "expand", "factor" or "solve".
        expression: the expression or equation, copied from the problem.
        unknown: for "solve", the variable to solve for (one letter).

    Problem: What is the value of $(26^2 - 24^2 - 10)^2 - 10^2$?
    >>> exact_math("value", "(26^2 - 24^2 - 10)^2 - 10^2")
    '8000'

    Problem: Expand and simplify completely: x\\left(x(1+x)+2x\\right)-3(x^2-x+2)
    >>> exact_math("expand", "x\\\\left(x(1+x)+2x\\\\right)-3(x^2-x+2)")
    'x^{3}+3x-6'

    Problem: Find the value of $r$ such that $$\\frac{6r^2 -19r - 7}{2r-7} = 4r-3.$$
    >>> exact_math("solve", "\\\\frac{6r^2 -19r - 7}{2r-7} = 4r-3", "r")
    '4'

    Problem: Compute $\\dbinom{31}{28}$.
    >>> exact_math("value", "\\\\dbinom{31}{28}")
    '4495'

    Problem: Find the units digit of $18^6.$
    >>> exact_math("value", "18^6 mod 10")
    '4'

    Problem: What is the distance between the points $(2, -6)$ and $(-4, 3)$?
    >>> exact_math("value", "sqrt((2 - (-4))^2 + (-6 - 3)^2)")
    '3\\\\sqrt{13}'
    """
    which = operation.strip().lower()
    if which not in ("value", "expand", "factor", "solve"):
        raise ValueError(f"unknown operation {operation!r}: use value, expand, factor or solve")
    if not expression.strip():
        raise ValueError("the expression is empty: copy it from the problem")
    value = read(expression)
    if which == "value":
        exact = sympy.nsimplify(sympy.simplify(value))
        if "." in expression and exact.is_Rational and terminates(exact):
            return decimal(exact)  # decimals in, decimals out: 313.9 + 12.6 is 326.5
        return latex(exact)
    if which == "expand":
        return latex(sympy.expand(sympy.simplify(value)))
    if which == "factor":
        return latex(sympy.factor(value))
    name = unknown.strip()
    if len(name) != 1 or not name.isalpha():
        raise ValueError(f"the unknown {unknown!r} is not one letter")
    found = sympy.solve(value, sympy.Symbol(name))
    if not found:
        raise ValueError("the equation has no solution for " + name)
    real = [v for v in found if v.is_real]
    ordered = sorted(real, key=lambda v: float(v)) + [v for v in found if not v.is_real]
    return ", ".join(latex(sympy.simplify(v)) for v in ordered)
