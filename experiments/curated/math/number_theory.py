import sympy

OPERATIONS = (
    "gcd",
    "lcm",
    "divisors",
    "number of divisors",
    "sum of divisors",
    "prime factors",
    "prime factorization",
    "remainder",
    "inverse",
    "to base",
    "from base",
    "digit sum",
)


def digits_in(n, base):
    out = []
    while n:
        n, d = divmod(n, base)
        out.append("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[d])
    return "".join(reversed(out)) or "0"


def number_theory(operation: str, numbers: list[int]) -> str:
    """Number theory on whole numbers copied from a problem, the answer as MATH writes it.

    Operations (`numbers` as each needs):
    - "gcd", "lcm": of all the numbers.
    - "divisors": the positive divisors of numbers[0], comma-separated.
    - "number of divisors", "sum of divisors": of numbers[0] (its positive divisors).
    - "prime factors": the distinct primes dividing numbers[0], comma-separated.
    - "prime factorization": numbers[0] as 2^{2}\\cdot3 (the primes and their powers).
    - "remainder": numbers[0] modulo numbers[1] (0 up to numbers[1] - 1).
    - "inverse": the inverse of numbers[0] modulo numbers[1] (0 up to numbers[1] - 1).
    - "to base": numbers[0] written in base numbers[1] (digits above 9 as A, B, ...), with
      the base as a subscript, as MATH writes it: 202_{7}.
    - "from base": the digits of numbers[0] (as written) read in base numbers[1], as a base-10
      number.
    - "digit sum": the sum of the decimal digits of numbers[0].

    Args:
        operation: one of the operations above.
        numbers: the whole numbers, in the order the operation reads them.

    Problem: If $A$ is the sum of the positive divisors of $500$, what is the sum of the distinct prime divisors of $A$?
    >>> number_theory("sum of divisors", [500])
    '1092'

    >>> number_theory("prime factors", [1092])
    '2, 3, 7, 13'

    Problem: What is the greatest common divisor of $1729$ and $1768$?
    >>> number_theory("gcd", [1729, 1768])
    '13'

    Problem: Write the decimal number $100$ in base $7$.
    >>> number_theory("to base", [100, 7])
    '202_{7}'

    Problem: What is the inverse of $17$ modulo $83$? Give an answer between 0 and 82.
    >>> number_theory("inverse", [17, 83])
    '44'
    """
    which = " ".join(operation.strip().lower().split())
    if which not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}: use one of {', '.join(OPERATIONS)}")
    if not numbers or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise ValueError("numbers must be a non-empty list of whole numbers")
    if max(abs(n) for n in numbers) > 10**15:
        raise ValueError("the numbers are too large for this tool (at most 10^15)")
    first = numbers[0]
    pair = which in ("remainder", "inverse", "to base", "from base")
    if pair and len(numbers) < 2:
        raise ValueError(f"{which} needs two numbers: [number, modulus or base]")
    if which == "gcd":
        return str(sympy.gcd(numbers) if len(numbers) > 1 else abs(first))
    if which == "lcm":
        return str(sympy.lcm(numbers) if len(numbers) > 1 else abs(first))
    if which == "remainder":
        if numbers[1] == 0:
            raise ValueError("the modulus is 0")
        return str(first % abs(numbers[1]))
    if which == "inverse":
        if numbers[1] < 2 or sympy.gcd(first, numbers[1]) != 1:
            raise ValueError(f"{first} has no inverse modulo {numbers[1]}")
        return str(sympy.mod_inverse(first, numbers[1]))
    if which in ("to base", "from base"):
        base = numbers[1]
        if not 2 <= base <= 36:
            raise ValueError(f"base {base} is not from 2 to 36")
        if which == "to base":
            return ("-" if first < 0 else "") + digits_in(abs(first), base) + f"_{{{base}}}"
        digits = [int(ch) for ch in str(abs(first))]
        if any(d >= base for d in digits):
            raise ValueError(f"{first} has a digit too large for base {base}")
        value = 0
        for d in digits:
            value = value * base + d
        return str(-value if first < 0 else value)
    if which == "digit sum":
        return str(sum(int(ch) for ch in str(abs(first))))
    if first < 1:
        raise ValueError(f"{which} needs a positive number, not {first}")
    if which == "divisors":
        return ", ".join(str(d) for d in sympy.divisors(first))
    if which == "number of divisors":
        return str(sympy.divisor_count(first))
    if which == "sum of divisors":
        return str(sum(sympy.divisors(first)))
    if which == "prime factors":
        return ", ".join(str(p) for p in sympy.primefactors(first))
    powers = sorted(sympy.factorint(first).items())
    return "\\cdot".join(str(p) if e == 1 else f"{p}^{{{e}}}" for p, e in powers) or "1"
