"""Liver function after SIRT: ALBI and Child-Pugh over time, their worsening, and REILD.

:func:`derive_liver_function_timepoints` takes, for each patient, the lab value nearest to
baseline and to 1, 3 and 6 months after the first SIRT (each in its own window,
:data:`LIVER_TIMEPOINTS`) and computes ALBI (Johnson et al., J Clin Oncol 2015) and Child-Pugh
(Pugh et al., Br J Surg 1973) with :mod:`sirtstats.scores`. :func:`derive_liver_function_change`
adds the change from baseline and whether the ALBI grade or Child-Pugh class worsened;
:func:`summarise_liver_function_change` tabulates them per timepoint.

:func:`derive_reild` flags radioembolisation-induced liver disease (REILD) candidates for manual
review with one of two definitions kept as data (:data:`REILD_DEFINITIONS`): Sangro et al.
(Cancer 2008;112:1538-1546; jaundice and ascites 1-2 months after SIRT, operationalised with
bilirubin ≥ 3 mg/dL as in Gil-Alzugaray et al., Hepatology 2013) or Braat et al. (Eur J
Gastroenterol Hepatol 2017;29:144-152; jaundice/hyperbilirubinaemia, new or increased ascites and
hypoalbuminaemia 2 weeks to 4 months after SIRT), both without tumour progression or biliary
obstruction (T4.3, docs/rules/toxicity.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require
from sirtstats.ctcae import _check_option, _signif, derive_lab_grades
from sirtstats.exceptions import SirtDataError
from sirtstats.scores import derive_liver_scores
from sirtstats.toxicity._common import _group_frames, _nearest_in_windows, _sessions
from sirtstats.units import normalise_lab_units

__all__ = [
    "CHILD_PUGH_AE_MAP",
    "LIVER_TIMEPOINTS",
    "REILD_ASCITES_TERMS",
    "REILD_BILIARY_TERMS",
    "REILD_DEFINITIONS",
    "derive_liver_function_change",
    "derive_liver_function_timepoints",
    "derive_reild",
    "filter_reild_candidates",
    "summarise_liver_function_change",
]


#: Timepoints (days from the first SIRT, inclusive windows); in each window the sample nearest
#: to ``target_day`` is used (ties: the earlier). Baseline = last sample in -30..0 days.
LIVER_TIMEPOINTS = pd.DataFrame(
    {
        "timepoint": ["baseline", "month_1", "month_3", "month_6"],
        "target_day": [0, 30, 91, 182],
        "window_start_day": [-30, 15, 61, 137],
        "window_end_day": [0, 45, 121, 228],
    }
)

#: Reported adverse events that update the clinical Child-Pugh items after SIRT:
#: (item, CTCAE term (case-insensitive), minimum grade, Child-Pugh category). CTCAE ascites
#: grade 1-2 (asymptomatic / medical treatment) -> "mild"; grade >= 3 (invasive intervention)
#: -> "moderate_severe". Encephalopathy grade 1-2 -> "grade_1_2", >= 3 -> "grade_3_4".
CHILD_PUGH_AE_MAP = pd.DataFrame(
    [
        ("ascites", "Ascites", 1, "mild"),
        ("ascites", "Ascites", 3, "moderate_severe"),
        ("encephalopathy", "Encephalopathy", 1, "grade_1_2"),
        ("encephalopathy", "Encephalopathy", 3, "grade_3_4"),
        ("encephalopathy", "Hepatic encephalopathy", 1, "grade_1_2"),
        ("encephalopathy", "Hepatic encephalopathy", 3, "grade_3_4"),
    ],
    columns=["item", "ae_term", "min_grade", "category"],
)

_ASCITES_ORDER = {"none": 0, "mild": 1, "moderate_severe": 2}
_ENCEPH_ORDER = {"none": 0, "grade_1_2": 1, "grade_3_4": 2}

#: REILD definitions (days after each SIRT session, inclusive). ``bilirubin_rule``:
#: "absolute" = bilirubin ≥ ``bilirubin_min_umol_l``; "above_uln_and_baseline" = above the
#: sample's ULN and above the patient's baseline. Hypoalbuminaemia = albumin below the sample's
#: LLN (``albumin_lln_default_g_l`` when the LLN is missing).
REILD_DEFINITIONS: dict[str, dict[str, Any]] = {
    "sangro": {
        "label": "Sangro 2008 (jaundice + ascites 1-2 months after SIRT; bilirubin >= 3 mg/dL)",
        "window_start_day": 28,
        "window_end_day": 61,
        "bilirubin_rule": "absolute",
        "bilirubin_min_umol_l": 51.3,
        "require_ascites": True,
        "require_hypoalbuminaemia": False,
        "albumin_lln_default_g_l": 35.0,
        "exclude_progression": True,
        "exclude_biliary_obstruction": True,
    },
    "braat": {
        "label": (
            "Braat 2017 (hyperbilirubinaemia, new/increased ascites and hypoalbuminaemia "
            "2 weeks - 4 months after SIRT)"
        ),
        "window_start_day": 14,
        "window_end_day": 120,
        "bilirubin_rule": "above_uln_and_baseline",
        "bilirubin_min_umol_l": None,
        "require_ascites": True,
        "require_hypoalbuminaemia": True,
        "albumin_lln_default_g_l": 35.0,
        "exclude_progression": True,
        "exclude_biliary_obstruction": True,
    },
}

#: CTCAE terms counted as ascites and as biliary obstruction in the REILD rules.
REILD_ASCITES_TERMS = ("Ascites",)
REILD_BILIARY_TERMS = ("Bile duct stenosis", "Biliary obstruction", "Cholangitis")

_LIVER_ANALYTES = {
    "bilirubin_total": "bilirubin_umol_l",
    "albumin": "albumin_g_l",
    "inr": "inr",
    "prothrombin_pct": "prothrombin_pct",
}


# ---------------------------------------------------------------------------- timepoints


def _clinical_from_ae(
    df_ae: pd.DataFrame | None,
    first: pd.Series,
    timepoints: pd.DataFrame,
) -> pd.DataFrame:
    """Worst ascites / encephalopathy category from AEs active in each timepoint window."""
    cols = ["patient_id", "timepoint", "ascites_ae", "encephalopathy_ae"]
    if df_ae is None or df_ae.empty:
        return pd.DataFrame(columns=cols)
    _require(df_ae, ["patient_id", "ae_term", "onset_date", "grade"], "adverse_events")
    amap = CHILD_PUGH_AE_MAP.assign(_term=CHILD_PUGH_AE_MAP["ae_term"].str.lower())
    ae = df_ae.assign(_term=df_ae["ae_term"].astype(str).str.lower())
    ae = ae[ae["_term"].isin(set(amap["_term"]))]
    if ae.empty:
        return pd.DataFrame(columns=cols)
    ae = ae.assign(
        _first=ae["patient_id"].map(first),
        _onset=pd.to_datetime(ae["onset_date"]),
        _end=pd.to_datetime(ae["resolution_date"] if "resolution_date" in ae.columns else pd.NaT),
    )
    ae = ae[ae["_first"].notna() & (ae["_onset"] > ae["_first"])]
    ae = ae.assign(
        on_day=(ae["_onset"] - ae["_first"]).dt.days,
        off_day=(ae["_end"] - ae["_first"]).dt.days,
    )
    m = ae.merge(timepoints, how="cross")
    active = (m["on_day"] <= m["window_end_day"]) & (
        m["off_day"].isna() | (m["off_day"] >= m["window_start_day"])
    )
    m = m[active]
    m = m.merge(amap, on="_term", how="inner")
    m = m[m["grade"].astype(float) >= m["min_grade"]]
    if m.empty:
        return pd.DataFrame(columns=cols)
    order = {**_ASCITES_ORDER, **_ENCEPH_ORDER}
    m = m.assign(_rank=m["category"].map(order))
    best = m.sort_values("_rank").drop_duplicates(["patient_id", "timepoint", "item"], keep="last")
    wide = best.pivot_table(
        index=["patient_id", "timepoint"], columns="item", values="category", aggfunc="first"
    )
    wide = wide.reindex(columns=["ascites", "encephalopathy"]).add_suffix("_ae").reset_index()
    wide.columns.name = None
    return wide[cols]


def _worse(base: pd.Series, other: pd.Series, order: Mapping[str, int]) -> pd.Series:
    b = base.map(order)
    o = other.map(order)
    use_other = o.notna() & (b.isna() | (o > b))
    return other.where(use_other, base)


def derive_liver_function_timepoints(
    df_labs: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    df_baseline: pd.DataFrame | None = None,
    df_ae: pd.DataFrame | None = None,
    timepoints: pd.DataFrame | None = None,
    bilirubin_cutoffs_umol_l: tuple[float, float] = (34.2, 51.3),
) -> pd.DataFrame:
    """ALBI and Child-Pugh at baseline and at 1, 3 and 6 months after the first SIRT.

    Parameters
    ----------
    df_labs : DataFrame
        The ``labs`` table (``patient_id``, ``sample_date``, ``analyte``, ``value``, ``unit``);
        bilirubin_total, albumin, inr and prothrombin_pct rows are used, in any accepted unit.
    df_treatments : DataFrame
        The ``treatments`` table (``patient_id``, ``treatment_date``): day 0 = first SIRT.
    df_baseline : DataFrame, optional
        One row per patient with baseline ``bilirubin_umol_l``, ``albumin_g_l``, ``inr``,
        ``prothrombin_pct``, ``ascites`` ({"none", "mild", "moderate_severe"}) and
        ``encephalopathy`` ({"none", "grade_1_2", "grade_3_4"}) — the registry ``baseline``
        table or ``CohortSelection.patients``. Its lab values take precedence at baseline (labs
        fill the gaps); its clinical items are needed for Child-Pugh.
    df_ae : DataFrame, optional
        Reported adverse events (``patient_id``, ``ae_term``, ``onset_date``, ``grade``,
        optional ``resolution_date``) updating ascites and encephalopathy after SIRT
        (:data:`CHILD_PUGH_AE_MAP`).
    timepoints : DataFrame, optional
        Timepoint table like :data:`LIVER_TIMEPOINTS` (``timepoint``, ``target_day``,
        ``window_start_day``, ``window_end_day``); its first row is the baseline.
    bilirubin_cutoffs_umol_l : tuple of float
        Child-Pugh bilirubin boundaries (34.2, 51.3 = 2 and 3 mg/dL; French tables (35, 50)).

    Returns
    -------
    DataFrame
        One row per treated patient and timepoint (patients sorted, timepoints in table
        order): ``patient_id``, ``timepoint``, ``target_day``, ``first_sirt_date``,
        ``bilirubin_umol_l``, ``albumin_g_l``, ``inr``, ``prothrombin_pct`` (SI values; NaN
        when no sample in the window) with their ``*_day`` (Int64, day of the sample used),
        ``ascites``, ``encephalopathy`` and ``clinical_source`` ("baseline",
        "carried_forward", "adverse_event" or "" when unknown), ``albi_score`` (float),
        ``albi_grade`` (Int64 1-3), ``child_pugh_points`` (Int64 5-15) and
        ``child_pugh_class`` ("A"/"B"/"C").

    Raises
    ------
    SirtDataError
        For an unknown lab unit (naming the rows) or a missing required column.

    Notes
    -----
    Ascites and encephalopathy are only recorded at baseline in the registry. After SIRT the
    baseline category is carried forward and replaced by a worse category derived from a
    reported Ascites / (Hepatic) encephalopathy event active during the timepoint window
    (``clinical_source`` says which). This is an assumption: Child-Pugh at follow-up is only
    as good as the AE reporting. Formulas: ``ALBI = 0.66·log10(bilirubin µmol/L) −
    0.085·albumin g/L``; Child-Pugh as in :func:`sirtstats.scores.compute_child_pugh_points`
    (INR, else prothrombin ratio).

    References
    ----------
    Johnson PJ et al. J Clin Oncol 2015;33:550-558. Pugh RN et al. Br J Surg 1973;60:646-649.
    S3 (docs/rules/toxicity.md).

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({
    ...     "patient_id": ["P1"] * 4,
    ...     "sample_date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-02-12",
    ...                                    "2024-02-12"]),
    ...     "analyte": ["bilirubin_total", "albumin"] * 2,
    ...     "value": [17.1, 40.0, 34.2, 30.0], "unit": ["µmol/L", "g/L"] * 2,
    ... })
    >>> tx = pd.DataFrame({"patient_id": ["P1"],
    ...                    "treatment_date": pd.to_datetime(["2024-01-10"])})
    >>> out = derive_liver_function_timepoints(labs, tx)
    >>> out[["timepoint", "bilirubin_day", "albi_score", "albi_grade"]].round(3)
      timepoint  bilirubin_day  albi_score  albi_grade
    0  baseline             -5      -2.586           2
    1   month_1             33      -1.538           2
    2   month_3           <NA>         NaN        <NA>
    3   month_6           <NA>         NaN        <NA>
    """
    tps = (LIVER_TIMEPOINTS if timepoints is None else timepoints).reset_index(drop=True)
    _require(tps, ["timepoint", "target_day", "window_start_day", "window_end_day"], "timepoints")
    ses = _sessions(df_treatments)
    first = ses.groupby("patient_id")["session_date"].min()
    _require(df_labs, ["patient_id", "sample_date", "analyte", "value", "unit"], "labs")
    labs = df_labs[df_labs["analyte"].isin(list(_LIVER_ANALYTES))]
    labs = normalise_lab_units(labs)
    labs = labs[labs["patient_id"].isin(first.index) & labs["value_si"].notna()]
    work = pd.DataFrame(
        {
            "patient_id": labs["patient_id"].to_numpy(),
            "analyte": labs["analyte"].to_numpy(),
            "day": (
                pd.to_datetime(labs["sample_date"]) - labs["patient_id"].map(first)
            ).dt.days.to_numpy(),
            "value": labs["value_si"].to_numpy(float),
        }
    )
    near = _nearest_in_windows(
        work, tps[["timepoint", "target_day", "window_start_day", "window_end_day"]]
    )
    grid = pd.MultiIndex.from_product(
        [sorted(first.index), tps["timepoint"].tolist()], names=["patient_id", "timepoint"]
    ).to_frame(index=False)
    out = grid.merge(tps[["timepoint", "target_day"]], on="timepoint", how="left")
    out["first_sirt_date"] = out["patient_id"].map(first).astype("datetime64[ns]")
    for analyte, col in _LIVER_ANALYTES.items():
        sel = near[near["analyte"] == analyte].set_index(["patient_id", "timepoint"])
        key = pd.MultiIndex.from_frame(out[["patient_id", "timepoint"]])
        out[col] = sel["value"].reindex(key).to_numpy(dtype=float)
        day_col = col.replace("_umol_l", "").replace("_g_l", "") + "_day"
        out[day_col] = pd.array(sel["day"].reindex(key).to_numpy(dtype=float), dtype="Float64")
        out[day_col] = out[day_col].round().astype("Int64")

    base_tp = tps["timepoint"].iloc[0]
    is_base = (out["timepoint"] == base_tp).to_numpy()
    asc = pd.Series([None] * len(out), index=out.index, dtype=object)
    enc = pd.Series([None] * len(out), index=out.index, dtype=object)
    if df_baseline is not None:
        _require(df_baseline, ["patient_id"], "baseline")
        b = df_baseline.drop_duplicates("patient_id").set_index("patient_id")
        for col in _LIVER_ANALYTES.values():
            if col in b.columns:
                recorded = out["patient_id"].map(b[col]).astype(float)
                use = is_base & recorded.notna().to_numpy()
                out.loc[use, col] = recorded[use]
                day_col = col.replace("_umol_l", "").replace("_g_l", "") + "_day"
                out.loc[use, day_col] = pd.NA
        if "ascites" in b.columns:
            asc = out["patient_id"].map(b["ascites"]).astype(object)
        if "encephalopathy" in b.columns:
            enc = out["patient_id"].map(b["encephalopathy"]).astype(object)
    asc = asc.where(asc.notna(), None)
    enc = enc.where(enc.notna(), None)
    source = np.where(is_base, "baseline", "carried_forward")
    source = np.where(asc.isna() | enc.isna(), "", source)
    clin = _clinical_from_ae(df_ae, first, tps.iloc[1:])
    if not clin.empty:
        key = out[["patient_id", "timepoint"]].merge(
            clin, on=["patient_id", "timepoint"], how="left"
        )
        asc_new = _worse(asc, key["ascites_ae"].set_axis(out.index), _ASCITES_ORDER)
        enc_new = _worse(enc, key["encephalopathy_ae"].set_axis(out.index), _ENCEPH_ORDER)
        changed = (asc_new.fillna("") != asc.fillna("")) | (enc_new.fillna("") != enc.fillna(""))
        asc, enc = asc_new, enc_new
        source = np.where(changed & ~is_base, "adverse_event", source)
        source = np.where(asc.isna() | enc.isna(), "", source)
    out["ascites"] = asc.to_numpy()
    out["encephalopathy"] = enc.to_numpy()
    out["clinical_source"] = source
    return derive_liver_scores(out, bilirubin_cutoffs_umol_l=bilirubin_cutoffs_umol_l)


def derive_liver_function_change(df_timepoints: pd.DataFrame) -> pd.DataFrame:
    """Change from baseline of ALBI and Child-Pugh, and whether grade / class worsened.

    Parameters
    ----------
    df_timepoints : DataFrame
        Output of :func:`derive_liver_function_timepoints` (first timepoint = baseline).

    Returns
    -------
    DataFrame
        A copy with ``albi_score_baseline``, ``albi_change`` (score − baseline; positive =
        worse), ``albi_grade_baseline``, ``is_albi_grade_worse`` (boolean; NA when either grade
        is missing), ``child_pugh_points_baseline``, ``child_pugh_points_change`` (Int64),
        ``child_pugh_class_baseline`` and ``is_child_pugh_class_worse`` (boolean). Baseline rows
        have change 0 and "worse" False when their values exist.
    """
    need = [
        "patient_id",
        "timepoint",
        "albi_score",
        "albi_grade",
        "child_pugh_points",
        "child_pugh_class",
    ]
    _require(df_timepoints, need, "liver_function")
    out = df_timepoints.copy()
    base_tp = out["timepoint"].iloc[0] if len(out) else "baseline"
    base = out[out["timepoint"] == base_tp].drop_duplicates("patient_id").set_index("patient_id")
    for col in ("albi_score", "albi_grade", "child_pugh_points", "child_pugh_class"):
        out[f"{col}_baseline"] = out["patient_id"].map(base[col]).to_numpy()
    out["albi_grade_baseline"] = out["albi_grade_baseline"].astype("Int64")
    out["child_pugh_points_baseline"] = out["child_pugh_points_baseline"].astype("Int64")
    out["albi_change"] = out["albi_score"] - out["albi_score_baseline"].astype(float)
    out["child_pugh_points_change"] = (
        out["child_pugh_points"].astype("Int64") - out["child_pugh_points_baseline"]
    )
    g, gb = out["albi_grade"].astype("Int64"), out["albi_grade_baseline"]
    out["is_albi_grade_worse"] = (g > gb).astype("boolean")
    rank = {"A": 1, "B": 2, "C": 3}
    c = out["child_pugh_class"].map(rank).astype("Int64")
    cb = out["child_pugh_class_baseline"].map(rank).astype("Int64")
    out["is_child_pugh_class_worse"] = (c > cb).astype("boolean")
    return out


def _q(s: pd.Series, q: float) -> float:
    s = pd.to_numeric(s, errors="coerce").dropna().astype(float)
    return float(s.quantile(q)) if len(s) else np.nan


def summarise_liver_function_change(
    df_change: pd.DataFrame,
    *,
    groupby: str | None = None,
    include_total: bool = True,
    decimals: int = 2,
) -> pd.DataFrame:
    """Per timepoint: ALBI and Child-Pugh distribution, change from baseline and the share of
    patients whose ALBI grade or Child-Pugh class worsened.

    Parameters
    ----------
    df_change : DataFrame
        Output of :func:`derive_liver_function_change`; ``groupby`` must be one of its columns
        (merge the grouping in beforehand, e.g. with ``CohortSelection.patients``).
    groupby : str, optional
        Grouping column (e.g. ``"device"``).
    include_total : bool
        With ``groupby``, add the "All" group.
    decimals : int
        Decimals of the formatted columns.

    Returns
    -------
    DataFrame
        One row per (group,) timepoint in table order: ``timepoint``, ``target_day`` (days
        from the first SIRT, when given), ``n_patients``, ``n_albi`` (patients
        with an ALBI score), ``albi_median``, ``albi_q1``, ``albi_q3``, ``n_albi_paired``
        (score at baseline and at the timepoint), ``albi_change_median``, ``albi_change_q1``,
        ``albi_change_q3``, ``n_albi_grade_worse``, ``pct_albi_grade_worse`` (% of paired),
        ``n_child_pugh_paired``, ``child_pugh_change_median``, ``n_child_pugh_class_worse``,
        ``pct_child_pugh_class_worse``, and formatted ``albi`` ("median (Q1-Q3)"),
        ``albi_change``, ``albi_grade_worse`` and ``child_pugh_class_worse`` ("n/N (x%)").
    """
    need = [
        "patient_id",
        "timepoint",
        "albi_score",
        "albi_change",
        "is_albi_grade_worse",
        "child_pugh_points_change",
        "is_child_pugh_class_worse",
    ]
    _require(df_change, need + ([groupby] if groupby else []), "liver_function_change")
    df = df_change.copy()
    if groupby:
        df[groupby] = df[groupby].astype(object).fillna("missing").astype(str)
    order = list(dict.fromkeys(df["timepoint"]))
    rows = []
    for value, members in _group_frames(df, groupby, include_total):
        for tp in order:
            g = members[members["timepoint"] == tp]
            albi_pair = g["albi_change"].notna()
            cp_pair = g["child_pugh_points_change"].notna()
            n_ap, n_cp = int(albi_pair.sum()), int(cp_pair.sum())
            worse_a = int(g["is_albi_grade_worse"].fillna(False).astype(bool).sum())
            worse_c = int(g["is_child_pugh_class_worse"].fillna(False).astype(bool).sum())
            row = {
                "timepoint": tp,
                "target_day": (
                    int(g["target_day"].iloc[0]) if "target_day" in g.columns and len(g) else np.nan
                ),
                "n_patients": int(g["patient_id"].nunique()),
                "n_albi": int(g["albi_score"].notna().sum()),
                "albi_median": _q(g["albi_score"], 0.5),
                "albi_q1": _q(g["albi_score"], 0.25),
                "albi_q3": _q(g["albi_score"], 0.75),
                "n_albi_paired": n_ap,
                "albi_change_median": _q(g["albi_change"], 0.5),
                "albi_change_q1": _q(g["albi_change"], 0.25),
                "albi_change_q3": _q(g["albi_change"], 0.75),
                "n_albi_grade_worse": worse_a,
                "pct_albi_grade_worse": 100.0 * worse_a / n_ap if n_ap else np.nan,
                "n_child_pugh_paired": n_cp,
                "child_pugh_change_median": _q(g["child_pugh_points_change"], 0.5),
                "n_child_pugh_class_worse": worse_c,
                "pct_child_pugh_class_worse": 100.0 * worse_c / n_cp if n_cp else np.nan,
            }
            if groupby:
                row = {groupby: value, **row}
            rows.append(row)
    out = pd.DataFrame(rows)

    def _mq(m, lo, hi):
        return "-" if pd.isna(m) else f"{m:.{decimals}f} ({lo:.{decimals}f} to {hi:.{decimals}f})"

    def _frac(n, d):
        return "-" if not d else f"{n}/{d} ({100.0 * n / d:.0f}%)"

    if len(out):
        out["albi"] = [_mq(*r) for r in out[["albi_median", "albi_q1", "albi_q3"]].to_numpy()]
        out["albi_change"] = [
            _mq(*r)
            for r in out[["albi_change_median", "albi_change_q1", "albi_change_q3"]].to_numpy()
        ]
        out["albi_grade_worse"] = [
            _frac(int(n), int(d))
            for n, d in out[["n_albi_grade_worse", "n_albi_paired"]].to_numpy()
        ]
        out["child_pugh_class_worse"] = [
            _frac(int(n), int(d))
            for n, d in out[["n_child_pugh_class_worse", "n_child_pugh_paired"]].to_numpy()
        ]
    return out


# ---------------------------------------------------------------------------------- REILD


def _reild_definition(definition) -> tuple[str, dict[str, Any]]:
    if isinstance(definition, Mapping):
        spec = {**REILD_DEFINITIONS["sangro"], "label": "custom", **definition}
        return str(spec.get("name", "custom")), spec
    name = _check_option(definition, tuple(REILD_DEFINITIONS), "definition", "derive_reild")
    return name, REILD_DEFINITIONS[name]


def _terms_in_window(
    df: pd.DataFrame | None, terms: Sequence[str], ses: pd.DataFrame, start: int, end: int
) -> pd.DataFrame:
    """AEs with one of ``terms`` whose onset lies in [session + start, session + end]."""
    cols = ["patient_id", "session_id", "onset_date", "grade"]
    if df is None or df.empty:
        return pd.DataFrame(columns=cols)
    _require(df, ["patient_id", "ae_term", "onset_date"], "adverse_events")
    lower = {t.lower() for t in terms}
    ae = df[df["ae_term"].astype(str).str.lower().isin(lower)]
    ae = ae.assign(onset_date=pd.to_datetime(ae["onset_date"]))
    if "grade" not in ae.columns:
        ae = ae.assign(grade=np.nan)
    m = ae[["patient_id", "onset_date", "grade"]].merge(ses, on="patient_id", how="inner")
    day = (m["onset_date"] - m["session_date"]).dt.days
    return m[(day >= start) & (day <= end)][cols]


def derive_reild(
    df_labs: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    df_ae: pd.DataFrame | None = None,
    df_imaging: pd.DataFrame | None = None,
    definition: str | Mapping[str, Any] = "sangro",
) -> pd.DataFrame:
    """Flag REILD candidates for manual review, per patient, with the values that triggered it.

    Parameters
    ----------
    df_labs : DataFrame
        The ``labs`` table (bilirubin_total and albumin rows are used; any accepted unit; ULN
        needed for the Braat bilirubin rule, LLN optional for albumin).
    df_treatments : DataFrame
        The ``treatments`` table (``patient_id``, ``treatment_date``, ``session_id``): each
        session opens a window.
    df_ae : DataFrame, optional
        Reported adverse events (``patient_id``, ``ae_term``, ``onset_date``, ``grade``,
        optional ``is_reild``): ascites (:data:`REILD_ASCITES_TERMS`) and biliary obstruction
        (:data:`REILD_BILIARY_TERMS`) come from here. Without it no ascites is known, so
        definitions that require ascites flag nobody.
    df_imaging : DataFrame, optional
        The ``imaging_assessments`` table: progression in the window
        (``reported_overall_response == "PD"`` or ``new_lesion == "YES"``) excludes a session.
    definition : {"sangro", "braat"} or mapping
        Key of :data:`REILD_DEFINITIONS`, or a mapping overriding some of its fields.

    Returns
    -------
    DataFrame
        One row per treated patient (sorted): ``patient_id``, ``reild_definition``,
        ``reild_status`` ("candidate", "excluded_progression",
        "excluded_biliary_obstruction" or "not_met"), ``is_reild_candidate`` (bool), the
        session deciding the status (``session_id``, ``session_date``; the first qualifying
        session, else the one with the highest bilirubin in its window) and its triggering
        values: ``bilirubin_max_umol_l``, ``bilirubin_max_date``, ``bilirubin_uln_umol_l``,
        ``bilirubin_baseline_umol_l``, ``albumin_min_g_l``, ``albumin_min_date``,
        ``ascites_onset_date``, ``ascites_grade``, ``is_bilirubin_met``, ``is_ascites_met``,
        ``is_hypoalbuminaemia_met`` (bool), ``is_progression_in_window``,
        ``is_biliary_obstruction_in_window`` (bool), and ``is_reild_reported`` (boolean: a
        reported AE with ``is_reild`` True; NA without that column).

    Raises
    ------
    SirtDataError
        For an unknown lab unit or a missing required column.
    ValueError
        For an unknown definition name.

    Notes
    -----
    For each session ``s`` and window ``[s + start, s + end]`` days: the bilirubin criterion
    holds if a sample in the window meets the definition's rule (Sangro: ≥ 51.3 µmol/L = 3
    mg/dL; Braat: above its ULN and above the patient's baseline); ascites if a reported
    Ascites event starts in the window; hypoalbuminaemia (Braat) if an albumin sample in the
    window is below its LLN (35 g/L when missing). The session is a candidate when every
    required criterion holds and there is no progression on imaging and no biliary obstruction
    event between the session and the end of the window. This is a screening rule: the clinical
    diagnosis needs chart review.

    References
    ----------
    Sangro B et al. Cancer 2008;112:1538-1546. Gil-Alzugaray B et al. Hepatology
    2013;57:1078-1087. Braat MN et al. Eur J Gastroenterol Hepatol 2017;29:144-152.
    T4.3 (docs/rules/toxicity.md).
    """
    name, spec = _reild_definition(definition)
    start, end = int(spec["window_start_day"]), int(spec["window_end_day"])
    ses = _sessions(df_treatments)
    _require(df_labs, ["patient_id", "sample_date", "analyte", "value", "unit"], "labs")
    liver = df_labs[df_labs["analyte"].isin(["bilirubin_total", "albumin"])]
    graded = derive_lab_grades(liver, df_treatments=df_treatments, missing_limits="ungraded")
    lab = pd.DataFrame(
        {
            "patient_id": graded["patient_id"].to_numpy(),
            "analyte": graded["analyte"].to_numpy(),
            "sample_date": pd.to_datetime(graded["sample_date"]).to_numpy(),
            "value": graded["value_si"].to_numpy(float),
            "uln": graded["uln_si"].to_numpy(float),
            "lln": graded["lln_si"].to_numpy(float),
            "baseline": graded["baseline_value_si"].to_numpy(float),
        }
    )
    m = lab.merge(ses, on="patient_id", how="inner")
    day = (m["sample_date"] - m["session_date"]).dt.days
    m = m[(day >= start) & (day <= end) & m["value"].notna()]
    key = ["patient_id", "session_id"]

    bili = m[m["analyte"] == "bilirubin_total"].copy()
    if spec["bilirubin_rule"] == "absolute":
        bili["_met"] = _signif(bili["value"].to_numpy()) >= _signif(
            np.full(len(bili), float(spec["bilirubin_min_umol_l"]))
        )
    elif spec["bilirubin_rule"] == "above_uln_and_baseline":
        v = _signif(bili["value"].to_numpy())
        above_uln = v > _signif(bili["uln"].to_numpy())
        base = bili["baseline"].to_numpy()
        bili["_met"] = above_uln & (np.isnan(base) | (v > _signif(base)))
    else:
        raise ValueError(
            "REILD definition 'bilirubin_rule' must be one of {'absolute', "
            f"'above_uln_and_baseline'}}. Got {spec['bilirubin_rule']!r} instead."
        )
    bili = bili.sort_values(
        [*key, "_met", "value", "sample_date"], ascending=[True, True, False, False, True]
    )
    bili_best = bili.drop_duplicates(key).set_index(key)

    alb = m[m["analyte"] == "albumin"].copy()
    lln = alb["lln"].fillna(float(spec["albumin_lln_default_g_l"])).to_numpy()
    alb["_met"] = _signif(alb["value"].to_numpy()) < _signif(lln)
    alb_best = alb.sort_values([*key, "value", "sample_date"]).drop_duplicates(key).set_index(key)

    asc = _terms_in_window(df_ae, REILD_ASCITES_TERMS, ses, start, end)
    asc = asc.sort_values([*key, "onset_date"]).drop_duplicates(key).set_index(key)
    bil_obs = _terms_in_window(df_ae, REILD_BILIARY_TERMS, ses, 0, end)
    obs_keys = set(map(tuple, bil_obs[key].to_numpy()))
    prog_keys: set = set()
    if df_imaging is not None and not df_imaging.empty:
        _require(df_imaging, ["patient_id", "assessment_date"], "imaging_assessments")
        im = df_imaging
        pd_resp = (
            im["reported_overall_response"].astype(str).eq("PD")
            if "reported_overall_response" in im.columns
            else pd.Series(False, index=im.index)
        )
        new = (
            im["new_lesion"].astype(str).eq("YES")
            if "new_lesion" in im.columns
            else pd.Series(False, index=im.index)
        )
        im = im[(pd_resp | new).to_numpy()]
        im = im.assign(assessment_date=pd.to_datetime(im["assessment_date"]))
        mi = im[["patient_id", "assessment_date"]].merge(ses, on="patient_id", how="inner")
        d = (mi["assessment_date"] - mi["session_date"]).dt.days
        prog_keys = set(map(tuple, mi[(d >= 0) & (d <= end)][key].to_numpy()))

    s = ses.set_index(key)
    idx = s.index
    res = pd.DataFrame(index=idx)
    res["session_date"] = s["session_date"]
    res["bilirubin_max_umol_l"] = bili_best["value"].reindex(idx)
    res["bilirubin_max_date"] = bili_best["sample_date"].reindex(idx)
    res["bilirubin_uln_umol_l"] = bili_best["uln"].reindex(idx)
    res["bilirubin_baseline_umol_l"] = bili_best["baseline"].reindex(idx)
    res["albumin_min_g_l"] = alb_best["value"].reindex(idx)
    res["albumin_min_date"] = alb_best["sample_date"].reindex(idx)
    res["ascites_onset_date"] = asc["onset_date"].reindex(idx)
    res["ascites_grade"] = pd.array(
        pd.to_numeric(asc["grade"].reindex(idx), errors="coerce").to_numpy(dtype=float),
        dtype="Float64",
    ).astype("Int64")
    res["is_bilirubin_met"] = bili_best["_met"].reindex(idx, fill_value=False).astype(bool)
    res["is_ascites_met"] = res["ascites_onset_date"].notna()
    res["is_hypoalbuminaemia_met"] = alb_best["_met"].reindex(idx, fill_value=False).astype(bool)
    res["is_progression_in_window"] = [k in prog_keys for k in idx]
    res["is_biliary_obstruction_in_window"] = [k in obs_keys for k in idx]
    met = res["is_bilirubin_met"].copy()
    if spec["require_ascites"]:
        met &= res["is_ascites_met"]
    if spec["require_hypoalbuminaemia"]:
        met &= res["is_hypoalbuminaemia_met"]
    excl_p = res["is_progression_in_window"] & bool(spec["exclude_progression"])
    excl_b = res["is_biliary_obstruction_in_window"] & bool(spec["exclude_biliary_obstruction"])
    res["reild_status"] = np.select(
        [met & ~excl_p & ~excl_b, met & excl_p, met & excl_b],
        ["candidate", "excluded_progression", "excluded_biliary_obstruction"],
        "not_met",
    )
    res = res.reset_index()
    rank = res["reild_status"].map(
        {"candidate": 0, "excluded_progression": 1, "excluded_biliary_obstruction": 2, "not_met": 3}
    )
    res = res.assign(_rank=rank, _bili=res["bilirubin_max_umol_l"].fillna(-np.inf)).sort_values(
        ["patient_id", "_rank", "_bili", "session_date"],
        ascending=[True, True, False, True],
        kind="mergesort",
    )
    out = res.drop_duplicates("patient_id").drop(columns=["_rank", "_bili"])
    out.insert(1, "reild_definition", name)
    out.insert(3, "is_reild_candidate", (out["reild_status"] == "candidate").to_numpy())
    out = out[
        [
            "patient_id",
            "reild_definition",
            "reild_status",
            "is_reild_candidate",
            *[
                c
                for c in out.columns
                if c not in ("patient_id", "reild_definition", "reild_status", "is_reild_candidate")
            ],
        ]
    ]
    if df_ae is not None and "is_reild" in df_ae.columns:
        rep = df_ae[df_ae["is_reild"].astype("boolean").fillna(False).to_numpy(bool)]
        out["is_reild_reported"] = pd.array(
            out["patient_id"].isin(set(rep["patient_id"])).to_numpy(), dtype="boolean"
        )
    else:
        out["is_reild_reported"] = pd.array([pd.NA] * len(out), dtype="boolean")
    return out.reset_index(drop=True)


def filter_reild_candidates(df_reild: pd.DataFrame, *, include_reported: bool = True):
    """Listing of REILD candidates (and, optionally, patients reported with REILD).

    Parameters
    ----------
    df_reild : DataFrame
        Output of :func:`derive_reild`.
    include_reported : bool
        Also keep patients whose REILD was reported (``is_reild_reported``) although the rule
        did not flag them, so that discordances are reviewed too.

    Returns
    -------
    DataFrame
        The selected rows, original order and index.

    Raises
    ------
    SirtDataError
        If ``is_reild_candidate`` is missing.
    """
    if "is_reild_candidate" not in df_reild.columns:
        raise SirtDataError(
            "reild: missing required column(s) ['is_reild_candidate'].",
            table="reild",
            column="is_reild_candidate",
            rule="required column",
        )
    keep = np.array(df_reild["is_reild_candidate"].to_numpy(bool), copy=True)
    if include_reported and "is_reild_reported" in df_reild.columns:
        keep |= df_reild["is_reild_reported"].fillna(False).to_numpy(bool)
    return df_reild[keep]
