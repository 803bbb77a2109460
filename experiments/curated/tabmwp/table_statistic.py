import re

NAMES = {
    "mean": r"\bmean\b|\baverage\b",
    "average": r"\bmean\b|\baverage\b",
    "median": r"\bmedian\b",
    "mode": r"\bmode\b",
    "range": r"\brange\b",
}


def table_statistic(problem: str, statistic: str) -> float:
    """The mean, median, mode or range of the numbers in a problem's table (the numbers of its
    last column, one per row; commas and a leading $ are read).

    Raises ValueError when the problem's question asks for another statistic, or for none:
    this tool does not answer it.

    Args:
        problem: the problem's full text, its table and its question.
        statistic: "mean", "median", "mode" or "range".

    Problem: Table: Coin collections
    Name | Number of coins
    Braden | 76
    Camilla | 94
    Rick | 86
    Question: Some friends discussed the sizes of their coin collections. What is the mean of the numbers?
    >>> table_statistic("Table: Coin collections\\nName | Number of coins\\nBraden | 76\\nCamilla | 94\\nRick | 86\\n\\nQuestion: Some friends discussed the sizes of their coin collections. What is the mean of the numbers?", "mean")
    85.33
    >>> table_statistic("Table:\\nDay | Balloons\\nMonday | 5\\nTuesday | 9\\nWednesday | 5\\n\\nQuestion: What is the mode of the numbers?", "mode")
    5
    >>> table_statistic("Table:\\nDay | Balloons\\nMonday | 5\\nTuesday | 9\\nWednesday | 2\\nThursday | 4\\n\\nQuestion: What is the median of the numbers?", "median")
    4.5
    >>> table_statistic("Table:\\nDay | Balloons\\nMonday | 5\\nTuesday | 9\\nWednesday | 2\\n\\nQuestion: What is the range of the numbers?", "range")
    7
    """
    table, asks, question = problem.partition("Question:")
    which = statistic.strip().lower()
    if which not in NAMES:
        raise ValueError(f"unknown statistic {statistic!r}: use mean, median, mode or range")
    if not asks:
        raise ValueError("the problem has no question: pass the problem's full text")
    if not re.search(NAMES[which], question.lower()):
        raise ValueError(f"the question does not ask for the {which} of the numbers")
    values = []
    for line in table.splitlines()[1:]:
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 2:
            continue
        text = cells[-1].replace(",", "").replace("$", "").strip()
        try:
            values.append(float(text))
        except ValueError:
            continue
    if not values:
        raise ValueError("the problem's table has no numbers in its last column")
    ordered = sorted(values)
    n = len(ordered)
    if which in ("mean", "average"):
        result = sum(values) / n
    elif which == "median":
        mid = n // 2
        result = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    elif which == "mode":
        result = max(ordered, key=lambda v: (values.count(v), -v))
    else:
        result = ordered[-1] - ordered[0]
    result = round(result, 2)
    return int(result) if result == int(result) else result
