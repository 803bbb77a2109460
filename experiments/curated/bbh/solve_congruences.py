def solve_congruences(remainders: list[int], moduli: list[int]) -> int:
    """The smallest non-negative x with x % moduli[i] == remainders[i] for every i
    (Chinese remainder theorem; the moduli need not be coprime).

    Raises ValueError when no such x exists (as for remainders=[1, 2], moduli=[4, 6]), and
    when a remainder is not less than its divisor (a remainder is what is left over).

    Args:
        remainders: the number left over for each divisor, in the problem's order.
        moduli: the divisors (the group sizes), in the same order.

    Problem: There is a ship of no more than 95765 apricots. If we divide them equally among
    5 penguins, we have 2 left; if we divide them equally among 107 monkeys, we have 28 left;
    if we divide them equally among 179 racoons, we have 9 left. How many apricots are in the
    ship?
    >>> solve_congruences([2, 28, 9], [5, 107, 179])
    14687
    >>> solve_congruences([1, 3], [4, 6])
    9
    >>> solve_congruences([0], [7])
    0
    """
    if len(remainders) != len(moduli) or not moduli:
        raise ValueError("give as many remainders as moduli (at least one)")
    x, m = 0, 1
    for r, n in zip(remainders, moduli, strict=True):
        if n <= 0:
            raise ValueError(f"modulus {n} is not positive")
        if not 0 <= r < n:
            raise ValueError(f"remainder {r} is not from 0 to {n - 1}, as one left by {n} must be")
        g, inv = gcd_inverse(m % n, n)  # solve x + m*t == r (mod n) for t
        if (r - x) % g:
            raise ValueError("the congruences have no common solution")
        t = ((r - x) // g * inv) % (n // g)
        x += m * t
        m = m * n // g
        x %= m
    return x


def gcd_inverse(a: int, n: int) -> tuple[int, int]:
    """(g, inv) with g = gcd(a, n) and inv * (a // g) == 1 (mod n // g)."""
    old_r, r, old_s, s = a, n, 1, 0
    while r:
        q = old_r // r
        old_r, r = r, old_r - q * r
        old_s, s = s, old_s - q * s
    g = old_r
    return g, old_s % (n // g) if n // g > 1 else 0
