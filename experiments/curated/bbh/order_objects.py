import itertools
import re

# Places count from 0 at the leftmost, cheapest, oldest or first; these superlatives name that
# end, the others (rightmost, most expensive, newest) the other end.
LOW_END = {"leftmost", "cheapest", "oldest"}
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4}
BEFORE = ("to the left of", "less expensive than", "cheaper than", "older than", "above")
AFTER = ("to the right of", "more expensive than", "newer than", "below")


def order_objects(puzzle: str) -> str:
    """Answer an ordering puzzle: a few objects in a fixed order (on a shelf or branch, by
    price, by age, or finishing places in a tournament), some statements about their places,
    and options of which one statement is true.

    Statements it reads: "The red book is the leftmost.", "... is to the left of ...",
    "... is the second from the right.", "... is more expensive than ...", "... is the
    third-newest.", "Joe finished above Ada."... Returns the label of the option that holds in
    the only order the statements allow, like "(C)".

    Args:
        puzzle: the problem's full text, from its first word to its last option.

    Problem: On a shelf, there are three books: a red book, a gray book, and a white book. The
    white book is to the left of the gray book. The red book is the second from the left.
    Options: (A) The red book is the leftmost (B) The gray book is the leftmost (C) The white
    book is the leftmost
    >>> order_objects("On a shelf, there are three books: a red book, a gray book, and a white book. The white book is to the left of the gray book. The red book is the second from the left.\\nOptions:\\n(A) The red book is the leftmost\\n(B) The gray book is the leftmost\\n(C) The white book is the leftmost")
    '(C)'
    >>> order_objects("In a golf tournament, there were three golfers: Ana, Joe, and Eli. Eli finished above Ana. Joe finished first.\\nOptions:\\n(A) Ana finished last\\n(B) Joe finished last\\n(C) Eli finished last")
    '(A)'
    """
    text, _, options_text = puzzle.partition("Options:")
    listing = re.search(r"(?:there are|there were|sells) \w+ \w+: ([^.]+)\.", text)
    if listing is None:
        raise ValueError(
            'the list of objects ("there are five books: a ..., and a ....") is missing'
        )
    objects = [
        re.sub(r"^(?:and )?(?:an? |the )?", "", part.strip())
        for part in re.split(r",\s*", listing.group(1))
        if part.strip()
    ]
    statements = [s for s in re.split(r"(?<=\.)\s+", text[listing.end() :]) if s.strip()]
    options = re.findall(r"\(([A-Z])\)\s*([^\n]+)", options_text)
    if not options:
        raise ValueError('no options (lines like "(A) ..." after "Options:")')
    checks = [statement_check(s, objects) for s in statements]
    orders = [p for p in itertools.permutations(objects) if all(c(p) for c in checks)]
    if len(orders) != 1:
        raise ValueError(f"the statements allow {len(orders)} orders, not exactly one")
    true = [label for label, option in options if statement_check(option, objects)(orders[0])]
    if len(true) != 1:
        raise ValueError(f"{len(true)} options hold, not exactly one")
    return f"({true[0]})"


def statement_check(sentence: str, objects: list[str]):
    """A check of one statement: a function of an order (a tuple of objects) -> bool."""
    s = " " + sentence.strip().rstrip(".").lower() + " "
    named = sorted(
        ((s.find(f" {o.lower()} "), o) for o in objects if f" {o.lower()} " in s),
        key=lambda t: t[0],
    )
    n = len(objects)
    if len(named) == 2:
        a, b = named[0][1], named[1][1]
        if any(w in s for w in BEFORE):
            return lambda p: p.index(a) < p.index(b)
        if any(w in s for w in AFTER):
            return lambda p: p.index(a) > p.index(b)
    if len(named) == 1:
        a = named[0][1]
        rank = place_named(s, n)
        if rank is not None:
            return lambda p: p.index(a) == rank
    raise ValueError(f"cannot read the statement {sentence.strip()!r}")


def place_named(s: str, n: int):
    """The 0-based place a superlative names ("the second from the right", "the third-newest",
    "finished second-to-last", "the most expensive"), or None."""
    m = re.search(r"(first|second|third|fourth|fifth)[ -]from the (left|right)", s)
    if m:
        k = ORDINALS[m.group(1)]
        return k if m.group(2) == "left" else n - 1 - k
    m = re.search(r"(first|second|third|fourth|fifth)-to-last", s)
    if m:
        return n - 1 - ORDINALS[m.group(1)]
    m = re.search(
        r"(?:(second|third|fourth|fifth)[- ])?(most expensive|cheapest|oldest|newest|leftmost|rightmost)",
        s,
    )
    if m:
        k = ORDINALS[m.group(1)] if m.group(1) else 0
        return k if m.group(2) in LOW_END else n - 1 - k
    m = re.search(r"finished (first|second|third|fourth|fifth|last)\b", s)
    if m:
        return n - 1 if m.group(1) == "last" else ORDINALS[m.group(1)]
    return None
