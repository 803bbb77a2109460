"""Grounding call arguments in the question: near copies become the question's exact spans;
everything else stays as the model wrote it."""

from __future__ import annotations

import pytest

from maker.text.grounding import (
    complete_text,
    ground_arguments,
    ground_text,
    recased,
    segments,
    unlabelled,
)

WORDS = (
    "Sort the following words alphabetically: List: thrill splutter panicking scorch same dot "
    "prod obstetric malton onus drumhead delmarva barn embezzle it&t damp guru subsist "
    "entirety greene"
)
DYCK = (
    "Complete the rest of the sequence, making sure that the parentheses are closed properly. "
    "Input: [ < [ ] ( ) ( ( { { } } ) ) < { < > } > [ ] > ] < ( ) > ( ( ( ) ) ) ( < >"
)


def test_a_misspelt_word_in_a_list_becomes_the_questions_word() -> None:
    # the local 1.5B maker wrote 'entirely' for 'entirety' in a 20-word list (real LATM run)
    words = WORDS.split("List: ")[1].split()
    sent = [w if w != "entirety" else "entirely" for w in words]
    args, notes = ground_arguments({"words": sent}, WORDS)
    assert args == {"words": words}
    assert notes == ["'entirely' -> 'entirety'"]


def test_a_sequence_with_a_closer_added_becomes_the_questions_span() -> None:
    # the local 0.5B user appended a closing bracket to the sequence it was asked to complete
    span = DYCK.split("Input: ")[1]
    args, notes = ground_arguments({"sequence": span + " )"}, DYCK)
    assert args == {"sequence": span} and notes == ["')' dropped"]
    args, notes = ground_arguments({"sequence": "[ { < ( ) > }]"}, "Input: [ { < ( ) > }")
    assert args == {"sequence": "[ { < ( ) > }"} and notes == ["'}]' -> '}'"]


@pytest.mark.parametrize(
    "value",
    [
        "splutter panicking scorch",  # in the question verbatim (an excerpt, not completed)
        "scorch, same",  # punctuation around words aside
        "1234568",  # digits: computed, not copied
        "ab",  # too short
        "a completely different sentence",  # not a copy of anything
    ],
)
def test_what_is_not_a_near_copy_stays(value: str) -> None:
    text = WORDS.replace("scorch same", "scorch, same") + " 1234567"
    assert ground_text(value, text) is None
    assert ground_arguments({"x": value, "n": 3, "flag": True}, text) == (
        {"x": value, "n": 3, "flag": True},
        [],
    )


def test_a_truncated_word_is_not_taken_for_a_whole_one() -> None:
    assert ground_text("banan", "List: kiwi fig banana") == "banana"


def test_nested_values_are_grounded_element_by_element() -> None:
    args, notes = ground_arguments({"rows": [{"name": "thril"}, {"name": "guru"}]}, WORDS)
    assert args == {"rows": [{"name": "thrill"}, {"name": "guru"}]} and len(notes) == 1


def test_an_examples_words_inside_a_longer_string_are_found() -> None:
    from maker.text.grounding import copied_from_examples

    examples = frozenset({"syndrome therefrom", "pear"})
    problem = "Sort the following words alphabetically: List: bluish gamut"
    # seen with the real 0.5B: its own words, then the example's two
    assert copied_from_examples(
        {"words": "bluish gamut syndrome therefrom"}, problem, examples
    ) == [
        "syndrome",
        "therefrom",
    ]
    assert copied_from_examples({"words": ["pear"]}, problem, examples) == ["pear"]
    assert copied_from_examples({"words": "bluish gamut"}, problem, examples) == []


# the real 0.5B's word-sorting calls dropped the first words of the list (5 of 15 calls)
SHORT = "Sort the following words alphabetically: List: burley bela arapaho bacteria bock"
LONG = (
    "Sort the following words alphabetically: List: filamentous semaphore bulrush audacious "
    "xylophone sensate municipal harris intervenor battleground rubicund"
)


@pytest.mark.parametrize(
    ("question", "sent"),
    [
        (SHORT, "bela arapaho bacteria bock"),  # the first word dropped
        (LONG, "audacious xylophone sensate municipal harris intervenor battleground rubicund"),
        (LONG, "filamentous semaphore bulrush audacious xylophone sensate municipal harris"),
        (SHORT, "burley bela bacteria bock"),  # one from the middle
        (SHORT, "Burley, bela arapaho bacteria"),  # case and punctuation aside
    ],
)
def test_a_copy_that_drops_words_is_completed_to_its_segment(question: str, sent: str) -> None:
    segment = question.split("List: ")[1]
    assert complete_text(sent, question) == segment
    args, notes = ground_arguments({"words": sent}, question)
    assert args == {"words": segment} and len(notes) == 1 and "added" in notes[0]


@pytest.mark.parametrize(
    "sent",
    [
        "burley bela arapaho bacteria bock",  # the whole segment: nothing to add
        "bela arapaho",  # too few words to tell an excerpt from a bad copy
        "arapaho bock",
        "bock arapaho",  # reordered, but too few words to tell
        "xylophone audacious sensate",  # LONG: reordered, most of the list left out
        "burley zebra yak arapaho bock",  # two stray words in five
        "audacious xylophone sensate municipal",  # LONG: most of the list left out
        "burley bela 3 bock",  # digits are computed, not copied
    ],
)
def test_excerpts_and_other_strings_are_not_completed(sent: str) -> None:
    for question in (SHORT, LONG):
        assert complete_text(sent, question) is None


def test_a_copy_that_fits_two_segments_is_left_alone() -> None:
    question = "Words: red green blue cyan. Colours: red green blue cyan"
    assert complete_text("red green blue", question) is None
    assert segments("A: b c; d e. f\ng? h") == ["A", "b c", "d e", "f", "g", "h"]


def test_the_label_before_the_data_is_left_out() -> None:
    # the real 0.5B's call: the tool sorted the label "List:" in with the words
    question = (
        "Sort the following words alphabetically: List: lucrative you've tunnel archery bride"
    )
    sent = "List: lucrative you've tunnel archery bride"
    assert unlabelled(sent, question) == "lucrative you've tunnel archery bride"
    args, notes = ground_arguments({"words": sent}, question)
    assert args == {"words": "lucrative you've tunnel archery bride"}
    assert notes == ["'List:' dropped"]
    # and a copy that both starts with the label and drops a word is completed
    args, _ = ground_arguments({"words": "List: lucrative tunnel archery bride"}, question)
    assert args == {"words": "lucrative you've tunnel archery bride"}


@pytest.mark.parametrize(
    ("sent", "question"),
    [
        ("Name: Bob\nAge: 3", "Table:\nName: Bob\nAge: 3"),  # key-value text keeps its keys
        ("a: b: c d", "x a: b: c d"),  # more than one colon
        ("List: zebra", "List: apple"),  # not copied from the question
        ("Sort the following words alphabetically: List: a b", SHORT),  # no leading label
        ("List: 3 4", "List: 3 4"),  # the data has a digit
    ],
)
def test_other_strings_keep_their_colons(sent: str, question: str) -> None:
    assert unlabelled(sent, question) is None


# The real 0.5B's wrong word-sorting calls (30 test rows, made tool `word_sorter(words: str)`):
# every one a botched copy of the list, so the tool sorted the wrong words.
BOTCHED = [
    (LONG, "audacious bulrush filamentous harris intervenor municipal rubicund"),  # half sorted
    ("Sort the following words alphabetically: List: slurp raytheon gloucester",
     "gleoucester raytheon slurp"),  # reordered and misspelt
    ("Sort the following words alphabetically: List: shouldn't lorenz runneth skintight "
     "plastisol swept coven etruscan disturb",
     "disturb etruscan lorenz skintight plastisol swept coven"),
    ("Sort the following words alphabetically: List: shreveport gamut berg multiplexor bluish "
     "puerto subliminal", "subliminal bluish puerto gamut berg shreveport"),
    ("Sort the following words alphabetically: List: champ jigsaw acclaim pipeline exempt "
     "gadwall hypothalamus clothbound sensory lozenge hayes conclusion delirious dyestuff hood "
     "seashell commodity plentiful sarcastic teen",
     "hayes conclusion delirious dyestuff hood seashell commodity plentiful sarcastic teen"),
    ("Sort the following words alphabetically: List: thunder phase geld",
     "d geld thunder phase"),  # a stray letter
    ("Sort the following words alphabetically: List: broaden envy", "list broaden envy"),
    ("Sort the following words alphabetically: List: emission upon labour whim fairfax ride "
     "crepe prig accomplice az doff clatter circumcircle tea wheelbase pleura incantation "
     "choral viaduct lorry",
     " ".join(["choral viaduct lorry crepe prig accomplice az doff circumcircle tea wheelbase "
               "pleura incantation"] * 3)),  # the list, partly, three times over
    (SHORT, "bock bela arapaho"),
    (SHORT, "burley bela arapaho bacteria bock zebra"),  # one stray word
]  # fmt: skip


@pytest.mark.parametrize(("question", "sent"), BOTCHED)
def test_a_botched_copy_of_a_list_is_taken_back_to_the_list(question: str, sent: str) -> None:
    segment = question.split("List: ")[1]
    assert complete_text(sent, question) == segment
    args, notes = ground_arguments({"words": sent}, question)
    assert args == {"words": segment} and len(notes) == 1


def test_a_reordered_copy_says_what_changed() -> None:
    question = BOTCHED[3][0]
    _, notes = ground_arguments({"words": BOTCHED[3][1]}, question)
    assert notes == ["'multiplexor' added, put in the problem's order"]


def test_a_copy_in_another_case_gets_the_questions_case() -> None:
    # the real 0.5B capitalised every word of the list; the tool sorted 'Boldface' before 'fungi'
    question = "Sort the following words alphabetically: List: inflammation slump fungi sst"
    sent = "Inflammation Slump fungi Sst"
    assert recased(sent, question) == "inflammation slump fungi sst"
    assert ground_arguments({"words": sent}, question)[0] == {
        "words": "inflammation slump fungi sst"
    }
    assert recased("THRILL splutter", WORDS) == "thrill splutter"
    assert recased("thrill splutter", WORDS) is None  # already the question's
    assert recased("Thrill splatter", WORDS) is None  # not a copy


def test_an_examples_value_transfers_to_the_same_place_in_another_problem() -> None:
    from maker.text.grounding import transfer, transferred_arguments

    ex = "Sort the following words alphabetically: List: slurp raytheon gloucester"
    q = "Sort the following words alphabetically: List: shouldn't lorenz runneth"
    assert transfer("slurp raytheon gloucester", ex, q) == "shouldn't lorenz runneth"
    # a botched copy in the example (a replayed call of the real 0.5B) still has its place
    assert transfer("gleoucester raytheon slurp", ex, q) == "shouldn't lorenz runneth"
    assert transfer("raytheon", ex, q) is None  # not a whole segment
    assert transfer("slurp raytheon gloucester", ex, "List: a b c") is None  # another template
    dyck = "Complete the rest of the sequence. Input: [ ( ]"
    assert transfer("[ ( ]", dyck, "Complete the rest of the sequence. Input: { <") == "{ <"
    examples = [(ex, {"words": ["slurp", "raytheon", "gloucester"], "order": "ascending"})]
    args = {"words": ["slurp", "raytheon", "gloucester"], "order": "ascending"}
    assert transferred_arguments(args, q + ",", ["slurp", "raytheon", "gloucester"], examples) == (
        {"words": ["shouldn't", "lorenz", "runneth"], "order": "ascending"},
        ['words: ["slurp", "raytheon", "gloucester"] -> ["shouldn\'t", "lorenz", "runneth"]'],
    )
    # part of the list copied, part not: no whole value to map
    assert transferred_arguments({"words": ["slurp", "x"]}, q, ["slurp"], examples) is None
