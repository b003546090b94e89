"""Shared helpers of the metabolic engine: baseline scans, organs, reference choice."""

from __future__ import annotations

import pandas as pd

from sirtstats.metabolic._rules import REFERENCES
from sirtstats.response._common import check_choice, require_columns

PET_COLUMNS = ["patient_id", "scan_date", "liver_sul_mean", "liver_sul_sd",
               "blood_pool_sul_mean", "blood_pool_sul_sd"]
LESION_COLUMNS = ["patient_id", "lesion_id", "scan_date", "sul_peak"]


def prepare(df_pet, df_pet_lesions, df_lesions, fn):
    """Copies of the PET tables, sorted by scan, with ``is_baseline`` and ``organ``."""
    require_columns(df_pet, PET_COLUMNS, "pet_assessments", fn)
    require_columns(df_pet_lesions, LESION_COLUMNS, "pet_lesions", fn)
    pet = df_pet.sort_values(["patient_id", "scan_date"], kind="mergesort").copy()
    pet["is_baseline"] = ~pet.duplicated("patient_id")
    les = df_pet_lesions.copy()
    if "organ" not in les.columns:
        if df_lesions is not None:
            require_columns(df_lesions, ["lesion_id", "organ"], "lesions", fn)
            les["organ"] = les["lesion_id"].map(
                df_lesions.drop_duplicates("lesion_id").set_index("lesion_id")["organ"])
        else:
            les["organ"] = "other"
    return pet, les


def choose_reference(reference: str, organs: pd.Series, fn: str) -> str:
    """P1.2: ``auto`` is the blood pool when the patient has hepatic disease, else the liver."""
    ref = check_choice(reference, REFERENCES, "reference", fn)
    if ref != "auto":
        return ref
    return "blood_pool" if (organs == "liver").any() else "liver"
