import re


def rate_of_change(problem: str) -> float:
    """The rate of change between two rows of a table, as its question names them ("what was
    the rate of change between 2009 and 2010?"): the change in the value divided by the change
    in the row label when both labels are numbers (years), per row otherwise (days, months).

    Args:
        problem: the problem's full text, its table and its question.

    Problem: Table:
    Year | Games won
    2009 | 39
    2010 | 46
    2011 | 36
    Question: According to the table, what was the rate of change between 2010 and 2011?
    >>> rate_of_change("Table:\\nYear | Games won\\n2009 | 39\\n2010 | 46\\n2011 | 36\\n\\nQuestion: According to the table, what was the rate of change between 2010 and 2011?")
    -10
    >>> rate_of_change("Table:\\nDay | Minutes\\nMonday | 25\\nTuesday | 27\\nWednesday | 18\\nThursday | 21\\n\\nQuestion: What was the rate of change between Wednesday and Thursday?")
    3
    >>> rate_of_change("Table:\\nYear | Price\\n2004 | $2.50\\n2006 | $3.10\\n\\nQuestion: What was the rate of change between 2004 and 2006?")
    0.3
    """
    table, _, question = problem.partition("Question:")
    rows = {}
    for line in table.splitlines()[1:]:
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 2:
            continue
        try:
            rows[cells[0].lower()] = float(cells[-1].replace(",", "").replace("$", ""))
        except ValueError:
            continue
    found = re.search(r"between (.+?) and (.+?)[?.]?\s*(?:\(unit|$)", question.strip(), re.I)
    if found is None:
        raise ValueError("the question names no two rows ('between X and Y')")
    first, second = (found.group(i).strip().lower() for i in (1, 2))
    if first not in rows or second not in rows:
        raise ValueError(f"the table has no row {first!r} or {second!r}")
    change = rows[second] - rows[first]
    if first.isdigit() and second.isdigit() and int(second) != int(first):
        change /= int(second) - int(first)
    change = round(change, 2)
    return int(change) if change == int(change) else change
