def close_brackets(sequence: str) -> str:
    """Complete a sequence of brackets: the closing brackets, in order, that close every
    bracket still open, joined by single spaces.

    Raises ValueError if a closing bracket does not match.

    Args:
        sequence: the brackets so far, as one string (spaces optional); text up to an
            "Input:" label is ignored.

    >>> close_brackets("[ [")
    '] ]'

    Problem: Complete the rest of the sequence, making sure that the parentheses are closed
    properly. Input: < [ [
    >>> close_brackets("Complete the rest of the sequence, making sure that the parentheses are closed properly. Input: < [ [")
    '] ] >'
    >>> close_brackets("Complete the rest of the sequence. Input: ( { } [ < > ]")
    ')'
    >>> close_brackets("{<>}")
    ''
    """
    if "Input:" in sequence:
        sequence = sequence.rsplit("Input:", 1)[1]
    pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
    stack = []
    for ch in sequence:
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch in pairs.values():
            if not stack or stack.pop() != ch:
                raise ValueError(f"unmatched closing bracket {ch!r}")
    return " ".join(reversed(stack))
