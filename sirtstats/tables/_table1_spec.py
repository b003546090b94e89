"""Default variables, labels and level order of Table 1, shared by both Table 1 builders.

Private (import from :mod:`sirtstats.tables`): the variable lists, row labels and schema level
order that :func:`sirtstats.tables.make_table1` (tableone) and
:func:`sirtstats.tables.summarise_table1` (paste-ready) start from, and the conversion of a
categorical column to text levels (1 -> "1", True -> "yes").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "TABLE1_CATEGORICAL",
    "TABLE1_COLUMNS",
    "TABLE1_LABELS",
    "TABLE1_LEVEL_ORDER",
    "TABLE1_NONNORMAL",
    "_BOOLEAN_ORDER",
    "_MISSING_GROUP",
    "_as_category_strings",
    "_is_identifier",
]

#: Default Table 1 variables, in display order.
TABLE1_COLUMNS: tuple[str, ...] = (
    "age_at_first_sirt_years",
    "sex",
    "primary_tumour",
    "ecog",
    "bclc_stage",
    "cirrhosis",
    "child_pugh_class",
    "albi_grade",
    "meld",
    "pvtt",
    "extrahepatic_disease",
    "n_liver_lesions",
    "tumour_burden_pct",
    "lsf_pct",
    "device",
    "n_sessions",
    "treatment_intent",
)

#: Default categorical variables (others are summarised as continuous).
TABLE1_CATEGORICAL: tuple[str, ...] = (
    "sex",
    "primary_tumour",
    "hcc_aetiology",
    "ecog",
    "bclc_stage",
    "cirrhosis",
    "child_pugh_class",
    "albi_grade",
    "pvtt",
    "extrahepatic_disease",
    "bilobar",
    "device",
    "devices",
    "treatment_intent",
    "ascites",
    "encephalopathy",
    "centre_id",
)

#: Default continuous variables summarised as median [Q1, Q3] (skewed in SIRT cohorts).
TABLE1_NONNORMAL: tuple[str, ...] = (
    "age_at_first_sirt_years",
    "meld",
    "n_liver_lesions",
    "tumour_burden_pct",
    "lsf_pct",
    "n_sessions",
    "afp_ng_ml",
    "bilirubin_umol_l",
    "albumin_g_l",
    "largest_lesion_mm",
    "n_prior_systemic_lines",
)

#: Row labels (units in the label, as in a manuscript).
TABLE1_LABELS: dict[str, str] = {
    "age_at_first_sirt_years": "Age at first SIRT, years",
    "sex": "Sex",
    "primary_tumour": "Primary tumour",
    "hcc_aetiology": "HCC aetiology",
    "ecog": "ECOG performance status",
    "bclc_stage": "BCLC stage",
    "cirrhosis": "Cirrhosis",
    "child_pugh_class": "Child-Pugh class",
    "child_pugh_points": "Child-Pugh points",
    "albi_grade": "ALBI grade",
    "albi_score": "ALBI score",
    "meld": "MELD",
    "pvtt": "Portal vein tumour thrombus",
    "extrahepatic_disease": "Extrahepatic disease",
    "n_liver_lesions": "Liver lesions, n",
    "tumour_burden_pct": "Tumour burden, % of liver volume",
    "lsf_pct": "Lung shunt fraction, %",
    "device": "Device (first session)",
    "n_sessions": "SIRT sessions, n",
    "treatment_intent": "Treatment intent",
    "bsa_m2": "Body surface area, m²",
    "afp_ng_ml": "AFP, ng/mL",
    "bilirubin_umol_l": "Bilirubin, µmol/L",
    "albumin_g_l": "Albumin, g/L",
    "largest_lesion_mm": "Largest lesion, mm",
    "n_prior_systemic_lines": "Prior systemic lines, n",
}

#: Level order of categorical variables (schema enum order; booleans as yes/no).
TABLE1_LEVEL_ORDER: dict[str, list[str]] = {
    "sex": ["M", "F"],
    "primary_tumour": ["HCC", "ICC", "mCRC", "NET", "breast", "uveal_melanoma", "pancreas",
                       "other"],
    "hcc_aetiology": ["HBV", "HCV", "alcohol", "MASLD", "haemochromatosis", "other", "none"],
    "ecog": ["0", "1", "2", "3", "4"],
    "bclc_stage": ["0", "A", "B", "C", "D"],
    "child_pugh_class": ["A", "B", "C"],
    "albi_grade": ["1", "2", "3"],
    "pvtt": ["none", "branch", "lobar", "main"],
    "device": ["Y90_glass", "Y90_resin", "Ho166_PLLA"],
    "treatment_intent": ["palliative", "downstaging", "bridge_to_transplant",
                         "neoadjuvant_resection", "curative_segmentectomy", "radiation_lobectomy"],
    "ascites": ["none", "mild", "moderate_severe"],
    "encephalopathy": ["none", "grade_1_2", "grade_3_4"],
}

_BOOLEAN_ORDER = ["yes", "no"]
_MISSING_GROUP = "(missing)"


def _as_category_strings(s: pd.Series) -> pd.Series:
    """Categorical values as plain strings (1 -> "1", True -> "yes"), missing as None."""
    if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
        out = s.astype("object").map({True: "yes", False: "no"})
    elif pd.api.types.is_numeric_dtype(s):
        num = pd.to_numeric(s, errors="coerce").astype(float)
        whole = num.dropna().eq(num.dropna().round()).all()
        out = num.map(lambda v: None if np.isnan(v) else (str(int(v)) if whole else str(v)))
    else:
        out = s.astype("object").map(lambda v: None if pd.isna(v) else str(v))
    return out.astype("object").where(out.notna(), None)


def _is_identifier(column: str) -> bool:
    return column == "patient_id" or column.endswith("_id") and column != "centre_id"

