"""The result of a cohort selection: included patients, flow, exclusions, restricted registry.

Private module of :mod:`sirtstats.cohort` (import from there).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from sirtstats.registry import Registry

__all__ = ["CohortSelection"]


@dataclass(frozen=True)
class CohortSelection:
    """Result of :func:`select_cohort`.

    Attributes
    ----------
    patients : DataFrame
        :func:`derive_baseline` rows of the included patients, sorted by ``patient_id``.
    flow : DataFrame
        One row per selection step: ``step`` (int, 0 = registry), ``criterion`` (str),
        ``n_in``, ``n_excluded``, ``n_remaining`` (int), ``reason`` (str, "" for step 0).
    exclusions : DataFrame
        One row per excluded patient: ``patient_id``, ``step`` (int), ``reason`` (str).
    registry : Registry
        The input registry with every table restricted to the included patients.
    criteria : dict
        The validated selection arguments.
    """

    patients: pd.DataFrame
    flow: pd.DataFrame
    exclusions: pd.DataFrame
    registry: Registry
    criteria: dict = field(default_factory=dict)

    @property
    def n_included(self) -> int:
        """Number of included patients."""
        return len(self.patients)

    @property
    def n_excluded(self) -> int:
        """Number of excluded patients."""
        return len(self.exclusions)

    def to_frame(self) -> pd.DataFrame:
        """Return the flow table (a copy)."""
        return self.flow.copy()

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>CohortSelection</b>: {self.n_included} included, "
            f"{self.n_excluded} excluded of {self.n_included + self.n_excluded}.</p>"
        )
        crit = "".join(
            f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>"
            for k, v in self.criteria.items()
            if v not in (None, [], False)
        )
        return head + (f"<ul>{crit}</ul>" if crit else "") + self.flow.to_html(index=False)

    def __repr__(self) -> str:
        return (
            f"CohortSelection(n_included={self.n_included}, n_excluded={self.n_excluded}, "
            f"steps={len(self.flow)})"
        )
