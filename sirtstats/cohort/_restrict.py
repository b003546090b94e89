"""The registry restricted to the included patients (and cut at the data cut-off).

Private module of :mod:`sirtstats.cohort`: every table with a ``patient_id`` (or, through
``lesions``, a ``lesion_id``) keeps the rows of the included patients.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from sirtstats.registry import Registry

__all__ = ["_restrict", "_restricted_registry"]


def _kept_rows(df: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    # take() of the kept positions: one new copy of the rows (what ``df[keep].copy()`` gave,
    # without the intermediate boolean-indexed frame, a second copy of the table)
    return df.take(np.flatnonzero(keep.to_numpy(dtype=bool)))


def _restrict(registry: Registry, ids: set[str]) -> Registry:
    tables = {}
    lesion_ids = None
    if "lesions" in registry.tables and "lesion_id" in registry.tables["lesions"].columns:
        lesions = registry.tables["lesions"]
        lesion_ids = set(lesions.loc[lesions["patient_id"].isin(ids), "lesion_id"])
    for name, df in registry.tables.items():
        if "patient_id" in df.columns:
            tables[name] = _kept_rows(df, df["patient_id"].isin(ids))
        elif "lesion_id" in df.columns and lesion_ids is not None:
            tables[name] = _kept_rows(df, df["lesion_id"].isin(lesion_ids))
        else:
            tables[name] = df.copy()
    return dataclasses.replace(registry, tables=tables)


def _restricted_registry(registry: Registry, ids: set[str], cutoff, pre_cut: bool) -> Registry:
    restricted = _restrict(registry, ids)
    if cutoff is None or pre_cut:
        return restricted
    from sirtstats.registry import apply_cutoff

    return apply_cutoff(restricted, cutoff)
