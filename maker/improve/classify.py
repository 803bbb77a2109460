"""Telling a tool bug from misuse from the environment: pure functions over recorded episodes.

Only direct calls of a pinned version (``Call.tool == "name@N"``) are attributed to a tool; a
program's failure cannot be pinned on one tool's inputs and is left out. The improve loop's own
records (pitfalls it wrote) are never evidence. The rules, in order, first match wins
(`classify`):

environment (reported, never repaired)
    1. the sandbox stopped the call at a resource limit: ``timeout``, ``cpu``, ``memory`` or
       ``crash`` (a worker lost), or the error type is one of `ENVIRONMENT_ERRORS` (endpoint and
       transport failures).
misuse (becomes a pitfall the replay shows; never a new version)
    2. a stage before the run failed: the reply was not well formed, named no offered tool, or
       its arguments did not fit the spec (``result["stages"]``: ``well_formed``,
       ``tool_chosen`` or ``args_valid`` is False);
    3. the arguments do not fit the tool's input schema (checked again here, with the spec of
       the version that was called);
    4. the call failed at the boundary, before the tool's own code ran: a ``TypeError`` with no
       line inside the tool whose message is about the call (unexpected, missing or repeated
       arguments), or the sandbox refused the arguments (``ArgumentError``), or the tool
       refused them on purpose (the error comes from one of its own ``raise`` statements:
       its check of its inputs);
    5. the answer was wrong, but the same arguments gave an answer judged correct on another
       problem with this version: the tool did its job; these arguments did not fit the query;
    5b. the problem is not one the tool is for (`off_task`): its word overlap with the nearest
       problem the tool was made for is under `library.experience.PITFALL_NEARNESS` of how
       close those problems are to one another. A wrong answer there says nothing of the tool's
       code, and a repair would teach it another task (the real 1.5B, imagining problems for a
       Chinese remainder tool, drifted to dividing a room into parts; both failed trials there
       were classified as bugs and sent for repair).
bug (goes to the maker for repair)
    6. with arguments valid for the spec, the tool raised inside its own code (any other error,
       including ``recursion``, ``output``, ``result_size`` and ``policy`` limits);
    7. with arguments valid for the spec, it returned a value whose answer disagrees with the
       gold answer.

A tool is examined when its latest version has at least ``min_failures`` attributed failures,
or any answer that disagrees with a gold answer (`select`). Bugs are sent for repair on the
same terms: at least ``min_failures`` bug observations, or one that disagrees with gold.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from library.experience import PITFALL_NEARNESS
from library.lexical import jaccard, tokenize
from library.records import Episode, ToolRecord, dumps
from maker.use.reply import Decision, check_call

Kind = Literal["bug", "misuse", "environment"]
KINDS: tuple[Kind, ...] = ("bug", "misuse", "environment")

ENVIRONMENT_LIMITS = frozenset({"timeout", "cpu", "memory", "crash"})
"""Sandbox limits that say more about the machine than about the tool's code."""
ENVIRONMENT_ERRORS = frozenset(
    {
        "Timeout",
        "WorkerCrashed",
        "TimeoutError",
        "ConnectionError",
        "ModelCallError",
        "APIConnectionError",
        "APITimeoutError",
        "RateLimitError",
        "InternalServerError",
        "ServiceUnavailableError",
        "EndpointError",
    }
)
"""Error types of the endpoint, the transport or the sandbox host, never of the tool."""
PRE_RUN_STAGES = ("well_formed", "tool_chosen", "args_valid")
BOUNDARY_TYPE_ERROR = re.compile(
    r"unexpected keyword argument|missing \d+ required|takes \d+ positional argument"
    r"|takes no arguments|got multiple values for argument|positional-only"
)
PITFALL_TAG = "improve:pitfall"
"""The feedback prefix of the pitfalls this loop records (never evidence themselves)."""
RERUN_TAG = "improve:rerun"
"""The feedback prefix of a re-run of a triggering episode after a repair (real evidence)."""


@dataclass(frozen=True)
class Observation:
    """One failing episode of a tool version, classified: ``kind`` and the rule's ``reason``.
    ``gold`` is whether the failure is an answer that disagrees with a gold answer."""

    episode: Episode
    tool: str  # name@N that was called
    kind: Kind
    reason: str
    gold: bool = False

    @property
    def episode_id(self) -> int | None:
        return self.episode.id


def _error(ep: Episode) -> Mapping[str, object]:
    err = ep.result.get("error") if ep.result else None
    return err if isinstance(err, Mapping) else {}


def _deliberate(record: ToolRecord, line: object) -> bool:
    """Whether the error came from a ``raise`` statement of the tool itself (its own check of
    its inputs), by the line the sandbox reported."""
    lines = record.source.splitlines()
    if not isinstance(line, int) or not 1 <= line <= len(lines):
        return False
    return lines[line - 1].strip().startswith("raise ")


def is_evidence(ep: Episode) -> bool:
    """Whether an episode may count as evidence: a direct call of a pinned version, not a
    pitfall this loop wrote."""
    return ep.tool_ref() is not None and not ep.feedback.startswith(PITFALL_TAG)


def failed(ep: Episode) -> bool:
    """A call that errored, or whose answer disagrees with the gold answer."""
    return ep.success is False or (bool(ep.result) and ep.result.get("ok") is False)


def classify(
    ep: Episode, record: ToolRecord, good_arguments: Iterable[str] = ()
) -> Observation | None:
    """The observation of one episode of `record` (None when it did not fail or is no
    evidence). `good_arguments` are the canonical JSON (`library.records.dumps`) of argument
    sets that gave a correct answer with this version (rule 5)."""
    if not is_evidence(ep) or not failed(ep):
        return None
    tool = ep.call.tool or record.ref
    obs = lambda kind, reason, gold=False: Observation(ep, tool, kind, reason, gold)  # noqa: E731
    result = ep.result or {}
    err = _error(ep)
    etype = str(err.get("type") or "")
    message = str(err.get("message") or "")
    limit = result.get("limit")
    ok = result.get("ok")
    # 1. environment
    if limit in ENVIRONMENT_LIMITS:
        return obs("environment", f"limit:{limit}")
    if etype in ENVIRONMENT_ERRORS:
        return obs("environment", f"error:{etype}")
    # 2. a stage before the run failed
    stages = result.get("stages") if isinstance(result.get("stages"), Mapping) else {}
    for stage in PRE_RUN_STAGES:
        if stages.get(stage) is False:
            return obs("misuse", f"stage:{stage}")
    # 3. arguments that do not fit the spec
    problem = check_call(
        Decision("call", tool=record.name, arguments=dict(ep.call.arguments)), {record.name: record}
    )
    if problem is not None:
        return obs("misuse", f"arguments:{problem.message}")
    # 4. the call failed at the boundary
    if ok is False and etype == "ArgumentError":
        return obs("misuse", f"boundary:{etype}: {message}")
    if (
        ok is False
        and etype == "TypeError"
        and err.get("line") is None
        and (BOUNDARY_TYPE_ERROR.search(message))
    ):
        return obs("misuse", f"boundary:TypeError: {message}")
    if ok is False and _deliberate(record, err.get("line")):
        return obs("misuse", f"refused:{etype}: {message}")
    gold = ok is not False and ep.success is False and ep.expected is not None
    # 5. the same arguments answered another problem correctly
    if gold and dumps(ep.call.arguments) in set(good_arguments):
        return obs("misuse", "arguments answer another problem correctly", gold=True)
    # 5b. a problem the tool is not for
    if off_task(ep.query, record):
        return obs("misuse", "off-task: the problem is far from those the tool was made for")
    # 6./7. the tool's own fault
    if ok is False:
        where = f" (line {err['line']})" if err.get("line") else ""
        suffix = f" [{limit}]" if limit else ""
        return obs("bug", f"raised:{etype or 'error'}: {message}{where}{suffix}"[:300])
    if gold:
        return obs("bug", "wrong answer", gold=True)
    return None


@functools.lru_cache(maxsize=1024)
def _own_words(problems: tuple[str, ...]) -> tuple[tuple[frozenset[str], ...], float]:
    """The word sets of a tool's own problems and the median overlap of each with its nearest
    other one (computed once per tool, not once per episode)."""
    own = tuple(w for w in (frozenset(tokenize(p)) for p in problems) if w)
    if len(own) < 2:
        return own, 0.0
    mutual = sorted(
        max(jaccard(a, b) for j, b in enumerate(own) if j != i) for i, a in enumerate(own)
    )
    return own, mutual[len(mutual) // 2]


def off_task(query: str, record: ToolRecord) -> bool:
    """Whether `query` is far from the problems `record` was made for (rule 5b): its word
    overlap (Jaccard) with the nearest of them is under `PITFALL_NEARNESS` times the median
    overlap of each of them with its own nearest other one. A tool made from fewer than two
    problems, or from none, gives no measure: never off-task."""
    own, typical = _own_words(record.problems)
    if len(own) < 2:
        return False
    mine = set(tokenize(query))
    return max(jaccard(mine, t) for t in own) < PITFALL_NEARNESS * typical


@dataclass(frozen=True)
class ToolFindings:
    """The classified failures of one tool's latest version, and what the loop does with it."""

    record: ToolRecord
    observations: tuple[Observation, ...]
    episodes: int  # attributed episodes of this version
    examined: bool
    repair: bool

    def of(self, kind: Kind) -> tuple[Observation, ...]:
        return tuple(o for o in self.observations if o.kind == kind)

    def counts(self) -> dict[str, int]:
        return {k: len(self.of(k)) for k in KINDS}


def good_arguments(episodes: Iterable[Episode]) -> set[str]:
    """The argument sets of the successful direct calls among `episodes`."""
    return {dumps(e.call.arguments) for e in episodes if e.success is True and e.call.tool}


def findings(
    record: ToolRecord, episodes: Sequence[Episode], *, min_failures: int = 2
) -> ToolFindings:
    """Classify the episodes of `record` (its version's calls only) and apply the thresholds
    (see the module docstring)."""
    mine = [e for e in episodes if e.call.tool == record.ref and is_evidence(e)]
    good = good_arguments(mine)
    observations = tuple(o for o in (classify(e, record, good) for e in mine) if o is not None)
    bugs = [o for o in observations if o.kind == "bug"]
    examined = len(observations) >= min_failures or any(o.gold for o in observations)
    repair = examined and (len(bugs) >= min_failures or any(o.gold for o in bugs))
    return ToolFindings(record, observations, len(mine), examined, repair)
