import re

WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def shopping_cost(problem: str) -> float:
    """Answer a question about a price list (rows like "teapot | $38" or "lentils | $2 per
    pound"): what buying some of the items costs ("How much money does Philip need to buy 6
    teapots and 2 casserole dishes?", "If Edwin buys 4 kilograms of peanuts, how much will he
    spend?"), how much more one item costs than another, or how much money is left ("Erik has
    $7,616.00. How much money will Erik have left if he buys a parrot?").

    Args:
        problem: the problem's full text, its price list and its question.

    Problem: Table:
    teapot | $38
    cookbook | $19
    casserole dish | $20
    Question: How much money does Philip need to buy 6 teapots and 2 casserole dishes? (Unit: $)
    >>> shopping_cost("Table:\\nteapot | $38\\ncookbook | $19\\ncasserole dish | $20\\n\\nQuestion: How much money does Philip need to buy 6 teapots and 2 casserole dishes? (Unit: $)")
    268
    >>> shopping_cost("Table:\\nboat show ticket | $10.39\\nbasketball ticket | $46.99\\norchestra ticket | $58.16\\n\\nQuestion: How much more does an orchestra ticket cost than a basketball ticket? (Unit: $)")
    11.17
    >>> shopping_cost("Table:\\nalpaca | $1,605.00\\nkinkajou | $1,837.00\\nparrot | $1,123.00\\n\\nQuestion: Erik has $7,616.00. How much money will Erik have left if he buys a parrot and a kinkajou? (Unit: $)")
    4656
    >>> shopping_cost("Table:\\nsesame seeds | $5 per pound\\npumpkin seeds | $2 per pound\\n\\nQuestion: Camille wants to buy 1.5 pounds of sesame seeds and 1 pound of pumpkin seeds. How much will she spend? (Unit: $)")
    9.5
    >>> shopping_cost("Table:\\nrib | $5/lb\\nloin | $8/lb\\n\\nQuestion: Ethan wants to buy 3+1/4 pounds of rib. How much will he spend? (Unit: $)")
    16.25
    >>> shopping_cost("Table:\\ngumball | $0.22\\nbutterscotch candy | $0.10\\n\\nQuestion: How much money does Pablo need to buy 3 butterscotch candies and 7/10 of a pound of gumballs? (Unit: $)")
    0.45
    >>> shopping_cost("Table:\\npair of shorts | $5.02\\npair of white socks | $2.02\\n\\nQuestion: How much money does Jamal need to buy 3 pairs of shorts? (Unit: $)")
    15.06
    """
    table, _, question = problem.partition("Question:")
    prices = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) != 2:
            continue
        price = re.match(r"\$\s*([\d,]*\.?\d+)", cells[1])
        if price:
            prices[cells[0].lower()] = float(price.group(1).replace(",", ""))
    if not prices:
        raise ValueError("the problem has no price list (rows like 'item | $price')")
    q = question.split("(Unit:")[0].lower()
    quantity = (
        r"(\d+\+\d+/\d+|\d+/\d+|\d[\d,]*(?:\.\d+)?|an?|one|two|three|four|five)"
        r"\s+(?:of\s+an?\s+)?(?:[a-z]+\s+of\s+)?"
    )
    bought = []  # (position in the question, price, quantity)
    taken = []
    for name in sorted(prices, key=len, reverse=True):
        # each word may be plural ("pairs of shorts", "cookie sheets", "dishes")
        words = [plural(w) for w in name.split()]
        pattern = r"\s+".join(words) + r"\b"
        for found in re.finditer(r"(?:" + quantity + r")?(" + pattern + r")", q):
            start, end = found.span(2)
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            count = found.group(1)
            n = WORD_NUMBERS.get(count, None) if count else 1
            if n is None:
                n = quantity_number(count)
            bought.append((start, prices[name], n))
    if not bought:
        raise ValueError("the question names no item of the price list")
    bought.sort()
    if re.search(r"how much more\b.*\bthan\b", q) and len(bought) >= 2:
        result = bought[0][1] * bought[0][2] - bought[1][1] * bought[1][2]
    else:
        result = sum(p * n for _, p, n in bought)
        budget = re.search(r"has \$\s*([\d,]*\.?\d+)", q)
        if budget and "left" in q:
            result = float(budget.group(1).replace(",", "")) - result
    result = round(result, 2)
    return int(result) if result == int(result) else result


def plural(word: str) -> str:
    """A pattern for `word` or its plural ("candy": "candies", "dish": "dishes")."""
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        return re.escape(word[:-1]) + "(?:y|ies)"
    return re.escape(word) + "(?:e?s)?"


def quantity_number(text: str) -> float:
    """A quantity as the question writes it: "6", "1,200", "2.5", "3/4" or "3+1/4"."""
    whole, _, fraction = text.replace(",", "").rpartition("+")
    if "/" in fraction:
        top, _, bottom = fraction.partition("/")
        return float(whole or 0) + int(top) / int(bottom)
    return float(fraction)
