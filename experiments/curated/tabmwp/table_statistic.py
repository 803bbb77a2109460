def table_statistic(problem: str, statistic: str) -> float:
    """The mean, median, mode or range of the numbers in a problem's table (the numbers of its
    last column, one per row; commas and a leading $ are read).

    Args:
        problem: the problem's full text, its table and its question.
        statistic: "mean", "median", "mode" or "range".

    Problem: Table: Coin collections
    Name | Number of coins
    Braden | 76
    Camilla | 94
    Rick | 86
    Question: Some friends discussed the sizes of their coin collections. What is the mean of the numbers?
    >>> table_statistic("Table: Coin collections\\nName | Number of coins\\nBraden | 76\\nCamilla | 94\\nRick | 86\\n\\nQuestion: What is the mean of the numbers?", "mean")
    85.33
    >>> table_statistic("Table:\\nDay | Balloons\\nMonday | 5\\nTuesday | 9\\nWednesday | 5\\n\\nQuestion: What is the mode of the numbers?", "mode")
    5
    >>> table_statistic("Table:\\nDay | Balloons\\nMonday | 5\\nTuesday | 9\\nWednesday | 2\\nThursday | 4", "median")
    4.5
    >>> table_statistic("Table:\\nDay | Balloons\\nMonday | 5\\nTuesday | 9\\nWednesday | 2", "range")
    7
    """
    table = problem.partition("Question:")[0]
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
    which = statistic.strip().lower()
    ordered = sorted(values)
    n = len(ordered)
    if which in ("mean", "average"):
        result = sum(values) / n
    elif which == "median":
        mid = n // 2
        result = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    elif which == "mode":
        result = max(ordered, key=lambda v: (values.count(v), -v))
    elif which == "range":
        result = ordered[-1] - ordered[0]
    else:
        raise ValueError(f"unknown statistic {statistic!r}: use mean, median, mode or range")
    result = round(result, 2)
    return int(result) if result == int(result) else result
