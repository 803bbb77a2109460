"""The self-improvement loop (`maker improve`): failing tools are classified (bug, misuse,
environment), bugs repaired by the maker through the regression gate, misuse turned into
pitfalls, environment failures reported.

    from maker.improve import ImproveSettings, improve_library
    report = improve_library(library, maker_client, sandbox, settings=ImproveSettings())
    print(report.summary())

`maker.improve.classify` holds the rules (pure functions over episodes); `maker.improve.repair`
one repair round of one tool; `maker.improve.loop` the round over a library.
"""

from __future__ import annotations

from maker.improve.classify import Observation, ToolFindings, classify, findings
from maker.improve.loop import ImproveReport, ImproveSettings, ToolOutcome, improve_library
from maker.improve.repair import RoundResult, repair_round, rounds_used

__all__ = [
    "ImproveReport",
    "ImproveSettings",
    "Observation",
    "RoundResult",
    "ToolFindings",
    "ToolOutcome",
    "classify",
    "findings",
    "improve_library",
    "repair_round",
    "rounds_used",
]
