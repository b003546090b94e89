"""Analysis frames: lesion dose-response, patient dose attached to outcomes, toxicity outcomes."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sirtstats.dose_response._common import (
    _EVALUABLE_CODES,
    RESPONDER_CODES,
    _check_int,
    _require_columns,
)
from sirtstats.exceptions import SirtDataError

__all__ = [
    "LESION_DOSE_RESPONSE_COLUMNS",
    "TOXICITY_OUTCOME_COLUMNS",
    "derive_lesion_dose_response",
    "derive_patient_dose_outcome",
    "derive_toxicity_outcomes",
]


#: Columns of :func:`derive_lesion_dose_response`, in order.
LESION_DOSE_RESPONSE_COLUMNS = [
    "patient_id", "lesion_id", "criterion", "absorbed_dose_gy", "best_pct_change",
    "lesion_response", "is_responder", "in_treated_territory",
]


def derive_lesion_dose_response(
    df_lesion_response: pd.DataFrame,
    df_lesions: pd.DataFrame,
    *,
    criterion: str | None = None,
    dose_col: str = "absorbed_dose_gy",
    responder_codes: Sequence[str] = RESPONDER_CODES,
    treated_only: bool = True,
) -> pd.DataFrame:
    """Join lesion-level response to lesion absorbed dose (one row per lesion with a dose).

    Parameters
    ----------
    df_lesion_response : DataFrame
        Output of ``sirtstats.response.derive_lesion_response``: ``patient_id``,
        ``lesion_id`` (str), ``criterion`` (str), ``best_pct_change`` (float, % change from
        baseline; negative = shrinkage), ``lesion_response`` (str, CR PR SD PD NE).
    df_lesions : DataFrame
        ``lesions`` table: ``lesion_id`` (str), the dose column (float, Gy),
        ``in_treated_territory`` (bool).
    criterion : str, optional
        Keep this criterion only (e.g. "mRECIST"); None keeps all.
    dose_col : str, default "absorbed_dose_gy"
        Lesion dose column of ``df_lesions`` (Gy); the output keeps its name.
    responder_codes : sequence of str, default ("CR", "PR")
        Lesion responses counted as response.
    treated_only : bool, default True
        Keep lesions in the treated territory only.

    Returns
    -------
    DataFrame
        Columns :data:`LESION_DOSE_RESPONSE_COLUMNS` (with ``dose_col`` in place of
        ``absorbed_dose_gy``), rows of ``df_lesion_response`` (order kept) whose lesion has a
        dose; ``is_responder`` is boolean, NA when the lesion response
        is not one of CR, PR, SD, PD (NE, MISSING or absent), so that the statistics count the
        lesion as excluded, not as a non-responder.

    Raises
    ------
    SirtDataError
        If a required column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> lr = pd.DataFrame({"patient_id": ["P1", "P1"], "lesion_id": ["L1", "L2"],
    ...                    "criterion": ["mRECIST", "mRECIST"],
    ...                    "best_pct_change": [-60.0, 5.0], "lesion_response": ["PR", "SD"]})
    >>> les = pd.DataFrame({"lesion_id": ["L1", "L2"], "absorbed_dose_gy": [250.0, 90.0],
    ...                     "in_treated_territory": [True, True]})
    >>> derive_lesion_dose_response(lr, les)[["lesion_id", "absorbed_dose_gy", "is_responder"]]
      lesion_id  absorbed_dose_gy  is_responder
    0        L1             250.0          True
    1        L2              90.0         False
    """
    fn = "derive_lesion_dose_response"
    _require_columns(df_lesion_response, ["patient_id", "lesion_id", "criterion",
                                          "best_pct_change", "lesion_response"], fn)
    _require_columns(df_lesions, ["lesion_id", dose_col], fn)
    lr = df_lesion_response
    if criterion is not None:
        lr = lr[lr["criterion"].astype(str).str.lower() == str(criterion).lower()]
    cols = ["lesion_id", dose_col]
    if "in_treated_territory" in df_lesions.columns:
        cols.append("in_treated_territory")
    les = df_lesions[cols].drop_duplicates("lesion_id").set_index("lesion_id")
    les = les.reindex(lr["lesion_id"].to_numpy())
    out = lr[["patient_id", "lesion_id", "criterion", "best_pct_change",
              "lesion_response"]].copy()
    out[dose_col] = pd.to_numeric(les[dose_col], errors="coerce").to_numpy(dtype=float)
    out["in_treated_territory"] = (les["in_treated_territory"].astype("boolean").to_numpy()
                                   if "in_treated_territory" in les.columns
                                   else pd.array([pd.NA] * len(out), dtype="boolean"))
    code = out["lesion_response"].astype("string")
    known = code.isin(list(_EVALUABLE_CODES)).fillna(False).astype(bool)
    out["is_responder"] = code.isin(list(responder_codes)).astype("boolean").where(known)
    keep = out[dose_col].notna()
    if treated_only:
        keep &= out["in_treated_territory"].fillna(False).astype(bool)
    columns = [dose_col if c == "absorbed_dose_gy" else c for c in LESION_DOSE_RESPONSE_COLUMNS]
    return out.loc[keep, columns]


def derive_patient_dose_outcome(
    df: pd.DataFrame,
    df_doses: pd.DataFrame,
    *,
    dose_col: str,
    subject_keys: Sequence[str] = ("patient_id",),
    carry_cols: Sequence[str] = (),
) -> pd.DataFrame:
    """Attach a patient-level dose to a patient-level outcome frame.

    Parameters
    ----------
    df : DataFrame
        One row per patient (best overall response, endpoints, toxicity flags ...), with the
        subject keys.
    df_doses : DataFrame
        One row per patient with the dose column, e.g.
        :func:`sirtstats.dosimetry.derive_patient_dose`.
    dose_col : str
        Dose column of ``df_doses`` (Gy).
    subject_keys : sequence of str, default ("patient_id",)
        Join keys.
    carry_cols : sequence of str, default ()
        Further columns of ``df_doses`` to attach likewise (e.g. ``"device"`` from
        :func:`derive_patient_dose_by_device`).

    Returns
    -------
    DataFrame
        A copy of ``df`` (same rows, order and index) with ``dose_col`` (NaN for a patient
        without dose) and ``carry_cols`` added; existing columns of those names are replaced.

    Raises
    ------
    SirtDataError
        If a column is missing or ``df_doses`` has several rows per patient.

    Examples
    --------
    >>> import pandas as pd
    >>> bor = pd.DataFrame({"patient_id": ["P2", "P1"], "is_responder": [True, False]})
    >>> doses = pd.DataFrame({"patient_id": ["P1", "P2"], "tumour_dose_gy": [90.0, 260.0]})
    >>> derive_patient_dose_outcome(bor, doses, dose_col="tumour_dose_gy")
      patient_id  is_responder  tumour_dose_gy
    0         P2          True           260.0
    1         P1         False            90.0
    """
    fn = "derive_patient_dose_outcome"
    keys = list(subject_keys)
    _require_columns(df, keys, fn)
    extra = [c for c in carry_cols if c != dose_col]
    _require_columns(df_doses, [*keys, dose_col, *extra], fn)
    dup = df_doses.duplicated(keys, keep=False)
    if dup.any():
        raise SirtDataError(
            f"{fn}: df_doses has {int(dup.sum())} rows sharing {keys}; give one dose per "
            f"patient (see sirtstats.dosimetry.derive_patient_dose).",
            column=keys[0], rule="one row per patient", rows=df_doses.loc[dup, keys],
        )
    lookup = df_doses.set_index(keys)
    out = df.drop(columns=[dose_col, *extra], errors="ignore").copy()
    index = pd.MultiIndex.from_frame(df[keys]) if len(keys) > 1 else pd.Index(df[keys[0]])
    for col in (dose_col, *extra):
        out[col] = lookup[col].reindex(index).to_numpy()
    return out


#: Columns of :func:`derive_toxicity_outcomes`, in order.
TOXICITY_OUTCOME_COLUMNS = ["patient_id", "worst_lab_grade", "is_lab_toxicity", "is_reild"]


def derive_toxicity_outcomes(
    df_patients: pd.DataFrame,
    *,
    df_worst_lab_grades: pd.DataFrame | None = None,
    df_adverse_events: pd.DataFrame | None = None,
    analyte: str = "bilirubin_total",
    min_grade: int = 3,
    require_emergent: bool = True,
) -> pd.DataFrame:
    """Binary liver-toxicity outcomes per patient, for normal-liver dose-toxicity analyses.

    Parameters
    ----------
    df_patients : DataFrame
        One row per analysed patient (``patient_id``), e.g. the cohort's patients.
    df_worst_lab_grades : DataFrame, optional
        :func:`sirtstats.toxicity.summarise_worst_lab_grades` output: ``patient_id``,
        ``analyte``, ``grade`` (Int64, worst post-baseline CTCAE v5.0 grade in the window) and
        ``is_treatment_emergent`` (bool).
    df_adverse_events : DataFrame, optional
        ``adverse_events`` rows to consider (e.g. treatment-emergent ones): ``patient_id``,
        ``is_reild`` (bool).
    analyte : str, default "bilirubin_total"
        Lab analyte of the toxicity (``labs.analyte`` value).
    min_grade : int, default 3
        Toxicity when the worst grade is >= this.
    require_emergent : bool, default True
        Also require the grade to be worse than at baseline (treatment-emergent).

    Returns
    -------
    DataFrame
        One row per ``df_patients`` row (order kept): ``patient_id``, ``worst_lab_grade``
        (Int64; NA when the patient has no graded post-baseline sample), ``is_lab_toxicity``
        (boolean; NA when the grade is unknown, so the patient is excluded, not counted as
        free of toxicity), ``is_reild`` (boolean; False when no REILD event is listed, NA when
        ``df_adverse_events`` is None).

    Raises
    ------
    SirtDataError
        If a required column is missing.

    References
    ----------
    CTCAE v5.0 (bilirubin grade 3: > 3-10 x ULN); REILD: Sangro et al., Cancer 2008;
    Braat et al., Eur J Gastroenterol Hepatol 2017 (T4.3, docs/rules/toxicity.md).

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"patient_id": ["P1", "P2", "P3"]})
    >>> worst = pd.DataFrame({"patient_id": ["P1", "P2"], "analyte": "bilirubin_total",
    ...                       "grade": pd.array([3, 1], dtype="Int64"),
    ...                       "is_treatment_emergent": [True, True]})
    >>> ae = pd.DataFrame({"patient_id": ["P2"], "is_reild": [True]})
    >>> derive_toxicity_outcomes(pts, df_worst_lab_grades=worst, df_adverse_events=ae)
      patient_id  worst_lab_grade  is_lab_toxicity  is_reild
    0         P1                3             True     False
    1         P2                1            False      True
    2         P3             <NA>             <NA>     False
    """
    fn = "derive_toxicity_outcomes"
    _require_columns(df_patients, ["patient_id"], fn)
    min_grade = _check_int(min_grade, "min_grade", fn, minimum=1)
    ids = df_patients["patient_id"]
    out = pd.DataFrame({"patient_id": ids.to_numpy()}, index=df_patients.index)
    if df_worst_lab_grades is not None:
        _require_columns(df_worst_lab_grades, ["patient_id", "analyte", "grade"], fn)
        lab = df_worst_lab_grades[df_worst_lab_grades["analyte"] == analyte]
        grade = lab.groupby("patient_id")["grade"].max()
        out["worst_lab_grade"] = pd.array(grade.reindex(ids).to_numpy(), dtype="Int64")
        tox = (out["worst_lab_grade"] >= min_grade).astype("boolean")
        if require_emergent:
            _require_columns(df_worst_lab_grades, ["is_treatment_emergent"], fn)
            emergent = (lab[lab["grade"] >= min_grade].groupby("patient_id")
                        ["is_treatment_emergent"].any())
            is_emergent = emergent.reindex(ids).astype("boolean").fillna(False)
            tox = tox & is_emergent.to_numpy(dtype=bool)
        out["is_lab_toxicity"] = tox.mask(out["worst_lab_grade"].isna())
    else:
        out["worst_lab_grade"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["is_lab_toxicity"] = pd.array([pd.NA] * len(out), dtype="boolean")
    if df_adverse_events is not None:
        _require_columns(df_adverse_events, ["patient_id", "is_reild"], fn)
        reild = df_adverse_events.loc[
            df_adverse_events["is_reild"].astype("boolean").fillna(False).astype(bool),
            "patient_id"]
        out["is_reild"] = ids.isin(set(reild)).astype("boolean").to_numpy()
    else:
        out["is_reild"] = pd.array([pd.NA] * len(out), dtype="boolean")
    return out[TOXICITY_OUTCOME_COLUMNS]


