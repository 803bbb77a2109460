import re


def track_swaps(puzzle: str) -> str:
    """Answer a "who ends up with what" puzzle: people start with one item each (a partner,
    a ball, a book, a gift, a position), pairs of them swap in turn, and the question asks
    what one person has at the end.

    Returns the label of the right option, like "(B)", or the item's text when the puzzle
    lists no options.

    Args:
        puzzle: the problem's full text, from its first word to its last option.

    Problem: Alice, Bob, and Claire are playing a game. At the start of the game, they are each
    holding a ball: Alice has a red ball, Bob has a blue ball, and Claire has a green ball.
    First, Alice and Bob swap balls. Then, Bob and Claire swap balls. At the end of the game,
    Claire has the Options: (A) red ball (B) blue ball (C) green ball
    >>> track_swaps("Alice, Bob, and Claire are playing a game. At the start of the game, they are each holding a ball: Alice has a red ball, Bob has a blue ball, and Claire has a green ball. First, Alice and Bob swap balls. Then, Bob and Claire swap balls. At the end of the game, Claire has the\\nOptions:\\n(A) red ball\\n(B) blue ball\\n(C) green ball")
    '(A)'
    >>> track_swaps("Alice, Bob, and Claire are dancers. At the start of a song, they each have a partner: Alice is dancing with Sam, Bob is dancing with Ann, and Claire is dancing with Lola. First, Claire and Alice switch partners. At the end of the dance, Alice is dancing with")
    'Lola'
    """
    text, _, options_text = puzzle.partition("Options:")
    people = re.match(r"\s*((?:[A-Z]\w*, )+(?:and )?[A-Z]\w*) ", text)
    if people is None:
        raise ValueError("the puzzle does not start with the people's names")
    names = re.findall(r"[A-Z]\w*", people.group(1))
    start = text[text.index(":") + 1 :]
    holding = {}
    for name in names:
        found = re.search(rf"\b{name} ((?:is|has|gets) [^,.]+)", start)
        if found is None:
            raise ValueError(f"what {name} has at the start is not given")
        holding[name] = found.group(1).strip()
    for a, b in re.findall(r"(?:First|Then|Finally), (\w+) and (\w+) (?:switch|swap|trade)", text):
        holding[a], holding[b] = holding[b], holding[a]
    asked = re.search(r"At the end of [^,]+, (\w+) ", text)
    if asked is None or asked.group(1) not in holding:
        raise ValueError('the question ("At the end of ..., NAME ...") is missing')
    item = holding[asked.group(1)]
    options = re.findall(r"\(([A-Z])\)\s*([^\n]+)", options_text)
    if not options:
        return re.sub(r"^(?:is dancing with|is playing|has an?|has|gets)\s+", "", item)
    best = max(options, key=lambda o: len(o[1]) if item.endswith(o[1].strip()) else -1)
    if not item.endswith(best[1].strip()):
        raise ValueError(f"no option matches {item!r}")
    return f"({best[0]})"
