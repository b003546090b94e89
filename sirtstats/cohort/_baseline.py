"""Baseline derivations: one row per registry patient with age, BSA, ALBI, Child-Pugh, MELD.

Private module of :mod:`sirtstats.cohort` (import from there). Joins patients, the baseline
assessment and the first SIRT; fills missing baseline labs from the labs table (window -30 to 0
days, converted to the baseline units), derives the lung shunt fraction, the baseline imaging
date and the follow-up end.

Implements: ALBI (Johnson et al., J Clin Oncol 2015), Child-Pugh (Pugh et al., Br J Surg 1973;
INR, else French prothrombin ratio "TP"), MELD (UNOS/OPTN form, Kamath et al., Hepatology
2001), DuBois BSA (DuBois & DuBois, Arch Intern Med 1916), as in docs/rules/toxicity.md
and Appendix A.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require_columns
from sirtstats.cohort._first_sirt import derive_first_sirt
from sirtstats.exceptions import SirtDataError
from sirtstats.registry import Registry
from sirtstats.scores import compute_bsa_dubois, compute_meld, derive_liver_scores
from sirtstats.units import _unit_factors

__all__ = ["BASELINE_LAB_WINDOW_DAYS", "LAB_FALLBACKS", "derive_baseline"]


#: Window (days relative to the first SIRT, inclusive) in which a labs-table value may replace a
#: missing baseline lab value; the closest sample (latest) wins (baseline.yaml: -30 to 0 days).
BASELINE_LAB_WINDOW_DAYS: tuple[int, int] = (-30, 0)

#: Labs-table fallbacks for baseline values: analyte -> baseline column. Units are converted to
#: the canonical units of :data:`sirtstats.units.CANONICAL_UNITS`, which are the baseline units
#: (bilirubin and creatinine µmol/L, albumin g/L, INR ratio, TP %, sodium mmol/L, AFP ng/mL).
LAB_FALLBACKS: dict[str, str] = {
    "bilirubin_total": "bilirubin_umol_l",
    "albumin": "albumin_g_l",
    "inr": "inr",
    "prothrombin_pct": "prothrombin_pct",
    "creatinine": "creatinine_umol_l",
    "sodium": "sodium_mmol_l",
    "afp": "afp_ng_ml",
}


def _lab_fallback(
    base: pd.DataFrame, df_labs: pd.DataFrame | None, window: tuple[int, int]
) -> tuple[pd.DataFrame, pd.Series]:
    """Fill missing baseline lab values from the labs table; return (frame, filled columns)."""
    filled = pd.Series([[] for _ in range(len(base))], index=base.index, dtype=object)
    if df_labs is None or df_labs.empty:
        return base, filled.map(lambda v: ";".join(v))
    _require_columns(df_labs, ["patient_id", "sample_date", "analyte", "value", "unit"], "labs")
    labs = df_labs[df_labs["analyte"].isin(list(LAB_FALLBACKS))]
    labs = labs.merge(base[["patient_id", "first_sirt_date"]], on="patient_id", how="inner")
    offset = (pd.to_datetime(labs["sample_date"]) - labs["first_sirt_date"]).dt.days
    labs = labs.assign(_offset=offset)
    labs = labs[labs["_offset"].between(window[0], window[1]) & labs["value"].notna()]
    if labs.empty:
        return base, filled.map(lambda v: ";".join(v))
    # compute_unit_factor once per distinct (analyte, unit) pair, not once per row
    labs = labs.assign(_factor=_unit_factors(labs["analyte"], labs["unit"]))
    bad = labs[labs["_factor"].isna()]
    if not bad.empty:
        pairs = sorted({(a, str(u)) for a, u in zip(bad["analyte"], bad["unit"], strict=True)})
        raise SirtDataError(
            f"labs.unit: {len(bad)} rows have a unit that cannot be converted to the baseline "
            f"unit: {pairs[:5]}; first keys (patient_id, sample_date): "
            + ", ".join(
                f"({p}, {pd.Timestamp(d).date()})"
                for p, d in bad[["patient_id", "sample_date"]].head(3).to_numpy()
            )
            + ". Accepted units per analyte are in sirtstats.units.ACCEPTED_UNITS.",
            table="labs",
            column="unit",
            rule="convertible unit",
            rows=bad.drop(columns=["first_sirt_date", "_offset", "_factor"]),
        )
    labs = labs.assign(_value=labs["value"].astype(float) * labs["_factor"])
    # closest to the first SIRT = largest (least negative) offset
    labs = labs.sort_values(["patient_id", "analyte", "_offset"], kind="mergesort")
    latest = labs.groupby(["patient_id", "analyte"], sort=True)["_value"].last().unstack()
    base = base.copy()
    for analyte, column in LAB_FALLBACKS.items():
        if analyte not in latest.columns:
            continue
        candidate = base["patient_id"].map(latest[analyte])
        use = base[column].isna() & candidate.notna()
        if use.any():
            base.loc[use, column] = candidate[use].astype(float)
            for idx in base.index[use]:
                filled.at[idx] = [*filled.at[idx], column]
    return base, filled.map(lambda v: ";".join(v))


def _derive_lsf(base: pd.DataFrame, df_workups: pd.DataFrame | None) -> pd.Series:
    """LSF of the work-up linked to the first injection, else the last work-up before it."""
    lsf = pd.Series(np.nan, index=base.index, dtype=float)
    if df_workups is None or df_workups.empty or "lsf_pct" not in df_workups.columns:
        return lsf
    by_id = df_workups.set_index("workup_id")["lsf_pct"]
    linked = base["first_workup_id"].map(by_id).astype(float)
    wu = df_workups[["patient_id", "workup_date", "lsf_pct"]].merge(
        base[["patient_id", "first_sirt_date"]], on="patient_id", how="inner"
    )
    wu = wu[wu["workup_date"] <= wu["first_sirt_date"]].sort_values(
        ["patient_id", "workup_date"], kind="mergesort"
    )
    last = wu.groupby("patient_id")["lsf_pct"].last()
    fallback = base["patient_id"].map(last).astype(float)
    return linked.fillna(fallback)


def _baseline_imaging(base: pd.DataFrame, df_imaging: pd.DataFrame | None) -> pd.Series:
    """Date of the last imaging assessment on or before the first SIRT (any criterion)."""
    if df_imaging is None or df_imaging.empty:
        return pd.Series(pd.NaT, index=base.index, dtype="datetime64[ns]")
    im = df_imaging[["patient_id", "assessment_date"]].merge(
        base[["patient_id", "first_sirt_date"]], on="patient_id", how="inner"
    )
    im = im[im["assessment_date"] <= im["first_sirt_date"]]
    last = im.groupby("patient_id")["assessment_date"].max()
    return base["patient_id"].map(last).astype("datetime64[ns]")


def _one_baseline_per_patient(baseline: pd.DataFrame | None) -> pd.DataFrame:
    """The baseline table (empty if absent); SirtDataError if a patient has several rows."""
    if baseline is None:
        baseline = pd.DataFrame({"patient_id": pd.Series(dtype=object)})
    dup = baseline[baseline["patient_id"].duplicated(keep=False)]
    if not dup.empty:
        raise SirtDataError(
            f"baseline.patient_id: {len(dup)} rows violate \"unique\"; first keys (patient_id): "
            + ", ".join(f"({p})" for p in dup["patient_id"].drop_duplicates().head(3))
            + ". Keep one baseline assessment per patient.",
            table="baseline",
            column="patient_id",
            rule="unique",
            rows=dup,
        )
    return baseline


def _with_baseline_inputs(out: pd.DataFrame) -> pd.DataFrame:
    """Add the score inputs a registry lacks (missing), lab values as float."""
    for col in ("bilirubin_umol_l", "albumin_g_l", "inr", "prothrombin_pct",
                "creatinine_umol_l", "sodium_mmol_l", "afp_ng_ml"):
        if col not in out.columns:
            out[col] = np.nan
        out[col] = out[col].astype(float)
    for col in ("height_cm", "weight_kg", "tumour_volume_ml", "liver_volume_ml"):
        if col not in out.columns:
            out[col] = np.nan
    for col in ("ascites", "encephalopathy"):
        if col not in out.columns:
            out[col] = None
    return out


def derive_baseline(
    registry: Registry,
    *,
    cutoff_date: str | pd.Timestamp | None = None,
    lab_window_days: tuple[int, int] = BASELINE_LAB_WINDOW_DAYS,
    bilirubin_cutoffs_umol_l: tuple[float, float] = (34.2, 51.3),
) -> pd.DataFrame:
    """One row per registry patient: patient and baseline columns plus derived scores.

    Parameters
    ----------
    registry : Registry
        Loaded registry; uses the ``patients``, ``baseline`` and ``treatments`` tables and, when
        present, ``labs`` (fallback for missing baseline labs), ``workups`` (lung shunt
        fraction) and ``imaging_assessments`` (baseline imaging date).
    cutoff_date : str or Timestamp, optional
        Data cut-off; defaults to ``registry.cutoff_date``. SIRT sessions after it are ignored,
        and deaths after it are not counted (follow-up ends at the cut-off).
    lab_window_days : tuple of int
        Days relative to the first SIRT (inclusive) in which a labs-table sample may replace a
        missing baseline value; default (-30, 0).
    bilirubin_cutoffs_umol_l : tuple of float
        Child-Pugh bilirubin boundaries in umol/L; (34.2, 51.3) = 2 and 3 mg/dL, French tables
        use (35, 50).

    Returns
    -------
    DataFrame
        Same rows and order as ``registry["patients"]`` (a fresh RangeIndex), with every
        patients and baseline column (baseline lab values possibly filled from ``labs``) and:

        - ``first_sirt_date``, ``last_sirt_date`` (datetime64), ``n_sessions``,
          ``n_injections`` (Int64), ``device`` (first-session device), ``devices`` (str);
          missing for patients without a SIRT session on or before the cut-off;
        - ``age_at_first_sirt_years`` (Int64, years): calendar year of the first SIRT minus
          ``birth_year``. Only the birth year is stored (a full birth date is an identifier),
          so this is the age reached during that calendar year: the true age is this value or
          one year less (±1 y);
        - ``bsa_m2`` (float, m²): DuBois BSA from ``height_cm`` and ``weight_kg``;
        - ``albi_score`` (float, dimensionless), ``albi_grade`` (Int64 1-3);
        - ``child_pugh_points`` (Int64 5-15), ``child_pugh_class`` ("A"/"B"/"C"): INR, else
          prothrombin ratio (TP %) when INR is missing;
        - ``meld`` (Int64 6-40; dialysis is not recorded and assumed absent);
        - ``tumour_burden_pct`` (float, %): ``tumour_volume_ml / liver_volume_ml × 100``
          (liver volume includes tumour);
        - ``lsf_pct`` (float, %): lung shunt fraction of the work-up of the first injection, else
          of the last work-up on or before the first SIRT;
        - ``baseline_imaging_date`` (datetime64): last imaging assessment on or before the first
          SIRT; ``baseline_imaging_days_before`` (Int64, days ≥ 0);
        - ``followup_end_date`` (datetime64): death date if on/before the cut-off, else last
          contact date, capped at the cut-off; ``is_deceased`` (boolean);
          ``followup_days`` (Int64): ``followup_end_date − first_sirt_date`` in days;
        - ``labs_fallback_columns`` (str): baseline columns filled from the labs table, joined
          by ";" ("" when none), so that no substitution is silent.

    Raises
    ------
    SirtDataError
        If a required column is missing, if ``baseline`` has several rows for one patient, or if
        a labs-table unit needed for a fallback cannot be converted.

    See Also
    --------
    derive_first_sirt, select_cohort

    Notes
    -----
    A patient without a baseline row keeps missing baseline values; scores are missing
    (NA/NaN) whenever one of their inputs is missing. Labs-table values are converted to the
    baseline units (bilirubin mg/dL × 17.1 -> µmol/L, albumin g/dL × 10 -> g/L, creatinine
    mg/dL × 88.4 -> µmol/L; see :data:`LAB_FALLBACKS` and :mod:`sirtstats.units`); the sample
    closest to the first SIRT in the window wins. Formulas:
    ``ALBI = 0.66·log10(bilirubin µmol/L) − 0.085·albumin g/L`` (grade 1 ≤ −2.60 < grade 2
    ≤ −1.39 < grade 3); Child-Pugh and MELD as in :mod:`sirtstats.scores`.

    References
    ----------
    Johnson PJ et al. J Clin Oncol 2015;33:550-558 (ALBI). Pugh RN et al. Br J Surg
    1973;60:646-649 (Child-Pugh). Kamath PS et al. Hepatology 2001;33:464-470 (MELD). DuBois D,
    DuBois EF. Arch Intern Med 1916;17:863-871 (BSA). docs/rules/toxicity.md.
    """
    tables = registry.tables
    patients = tables["patients"]
    _require_columns(patients, ["patient_id", "birth_year"], "patients")
    cutoff = cutoff_date if cutoff_date is not None else registry.cutoff_date
    cutoff = pd.Timestamp(cutoff) if cutoff is not None and cutoff != "" else None

    baseline = _one_baseline_per_patient(tables.get("baseline"))
    base_cols = [c for c in baseline.columns if c not in patients.columns or c == "patient_id"]
    out = patients.reset_index(drop=True).merge(
        baseline[base_cols], on="patient_id", how="left", validate="one_to_one"
    )
    out = _with_baseline_inputs(out)

    treatments = tables.get("treatments")
    if treatments is None:
        treatments = pd.DataFrame(columns=["patient_id", "session_id", "injection_id",
                                           "treatment_date", "device"])
    first = derive_first_sirt(treatments, cutoff_date=cutoff).rename(
        columns={"first_device": "device"}
    )
    out = out.merge(first, on="patient_id", how="left", validate="one_to_one")
    for col in ("n_sessions", "n_injections"):
        out[col] = out[col].astype("Int64")

    out, filled = _lab_fallback(out, tables.get("labs"), lab_window_days)

    year = out["first_sirt_date"].dt.year.astype("Int64")
    out["age_at_first_sirt_years"] = (year - out["birth_year"].astype("Int64")).astype("Int64")
    out["bsa_m2"] = compute_bsa_dubois(out["height_cm"].astype(float),
                                       out["weight_kg"].astype(float))
    out = derive_liver_scores(out, bilirubin_cutoffs_umol_l=bilirubin_cutoffs_umol_l)
    meld = compute_meld(out["bilirubin_umol_l"], out["inr"], out["creatinine_umol_l"])
    inputs_missing = out[["bilirubin_umol_l", "inr", "creatinine_umol_l"]].isna().any(axis=1)
    out["meld"] = meld.mask(inputs_missing, pd.NA).astype("Int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        burden = out["tumour_volume_ml"].astype(float) / out["liver_volume_ml"].astype(float)
    out["tumour_burden_pct"] = (burden * 100).where(np.isfinite(burden))
    out["lsf_pct"] = _derive_lsf(out, tables.get("workups"))
    out["baseline_imaging_date"] = _baseline_imaging(out, tables.get("imaging_assessments"))
    out["baseline_imaging_days_before"] = (
        (out["first_sirt_date"] - out["baseline_imaging_date"]).dt.days.astype("Int64")
    )

    death = out["death_date"] if "death_date" in out.columns else pd.Series(pd.NaT, index=out.index)
    last = (out["last_contact_date"] if "last_contact_date" in out.columns
            else pd.Series(pd.NaT, index=out.index))
    death = pd.to_datetime(death)
    last = pd.to_datetime(last)
    if cutoff is not None:
        is_dead = death.notna() & (death <= cutoff)
        end = death.where(is_dead, last)
        end = end.where(~(end > cutoff), cutoff)
    else:
        is_dead = death.notna()
        end = death.where(is_dead, last)
    out["followup_end_date"] = end.astype("datetime64[ns]")
    out["is_deceased"] = is_dead.astype("boolean")
    out["followup_days"] = (out["followup_end_date"] - out["first_sirt_date"]).dt.days.astype(
        "Int64"
    )
    out["labs_fallback_columns"] = filled.to_numpy()
    out = out.drop(columns=["first_workup_id"])
    return out
