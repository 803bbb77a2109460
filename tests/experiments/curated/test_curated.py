"""The curated library's hand-written tools (`experiments/curated/`): each publishes with
`maker library add` (validated in the sandbox against its doctests) and answers problems in
the layouts of the tasks it is for, run in the sandbox like any library tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from library import Library
from library.authoring import add_file, call_tool
from sandbox import Sandbox

CURATED = Path(__file__).resolve().parents[3] / "experiments" / "curated"

# One problem per tool, written here in the layout of its BIG-Bench task (not copied rows).
CASES = [
    (
        "sort_words",
        {"words": "Sort the following words alphabetically: List: pear apple fig"},
        "apple fig pear",
    ),
    (
        "close_brackets",
        {"sequence": "Complete the rest of the sequence. Input: { [ < > ( )"},
        "] }",
    ),
    ("solve_congruences", {"remainders": [1, 2, 3], "moduli": [3, 5, 7]}, 52),
    (
        "track_swaps",
        {
            "puzzle": "Alice, Bob, Claire, and Dave are friends. At the start, they each have a "
            "book: Alice gets Ulysses, Bob gets Emma, Claire gets Dune, and Dave gets Heidi.\n"
            "First, Alice and Dave swap books. Then, Dave and Bob swap books. Finally, Claire "
            "and Alice swap books. At the end of the semester, Bob has\nOptions:\n(A) Ulysses\n"
            "(B) Emma\n(C) Dune\n(D) Heidi"
        },
        "(A)",
    ),
    (
        "order_objects",
        {
            "puzzle": "The following paragraphs each describe a set of four objects. A fruit "
            "stand sells four fruits: pears, plums, kiwis, and mangoes. The plums are the "
            "cheapest. The kiwis are more expensive than the mangoes. The pears are the "
            "second-most expensive. \nOptions:\n(A) The pears are the most expensive\n(B) The "
            "plums are the most expensive\n(C) The kiwis are the most expensive\n(D) The "
            "mangoes are the most expensive"
        },
        "(C)",
    ),
    # TabMWP, in the layout the experiments show a model (experiments.data.tabmwp.question_text)
    (
        "stem_and_leaf",
        {
            "problem": "Table: Laps run\nStem | Leaf \n2 | 1, 8\n3 | 0, 4, 4\n4 | 9\n\n"
            "Question: How many runners ran at least 25 laps but fewer than 40? (Unit: runners)"
        },
        4,
    ),
    (
        "rate_of_change",
        {
            "problem": "Table: Kites sold\nYear | Kites\n2019 | 12\n2020 | 7\n\n"
            "Question: What was the rate of change between 2019 and 2020? (Unit: kites per year)"
        },
        -5,
    ),
    (
        "shopping_cost",
        {
            "problem": "Table:\nred kite | $4.50\nbox of chalk | $1.25\n\nQuestion: Ann has "
            "$20.00. How much money will Ann have left if she buys 2 red kites and 3 boxes of "
            "chalk? (Unit: $)"
        },
        7.25,
    ),
    (
        "table_statistic",
        {
            "problem": "Table: Shells\nName | Shells\nAmy | 3\nBo | 8\nCy | 4\n\n"
            "Question: What is the median of the numbers?",
            "statistic": "median",
        },
        4,
    ),
    # MATH: expressions and numbers copied from a problem
    (
        "exact_math",
        {"operation": "value", "expression": "\\frac{3}{4} + \\sqrt{8}"},
        "\\frac{3}{4}+2\\sqrt{2}",
    ),
    ("number_theory", {"operation": "number of divisors", "numbers": [72]}, "12"),
    # a number in a base carries its base, as MATH's answers do (4343_6)
    ("number_theory", {"operation": "to base", "numbers": [999, 6]}, "4343_{6}"),
]

MATH_CASES = [
    ({"operation": "expand", "expression": "(x+2)(x-3)"}, "x^{2}-x-6"),
    ({"operation": "factor", "expression": "x^2 - 9"}, "(x-3)(x+3)"),
    ({"operation": "solve", "expression": "2y + 3 = 11", "unknown": "y"}, "4"),
    ({"operation": "solve", "expression": "x^2 + 1"}, "-i, i"),
    ({"operation": "value", "expression": "\\sqrt[3]{27} \\cdot 2^{10}"}, "3072"),
    ({"operation": "value", "expression": "5! / (2! 3!)"}, "10"),
    ({"operation": "value", "expression": "1.5 + 0.25"}, "1.75"),  # decimals in, decimals out
    ({"operation": "value", "expression": "1/3 + 0.5"}, "\\frac{5}{6}"),  # unless it repeats
    ({"operation": "value", "expression": "-\\frac{14}{4}"}, "-\\frac{7}{2}"),
    ({"operation": "value", "expression": "40\\% \\cdot 55"}, "22"),
    ({"operation": "value", "expression": "2 \\pi \\cdot 3"}, "6\\pi"),
]


@pytest.mark.parametrize("args, expected", MATH_CASES, ids=[c[0]["expression"] for c in MATH_CASES])
def test_exact_math_answers_as_math_writes_answers(curated, args, expected) -> None:
    lib, sb, _ = curated
    result = call_tool(lib, lib.resolve("exact_math").ref, args, sb)
    assert result.ok and result.value == expected, (result.error, result.value)


@pytest.mark.parametrize(
    "tool, args, message",
    [
        ("exact_math", {"operation": "value", "expression": "2x +"}, "ends too early"),
        ("exact_math", {"operation": "value", "expression": "3 # 4"}, "cannot read '# 4'"),
        ("exact_math", {"operation": "integrate", "expression": "x"}, "unknown operation"),
        ("exact_math", {"operation": "solve", "expression": "x = x + 1"}, "no solution"),
        ("number_theory", {"operation": "inverse", "numbers": [4, 8]}, "has no inverse"),
        ("number_theory", {"operation": "remainder", "numbers": [7]}, "needs two numbers"),
        ("number_theory", {"operation": "to base", "numbers": [9, 1]}, "base 1 is not"),
    ],
)
def test_the_math_tools_refuse_what_they_cannot_read(curated, tool, args, message) -> None:
    lib, sb, _ = curated
    result = call_tool(lib, lib.resolve(tool).ref, args, sb)
    assert not result.ok and "ValueError" in str(result.error) and message in str(result.error)


def test_the_hand_written_math_calls_run(curated) -> None:
    # experiments/curated/check.py grades them against MATH-500 (16 of 16 right); here they
    # must run: the file names tools that exist, with arguments that fit them
    import json

    lib, sb, _ = curated
    lines = (CURATED / "math" / "calls.jsonl").read_text().splitlines()
    assert len(lines) == 16
    for line in lines:
        call = json.loads(line)
        result = call_tool(lib, lib.resolve(call["tool"]).ref, call["arguments"], sb)
        assert result.ok, (call, result.error)


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory):
    sb = Sandbox(workers=1)
    lib = Library.open(tmp_path_factory.mktemp("curated") / "lib")
    files = sorted(CURATED.glob("*/*.py"))
    results = {p.stem: add_file(lib, p, sb) for p in files}
    yield lib, sb, results
    sb.close()
    lib.close()


def test_every_curated_tool_publishes(curated) -> None:
    _, _, results = curated
    assert sorted(results) == sorted({name for name, _, _ in CASES})
    bad = {k: r.message for k, r in results.items() if r.outcome != "published"}
    assert not bad


@pytest.mark.parametrize("tool, args, expected", CASES, ids=[c[0] for c in CASES])
def test_curated_tool_answers_in_the_sandbox(curated, tool, args, expected) -> None:
    lib, sb, _ = curated
    result = call_tool(lib, lib.resolve(tool).ref, args, sb)
    assert result.ok and result.value == expected, (result.error, result.value)


@pytest.mark.parametrize(
    "question",
    [
        "Each desk has 5 yellow notepads. How many yellow notepads are on 5 desks?",
        "What is the mean of the numbers?",  # asked for the median below
        "",  # no question at all: the table alone cannot say what is asked
    ],
)
def test_table_statistic_refuses_a_question_it_does_not_answer(curated, question) -> None:
    # the real 0.5B called it on "Each desk has 5 yellow notepads..." and its median was taken
    # for the answer; refused, the solver asks again (another tool, or none)
    lib, sb, _ = curated
    text = "Table:\nNumber of desks | Number of yellow notepads\n1 | 5\n2 | 10\n3 | ?"
    problem = f"{text}\n\nQuestion: {question}" if question else text
    args = {"problem": problem, "statistic": "median"}
    result = call_tool(lib, lib.resolve("table_statistic").ref, args, sb)
    assert not result.ok and "ValueError" in str(result.error)


def test_each_cards_example_passes_the_whole_problem_as_a_reference(curated) -> None:
    # a docstring's "Problem:" that differs from its doctest's argument showed the 0.5B a
    # copied table as the argument: it copied tables (most of its reply tokens) and dropped
    # the question; the same text shows it the reference instead
    from maker.use.prompt import PROBLEM_REF, example_calls

    lib, _, _ = curated
    for name, _, _ in CASES:
        rec = lib.resolve(name)
        whole = [p.name for p in rec.spec.params if "full text" in p.description]
        examples = example_calls(rec)
        assert examples or not whole, name  # a tool taking the problem shows how
        for example in examples:
            reply = example.split("Reply: ", 1)[1]
            assert all(f'"{p}": "{PROBLEM_REF}"' in reply for p in whole), (name, reply)


def test_solve_congruences_refuses_a_remainder_as_large_as_its_divisor(curated) -> None:
    # the real 0.5B called it on TabMWP's "Each shelf has 2 cups. How many cups are on 4
    # shelves?" with remainders [2, 4] and moduli [2, 4], and its 0 was taken for the answer
    lib, sb, _ = curated
    args = {"remainders": [2, 4], "moduli": [2, 4]}
    result = call_tool(lib, lib.resolve("solve_congruences").ref, args, sb)
    assert not result.ok and "remainder 2 is not from 0 to 1" in str(result.error)


def test_the_whole_problem_tools_are_probed_with_every_value_their_examples_pass(curated) -> None:
    # the solver runs a whole-problem tool on a problem before offering it; table_statistic's
    # docstring shows one problem and then calls for the other statistics
    from maker.use.probe import whole_problem_probes

    lib, _, _ = curated
    probes = whole_problem_probes(lib.resolve("table_statistic"))
    assert probes is not None and probes[0] == "problem"
    assert sorted(p["statistic"] for p in probes[1]) == ["mean", "median", "mode", "range"]
    assert whole_problem_probes(lib.resolve("track_swaps")) == ("puzzle", [{}])
    # its examples pass numbers read off the problem
    assert whole_problem_probes(lib.resolve("solve_congruences")) is None


def test_the_most_relevant_card_shows_the_examples_nearest_the_problem(curated) -> None:
    # the real 0.5B, shown number_theory's first example ("sum of divisors"), asked for the
    # sum of divisors on 10 of 11 MATH problems; the card now shows the nearest uses first
    from maker.use.prompt import card_examples, shown_examples, tools_text

    lib, _, _ = curated
    nt, em = lib.resolve("number_theory"), lib.resolve("exact_math")
    first = [a["operation"] for _, a in card_examples(nt)]
    assert first[0] == "sum of divisors" and len(first) == 2
    problem = "What is the inverse of $5$ modulo $31$? Answer with a number from 0 to 30."
    near = [a["operation"] for _, a in card_examples(nt, near=problem)]
    assert near[0] == "inverse" and len(near) == 2
    # only the most relevant card (ranked first, shown last) changes with the problem: the
    # cards before it stay the same for every problem (a server's prefix cache)
    shown = shown_examples([nt, em], problem)
    assert shown["number_theory"][0][1]["operation"] == "inverse"
    assert shown["exact_math"] == card_examples(em)
    text = tools_text([nt, em], problem=problem)
    assert text.rindex('"operation": "inverse"') > text.index("exact_math(")
    assert text.startswith(tools_text([nt, em], problem="")[: text.index("number_theory(")])
    assert '"operation": "inverse"' not in tools_text([nt, em])


def test_check_finds_a_tool_example_that_is_a_test_problem(curated) -> None:
    # session 27's number_theory showed a MATH-500 test item of the split as its example
    from experiments.curated.check import split_leaks
    from experiments.data import Dataset
    from experiments.data.records import Item

    lib, _, _ = curated
    nt = lib.resolve("number_theory")

    def data(question: str) -> Dataset:
        item = Item(
            id="test/number_theory/1.json",
            dataset="math",
            question=question,
            gold="1",
            split="test",
        )
        return Dataset("math", (), (item,), False)

    shown = "Write the decimal number 100 in  base $7$."  # $ and spacing aside, the example
    assert split_leaks(data(shown), [], [nt]) == [
        f"test/number_theory/1.json is an example problem of {nt.ref}"
    ]
    assert split_leaks(data("Write 100 in base 8."), [], [nt]) == []
    call = {"id": "test/number_theory/1.json", "tool": "number_theory", "arguments": {}}
    assert split_leaks(data("Write 100 in base 8."), [call], []) == [
        "test/number_theory/1.json is the problem of a call"
    ]
