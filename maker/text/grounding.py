"""Grounding call arguments in the question they were copied from.

Small models copy long spans badly: a word list with one word misspelt (``entirely`` for the
question's ``entirety``), a bracket sequence with a closer added at the end. When a string
argument is not in the question but is a near copy of one of its spans, the span is what the
call meant: `ground_arguments` puts the question's exact text in its place and says what it
changed, so the tool runs on the question's data and the change is on record.

Only near copies are replaced: a string found in the question as whole words (case aside)
stays, and so does one with a digit (numbers are computed, not copied) or one shorter than
`MIN_CHARS`. Lists (and lists inside dicts) are grounded element by element. Nothing is
evaluated.

A copy can also stop short: the real 0.5B, copying a 5-20 word list, dropped its first words (5
of 15 word-sorting calls). `complete_text` gives back the whole segment of the question (the
text between line breaks, colons, semicolons and sentence ends) when a string has at least
`MIN_WORDS` words, all of them that segment's words in order, and drops at most
`MAX_DROPPED_SHARE` of them; a shorter excerpt is taken as meant. A copy can also start too
early: the label before the data (``List: ...``, ``Input: ...``) is not data, and `unlabelled`
leaves it out (the real 0.5B passed ``"List: lucrative you've ..."``, and the tool sorted the
label in).

A copy that is not an excerpt at all is a botched copy, not a choice: the real 0.5B, retyping
a word list for a sorting tool, reordered it (sorting half of it in its head), dropped words
from the middle, misspelt one, repeated the list three times, slipped in a stray word or the
``list`` label, or capitalised every word (10 of its 11 wrong answers on 30 problems).
`complete_text` takes such a string back to its segment when its distinct words, order and case
aside and each word allowing a small misspelling, cover at least `MIN_REGATHERED_SHARE` of the
segment's distinct words with at most one stray word in ten (`stray_allowed`). A contiguous
excerpt is judged by the stricter dropped-share rule instead, since a short excerpt may be
meant. `recased` gives a copy the question's case.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

MIN_CHARS = 3
"""Strings shorter than this are never replaced (labels, letters, short words)."""
CUTOFF = 0.85
"""The least character similarity (difflib ratio) of a near copy to its question span."""
MAX_TOKENS = 400
"""Questions longer than this many words are not searched (the search is quadratic)."""

MIN_WORDS = 3
"""Strings with fewer words are never completed to their segment."""
MAX_DROPPED_SHARE = 0.3
"""The largest share of a segment's words an excerpt may drop and still be completed to it."""
LONG_EXCERPT_WORDS = 6
"""Excerpts with at least this many words may drop up to half of their segment (a long run of a
list's words is a copy that stopped short, not a choice)."""
MIN_REGATHERED_SHARE = 0.6
"""The least share of a segment's distinct words a reordered or garbled copy must cover."""
WORD_CUTOFF = 0.8
"""The least character similarity of a misspelt word (4 letters or more) to the segment's word."""

_TOKEN = re.compile(r"\S+")
_SEGMENT_END = re.compile(r"\n|[:;?!]|\.(?=\s|$)")
_LABEL = re.compile(r"^\s*[A-Za-z][A-Za-z'-]*(?: [A-Za-z][A-Za-z'-]*)?:\s+(?=\S)")
_EDGE = ".,;:!?\"'"


def _spans(source: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(source)]


def _trim(text: str) -> str:
    """A one-word span without the punctuation around it (``word,`` -> ``word``)."""
    return text.strip(_EDGE) or text


def _present(words: list[str], source: str) -> bool:
    """Whether these words occur in `source` as whole words, in order (case and the
    punctuation around words aside): ``banan`` is not in ``banana``."""
    pattern = r"(?<!\S)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\S)"
    tokens = source.split()
    return any(
        re.search(pattern, text, re.IGNORECASE)
        for text in (" ".join(tokens), " ".join(_trim(t) for t in tokens))
    )


def ground_text(value: str, source: str, *, cutoff: float = CUTOFF) -> str | None:
    """The span of `source` that `value` nearly copies, or None when `value` should stay: it is
    in `source` already (case aside), has a digit, is short, or is not close to any span."""
    if not copyable(value) or in_text(value, source):
        return None
    words = value.split()
    spans = _spans(source)
    if not spans or len(spans) > MAX_TOKENS:
        return None
    target = " ".join(words)
    slack = max(1, len(words) // 5)
    best: tuple[float, str] = (0.0, "")
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for size in range(max(1, len(words) - slack), len(words) + slack + 1):
        for i in range(len(spans) - size + 1):
            text = source[spans[i][0] : spans[i + size - 1][1]]
            if size == 1:
                text = _trim(text)
            matcher.set_seq1(" ".join(text.split()))
            if matcher.real_quick_ratio() <= best[0] or matcher.quick_ratio() <= best[0]:
                continue
            ratio = matcher.ratio()
            if ratio > best[0]:
                best = (ratio, text)
    ratio, text = best
    return text if ratio >= cutoff and text != value else None


def segments(source: str) -> list[str]:
    """The parts of `source` between line breaks, colons, semicolons and sentence ends,
    stripped, in order (empty parts left out)."""
    return [part.strip() for part in _SEGMENT_END.split(source) if part.strip()]


def _is_subsequence(words: list[str], of: list[str]) -> bool:
    rest = iter(of)
    return all(any(w == o for o in rest) for w in words)


def _words(text: str) -> list[str]:
    return [_trim(w).casefold() for w in text.split()]


def _matches(word: str, known: set[str]) -> bool:
    """Whether `word` is one of `known`, or (4 letters or more) a near spelling of one."""
    if word in known:
        return True
    if len(word) < 4:
        return False
    return bool(difflib.get_close_matches(word, known, n=1, cutoff=WORD_CUTOFF))


def stray_allowed(words: int) -> int:
    """How many distinct words of a copy may be in no part of its segment: one per ten."""
    return max(1, words // 10)


def _regathered(words: list[str], seg: list[str]) -> bool:
    """Whether `words` (not an excerpt of `seg`) is a botched copy of `seg`: most of its
    distinct words, order aside and small misspellings allowed, with few stray words."""
    known, distinct = set(seg), list(dict.fromkeys(words))
    if len(known) < 2:
        return False
    hit = {w for w in distinct if _matches(w, known)}
    stray = len(distinct) - len(hit)
    covered = {k for k in known if k in hit or _matches(k, hit)}
    return (
        len(hit) >= 2
        and stray <= stray_allowed(len(distinct))
        and len(covered) >= MIN_REGATHERED_SHARE * len(known)
    )


def _excerpt_completes(words: list[str], seg: list[str]) -> bool:
    dropped = len(seg) - len(words)
    share = 0.5 if len(words) >= LONG_EXCERPT_WORDS else MAX_DROPPED_SHARE
    return 1 <= dropped <= share * len(seg)


def complete_text(value: str, source: str) -> str | None:
    """The one segment of `source` (`segments`) that `value` is a short or botched copy of,
    or None. `value` needs at least `MIN_WORDS` words and no digit. An excerpt (its words are
    the segment's in order, case and punctuation around words aside) is completed when it
    drops at least one and at most `MAX_DROPPED_SHARE` of the segment's words (half, for
    excerpts of `LONG_EXCERPT_WORDS` or more); any other near copy (reordered, misspelt,
    repeated, with a stray word) when it passes `_regathered`."""
    words = _words(value)
    if len(words) < MIN_WORDS or not copyable(value):
        return None
    found = []
    for segment in segments(source):
        seg = _words(segment)
        if words == seg:
            continue
        if _is_subsequence(words, seg):
            if _excerpt_completes(words, seg):
                found.append(segment)
        elif _regathered(words, seg):
            found.append(segment)
    return found[0] if len(found) == 1 else None


def recased(value: str, source: str) -> str | None:
    """The question's own text for a copy of it that differs only in case (``Inflammation
    Slump`` for ``inflammation slump``), or None."""
    words = value.split()
    if not words or not copyable(value):
        return None
    pattern = r"(?<!\S)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\S)"
    if re.search(pattern, source):
        return None
    found = re.search(pattern, source, re.IGNORECASE)
    return found.group(0) if found else None


def unlabelled(value: str, source: str) -> str | None:
    """`value` without the label it starts with (one or two words and a colon, as ``List:``)
    when `value` is copied from `source` and has no line break and no other colon; else None."""
    label = _LABEL.match(value)
    if label is None or "\n" in value or ":" in value[label.end() :]:
        return None
    rest = value[label.end() :].strip()
    return rest if copyable(rest) and in_text(value, source) else None


def _ground(value: Any, source: str, notes: list[str]) -> Any:
    if isinstance(value, str):
        fixed = ground_text(value, source) or value
        fixed = unlabelled(fixed, source) or fixed
        fixed = complete_text(fixed, source) or fixed
        fixed = recased(fixed, source) or fixed
        if fixed == value:
            return value
        notes.append(_change(value, fixed))
        return fixed
    if isinstance(value, list):
        return [_ground(v, source, notes) for v in value]
    if isinstance(value, dict):
        return {k: _ground(v, source, notes) for k, v in value.items()}
    return value


def _show(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _shown(value: Any, limit: int = 60) -> str:
    """`_show` for a string, else the value as JSON (clipped the same way)."""
    if isinstance(value, str):
        return _show(value, limit)
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _change(value: str, fixed: str, limit: int = 3) -> str:
    """What grounding changed, word by word: ``'entirely' -> 'entirety'``, ``')' dropped``;
    for a reordered copy, the words dropped and added and ``put in the problem's order``."""
    a, b = value.split(), fixed.split()
    ka, kb = _words(value), _words(fixed)
    if ka == kb:  # the same words, spaced or cased differently
        return f"{_show(value)} -> {_show(fixed)}"
    common = set(ka) & set(kb)
    shared = sum((Counter(ka) & Counter(kb)).values())
    blocks = difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_matching_blocks()
    if sum(block.size for block in blocks) < shared:  # the shared words in another order
        dropped = [w for w, k in zip(a, ka, strict=True) if k not in common]
        added = [w for w, k in zip(b, kb, strict=True) if k not in common]
        said = [f"{_show(' '.join(dict.fromkeys(dropped)))} dropped"] if dropped else []
        said += [f"{_show(' '.join(added))} added"] if added else []
        return ", ".join([*said, "put in the problem's order"])
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        old, new = " ".join(a[i1:i2]), " ".join(b[j1:j2])
        if not new:
            parts.append(f"{_show(old)} dropped")
        elif not old:
            parts.append(f"{_show(new)} added")
        else:
            parts.append(f"{_show(old)} -> {_show(new)}")
    if not parts:  # the same words, spaced differently
        return f"{_show(value)} -> {_show(fixed)}"
    more = f" (+{len(parts) - limit} more)" if len(parts) > limit else ""
    return ", ".join(parts[:limit]) + more


def ground_arguments(arguments: Mapping[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """`arguments` with each near-copied string replaced by the span of `source` it copies,
    each copy that starts with a label without it (`unlabelled`), and each copy with words
    dropped completed to its segment (`complete_text`), and one note per replacement
    (``'entirely' -> 'entirety'``, ``'List:' dropped``, ``'burley' added``)."""
    notes: list[str] = []
    out = {k: _ground(v, source, notes) for k, v in arguments.items()}
    return out, notes


def copyable(text: str) -> bool:
    """Whether a string is the kind grounding deals with: long enough, no digit."""
    return len(text.strip()) >= MIN_CHARS and not any(ch.isdigit() for ch in text)


MIN_COPIED_CHARS = 8
"""The shortest string with digits that `copy_checked` counts as an example's value."""


def copy_checked(text: str) -> bool:
    """Whether a string argument is checked for being copied from an example: `copyable` (words),
    or at least `MIN_COPIED_CHARS` long with a digit (an expression, a date). The real 0.5B,
    shown ``exact_math("value", "(26^2 - 24^2 - 10)^2 - 10^2")`` as a tool's example, passed
    that expression for a probability question and a linear-equation one; its digits had kept
    it out of the check."""
    return copyable(text) or (
        len(text.strip()) >= MIN_COPIED_CHARS and any(ch.isdigit() for ch in text)
    )


def string_leaves(value: Any) -> list[str]:
    """The strings inside a JSON value (list elements and dict values, in order)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in string_leaves(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in string_leaves(v)]
    return []


def in_text(value: str, source: str) -> bool:
    """Whether `value`'s words occur in `source` as whole words, in order (case aside)."""
    words = value.split()
    return bool(words) and _present(words, source)


def word_share(value: str, source: str) -> float:
    """The share of `value`'s words (case aside) that are words of `source`; 0.0 for no words.

    >>> word_share("the owl is first", "The owl is the leftmost. The robin is first.")
    0.75
    """
    words = value.split()
    if not words:
        return 0.0
    known = {w.lower() for w in source.split()}
    return sum(w.lower() in known for w in words) / len(words)


def copied_from_examples(
    arguments: Mapping[str, Any], problem: str, example_values: frozenset[str]
) -> list[str]:
    """The argument strings that are not in `problem` but are values of the examples shown
    for other problems (``example_values``): the model copied an example's call instead of
    reading its own problem (the real 0.5B sent an example's arguments for 6 problems of 6).
    Numbers are `copied_numbers`'s."""
    leaves = list(dict.fromkeys(string_leaves(dict(arguments))))
    copied = [
        v for v in leaves if v in example_values and copy_checked(v) and not in_text(v, problem)
    ]
    # words of an example inside a longer string (the 0.5B appended an example's two words to
    # its own word list)
    example_words = {w for v in example_values for w in v.split() if copyable(w)}
    for v in leaves:
        if v in copied or len(v.split()) < 2:
            continue
        copied.extend(
            w
            for w in dict.fromkeys(v.split())
            if w in example_words and not in_text(w, problem) and w not in copied
        )
    return copied


def _place(value: str, example: str, theirs: list[str]) -> int | None:
    """Which of `example`'s segments (`theirs`) `value` is (or nearly copies), if exactly one."""
    whole = value.strip()
    if whole not in theirs:
        whole = complete_text(value, example) or ground_text(value, example) or ""
    places = [i for i, seg in enumerate(theirs) if seg == whole]
    return places[0] if len(places) == 1 else None


def transfer(value: str, example: str, problem: str) -> str | None:
    """The part of `problem` that stands where `value` stands in the `example` problem, or
    None. `value` (or the segment of `example` it nearly copies, `complete_text` and
    `ground_text`) must be one whole segment of `example` (`segments`), after at least one
    segment, and every segment before it must be the same in `problem` (the same template:
    ``Sort the following words alphabetically`` / ``List`` / the words); `problem`'s segment
    at that place is the answer.

    >>> transfer("kiwi fig", "Sort these: List: kiwi fig", "Sort these: List: yam oat nut")
    'yam oat nut'
    """
    theirs, ours = segments(example), segments(problem)
    k = _place(value, example, theirs)
    if k is None or k == 0 or len(ours) <= k or theirs[:k] != ours[:k] or ours[k] == theirs[k]:
        return None
    return ours[k]


def transfer_value(value: Any, example: str, problem: str) -> Any:
    """`transfer` for a string; for a list of strings, the same for the words it lists (the
    new segment's words, punctuation around them aside); None when it does not transfer."""
    if isinstance(value, str):
        return transfer(value, example, problem)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        part = transfer(" ".join(value), example, problem)
        return None if part is None else [_trim(w) for w in part.split()]
    return None


def transferred_arguments(
    arguments: Mapping[str, Any],
    problem: str,
    copied: Sequence[str],
    examples: Sequence[tuple[str, Mapping[str, Any]]],
) -> tuple[dict[str, Any], list[str]] | None:
    """`arguments` with each argument holding a `copied` value (an example's,
    `copied_from_examples`) replaced by the part of `problem` standing where it stood in its
    example's problem (`transfer`; a list of words becomes the problem's words), and a note per
    argument; None unless each such argument is a whole string or list of strings that
    transfers. A model that copies an example's call means that call's mapping from problem to
    arguments (the real 0.5B copied a shown call on 28 of 30 word lists, then fixed it on a
    retry)."""
    out = dict(arguments)
    notes: list[str] = []
    wanted = set(copied)
    for name, value in arguments.items():
        if not wanted & set(string_leaves(value)):
            continue
        found = next(
            (
                part
                for question, args in examples
                if args.get(name) == value
                and (part := transfer_value(value, question, problem)) is not None
            ),
            None,
        )
        if found is None:
            return None
        out[name] = found
        notes.append(f"{name}: {_shown(value)} -> {_shown(found)}")
        wanted -= set(string_leaves(value))
    return (out, notes) if not wanted else None


_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\w)|-?\d+(?:\.\d+)?|-?\.\d+")
_NUMBER_WORDS = {
    word: float(i)
    for i, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "thirty": 30.0, "forty": 40.0, "fifty": 50.0, "sixty": 60.0, "seventy": 70.0,
    "eighty": 80.0, "ninety": 90.0, "hundred": 100.0, "thousand": 1000.0, "million": 1e6,
    "dozen": 12.0, "half": 0.5, "twice": 2.0, "double": 2.0, "triple": 3.0, "quarter": 0.25,
}  # fmt: skip
FREE_NUMBERS = frozenset({0.0, 1.0})
"""Numbers an argument may hold without the problem's saying them (a start, a flag, a unit)."""


def problem_numbers(text: str) -> list[float]:
    """The numbers `text` states, in order and without repeats: digits (``1,234``, ``-4``,
    ``3.5``) and the common number words (``five``, ``dozen``, ``half``).

    >>> problem_numbers("If we divide 1,250 apples among five boxes, 2.5 are left over.")
    [1250.0, 5.0, 2.5]
    """
    found: dict[float, None] = {}
    for m in re.finditer(r"[A-Za-z]+|" + _NUMBER.pattern, text):
        token = m.group()
        if token[0].isalpha():
            value = _NUMBER_WORDS.get(token.lower())
            if value is not None:
                found[value] = None
        else:
            found[float(token.replace(",", ""))] = None
    return list(found)


def _numeric_leaves(value: Any) -> list[int | float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, list):
        return [n for v in value for n in _numeric_leaves(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numeric_leaves(v)]
    return []


def unread_numbers(arguments: Mapping[str, Any], text: str) -> list[int | float]:
    """The numbers in a call's arguments (numbers, and numbers in lists and dicts; not digits
    inside strings) that `text` does not state, in order and without repeats. A number is
    read when `text` states it (its sign aside), or states it as a percentage (``25%`` read as 0.25); 0 and 1
    (`FREE_NUMBERS`) are always read. The real 0.5B, asked for the remainders and divisors of a
    problem stating 9 numbers, passed divisors ``[3, 4, 5]`` the problem never mentions.

    >>> unread_numbers({"moduli": [3, 4, 5], "remainders": [119, 121, 175]},
    ...                "among 199 horses 119 are left; among 277, 121; among 283, 175")
    [3, 4, 5]
    """
    stated = problem_numbers(text)

    def read(n: float) -> bool:  # a sign is read from words as often ("a loss of 5")
        return any(
            math.isclose(abs(n), abs(s), rel_tol=1e-9, abs_tol=1e-12)
            or math.isclose(abs(n) * 100, abs(s), rel_tol=1e-9)
            for s in stated
        )

    out: dict[int | float, None] = {}
    for n in _numeric_leaves(dict(arguments)):
        if not (math.isfinite(n) and (float(n) in FREE_NUMBERS or read(float(n)))):
            out[n] = None
    return list(out)


def copyable_number(n: float) -> bool:
    """Whether a number is distinctive enough to tell a copy: two digits or more, or a fraction
    (a 2 or a 5 is as likely worked out as copied)."""
    return math.isfinite(n) and (abs(n) >= 10 or not float(n).is_integer())


def example_numbers(arguments: Mapping[str, Any], problem: str) -> list[str]:
    """The distinctive numbers (`copyable_number`) of an example call's `arguments` that
    `problem` does not state, as `number_text`."""
    unread = unread_numbers(arguments, problem)
    return [number_text(n) for n in dict.fromkeys(unread) if copyable_number(n)]


def copied_numbers(
    arguments: Mapping[str, Any], problem: str, example_values: frozenset[str]
) -> list[str]:
    """The numbers of a call that `problem` does not state but an example shown for another
    problem passes (in ``example_values`` as `number_text`, see `example_numbers`). The real
    0.5B, shown a remainder solver's example call beside a stem-and-leaf tool, called the
    remainder solver on 4 TabMWP table problems with the example's divisors ``[5, 107, 179]``;
    asked once about numbers the problem does not state, it sent them again, the tool
    answered, and all 4 were wrong. Such a call is corrected as often as it comes back, and
    never run (`maker.use.solver.ask`).

    >>> copied_numbers({"moduli": [5, 107, 179]}, "Stem | Leaf: 5 | 0, 4", frozenset({"179"}))
    ['179']
    """
    return [
        number_text(n)
        for n in unread_numbers(arguments, problem)
        if copyable_number(n) and number_text(n) in example_values
    ]


def number_text(n: float) -> str:
    """A number as a problem would write it: ``3`` for 3.0, else its repr."""
    return str(int(n)) if float(n).is_integer() and abs(n) < 1e15 else repr(n)


MAX_LISTED_NUMBERS = 24
"""The most of a problem's numbers a correction lists."""


def listed_numbers(numbers: Sequence[float], limit: int = MAX_LISTED_NUMBERS) -> str:
    """The first `limit` numbers as a problem would write them, comma-separated."""
    return ", ".join(number_text(n) for n in numbers[:limit])


def unread_call(arguments: Mapping[str, Any], text: str) -> list[int | float]:
    """The numbers of a call that reads none of `text`'s numbers: when every number in its
    arguments (0 and 1 aside) is one `text` does not state (`unread_numbers`), those numbers;
    else [] (no numbers, or at least one read: a call may also pass numbers it worked out). The
    real 1.5B, writing the calls that turn a Chinese-remainder question into a tool's worked
    example, passed ``moduli=[17, 283, 293], remainders=[13, 226, 201]`` for a question about
    5, 107 and 179: the tool, run on them, was judged wrong on the question's answer.

    >>> q = "among 5 penguins 2 are left; among 107 monkeys, 28; among 179 racoons, 9"
    >>> unread_call({"moduli": [17, 283, 293], "remainders": [13, 226, 1]}, q)
    [17, 283, 293, 13, 226]
    >>> unread_call({"moduli": [5, 107, 179], "remainders": [2, 28, 10]}, q)
    []
    """
    numbers = {n for n in _numeric_leaves(dict(arguments)) if math.isfinite(n)}
    numbers = {n for n in numbers if float(n) not in FREE_NUMBERS}
    unread = unread_numbers(arguments, text)
    return unread if numbers and numbers <= set(unread) else []


__all__ = [
    "CUTOFF",
    "FREE_NUMBERS",
    "MAX_DROPPED_SHARE",
    "MAX_LISTED_NUMBERS",
    "MIN_CHARS",
    "MIN_WORDS",
    "complete_text",
    "copied_from_examples",
    "copyable",
    "ground_arguments",
    "ground_text",
    "in_text",
    "listed_numbers",
    "number_text",
    "problem_numbers",
    "segments",
    "string_leaves",
    "transfer_value",
    "unlabelled",
    "unread_call",
    "unread_numbers",
    "word_share",
]
