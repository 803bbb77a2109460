"""An example tool, the kind a maker model writes: a typed function with a docstring."""


def gcd(a: int, b: int) -> int:
    """Return the greatest common divisor of two integers.

    Args:
        a: first integer
        b: second integer

    >>> gcd(12, 18)
    6
    """
    while b:
        a, b = b, a % b
    print(f"gcd is {abs(a)}")
    return abs(a)
