def sort_words(words: str) -> str:
    """Sort words alphabetically and return them joined by single spaces.

    Args:
        words: the words to sort, separated by spaces, as one string (text up to a "List:"
            label is ignored).

    Problem: Sort the following words alphabetically: List: oven costume counterpart
    >>> sort_words("Sort the following words alphabetically: List: oven costume counterpart")
    'costume counterpart oven'
    >>> sort_words("Sort the following words alphabetically: List: syndrome therefrom")
    'syndrome therefrom'
    >>> sort_words("  Zeta alpha  beta ")
    'alpha beta Zeta'
    """
    if "List:" in words:
        words = words.rsplit("List:", 1)[1]
    return " ".join(sorted(words.split(), key=lambda w: (w.lower(), w)))
