"""Per-patient and per-scan access to the prepared PET tables, grouped once (no per-row pandas).

The PERCIST and EORTC engines read, for each patient, its scans in date order and, for each
scan, the lesion rows recorded on that date. Selecting those rows with a boolean mask of the
whole table per patient and per scan, and sorting each small frame, cost tens of seconds at
20,000 patients (#13 item 9 / #17). Here the tables are grouped once, into Python lists of the
column values (the same objects the per-row frames held) and lists of row positions in the
table's order, which is the order a boolean selection keeps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.metabolic._rules import REFERENCES
from sirtstats.response._common import check_choice

SCAN_COLUMNS = ("scan_date", "liver_sul_mean", "liver_sul_sd", "blood_pool_sul_mean",
                "blood_pool_sul_sd", "new_fdg_avid_lesion")


class LesionIndex:
    """Lesion rows of the prepared ``pet_lesions`` by patient and by (patient, scan date).

    Parameters
    ----------
    les : DataFrame
        ``pet_lesions`` as returned by :func:`sirtstats.metabolic._common.prepare`.
    columns : iterable of str
        Columns whose values are kept (``col[c]``, a list by row position) with their
        missingness (``na[c]``, a bool array); columns absent from ``les`` are left out.

    Notes
    -----
    A row belongs to patient ``p`` when its ``patient_id`` equals ``p`` and to a scan when its
    ``scan_date`` equals the scan's, as the masks ``les["patient_id"] == p`` and
    ``rows["scan_date"] == date`` selected them (a missing id or date matches nothing).
    :meth:`ranked` orders positions as ``sort_values(["sul_peak", "lesion_id"],
    ascending=[False, True], kind="mergesort")`` of those rows does: the order is a stable
    lexicographic sort, so restricting the order of the whole table to a subset gives the
    subset's own order.
    """

    def __init__(self, les: pd.DataFrame, columns):
        les = les.reset_index(drop=True)
        self.col = {c: les[c].tolist() for c in columns if c in les.columns}
        self.na = {c: les[c].isna().to_numpy() for c in self.col}
        pid_na = les["patient_id"].isna().to_numpy()
        date_na = les["scan_date"].isna().to_numpy()
        by_patient: dict = {}
        by_scan: dict = {}
        pids, dates = les["patient_id"].tolist(), les["scan_date"].tolist()
        for i, (p, d) in enumerate(zip(pids, dates, strict=True)):
            if pid_na[i]:
                continue
            by_patient.setdefault(p, []).append(i)
            if not date_na[i]:
                by_scan.setdefault((p, d), []).append(i)
        self.by_patient, self.by_scan = by_patient, by_scan
        self._rank = None
        self._les = les

    def patient(self, pid) -> list:
        """Row positions of patient ``pid`` (table order)."""
        return self.by_patient.get(pid, [])

    def scan(self, pid, date) -> list:
        """Row positions of patient ``pid`` measured on ``date`` (table order)."""
        return self.by_scan.get((pid, date), []) if not pd.isna(date) else []

    def ranked(self, pos: list) -> list:
        """``pos`` hottest first: SULpeak descending, then lesion_id, then table order."""
        if self._rank is None:
            order = self._les.sort_values(["sul_peak", "lesion_id"], ascending=[False, True],
                                          kind="mergesort").index.to_numpy()
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            self._rank = rank.tolist()
        rank = self._rank
        return sorted(pos, key=rank.__getitem__)


def patient_scans(pet: pd.DataFrame):
    """Yield ``(patient_id, scans)`` in the order of ``pet.groupby("patient_id", sort=False)``.

    ``pet`` is sorted by patient and scan date (:func:`~sirtstats.metabolic._common.prepare`),
    so a patient's scans are consecutive rows; a missing ``patient_id`` is left out, as
    ``groupby`` leaves it out. ``scans`` is a list of dicts (one per scan, date order) with the
    keys of :data:`SCAN_COLUMNS` (``new_fdg_avid_lesion`` None when the column is absent).
    """
    n = len(pet)
    cols = {c: (pet[c].tolist() if c in pet.columns else [None] * n) for c in SCAN_COLUMNS}
    pids = pet["patient_id"].tolist()
    pid_na = pet["patient_id"].isna().to_numpy()
    i = 0
    while i < n:
        if pid_na[i]:
            i += 1
            continue
        j = i + 1
        while j < n and not pid_na[j] and pids[j] == pids[i]:
            j += 1
        yield pids[i], [{c: cols[c][k] for c in SCAN_COLUMNS} for k in range(i, j)]
        i = j


def patient_reference(reference: str, index: LesionIndex, pid, fn: str) -> str:
    """P1.2 reference of patient ``pid`` from the organs of all its lesions (any scan).

    As :func:`~sirtstats.metabolic._common.choose_reference` on those lesions' ``organ``
    values, without building a Series per patient (a missing organ, NaN or NA, is not liver).
    """
    ref = check_choice(reference, REFERENCES, "reference", fn)
    if ref != "auto":
        return ref
    organs = index.col["organ"]
    hepatic = any(isinstance(organs[i], str) and organs[i] == "liver" for i in index.patient(pid))
    return "blood_pool" if hepatic else "liver"
