"""Render a run's summary as Markdown tables (report.md) and PNG plots (plots/*.png).

Plots are labelled with the same formatted numbers as the tables (one formatter each), so a
reader can match every bar to its table cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from experiments.report.summary import ALL, VOTE_OUTCOMES


def pct(x: float | None) -> str:
    """A proportion as a percentage with one decimal ("62.5"); "-" for none."""
    return "-" if x is None else f"{100 * x:.1f}"


def num(x: float | None) -> str:
    """A cost: integers plainly, small values with 3 significant digits; "-" for none."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


PLOTS = (
    ("accuracy", "accuracy by method and dataset, 95% CI"),
    ("cost", "tokens per item by method"),
    ("amortized", "amortized tokens per solved problem against problems attempted"),
)
"""The report's plots (``plots/<name>.png``), shown in the Markdown report as images."""


def markdown(s: Mapping[str, Any]) -> str:
    """The report as Markdown."""
    cfg = s["config"]
    lines = [f"# Experiment report: {cfg.get('name')}", ""]
    if cfg.get("unavailable"):
        lines += [f"Left out (not installed): {', '.join(cfg['unavailable'])}.", ""]
    if s.get("data"):
        lines += ["## Data", ""]
        lines += _table(
            ["dataset", "test items used", "of", "making items", "comparable to published", "note"],
            [
                [
                    name,
                    str(d.get("selected")),
                    str(d.get("test")),
                    str(d.get("making")),
                    "yes" if d.get("comparable") else "no",
                    d.get("note") or "",
                ]
                for name, d in sorted(s["data"].items())
            ],
        )
    cols = [*s["datasets"], ALL]
    lines += ["## Accuracy (%, 95% CI)", ""]
    rows = []
    for m in s["methods"]:
        cells = [m]
        for d in cols:
            a = s["accuracy"][m].get(d)
            cells.append(
                "-"
                if not a or not a["n"]
                else f"{pct(a['accuracy'])} [{pct(a['lo'])}, {pct(a['hi'])}] (n={a['n']})"
            )
        a = s["accuracy"][m][ALL]
        cells.append(f"{a['ci']}, seeds {', '.join(map(str, a['seeds']))}")
        rows.append(cells)
    lines += _table(["method", *cols, "interval"], rows)
    lines += _uneven(s)
    mv = [
        (m, s["accuracy"][m]["math"].get("math_verify_accuracy"))
        for m in s["methods"]
        if "math" in s["accuracy"][m]
    ]
    if mv:
        lines += [
            "MATH, math-verify (secondary metric): "
            + "; ".join(f"{m} {pct(v)}" for m, v in mv)
            + ".",
            "",
        ]
    lines += _versus(s.get("versus") or {})
    for v in s.get("versus_also") or []:
        lines += _versus(v, named=v["baseline"])
    lines += ["## Cost per item (as first bought; cache replays count the same)", ""]
    rows = [
        [
            m,
            num(c["per_item"]["tokens"]),
            num(c["per_item"]["prompt_tokens"]),
            num(c["per_item"]["completion_tokens"]),
            num(c["per_item"]["model_seconds"]),
            num(c["per_item"]["dollars"]),
            num(c["per_item"]["calls"]),
            num((c["making"] or {}).get("tokens")),
            num((c["making"] or {}).get("dollars")),
        ]
        for m, c in s["costs"].items()
    ]
    lines += _table(
        [
            "method",
            "tokens",
            "prompt",
            "completion",
            "model s",
            "$",
            "calls",
            "making tokens",
            "making $",
        ],
        rows,
    )
    lines += ["## Tokens, seconds and dollars by role and phase (all items)", ""]
    lines += _table(
        ["method", "role", "phase", "calls", "tokens", "model s", "$"],
        [
            [
                g["method"],
                g["role"],
                g["phase"],
                str(g["calls"]),
                num(g["tokens"]),
                num(g["seconds"]),
                num(g["dollars"]),
            ]
            for g in s["by_role_phase"]
        ],
    )
    if s["samples"]:
        lines += ["## Self-consistency samples per item", ""]
        budgets = s["budgets"]
        rows = []
        for m, v in s["samples"].items():
            refs = {b["reference"] for k, b in budgets.items() if k.startswith(f"{m}/")}
            mine = [b for k, b in sorted(budgets.items()) if k.startswith(f"{m}/")]
            toks = [num(b["tokens"]) for b in mine]
            secs = [num(b["seconds"]) for b in mine if b.get("seconds") is not None]
            stops = v.get("stopped_by") or {}
            rows.append(
                [
                    m,
                    num(v["mean"]),
                    str(v["min"]),
                    str(v["max"]),
                    ", ".join(sorted(refs)) or "-",
                    ", ".join(toks) or "-",
                    ", ".join(secs) or "-",
                    " / ".join(str(stops.get(k, 0)) for k in ("tokens", "seconds", "limit")),
                    " / ".join(str((v.get("votes") or {}).get(k, 0)) for k in VOTE_OUTCOMES),
                ]
            )
        head = ["method", "mean", "min", "max", "matched to", "budget tokens/item"]
        head += ["budget model s/item", "stopped by tokens / seconds / limit"]
        head += ["vote " + " / ".join(VOTE_OUTCOMES)]
        lines += _table(head, rows)
    am = s["amortized"]
    lines += [f"## Amortized {am['unit']} per solved problem", ""]
    rows = []
    for m, e in am["methods"].items():
        be = e.get("break_even", "n/a")
        be_text = (
            "n/a"
            if be == "n/a"
            else "never"
            if be is None
            else "from the start"
            if be == 0
            else f"{num(be)} problems"
        )
        rows.append(
            [
                m,
                num(e["making"]),
                num(e["use"]),
                pct(e["accuracy"]),
                *[num(x) for x in e["cost_per_solved"]],
                be_text,
            ]
        )
    lines += _table(
        [
            "method",
            "making",
            "per item",
            "acc %",
            *[f"N={n}" for n in am["points"]],
            f"break-even vs {am['baseline'] or '-'}",
        ],
        rows,
    )
    if s["tools"]:
        lines += ["## Tool use (from executed code)", ""]
        lines += _table(
            [
                "method",
                "library size",
                "items with a tool call",
                "acc. with tool %",
                "acc. without %",
                "tools used",
                "reused (>= 2 items)",
            ],
            [
                [
                    m,
                    "-" if t["library_size"] is None else str(t["library_size"]),
                    f"{t['items_with_tool']}/{t['items']} ({pct(t['tool_use_rate'])}%)",
                    pct(t["accuracy_with_tool"]),
                    pct(t["accuracy_without_tool"]),
                    str(t["tools_used"]),
                    str(t["tools_reused"]),
                ]
                for m, t in s["tools"].items()
            ],
        )
    if s.get("tool_user"):
        lines += _tool_user(s["tool_user"])
    if s["billed"]:
        lines += ["## Billed in this run (ledger; cache hits are free)", ""]
        lines += _table(
            ["role", "calls", "cache hits", "errors", "tokens", "$", "seconds"],
            [
                [
                    r,
                    str(v["calls"]),
                    str(v["cache_hits"]),
                    str(v["errors"]),
                    num(v["tokens"]),
                    num(v["dollars"]),
                    num(v["seconds"]),
                ]
                for r, v in s["billed"].items()
            ],
        )
    lines += ["## Plots", ""]
    for name, what in PLOTS:
        lines += [f"![{what}](plots/{name}.png)", ""]
    return "\n".join(lines)


def _tool_user(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The tool user's stages per tool arm and family, as counts of the family's items."""

    def n(x: int | None) -> str:
        return "-" if x is None else str(x)

    lines = [
        "## Tool user, per task family (items; stages of its last reply)",
        "",
        "A tool offered (retrieved above the relevance threshold), the model asked, its reply "
        "well-formed, a tool chosen, the arguments valid, the tool ran (executed code), and "
        "right with it; the rest went to the fallback. '-': not recorded in this run.",
        "",
    ]
    lines += _table(
        [
            "method",
            "family",
            "items",
            "offered",
            "asked",
            "well-formed",
            "chose a tool",
            "valid args",
            "tool ran",
            "right with tool",
            "model s / item",
        ],
        [
            [
                r["method"],
                r["family"],
                str(r["items"]),
                n(r["offered"]),
                n(r["asked"]),
                n(r["well_formed"]),
                n(r["tool_chosen"]),
                n(r["args_valid"]),
                str(r["tool_ran"]),
                str(r["right_with_tool"]),
                num(r["model_seconds_per_item"]),
            ]
            for r in rows
        ],
    )
    return lines


def verdict(row: Mapping[str, Any]) -> str:
    """A paired comparison in words: better / worse at p < 0.05, else no (significant)
    difference."""
    if row["wins"] == row["losses"]:
        return "no difference"
    if row["p"] < 0.05:
        return "better" if row["wins"] > row["losses"] else "worse"
    return "no significant difference"


def seconds_versus(row: Mapping[str, Any]) -> str:
    """A method's model seconds per item on the pairs, and as a multiple of the other side's."""
    mine, theirs = row.get("seconds"), row.get("baseline_seconds")
    if mine is None or theirs is None:
        return "-"
    ratio = f" ({mine / theirs:.2f}x)" if theirs > 0 else ""
    return f"{num(mine)}{ratio}"


def _uneven(s: Mapping[str, Any]) -> list[str]:
    """A warning for each sampled method whose seeds have not all run the same items."""
    out = []
    for m in s["methods"]:
        counts = s["accuracy"][m][ALL].get("items_per_seed")
        if counts:
            full = max(counts.values())
            short = ", ".join(f"seed {k} has {v}" for k, v in counts.items() if v < full)
            out.append(
                f"Unfinished: {m}: {short} of {full} items; its interval resamples seeds, so it "
                "is not meaningful until every seed has run every item (resume the run)."
            )
    return [*out, ""] if out else []


def _versus(v: Mapping[str, Any], named: str | None = None) -> list[str]:
    """The paired comparison with the config's baseline, or with the method `named`."""
    rows = v.get("rows") or []
    if not rows:
        return []
    head = named or f"the baseline ({v['baseline']})"
    lines = [f"## Against {head}, per task family: paired, same items", ""]
    lines += _table(
        [
            "method",
            "family",
            "pairs",
            f"{v['baseline']} %",
            "method %",
            "wins",
            "losses",
            "sign test p",
            "with a tool",
            "model s / item (x theirs)",
            "verdict",
        ],
        [
            [
                r["method"],
                r["family"],
                str(r["pairs"]),
                pct(r["baseline_accuracy"]),
                pct(r["accuracy"]),
                str(r["wins"]),
                str(r["losses"]),
                f"{r['p']:.3f}",
                str(r["with_tool"]),
                seconds_versus(r),
                verdict(r),
            ]
            for r in rows
        ],
    )
    for m in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == m and r["family"] != ALL]
        ahead = [r["family"] for r in mine if r["accuracy"] > r["baseline_accuracy"]]
        behind = [r["family"] for r in mine if r["accuracy"] < r["baseline_accuracy"]]
        level = len(mine) - len(ahead) - len(behind)
        lines.append(
            f"- {m}: ahead of {v['baseline']} on {len(ahead)} of {len(mine)} families"
            f" ({', '.join(ahead) or 'none'}), level on {level}, behind on {len(behind)}"
            + (f" ({', '.join(behind)})" if behind else "")
            + "."
        )
    lines.append("")
    return lines


def plots(s: Mapping[str, Any], out: Path) -> dict[str, list[str]]:
    """Write the PNG plots into ``out``; returns each plot's value labels (as in the tables)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    labels: dict[str, list[str]] = {}
    methods = list(s["methods"])
    cols = [*s["datasets"], ALL]

    wide = min(16.0, max(6.0, 0.35 * len(methods) * len(cols) + 2))
    fig, ax = plt.subplots(figsize=(wide, 4.5))
    width = 0.8 / max(1, len(methods))
    labels["accuracy"] = []
    for i, m in enumerate(methods):
        xs, ys, err = [], [], [[], []]
        for j, d in enumerate(cols):
            a = s["accuracy"][m].get(d)
            if not a or not a["n"]:
                continue
            xs.append(j + i * width)
            ys.append(100 * a["accuracy"])
            err[0].append(max(0.0, 100 * (a["accuracy"] - a["lo"])))
            err[1].append(max(0.0, 100 * (a["hi"] - a["accuracy"])))
        bars = ax.bar(xs, ys, width, yerr=err, capsize=3, label=m)
        texts = [pct(y / 100) for y in ys]
        ax.bar_label(bars, labels=texts, fontsize=7, padding=2)
        labels["accuracy"] += texts
    ax.set_xticks([j + width * (len(methods) - 1) / 2 for j in range(len(cols))], cols)
    ax.set_ylabel("accuracy % (95% CI)")
    ax.set_ylim(0, 110)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Accuracy by method and dataset")
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(methods)), 4))
    toks = [s["costs"][m]["per_item"]["tokens"] for m in methods]
    bars = ax.bar(methods, toks, color="tab:orange")
    labels["cost"] = [num(t) for t in toks]
    ax.bar_label(bars, labels=labels["cost"], fontsize=8, padding=2)
    ax.set_ylabel("tokens per item")
    ax.set_title("Cost per item")
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    fig.savefig(out / "cost.png", dpi=110)
    plt.close(fig)

    am = s["amortized"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels["amortized"] = []
    n_be = 0
    for m, e in am["methods"].items():
        ys = [y if math.isfinite(y) else float("nan") for y in e["cost_per_solved"]]
        last = e["cost_per_solved"][-1]
        # the value at the largest N goes in the legend: annotated at the line ends, values
        # a few percent apart overprinted each other
        name = f"{m}: {num(last)} at N={num(am['points'][-1])}" if math.isfinite(last) else m
        ax.plot(am["points"], ys, marker="o", label=name)
        if math.isfinite(last):
            labels["amortized"].append(num(last))
        be = e.get("break_even")
        if be:
            ax.axvline(be, linestyle=":", color="grey")
            ax.annotate(
                f"{m} breaks even: {num(be)}",
                (be, 0.97 - 0.06 * n_be),
                xycoords=("data", "axes fraction"),
                fontsize=7,
                ha="right",
                va="top",
                xytext=(-2, 0),
                textcoords="offset points",
            )
            n_be += 1
            labels["amortized"].append(num(be))
    ax.set_xscale("log")
    finite = [y for e in am["methods"].values() for y in e["cost_per_solved"] if math.isfinite(y)]
    if finite and min(finite) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("problems attempted (N)")
    ax.set_ylabel(f"{am['unit']} per solved problem")
    ax.set_title("Amortized cost per solved problem (making cost spread over N)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(out / "amortized.png", dpi=110)
    plt.close(fig)
    return labels
