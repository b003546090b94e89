"""Cohort selection, baseline derivations and attrition (CONSORT) counts.

One row per patient: :func:`derive_first_sirt` summarises the SIRT sessions,
:func:`derive_baseline` joins patients, the baseline assessment and the first SIRT and derives
age, BSA, ALBI, Child-Pugh, MELD and tumour burden; :func:`select_cohort` applies the
eligibility filters in a fixed order and returns the included patients with a flow table in
which every registry patient ends either included or excluded with one reason.

Implements: ALBI (Johnson et al., J Clin Oncol 2015), Child-Pugh (Pugh et al., Br J Surg 1973;
INR, else French prothrombin ratio "TP"), MELD (UNOS/OPTN form, Kamath et al., Hepatology
2001), DuBois BSA (DuBois & DuBois, Arch Intern Med 1916), as in docs/rules/toxicity.md
and Appendix A; baseline imaging window of RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009,
at most 4 weeks before treatment start; R1.1 (docs/rules/response.md)).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require_columns
from sirtstats.exceptions import SirtDataError
from sirtstats.registry import Registry
from sirtstats.schema import load_schema
from sirtstats.scores import compute_bsa_dubois, compute_meld, derive_liver_scores
from sirtstats.units import compute_unit_factor

__all__ = [
    "BASELINE_IMAGING_MAX_DAYS",
    "BASELINE_LAB_WINDOW_DAYS",
    "LAB_FALLBACKS",
    "CohortSelection",
    "derive_baseline",
    "derive_first_sirt",
    "select_cohort",
    "summarise_exclusions",
    "summarise_registry",
]

#: Window (days relative to the first SIRT, inclusive) in which a labs-table value may replace a
#: missing baseline lab value; the closest sample (latest) wins (baseline.yaml: -30 to 0 days).
BASELINE_LAB_WINDOW_DAYS: tuple[int, int] = (-30, 0)

#: Maximum days between baseline imaging and the first SIRT (RECIST 1.1: "no more than 4 weeks
#: before"; R1.1 (docs/rules/response.md) ``baseline_max_days_before_origin``).
BASELINE_IMAGING_MAX_DAYS: int = 28

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



# --------------------------------------------------------------------------------------------
# derive_first_sirt
# --------------------------------------------------------------------------------------------

FIRST_SIRT_COLUMNS = [
    "patient_id",
    "first_sirt_date",
    "last_sirt_date",
    "n_sessions",
    "n_injections",
    "first_device",
    "devices",
    "first_workup_id",
]


def derive_first_sirt(
    df_treatments: pd.DataFrame, *, cutoff_date: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Summarise the SIRT sessions of each patient: first/last date, sessions, devices.

    Parameters
    ----------
    df_treatments : DataFrame
        The ``treatments`` table: ``patient_id`` (str), ``session_id`` (str), ``injection_id``
        (str), ``treatment_date`` (datetime64), ``device`` (str); optional
        ``administration_datetime`` (datetime64, orders injections of the same day) and
        ``workup_id`` (str).
    cutoff_date : str or Timestamp, optional
        Data cut-off: injections after it are ignored. None keeps every injection.

    Returns
    -------
    DataFrame
        One row per patient with at least one injection, sorted by ``patient_id``, with
        ``first_sirt_date`` and ``last_sirt_date`` (datetime64), ``n_sessions`` and
        ``n_injections`` (Int64), ``first_device`` (device of the first injection of the first
        session), ``devices`` (distinct devices, sorted, joined by ";") and
        ``first_workup_id`` (work-up of the first injection, may be missing).

    Raises
    ------
    SirtDataError
        If a required column is missing or a ``treatment_date`` is missing.

    Notes
    -----
    Injections are ordered by ``treatment_date``, then ``administration_datetime``, then
    ``injection_id``. A session is one ``session_id``; a patient treated on two days counts two
    sessions.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "injection_id": ["I1", "I2", "I3"],
    ...     "session_id":   ["S1", "S1", "S2"],
    ...     "patient_id":   ["P1", "P1", "P1"],
    ...     "treatment_date": pd.to_datetime(["2024-01-10", "2024-01-10", "2024-03-01"]),
    ...     "device": ["Y90_glass", "Y90_glass", "Y90_resin"],
    ... })
    >>> derive_first_sirt(tx)[["patient_id", "n_sessions", "first_device", "devices"]]
      patient_id  n_sessions first_device              devices
    0         P1           2    Y90_glass  Y90_glass;Y90_resin
    """
    _require_columns(
        df_treatments,
        ["patient_id", "session_id", "injection_id", "treatment_date", "device"],
        "treatments",
    )
    tx = df_treatments.copy()
    tx["treatment_date"] = pd.to_datetime(tx["treatment_date"])
    if tx["treatment_date"].isna().any():
        bad = tx[tx["treatment_date"].isna()]
        raise SirtDataError(
            f"treatments.treatment_date: {len(bad)} rows violate \"required\"; first keys "
            f"(patient_id, injection_id): "
            + ", ".join(
                f"({p}, {i})" for p, i in bad[["patient_id", "injection_id"]].head(3).to_numpy()
            )
            + ".",
            table="treatments",
            column="treatment_date",
            rule="required",
            rows=bad,
        )
    if cutoff_date is not None:
        tx = tx[tx["treatment_date"] <= pd.Timestamp(cutoff_date)]
    if "administration_datetime" not in tx.columns:
        tx["administration_datetime"] = pd.NaT
    if "workup_id" not in tx.columns:
        tx["workup_id"] = None
    tx = tx.sort_values(
        ["patient_id", "treatment_date", "administration_datetime", "injection_id"],
        na_position="last",
        kind="mergesort",
    )
    if tx.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in FIRST_SIRT_COLUMNS})
        for c in ("first_sirt_date", "last_sirt_date"):
            out[c] = out[c].astype("datetime64[ns]")
        for c in ("n_sessions", "n_injections"):
            out[c] = out[c].astype("Int64")
        return out
    g = tx.groupby("patient_id", sort=True)
    out = pd.DataFrame(
        {
            "first_sirt_date": g["treatment_date"].min(),
            "last_sirt_date": g["treatment_date"].max(),
            "n_sessions": g["session_id"].nunique().astype("Int64"),
            "n_injections": g["injection_id"].size().astype("Int64"),
            "first_device": g["device"].first(),
            "devices": g["device"].agg(lambda s: ";".join(sorted(set(s.dropna())))),
            "first_workup_id": g["workup_id"].agg(
                lambda s: s.iloc[0] if pd.notna(s.iloc[0]) else None
            ),
        }
    )
    out = out.reset_index()
    out["first_sirt_date"] = out["first_sirt_date"].astype("datetime64[ns]")
    out["last_sirt_date"] = out["last_sirt_date"].astype("datetime64[ns]")
    return out[FIRST_SIRT_COLUMNS]


# --------------------------------------------------------------------------------------------
# derive_baseline
# --------------------------------------------------------------------------------------------


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
    factors = [
        compute_unit_factor(analyte, unit)
        for analyte, unit in zip(labs["analyte"], labs["unit"], strict=True)
    ]
    labs = labs.assign(_factor=np.asarray(factors, dtype=float))
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


# --------------------------------------------------------------------------------------------
# select_cohort
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortSelection:
    """Result of :func:`select_cohort`.

    Attributes
    ----------
    patients : DataFrame
        :func:`derive_baseline` rows of the included patients, sorted by ``patient_id``.
    flow : DataFrame
        One row per selection step: ``step`` (int, 0 = registry), ``criterion`` (str),
        ``n_in``, ``n_excluded``, ``n_remaining`` (int), ``reason`` (str, "" for step 0).
    exclusions : DataFrame
        One row per excluded patient: ``patient_id``, ``step`` (int), ``reason`` (str).
    registry : Registry
        The input registry with every table restricted to the included patients.
    criteria : dict
        The validated selection arguments.
    """

    patients: pd.DataFrame
    flow: pd.DataFrame
    exclusions: pd.DataFrame
    registry: Registry
    criteria: dict = field(default_factory=dict)

    @property
    def n_included(self) -> int:
        """Number of included patients."""
        return len(self.patients)

    @property
    def n_excluded(self) -> int:
        """Number of excluded patients."""
        return len(self.exclusions)

    def to_frame(self) -> pd.DataFrame:
        """Return the flow table (a copy)."""
        return self.flow.copy()

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>CohortSelection</b>: {self.n_included} included, "
            f"{self.n_excluded} excluded of {self.n_included + self.n_excluded}.</p>"
        )
        crit = "".join(
            f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>"
            for k, v in self.criteria.items()
            if v not in (None, [], False)
        )
        return head + (f"<ul>{crit}</ul>" if crit else "") + self.flow.to_html(index=False)

    def __repr__(self) -> str:
        return (
            f"CohortSelection(n_included={self.n_included}, n_excluded={self.n_excluded}, "
            f"steps={len(self.flow)})"
        )


def _enum(table: str, column: str) -> tuple[str, ...]:
    return load_schema(table).field(column).enum or ()


def _validate_choices(values, name: str, allowed: Sequence[str]) -> list[str] | None:
    """Map case-insensitively to the allowed spelling; None/[] -> None."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    values = list(values)
    if not values:
        return None
    lookup = {a.lower(): a for a in allowed}
    out = []
    for v in values:
        key = str(v).lower()
        if key not in lookup:
            raise ValueError(
                f"The '{name}' argument of select_cohort must be a list of values in "
                f"{sorted(allowed)}. Got {v!r} instead."
            )
        if lookup[key] not in out:
            out.append(lookup[key])
    return out


def _validate_date(value, name: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"The '{name}' argument of select_cohort must be an ISO date (YYYY-MM-DD), a "
            f"Timestamp or None. Got {value!r} instead."
        ) from None
    if pd.isna(ts):
        return None
    return ts


def _fmt(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


def _steps(
    base: pd.DataFrame,
    has_sirt: pd.Series,
    *,
    cutoff,
    pre_cut,
    diagnoses,
    devices,
    first_from,
    first_to,
    intents,
    min_followup_days,
    require_baseline_imaging,
    baseline_imaging_max_days,
    centres=None,
    centre=None,
) -> list[tuple[str, str, pd.Series]]:
    """Selection steps as (criterion, reason, keep-mask) in order; rules as data."""
    steps = _sirt_steps(base, has_sirt, cutoff=cutoff, pre_cut=pre_cut)
    if centres is not None:
        steps.append((f"centre in {{{', '.join(centres)}}}", "centre not selected",
                      centre.isin(centres)))
    if diagnoses is not None:
        steps.append(
            (f"primary tumour in {{{', '.join(diagnoses)}}}",
             "primary tumour not selected", base["primary_tumour"].isin(diagnoses))
        )
    if devices is not None:
        steps.append(
            (f"first-session device in {{{', '.join(devices)}}}",
             "device not selected", base["device"].isin(devices))
        )
    if first_from is not None:
        steps.append(
            (f"first SIRT on or after {_fmt(first_from)}",
             "first SIRT before the selection window",
             base["first_sirt_date"] >= first_from)
        )
    if first_to is not None:
        steps.append(
            (f"first SIRT on or before {_fmt(first_to)}",
             "first SIRT after the selection window",
             base["first_sirt_date"] <= first_to)
        )
    if intents is not None:
        intent = base["treatment_intent"] if "treatment_intent" in base.columns else None
        keep = intent.isin(intents) if intent is not None else pd.Series(False, index=base.index)
        steps.append(
            (f"treatment intent in {{{', '.join(intents)}}}",
             "treatment intent not selected or missing", keep)
        )
    if min_followup_days is not None:
        steps.append(
            (f"follow-up of at least {min_followup_days} days (or death)",
             f"follow-up shorter than {min_followup_days} days",
             base["is_deceased"].fillna(False).astype(bool)
             | (base["followup_days"].fillna(-1) >= min_followup_days))
        )
    if require_baseline_imaging:
        steps.append(_baseline_imaging_step(base, baseline_imaging_max_days))
    return steps


def _sirt_steps(base: pd.DataFrame, has_sirt: pd.Series, *, cutoff,
                pre_cut) -> list[tuple[str, str, pd.Series]]:
    """The first steps of :func:`_steps`: a SIRT session, and a first SIRT by the cut-off."""
    treated_by_cutoff = base["first_sirt_date"].notna()
    if pre_cut:
        steps: list[tuple[str, str, pd.Series]] = [
            (f"at least one SIRT session on or before cut-off {_fmt(cutoff)}",
             "no SIRT session recorded by the data cut-off", has_sirt),
        ]
        if (has_sirt & ~treated_by_cutoff).any():
            steps.append(
                (f"first SIRT on or before cut-off {_fmt(cutoff)}",
                 "first SIRT after the data cut-off", treated_by_cutoff)
            )
    else:
        steps = [("at least one SIRT session", "no SIRT session recorded", has_sirt)]
        if cutoff is not None:
            steps.append(
                (f"first SIRT on or before cut-off {_fmt(cutoff)}",
                 "first SIRT after the data cut-off", treated_by_cutoff)
            )
    return steps


def _baseline_imaging_step(base: pd.DataFrame,
                           baseline_imaging_max_days) -> tuple[str, str, pd.Series]:
    """The baseline-imaging step of :func:`_steps` (within ``baseline_imaging_max_days``)."""
    days = base["baseline_imaging_days_before"]
    keep = days.notna()
    text = "baseline imaging on or before the first SIRT"
    if baseline_imaging_max_days is not None:
        keep = keep & (days.fillna(10**9) <= baseline_imaging_max_days)
        text += f", within {baseline_imaging_max_days} days"
    return text, "no baseline imaging in the window", keep


def _restrict(registry: Registry, ids: set[str]) -> Registry:
    tables = {}
    lesion_ids = None
    if "lesions" in registry.tables and "lesion_id" in registry.tables["lesions"].columns:
        lesions = registry.tables["lesions"]
        lesion_ids = set(lesions.loc[lesions["patient_id"].isin(ids), "lesion_id"])
    for name, df in registry.tables.items():
        if "patient_id" in df.columns:
            tables[name] = df[df["patient_id"].isin(ids)].copy()
        elif "lesion_id" in df.columns and lesion_ids is not None:
            tables[name] = df[df["lesion_id"].isin(lesion_ids)].copy()
        else:
            tables[name] = df.copy()
    return dataclasses.replace(registry, tables=tables)


def _restricted_registry(registry: Registry, ids: set[str], cutoff, pre_cut: bool) -> Registry:
    restricted = _restrict(registry, ids)
    if cutoff is None or pre_cut:
        return restricted
    from sirtstats.registry import apply_cutoff

    return apply_cutoff(restricted, cutoff)


def select_cohort(
    registry: Registry,
    *,
    diagnoses: Sequence[str] | None = None,
    devices: Sequence[str] | None = None,
    first_sirt_from: str | pd.Timestamp | None = None,
    first_sirt_to: str | pd.Timestamp | None = None,
    intents: Sequence[str] | None = None,
    min_followup_days: int | None = None,
    require_baseline_imaging: bool = False,
    baseline_imaging_max_days: int | None = BASELINE_IMAGING_MAX_DAYS,
    cutoff_date: str | pd.Timestamp | None = None,
    centres: Sequence[str] | None = None,
) -> CohortSelection:
    """Select the analysis cohort and count the attrition at each step.

    Parameters
    ----------
    registry : Registry
        Loaded registry (see :func:`sirtstats.registry.load_registry`).
    diagnoses : list of str, optional
        Keep these ``primary_tumour`` values (e.g. ``["HCC"]``); None or [] keeps all.
        Matched case-insensitively against the schema enum.
    devices : list of str, optional
        Keep patients whose first SIRT session used one of these devices
        (``Y90_glass``, ``Y90_resin``, ``Ho166_PLLA``); None or [] keeps all.
    first_sirt_from, first_sirt_to : str or Timestamp, optional
        Treatment period: keep patients whose first SIRT date lies in this window (inclusive);
        None or "" leaves that side open.
    intents : list of str, optional
        Keep these baseline ``treatment_intent`` values; None or [] keeps all.
    min_followup_days : int, optional
        Keep patients followed at least this many days after the first SIRT, or who died.
    require_baseline_imaging : bool
        Keep only patients with an imaging assessment on or before the first SIRT.
    baseline_imaging_max_days : int or None
        With ``require_baseline_imaging``, the imaging must be at most this many days before
        the first SIRT (default 28, RECIST 1.1); None accepts any earlier imaging.
    cutoff_date : str or Timestamp, optional
        Data cut-off; defaults to ``registry.cutoff_date`` (and cannot be later than it: the
        registry no longer holds what came after). Patients whose first SIRT is after it are
        excluded; later sessions and deaths are ignored, and ``.registry`` is cut with
        :func:`sirtstats.registry.apply_cutoff`. A registry loaded with a cut-off has lost the
        sessions after it, so step 1 then reads "no SIRT session recorded by the data cut-off"
        (work-up only and treated-after-cut-off patients together). Load without a cut-off and
        pass ``cutoff_date`` here to count them apart.
    centres : list of str, optional
        Keep patients of these ``patients.centre_id`` values (exact match); None or [] keeps
        all. The step comes right after the cut-off steps.

    Returns
    -------
    CohortSelection
        ``.patients`` (included :func:`derive_baseline` rows, sorted by ``patient_id``),
        ``.flow``, ``.exclusions``, ``.registry`` (restricted), ``.criteria``.

    Raises
    ------
    ValueError
        If a filter value is not an allowed value or a date cannot be parsed.
    SirtDataError
        Propagated from :func:`derive_baseline`.

    See Also
    --------
    derive_baseline

    Notes
    -----
    Steps, in order (inactive filters are left out of the flow): 0 all registry patients;
    1 at least one SIRT session (e.g. work-up only patients are excluded with "no SIRT session
    recorded"); 2 first SIRT on or before the cut-off; 3 diagnosis; 4 device; 5-6 first-SIRT
    window; 7 treatment intent; 8 minimum follow-up; 9 baseline imaging. A patient is excluded
    at the first step he fails, so each registry patient is either included or has exactly one
    exclusion row, and ``n_in − n_excluded == n_remaining`` at every step.

    Examples
    --------
    >>> from sirtstats.registry import Registry
    >>> from sirtstats.schema import apply_dtypes
    >>> import pandas as pd
    >>> pts = apply_dtypes(pd.DataFrame({
    ...     "patient_id": ["P1", "P2"], "centre_id": ["C1", "C1"], "sex": ["M", "F"],
    ...     "birth_year": [1950, 1960], "primary_tumour": ["HCC", "mCRC"],
    ...     "diagnosis_date": ["2023-01-01", "2023-02-01"],
    ...     "last_contact_date": ["2024-06-01", "2024-06-01"]}), "patients")
    >>> tx = apply_dtypes(pd.DataFrame({
    ...     "injection_id": ["I1"], "session_id": ["S1"], "patient_id": ["P1"],
    ...     "treatment_date": ["2024-01-10"], "device": ["Y90_glass"],
    ...     "territory": ["right_lobe"], "delivered_activity_gbq": [2.0]}), "treatments")
    >>> sel = select_cohort(Registry(tables={"patients": pts, "treatments": tx}))
    >>> sel.flow[["step", "n_in", "n_excluded", "n_remaining"]]
       step  n_in  n_excluded  n_remaining
    0     0     2           0            2
    1     1     2           1            1
    """
    diagnoses = _validate_choices(diagnoses, "diagnoses", _enum("patients", "primary_tumour"))
    devices = _validate_choices(devices, "devices", _enum("treatments", "device"))
    intents = _validate_choices(intents, "intents", _enum("baseline", "treatment_intent"))
    first_from = _validate_date(first_sirt_from, "first_sirt_from")
    first_to = _validate_date(first_sirt_to, "first_sirt_to")
    cutoff = _validate_date(cutoff_date, "cutoff_date")
    registry_cut = _validate_date(registry.cutoff_date, "cutoff_date")
    if registry_cut is not None and (cutoff is None or registry_cut < cutoff):
        cutoff = registry_cut  # data after the registry's own cut-off are already gone
    # a registry cut at load time no longer holds the sessions after the cut-off, so patients
    # treated only after it cannot be told apart from patients never treated
    pre_cut = registry_cut is not None and registry_cut <= cutoff
    if min_followup_days is not None and (
        isinstance(min_followup_days, bool) or not isinstance(min_followup_days, int | np.integer)
        or min_followup_days < 0
    ):
        raise ValueError(
            "The 'min_followup_days' argument of select_cohort must be a non-negative int or "
            f"None. Got {min_followup_days!r} instead."
        )
    if baseline_imaging_max_days is not None and (
        not isinstance(baseline_imaging_max_days, int | np.integer)
        or baseline_imaging_max_days < 0
    ):
        raise ValueError(
            "The 'baseline_imaging_max_days' argument of select_cohort must be a non-negative "
            f"int or None. Got {baseline_imaging_max_days!r} instead."
        )
    if first_from is not None and first_to is not None and first_from > first_to:
        raise ValueError(
            "The 'first_sirt_from' argument of select_cohort must be on or before "
            f"'first_sirt_to'. Got {_fmt(first_from)} > {_fmt(first_to)} instead."
        )

    base = derive_baseline(registry, cutoff_date=cutoff)
    centres = [str(c) for c in centres] if centres else None
    pts = registry.tables["patients"]
    centre = base["patient_id"].map(pts.set_index("patient_id")["centre_id"]) if (
        "centre_id" in pts.columns) else pd.Series(pd.NA, index=base.index)
    treatments = registry.tables.get("treatments")
    treated = set(treatments["patient_id"]) if treatments is not None else set()
    has_sirt = base["patient_id"].isin(treated)

    steps = _steps(
        base,
        has_sirt,
        cutoff=cutoff,
        pre_cut=pre_cut,
        diagnoses=diagnoses,
        devices=devices,
        first_from=first_from,
        first_to=first_to,
        intents=intents,
        min_followup_days=min_followup_days,
        require_baseline_imaging=require_baseline_imaging,
        baseline_imaging_max_days=baseline_imaging_max_days,
        centres=centres,
        centre=centre,
    )
    remaining = pd.Series(True, index=base.index)
    flow_rows = [
        {"step": 0, "criterion": "patients in registry", "n_in": len(base), "n_excluded": 0,
         "n_remaining": len(base), "reason": ""}
    ]
    excl = []
    for i, (criterion, reason, keep) in enumerate(steps, start=1):
        keep = keep.fillna(False).astype(bool)
        dropped = remaining & ~keep
        n_in = int(remaining.sum())
        excl.append(pd.DataFrame(
            {"patient_id": base.loc[dropped, "patient_id"].to_numpy(), "step": i,
             "reason": reason}
        ))
        remaining = remaining & keep
        flow_rows.append({"step": i, "criterion": criterion, "n_in": n_in,
                          "n_excluded": int(dropped.sum()), "n_remaining": int(remaining.sum()),
                          "reason": reason})
    flow = pd.DataFrame(flow_rows, columns=["step", "criterion", "n_in", "n_excluded",
                                            "n_remaining", "reason"])
    exclusions = (
        pd.concat(excl, ignore_index=True) if excl
        else pd.DataFrame({"patient_id": pd.Series(dtype=object),
                           "step": pd.Series(dtype=int), "reason": pd.Series(dtype=object)})
    )
    exclusions = exclusions.astype({"step": int}).reset_index(drop=True)
    included = (
        base[remaining].sort_values("patient_id", kind="mergesort").reset_index(drop=True)
    )
    criteria = {
        "diagnoses": diagnoses,
        "devices": devices,
        "first_sirt_from": None if first_from is None else _fmt(first_from),
        "first_sirt_to": None if first_to is None else _fmt(first_to),
        "intents": intents,
        "min_followup_days": min_followup_days,
        "require_baseline_imaging": require_baseline_imaging,
        "baseline_imaging_max_days": baseline_imaging_max_days if require_baseline_imaging
        else None,
        "cutoff_date": None if cutoff is None else _fmt(cutoff),
        "centres": centres,
    }
    return CohortSelection(
        patients=included,
        flow=flow,
        exclusions=exclusions,
        registry=_restricted_registry(registry, set(included["patient_id"]), cutoff, pre_cut),
        criteria=criteria,
    )



# --------------------------------------------------------------------------------------------
# summaries for reports
# --------------------------------------------------------------------------------------------


def summarise_registry(registry: Registry) -> pd.DataFrame:
    """Row and patient counts per registry table, with the validation problems per table.

    Parameters
    ----------
    registry : Registry
        Loaded registry.

    Returns
    -------
    DataFrame
        One row per table in :data:`sirtstats.schema.TABLE_ORDER` order (then any other
        table): ``table`` (str), ``n_rows`` and ``n_patients`` (int; distinct ``patient_id``,
        through ``lesions`` for ``lesion_measurements``), ``n_errors`` and ``n_warnings`` (int;
        rows of ``registry.problems`` for that table by ``severity``, 0 when the problems table
        has no ``table``/``severity`` column).

    Examples
    --------
    >>> import pandas as pd
    >>> from sirtstats.registry import Registry
    >>> reg = Registry(tables={"patients": pd.DataFrame({"patient_id": ["P1", "P2"]})})
    >>> summarise_registry(reg)
          table  n_rows  n_patients  n_errors  n_warnings
    0  patients       2           2         0           0
    """
    from sirtstats.schema import TABLE_ORDER

    names = [t for t in TABLE_ORDER if t in registry.tables]
    names += sorted(t for t in registry.tables if t not in TABLE_ORDER)
    problems = registry.problems if registry.problems is not None else pd.DataFrame()
    has_problem_cols = {"table", "severity"} <= set(problems.columns)
    lesion_patient = None
    lesions = registry.tables.get("lesions")
    if lesions is not None and {"lesion_id", "patient_id"} <= set(lesions.columns):
        lesion_patient = lesions.set_index("lesion_id")["patient_id"]
    rows = []
    for name in names:
        df = registry.tables[name]
        if "patient_id" in df.columns:
            n_pat = df["patient_id"].nunique()
        elif "lesion_id" in df.columns and lesion_patient is not None:
            n_pat = df["lesion_id"].map(lesion_patient).nunique()
        else:
            n_pat = 0
        if has_problem_cols:
            mine = problems[problems["table"] == name]
            n_err = int((mine["severity"] == "error").sum())
            n_warn = int((mine["severity"] == "warning").sum())
        else:
            n_err = n_warn = 0
        rows.append({"table": name, "n_rows": len(df), "n_patients": int(n_pat),
                     "n_errors": n_err, "n_warnings": n_warn})
    return pd.DataFrame(rows, columns=["table", "n_rows", "n_patients", "n_errors",
                                       "n_warnings"])


def summarise_exclusions(df_exclusions: pd.DataFrame) -> pd.DataFrame:
    """Number of excluded patients per step and reason (no patient identifiers).

    Parameters
    ----------
    df_exclusions : DataFrame
        ``CohortSelection.exclusions``: ``patient_id`` (str), ``step`` (int), ``reason`` (str).

    Returns
    -------
    DataFrame
        ``step`` (int), ``reason`` (str), ``n_patients`` (int), one row per step with at least
        one exclusion, in step order.

    Examples
    --------
    >>> import pandas as pd
    >>> ex = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "step": [1, 1, 3],
    ...                    "reason": ["no SIRT session recorded"] * 2 + ["device not selected"]})
    >>> summarise_exclusions(ex)
       step                    reason  n_patients
    0     1  no SIRT session recorded           2
    1     3       device not selected           1
    """
    _require_columns(df_exclusions, ["patient_id", "step", "reason"], "exclusions")
    out = (
        df_exclusions.groupby(["step", "reason"], sort=True)["patient_id"]
        .nunique()
        .rename("n_patients")
        .reset_index()
    )
    return out.astype({"step": int, "n_patients": int})
