import re


def stem_and_leaf(problem: str) -> int:
    """Answer a question about a stem-and-leaf plot: how many values are exactly N, at least
    N, fewer than N, more than N or at most N (or between two bounds), or the largest or the
    smallest value. Each row "4 | 0, 3, 4" stands for the values 40, 43 and 44.

    Args:
        problem: the problem's full text, its table and its question.

    Problem: Table: Pizzas
    Stem | Leaf
    1 | 2, 5, 6
    2 | 2, 5
    Question: How many pizzas had at least 15 pieces of pepperoni but fewer than 25?
    >>> stem_and_leaf("Table: Pizzas\\nStem | Leaf \\n1 | 2, 5, 6\\n2 | 2, 5\\n\\nQuestion: How many pizzas had at least 15 pieces of pepperoni but fewer than 25?")
    3
    >>> stem_and_leaf("Table:\\nStem | Leaf \\n3 | 0\\n4 | 2, 4, 4\\n5 | \\n\\nQuestion: How many lots had exactly 44 cars?")
    2
    >>> stem_and_leaf("Table:\\nStem | Leaf \\n0 | 2, 5\\n9 | 0\\n\\nQuestion: What is the largest number of candies?")
    90
    >>> stem_and_leaf("Table:\\nStem | Leaf \\n1 | 3\\n7 | 2, 6\\n\\nQuestion: Ms. Lester reported the scores on the most recent quiz. What is the lowest score?")
    13
    >>> stem_and_leaf("Table:\\nStem | Leaf \\n6 | 1, 8\\n7 | 0\\n\\nQuestion: How many students scored fewer than 70 points? (Unit: students)")
    2
    """
    table, _, question = problem.partition("Question:")
    values = []
    rows = False
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) != 2:
            continue
        if cells[0].lower() == "stem":
            rows = True
            continue
        if rows and cells[0].isdigit():
            for leaf in re.findall(r"\d+", cells[1]):
                values.append(int(cells[0] + leaf))
    if not values:
        raise ValueError("the problem has no stem-and-leaf table (a 'Stem | Leaf' header)")
    q = question.lower().split("(unit:")[0]
    number = r"(\d+(?:\.\d+)?)"
    tests = []
    for words, op in [
        ("exactly", lambda v, n: v == n),
        ("at least", lambda v, n: v >= n),
        ("at most", lambda v, n: v <= n),
        ("fewer than", lambda v, n: v < n),
        ("less than", lambda v, n: v < n),
        ("under", lambda v, n: v < n),
        ("more than", lambda v, n: v > n),
        ("greater than", lambda v, n: v > n),
        ("over", lambda v, n: v > n),
    ]:
        for found in re.finditer(words + r"\s+" + number, q):
            tests.append((op, float(found.group(1))))
    if tests:
        return sum(all(op(v, n) for op, n in tests) for v in values)
    most = r"\b(largest|greatest|highest|biggest|longest|tallest|heaviest|oldest)\b"
    least = r"\b(smallest|lowest|fewest|shortest|lightest|youngest)\b"
    for big, small in [(most, least), (r"\bmost\b", r"\bleast\b")]:
        if re.search(big, q):
            return max(values)
        if re.search(small, q):
            return min(values)
    if "how many" in q:
        return len(values)
    raise ValueError("the question asks for no count, largest or smallest value")
