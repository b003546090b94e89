"""Input checks and patient sampling shared by the plotting modules."""

from __future__ import annotations


def _check(frame, required, name):
    missing = sorted(set(required) - set(frame.columns))
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; pass the frame returned by the "
                         "matching sirtstats.survival function.")


#: Patients above which a figure of one line per patient (spider, ALBI) draws the lines of a
#: seeded random sample, stated in the figure: a 20,000-patient cohort stays legible and a few
#: MB as SVG/PDF.
MAX_PATIENT_LINES = 500


def sample_patients(d, max_patients, seed):
    """``(rows, number of patients, sampled)``: a seeded random sample of ``max_patients``.

    All rows (``sampled`` False) when there are no more than ``max_patients`` patients (or it
    is None). The
    sample is drawn from the patients in order of first appearance with
    ``numpy.random.default_rng(seed)``, so a figure is the same on every run.
    """
    import numpy as np
    import pandas as pd

    ids = pd.unique(d["patient_id"])
    if max_patients is None or len(ids) <= max_patients:
        return d, len(ids), False
    keep = np.random.default_rng(seed).choice(ids, size=max_patients, replace=False)
    return d.loc[d["patient_id"].isin(keep)], len(ids), True
