"""Input checks shared by the plotting modules."""

from __future__ import annotations


def _check(frame, required, name):
    missing = sorted(set(required) - set(frame.columns))
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; pass the frame returned by the "
                         "matching sirtstats.survival function.")
