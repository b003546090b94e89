"""EORTC 1999 (Young et al., Eur J Cancer 1999): rules P2.1-P2.5, hand-computed boundaries."""

from __future__ import annotations

import pandas as pd
import pytest

from sirtstats.metabolic import derive_eortc_response

D0, D1 = pd.Timestamp("2024-01-10"), pd.Timestamp("2024-04-10")


def _case(suv, *, extent=(None, None), new="NO", sul=(8.0, 8.0), **kw):
    pet = pd.DataFrame({"patient_id": "P1", "scan_date": [D0, D1], "liver_sul_mean": 2.0,
                        "liver_sul_sd": 0.3, "blood_pool_sul_mean": 1.5,
                        "blood_pool_sul_sd": 0.2, "new_fdg_avid_lesion": ["NO", new]})
    les = pd.DataFrame({"patient_id": "P1", "lesion_id": "L1", "scan_date": [D0, D1],
                        "suv_max": list(suv), "sul_peak": list(sul),
                        "fdg_extent_mm": list(extent), "organ": "liver"})
    return derive_eortc_response(pet, les, **kw)["response"].item()


@pytest.mark.parametrize(("suv", "expected"), [
    ((10.0, 7.5), "PMR"),    # -25 % exactly
    ((10.0, 7.51), "SMD"),   # -24.9 %
    ((10.0, 12.5), "SMD"),   # +25 % exactly: PMD needs more than 25 %
    ((10.0, 12.51), "PMD"),  # +25.1 %
])
def test_suv_thresholds_after_more_than_one_cycle(suv, expected):
    assert _case(suv) == expected


def test_after_one_cycle_threshold_is_15_percent():
    assert _case((10.0, 8.5), after_one_cycle=True) == "PMR"   # -15 % exactly
    assert _case((10.0, 8.51), after_one_cycle=True) == "SMD"
    assert _case((10.0, 8.5)) == "SMD"


def test_extension_above_20_percent_and_new_lesion_are_pmd():
    assert _case((10.0, 10.0), extent=(40.0, 48.0)) == "SMD"   # +20 % exactly
    assert _case((10.0, 10.0), extent=(40.0, 48.1)) == "PMD"
    assert _case((10.0, 5.0), new="YES") == "PMD"


def test_cmr_when_uptake_is_at_background():
    assert _case((10.0, 2.0), sul=(8.0, 1.9)) == "CMR"    # blood pool 1.5 + 2 x 0.2
    assert _case((10.0, 2.0), sul=(8.0, 1.95)) == "PMR"
