"""STE-style exploration: the cheap model imagines problems for tools with little experience,
tries them with the tool, and an independent judge verifies the trials.

    from maker.explore import ExploreSettings, explore_library
    summary = explore_library(library, user_client, maker_client, sandbox, ExploreSettings())

Verified trials become demonstrations and failures become failure memory (episodes with origin
``exploration``); `maker solve` replays them. The steps: `maker.explore.imagine` (new problems),
`maker.explore.trial` (trials with the solver's own steps), `maker.explore.judge` (the strong
model's verdict and a program-of-thought answer run in the sandbox).
"""

from __future__ import annotations

from maker.explore.report import ExploreSummary, ToolSummary, render_explore_report
from maker.explore.run import ExploreError, ExploreSettings, explore_library, select_tools

__all__ = [
    "ExploreError",
    "ExploreSettings",
    "ExploreSummary",
    "ToolSummary",
    "explore_library",
    "render_explore_report",
    "select_tools",
]
