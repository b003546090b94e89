"""PERCIST 1.0 and EORTC 1999 thresholds as data (docs/rules/metabolic.md).

Fractions are exact: every comparison is made on :class:`fractions.Fraction` values of the
decimals as recorded, so exactly 30 % and exactly 0.8 SUL units fall on the side the papers say.
"""

from __future__ import annotations

from fractions import Fraction

#: P1.1 (Wahl et al. 2009, §"PERCIST 1.0", measurability): liver reference 1.5 x mean + 2 SD.
LIVER_FACTOR = Fraction(3, 2)
#: P1.1: blood-pool reference (abnormal liver) 2.0 x mean + 2 SD.
BLOOD_POOL_FACTOR = Fraction(2)
#: P1.1: number of reference SDs added.
SD_FACTOR = Fraction(2)
#: P1.2: reference choices; "auto" = blood pool when the patient has hepatic disease (SIRT).
REFERENCES: tuple[str, ...] = ("auto", "liver", "blood_pool")
#: P1.4: lesions in the optional SUL sum, in total and per organ.
SUM_MAX_LESIONS = 5
SUM_MAX_PER_ORGAN = 2
#: P1.6 / P1.8: relative change of SULpeak (30 %) and absolute change (0.8 SUL units).
PERCIST_REL = Fraction(3, 10)
PERCIST_ABS_SUL = Fraction(4, 5)
#: P1.8: TLG increase (75 %) counted as PMD when SULpeak did not decline.
TLG_REL = Fraction(3, 4)
#: Metabolic response codes, best first, and their RECIST-coded equivalents (P1.9), so that
#: :func:`sirtstats.response.rates.summarise_response_rates` can count them.
METABOLIC_CODES: tuple[str, ...] = ("CMR", "PMR", "SMD", "PMD", "NE")
TO_RECIST_CODE: dict[str, str] = {"CMR": "CR", "PMR": "PR", "SMD": "SD", "PMD": "PD",
                                  "NE": "NE", "MISSING": "MISSING"}
#: P2.3: EORTC PMR decrease, after one cycle (15 %) and after more than one (25 %).
EORTC_PMR_ONE_CYCLE = Fraction(15, 100)
EORTC_PMR_LATER = Fraction(25, 100)
#: P2.5: EORTC PMD: SUV increase above 25 %, or extent up by more than 20 %.
EORTC_PMD_REL = Fraction(25, 100)
EORTC_EXTENT_REL = Fraction(20, 100)
#: P1.10 quality windows: uptake 50-70 min, within 15 min of baseline; reference SUL change
#: > 20 % and > 0.3 units; glucose above 200 mg/dL = 11.1 mmol/L.
UPTAKE_WINDOW_MIN: tuple[float, float] = (50.0, 70.0)
UPTAKE_MAX_DIFF_MIN = 15.0
REFERENCE_REL = Fraction(1, 5)
REFERENCE_ABS_SUL = Fraction(3, 10)
GLUCOSE_MAX_MMOL_L = 11.1


def exact(x) -> Fraction:
    """The decimal ``x`` prints as, as an exact Fraction (0.8 -> 4/5)."""
    return Fraction(repr(float(x)))
