"""TabMWP grading with the official normalization of lupantech/PromptPG.

- Multiple choice is judged by option text: a letter (``B``, ``(B)``, ``The answer is B``)
  selects that option; otherwise the option the prediction matches exactly, or else shares
  the most words with (PromptPG's ``score_string_similarity``).
- Free text: PromptPG's patterns pick the answer out of a sentence (``The answer is 5.``);
  numbers lose ``$``, ``%``, thousands commas and the unit, fractions ``a/b`` are evaluated,
  and numbers compare rounded to 3 decimals; text compares case-insensitively.

Two deliberate differences from PromptPG, both stricter: a prediction that shares no word
with any option, or ties between options, is wrong (PromptPG took the first option), and a
letter beyond the options is wrong (PromptPG picked a random option).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from experiments.grading.result import Grade

LETTERS = "ABCDEFGHIJ"
_LETTER_PATTERNS = (
    r"^\(([A-Za-z])\)$",
    r"^([A-Za-z])$",
    r"^([A-Za-z])\. ",
    r"[Tt]he answer is ([A-Z])\b",
    r"^\(([A-Za-z])\) [\s\S]+$",
    r"[Tt]he answer is \(([A-Za-z])\) [\s\S]+$",
)
_FREE_PATTERNS = (
    r"[Tt]he answer is ([\s\S]+)$",
    r"[Tt]he table shows that ([\d\$\.\,\/\:]+) ",
    r" = ([\d\$\.\,\/\:]+)",
    r"(?<= be| is) ([\-\d\$\.\,\/\:]{0,}[\d]+)",
    r"(?<= are| was) ([\-\d\$\.\,\/\:]{0,}[\d]+)",
    r"(?<= were) ([\-\d\$\.\,\/\:]{0,}[\d]+)",
    r" ([\d\$\.\,\/\:]+ [AP]\.M\.)",
    r"([\-\d\$\.\,\/\:]{0,}[\d]+)",
)


def _clean(output: str) -> str:
    output = re.sub(r"\$?\\frac\{([\d\.\,\-]+)\}\{([\d\.\,]+)\}\$?", r"\1/\2", output.strip())
    output = re.sub(r"(?<![AP]\.M)\.$", "", output)
    output = re.sub(r"(?<=\d)=(?=[\-\$\d])", " = ", output)
    return output.replace("\u2212", "-")


def word_overlap(a: str, b: str) -> float:
    """PromptPG's ``score_string_similarity``: 2 if equal, else shared words / longer length."""
    if a == b:
        return 2.0
    if " " in a or " " in b:
        wa, wb = a.split(" "), b.split(" ")
        return len(set(wa) & set(wb)) / max(len(wa), len(wb))
    return 0.0


def pick_option(output: str, choices: Sequence[str]) -> tuple[str | None, str]:
    """The option a multiple-choice prediction selects, or None and why not."""
    output = _clean(output)
    for pattern in _LETTER_PATTERNS:
        found = re.findall(pattern, output)
        if found:
            letter = found[0].upper()
            if letter in LETTERS:
                index = LETTERS.index(letter)
                if index >= len(choices):
                    return None, f"letter {letter} but only {len(choices)} options"
                return choices[index], f"letter {letter}"
    lowered = output.lower()
    for choice in choices:
        if choice.strip().lower() == lowered:
            return choice, "option text"
    scores = [word_overlap(choice, output) for choice in choices]
    best = max(scores)
    if best <= 0:
        return None, "matches no option"
    if scores.count(best) > 1:
        return None, "matches several options equally"
    return choices[scores.index(best)], "closest option by shared words"


def extract_free(output: str) -> str:
    """PromptPG's free-text extraction: the answer out of a sentence, else the text itself."""
    output = _clean(output)
    for pattern in _FREE_PATTERNS:
        found = re.findall(pattern, output)
        if found:
            prediction = found[-1].strip()
            if prediction.endswith(".") and ".M." not in prediction:
                prediction = prediction[:-1]
            return prediction
    return output


def normalize_tabmwp(text: str, unit: str | None = None) -> str:
    """PromptPG's ``normalize_answer``: numbers as rounded decimals, text without the unit."""
    text = text.strip()
    if unit:
        text = text.replace(unit, "").strip()
    text = re.sub(r"^\$", "", text)
    text = re.sub(r"\s*%$", "", text)
    text = re.sub(r"[,./]$", "", text)
    if re.fullmatch(r"[-+]?[\d,./]+", text):
        number = text.replace(",", "")
        try:
            if re.fullmatch(r"[-+]?\d+", number):
                return str(int(number))
            if "/" in number:
                num, den = number.split("/", 1)
                value = round(float(num) / float(den), 3)
            else:
                value = round(float(number), 3)
        except (ValueError, ZeroDivisionError):
            return text.lower()
        return re.sub(r"\.0+$", "", str(value))
    return text.lower()


def grade_tabmwp(
    pred: str, gold: str, choices: Sequence[str] | None = None, unit: str | None = None
) -> Grade:
    """Grade a TabMWP prediction (a bare answer or a sentence) against the gold answer.

    >>> grade_tabmwp("The answer is $1,000.", "1000").correct
    True
    >>> grade_tabmwp("(B)", "surplus", choices=["shortage", "surplus"]).correct
    True
    """
    gold_norm = normalize_tabmwp(gold, unit)
    if choices:
        option, how = pick_option(pred, list(choices))
        if option is None:
            return Grade(False, None, gold_norm, how)
        pred_norm = normalize_tabmwp(option, unit)
        ok = pred_norm == gold_norm
        return Grade(
            ok, pred_norm, gold_norm, f"{how}: {option!r}" + ("" if ok else f" is not {gold!r}")
        )
    pred_norm = normalize_tabmwp(_clean(pred), unit)
    if pred_norm == gold_norm:  # a bare answer equal to the gold one ("7:25 P.M.")
        return Grade(True, pred_norm, gold_norm, "equal after TabMWP normalization")
    pred_norm = normalize_tabmwp(extract_free(pred), unit)
    ok = pred_norm == gold_norm
    return Grade(
        ok,
        pred_norm,
        gold_norm,
        "equal after TabMWP normalization" if ok else f"{pred_norm!r} differs from {gold_norm!r}",
    )
