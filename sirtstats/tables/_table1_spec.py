"""Default variables, labels and level order of Table 1, shared by both Table 1 builders.

Private (import from :mod:`sirtstats.tables`): the variable lists, row labels and schema level
order that :func:`sirtstats.tables.make_table1` (tableone) and
:func:`sirtstats.tables.summarise_table1` (paste-ready) start from, the conversion of a
categorical column to text levels (1 -> "1", True -> "yes"), the checks of their ``groupby``
and ``columns`` arguments and the order of levels and groups.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    "_check_table1_columns",
    "_default_categorical",
    "_group_order",
    "_is_identifier",
    "_ordered_levels",
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



def _check_table1_columns(df_baseline: pd.DataFrame, groupby: str | None,
                          columns: Sequence[str] | None, func: str) -> list[str]:
    """The Table 1 variables (default: :data:`TABLE1_COLUMNS` present), after the checks.

    Raises ValueError, naming ``func``, if ``groupby`` or a column is not in ``df_baseline``
    or a column is an identifier. The ``groupby`` column is not removed here.
    """
    if groupby is not None and groupby not in df_baseline.columns:
        raise ValueError(
            f"The 'groupby' argument of {func} must be a column of df_baseline or None. "
            f"Got {groupby!r} instead."
        )
    if columns is None:
        columns = [c for c in TABLE1_COLUMNS if c in df_baseline.columns]
    else:
        columns = list(columns)
    unknown = [c for c in columns if c not in df_baseline.columns]
    if unknown:
        raise ValueError(
            f"The 'columns' argument of {func} must list columns of df_baseline. "
            f"Got {unknown!r} instead."
        )
    ids = [c for c in columns if _is_identifier(c)]
    if ids:
        raise ValueError(
            f"The 'columns' argument of {func} must not contain identifiers. "
            f"Got {ids!r} instead."
        )
    return columns


def _default_categorical(df_baseline: pd.DataFrame, columns: list[str]) -> list[str]:
    """Members of :data:`TABLE1_CATEGORICAL` among ``columns``, plus boolean and text columns."""
    return [
        c for c in columns
        if c in TABLE1_CATEGORICAL
        or not pd.api.types.is_numeric_dtype(df_baseline[c])
        or pd.api.types.is_bool_dtype(df_baseline[c])
        or str(df_baseline[c].dtype) == "boolean"
    ]


def _ordered_levels(present: set[str], preferred: list[str]) -> list[str]:
    """The ``preferred`` levels that are present, in that order, then the others sorted."""
    return [v for v in preferred if v in present] + sorted(present - set(preferred))


def _group_order(groupby: str, groups: pd.Series) -> list[str]:
    """Group values in schema order, the others sorted, the "(missing)" group last."""
    present = set(groups)
    preferred = TABLE1_LEVEL_ORDER.get(groupby, [])
    return [v for v in preferred if v in present] + sorted(
        present - set(preferred) - {_MISSING_GROUP}
    ) + ([_MISSING_GROUP] if _MISSING_GROUP in present else [])
