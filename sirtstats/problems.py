"""Readable text of a registry problems table (shared by ``sirtstats validate`` and the report).

Kept below the command line and the report (registry layer, beside :mod:`sirtstats.validation`)
so that both can print problems in the same layout without importing each other.
"""

from __future__ import annotations

__all__ = ["format_problems"]


def format_problems(problems, *, source: str = "", max_rows: int = 200) -> str:
    """Readable text of a problems table: a summary by table and rule, then the rows.

    Parameters
    ----------
    problems : DataFrame
        Problems table from :func:`sirtstats.registry.validate_registry`.
    source : str
        Registry folder, for the heading.
    max_rows : int
        At most this many problem rows are listed.

    Returns
    -------
    str
    """
    import pandas as pd

    n_err = int((problems["severity"] == "error").sum())
    n_warn = int((problems["severity"] == "warning").sum())
    verdict = "INVALID" if n_err else "valid"
    lines = [f"Registry {source}: {verdict} - {n_err} error(s), {n_warn} warning(s)"]
    if problems.empty:
        return lines[0]
    lines.append("")
    summary = (problems.assign(table=problems["table"].replace("", "(file)"))
               .groupby(["severity", "table", "rule"], sort=False).size()
               .rename("n").reset_index())
    summary = summary.sort_values(["severity", "table"], kind="stable")  # error < warning
    lines.append("Summary:")
    for r in summary.itertuples(index=False):
        lines.append(f"  {r.severity:<7} {r.table:<20} {r.n:>6} x {r.rule}")
    lines.append("")
    shown = problems.sort_values("severity", kind="stable").head(max_rows)  # errors first
    with pd.option_context("display.max_colwidth", 70, "display.width", 200):
        lines.append(shown.to_string(index=False, na_rep=""))
    if len(problems) > max_rows:
        lines.append(f"... {len(problems) - max_rows} more (use --output to write them all)")
    return "\n".join(lines)
