"""The printed report of `maker improve`: one table row per examined tool, then the totals."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from maker.improve.loop import ImproveReport


def render_improve_report(report: ImproveReport, console: Console) -> None:
    """Print the per-tool table, a totals line and why each tool got its action (the JSON
    summary line is the caller's)."""
    title = "maker improve" + (" (dry run: nothing changed)" if report.dry_run else "")
    table = Table(title=title, show_lines=False)
    for col in ("tool", "bugs", "misuse", "env", "action", "round", "pitfalls"):
        table.add_column(col, overflow="fold")
    for t in report.tools:
        c = t.counts
        table.add_row(
            t.tool,
            str(c.get("bug", 0)),
            str(c.get("misuse", 0)),
            str(c.get("environment", 0)),
            t.action,
            "" if t.round is None else str(t.round),
            str(t.pitfalls),
        )
    if report.tools:
        console.print(table)
    else:
        console.print("maker improve: no tool has failures past the threshold")
    s = report.summary()
    console.print(
        f"examined {s['examined']}: {s['bugs']} bug, {s['misuse']} misuse, "
        f"{s['environment']} environment observation(s); repaired {s['repaired']}, "
        f"gated {s['gated']}, rejected {s['rejected']}, deprecated {s['deprecated']}, "
        f"pitfalls {s['pitfalls']}; maker {s['maker_calls']} call(s), "
        f"{s['maker_tokens_in']}+{s['maker_tokens_out']} tokens, {s['maker_seconds']} s, "
        f"${s['maker_dollars']}; {s['seconds']} s in all"
    )
    for t in report.tools:
        if t.reason:
            console.print(f"{t.tool} {t.action}: {t.reason}", highlight=False)
        for line in t.environment:
            console.print(f"environment, not repaired: {t.tool} {line}")
