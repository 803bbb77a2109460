"""`explore_library`: STE-style exploration of the tools that have too little experience.

For each latest active tool with fewer than `ExploreSettings.min_experience` judged episodes
(or each tool named), the user model imagines `queries_per_tool` realistic problems that differ
from those explored before (`maker.explore.imagine`), tries each over up to `trials` trials
with only that tool offered (`maker.explore.trial`), and an independent judge (the strong
model, and a program of thought run in the sandbox) verifies each trial. Verified trials are
recorded as demonstrations, the others as failure memory; `maker solve` replays both.

    summary = explore_library(lib, user_client, maker_client, sandbox, ExploreSettings())
    print(summary.line())   # one JSON line: tools, queries, verified, failed, ...

Re-running continues where the library stands: tools that reached the threshold are skipped,
and the problems already explored are shown to the explorer so new ones differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from library import Library
from library.errors import LibraryError
from library.records import Status, ToolRecord
from maker.errors import MakerError
from maker.explore.imagine import imagine_query
from maker.explore.report import ExploreSummary, ToolSummary, role_costs
from maker.explore.trial import QueryOutcome, TrialContext, explore_query
from maker.llm import ChatClient, ModelCallError
from maker.use.solver import SolveContext, SolveSettings
from sandbox import Sandbox

Progress = Callable[[str, int, int], None]
"""Called as ``progress(description, done, total)`` after each problem explored."""


class ExploreError(MakerError, ValueError):
    """Bad input to an exploration (an unknown or retired tool name): a one-line message."""

    exit_code = 2


@dataclass(frozen=True)
class ExploreSettings:
    """Knobs of an exploration (all data)."""

    tools: tuple[str, ...] = ()  # tool names; empty: every active tool
    min_experience: int = 3  # explore tools with fewer judged episodes than this
    queries_per_tool: int = 3
    trials: int = 2
    imagine_attempts: int = 3  # replies asked for per problem imagined
    near_duplicate: float = 0.75  # word-set similarity from which a problem repeats one
    judge_attempts: int = 2
    pot: bool = True  # an independent program-of-thought answer where one can be computed
    pot_attempts: int = 2
    max_retries: int = 2  # corrected replies within one trial, as in `maker solve`
    replay_k: int = 2
    replay_budget_chars: int = 1200
    retry_temperature: float = 0.7
    timeout_s: float | None = None
    shown_examples: int = 3
    shown_explored: int = 12
    imagine_with: str = "user"  # who imagines the problems: "user" (STE) or "maker"

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["tools"] = list(self.tools)
        return data


def judged(rec: ToolRecord) -> int:
    """Judged episodes of this version (measured successes and failures)."""
    return rec.usage.successes + rec.usage.failures


def select_tools(
    library: Library, settings: ExploreSettings
) -> tuple[list[ToolRecord], list[ToolSummary]]:
    """The tools to explore, and those skipped (with the reason). Raises `ExploreError` for a
    named tool that is not in the library or not offered any more."""
    if settings.tools:
        records = []
        for name in dict.fromkeys(settings.tools):
            try:
                records.append(library.resolve(name))
            except LibraryError as exc:
                raise ExploreError(f"--tools {name}: {exc}") from None
    else:
        records = library.store.list(statuses=[Status.ACTIVE])
    chosen, skipped = [], []
    for rec in records:
        n = judged(rec)
        if n >= settings.min_experience:
            skipped.append(
                ToolSummary(rec.ref, judged_before=n, skipped=f"has {n} judged episode(s)")
            )
        else:
            chosen.append(rec)
    return chosen, skipped


def explored_queries(library: Library, name: str) -> list[str]:
    """The problems already explored with tool `name`, oldest first (each once)."""
    eps = library.store.episodes(tool=name)
    return list(dict.fromkeys(e.query for e in eps if e.origin == "exploration"))


class PhasedClient(ChatClient):
    """The same client (backend, ledger, cache) with its calls' phases prefixed, so the
    solver's steps run by the explorer show as ``explore_solve`` in the ledger."""

    def __init__(self, client: ChatClient, prefix: str) -> None:
        super().__init__(
            client.backend,
            client.config,
            ledger=client.ledger,
            cache=client.cache,
            prices=client.prices,
            local=client.local,
            price_per_hour=client.price_per_hour,
        )
        self.prefix = prefix

    def complete(self, messages: Any, *, phase: str = "", **kwargs: Any) -> Any:
        if not phase.startswith(self.prefix):
            phase = f"{self.prefix}{phase}"
        return super().complete(messages, phase=phase, **kwargs)


def explore_tool(
    ctx: TrialContext,
    rec: ToolRecord,
    settings: ExploreSettings,
    *,
    on_query: Callable[[ToolSummary], None] | None = None,
) -> ToolSummary:
    """Imagine and try `settings.queries_per_tool` problems for one tool."""
    explored = explored_queries(ctx.library, rec.name)
    sources = list(rec.problems)
    summary = ToolSummary(rec.ref, judged_before=judged(rec))
    for nth in range(settings.queries_per_tool):
        try:
            imagined = imagine_query(
                ctx.judge if settings.imagine_with == "maker" else ctx.solve.client,
                rec,
                explored,
                avoid=sources,
                attempts=settings.imagine_attempts,
                first_sample=nth * settings.imagine_attempts,
                near_duplicate=settings.near_duplicate,
                retry_temperature=settings.retry_temperature,
                shown={"examples": settings.shown_examples, "explored": settings.shown_explored},
            )
            outcome: QueryOutcome | None = None
            if imagined.query is not None:
                explored.append(imagined.query)
                qid = f"explore-{rec.name}-{len(explored)}"
                outcome = explore_query(ctx, rec, imagined.query, qid=qid)
            summary = summary.add(imagined, outcome)
        except ModelCallError as exc:  # the endpoint failed after its retries: said, counted
            summary = summary.error(f"{type(exc).__name__}: {exc}")
        if on_query is not None:
            on_query(summary)
    return summary


def explore_library(
    library: Library,
    user_client: ChatClient,
    judge_client: ChatClient,
    sandbox: Sandbox,
    settings: ExploreSettings | None = None,
    progress: Progress | None = None,
) -> ExploreSummary:
    """Explore the library's tools that have too little experience (see the module docstring).

    Args:
        library: a writable library; the episodes are recorded into it.
        user_client: the explorer (the cheap ``user`` role).
        judge_client: the judge and the program-of-thought writer (the strong ``maker`` role).
        sandbox: where calls and the judge's programs run.
        settings: `ExploreSettings`.
        progress: called after each problem (see `Progress`).

    Raises `ExploreError` for a named tool that is not in the library. A model call that fails
    after its retries is counted in the summary's ``errors``, and the run goes on.
    """
    s = settings or ExploreSettings()
    started = time.perf_counter()
    ledgers = list({id(c.ledger): c.ledger for c in (user_client, judge_client)}.values())
    marks = [len(ledger.entries) for ledger in ledgers]
    chosen, skipped = select_tools(library, s)
    # a trial is the explorer's own attempt, judged afterwards: its wrong numbers are failure
    # memory to keep, so the solver's own check of them stays off here
    solve_settings = SolveSettings(
        top_k=1,
        max_retries=s.max_retries,
        timeout_s=s.timeout_s,
        record=False,
        check_numbers=False,
    )
    ctx = TrialContext(
        SolveContext(PhasedClient(user_client, "explore_"), sandbox, library, solve_settings),
        PhasedClient(judge_client, "explore_"),
        trials=s.trials,
        judge_attempts=s.judge_attempts,
        pot=s.pot,
        pot_attempts=s.pot_attempts,
        retry_temperature=s.retry_temperature,
        replay_k=s.replay_k,
        replay_budget_chars=s.replay_budget_chars,
    )
    total = len(chosen) * s.queries_per_tool
    done = 0
    tools: list[ToolSummary] = []

    def tick(t: ToolSummary) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(f"{t.tool}: {t.verified} verified of {t.queries}", done, total)

    for rec in chosen:
        tools.append(explore_tool(ctx, rec, s, on_query=tick))
    costs = role_costs(
        [e for ledger, mark in zip(ledgers, marks, strict=True) for e in ledger.entries[mark:]]
    )
    return ExploreSummary(
        tools=tuple(tools),
        skipped=tuple(skipped),
        settings=s.to_json(),
        wall_s=round(time.perf_counter() - started, 3),
        costs=costs,
    )
