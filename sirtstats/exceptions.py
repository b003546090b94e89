"""Exceptions and warnings raised by sirtstats."""

from __future__ import annotations

__all__ = ["SirtDataError", "SirtStatsWarning"]


class SirtDataError(ValueError):
    """Invalid clinical data.

    Parameters
    ----------
    message : str
        Human-readable message; it names only pseudonymous keys, never identifiers.
    table : str, optional
        Registry table concerned.
    column : str, optional
        Column concerned.
    rule : str, optional
        Rule that was violated, as text.
    rows : pandas.DataFrame, optional
        The offending rows (or a validation-problem table), kept for inspection.
    """

    def __init__(self, message, *, table=None, column=None, rule=None, rows=None):
        super().__init__(message)
        self.table = table
        self.column = column
        self.rule = rule
        self.rows = rows


class SirtStatsWarning(UserWarning):
    """Statistical caveat (median not reached, small groups, PH violated, ...)."""
