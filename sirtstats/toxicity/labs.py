"""Lab-derived adverse events and lab trajectories after SIRT.

Lab abnormalities graded by :mod:`sirtstats.ctcae` become lab-derived adverse events when the
worst post-baseline grade in the treatment-emergent window is worse than the baseline grade
(T4.1, docs/rules/toxicity.md); shift tables cross baseline and worst grade; the lab-versus-
reported table compares them with the reported adverse events. Lab trajectories summarise each
analyte at fixed times after the first SIRT (:data:`LAB_TRAJECTORY_BINS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns as _require
from sirtstats.ctcae import _check_option
from sirtstats.toxicity._common import (
    _format_n_pct,
    _in_window,
    _nearest_in_windows,
    _population,
    _sessions,
)
from sirtstats.toxicity.emergent import DEFAULT_TE_WINDOW_DAYS

__all__ = [
    "LAB_TRAJECTORY_BINS",
    "filter_lab_adverse_events",
    "summarise_lab_trajectories",
    "summarise_lab_vs_reported",
    "summarise_shift_table",
    "summarise_worst_lab_grades",
]


# ---------------------------------------------------------------- lab-derived adverse events


def summarise_worst_lab_grades(
    df_grades: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    window_days: int = DEFAULT_TE_WINDOW_DAYS,
    end: Literal["last_session", "each_session"] = "last_session",
) -> pd.DataFrame:
    """Baseline grade and worst post-baseline grade in the window, per patient and lab term.

    Parameters
    ----------
    df_grades : DataFrame
        Output of :func:`sirtstats.ctcae.derive_lab_grades` (``patient_id``, ``sample_date``,
        ``analyte``, ``ctcae_term``, ``ctcae_grade``, ``is_baseline_sample``, ``value_si``,
        ``unit_si``).
    df_treatments : DataFrame
        The ``treatments`` table (``patient_id``, ``treatment_date``, optional ``session_id``).
    window_days : int
        Post-baseline window: samples from the day after the first SIRT to ``window_days``
        after the last session (``end="last_session"``) or after some session
        (``"each_session"``).
    end : {"last_session", "each_session"}
        Window convention, as in :func:`derive_treatment_emergent`.

    Returns
    -------
    DataFrame
        One row per patient and CTCAE-gradable analyte with a baseline or a post-baseline
        sample: ``patient_id``, ``analyte``, ``ae_term``, ``baseline_grade`` (Int64, NA
        without baseline), ``grade`` (Int64, worst post-baseline grade in the window; NA when
        no graded sample there), ``onset_date`` (first sample reaching that grade),
        ``worst_value_si`` and ``unit_si``, ``n_post_samples`` (int) and
        ``is_treatment_emergent`` (bool: ``grade`` > ``baseline_grade``, a missing baseline
        counting as grade 0).

    Notes
    -----
    This is the "worst post-baseline grade within a window" convention of docs/rules/
    section 4.1; a lab abnormality is treatment-emergent when worse than at baseline.
    """
    end = _check_option(end, ("last_session", "each_session"), "end", "summarise_worst_lab_grades")
    need = [
        "patient_id",
        "sample_date",
        "analyte",
        "ctcae_term",
        "ctcae_grade",
        "is_baseline_sample",
        "value_si",
        "unit_si",
    ]
    _require(df_grades, need, "labs")
    g = df_grades.loc[df_grades["ctcae_term"].notna(), need]  # not all 23 columns of the grades
    post = _in_window(
        g["patient_id"],
        g["sample_date"],
        _sessions(df_treatments),
        start_offset_days=1,
        window_days=window_days,
        end=end,
    )
    work = pd.DataFrame(
        {
            "patient_id": g["patient_id"].to_numpy(),
            "analyte": g["analyte"].to_numpy(),
            "ae_term": g["ctcae_term"].to_numpy(),
            "sample_date": pd.to_datetime(g["sample_date"]).to_numpy(),
            "grade": g["ctcae_grade"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
            "value_si": g["value_si"].to_numpy(float),
            "unit_si": g["unit_si"].to_numpy(),
            "is_base": g["is_baseline_sample"].to_numpy(bool),
            "post": post,
        },
        copy=False,  # views of g's columns (2 M rows at 20k), not another copy of them
    )
    del g, post
    keys = ["patient_id", "analyte"]
    base = work[work["is_base"]].drop_duplicates(keys).set_index(keys)["grade"]
    post = work[work["post"] & ~np.isnan(work["grade"])]
    post = post.sort_values([*keys, "grade", "sample_date"], ascending=[True, True, False, True])
    worst = post.drop_duplicates(keys).set_index(keys)
    n_post = work[work["post"]].groupby(keys).size()
    index = pd.MultiIndex.from_frame(
        work[work["is_base"] | work["post"]][keys].drop_duplicates()
    ).sort_values()
    out = pd.DataFrame(index=index)
    terms = work.drop_duplicates(keys).set_index(keys)
    out["ae_term"] = terms["ae_term"].reindex(index)
    out["baseline_grade"] = base.reindex(index)
    out["grade"] = worst["grade"].reindex(index)
    out["onset_date"] = worst["sample_date"].reindex(index)
    out["worst_value_si"] = worst["value_si"].reindex(index)
    out["unit_si"] = terms["unit_si"].reindex(index)
    out["n_post_samples"] = n_post.reindex(index).fillna(0).astype(int)
    out = out.reset_index()
    te = out["grade"].notna() & (out["grade"] > out["baseline_grade"].fillna(0))
    out["is_treatment_emergent"] = te.to_numpy(bool)
    for c in ("baseline_grade", "grade"):
        out[c] = pd.array(out[c].to_numpy(dtype=float), dtype="Float64").astype("Int64")
    return out


def filter_lab_adverse_events(df_worst: pd.DataFrame, *, min_grade: int = 1) -> pd.DataFrame:
    """Keep treatment-emergent lab abnormalities of at least ``min_grade``.

    Parameters
    ----------
    df_worst : DataFrame
        Output of :func:`summarise_worst_lab_grades`.
    min_grade : int
        Lowest grade kept (default 1).

    Returns
    -------
    DataFrame
        Rows with ``is_treatment_emergent`` and ``grade >= min_grade``: one lab-derived
        adverse event per patient and term, countable by :func:`summarise_ae_table`.
    """
    _require(df_worst, ["is_treatment_emergent", "grade"], "lab_worst_grades")
    keep = df_worst["is_treatment_emergent"].to_numpy(bool) & (
        df_worst["grade"].fillna(0).to_numpy(dtype=float) >= min_grade
    )
    return df_worst[keep]


def summarise_shift_table(
    df_worst: pd.DataFrame, *, terms: Sequence[str] | None = None
) -> pd.DataFrame:
    """Baseline grade → worst post-baseline grade shift table per lab term.

    Parameters
    ----------
    df_worst : DataFrame
        Output of :func:`summarise_worst_lab_grades`.
    terms : sequence of str, optional
        CTCAE terms to show, in this order; default all present, alphabetical.

    Returns
    -------
    DataFrame
        One row per term and baseline grade ("0"-"4", or "missing"): ``ae_term``,
        ``baseline_grade`` (str), counts of patients by worst post-baseline grade
        ``post_grade_0`` … ``post_grade_4`` and ``post_missing`` (no graded sample in the
        window), and ``n`` (row total). Rows with no patient are kept for grades 0-4 so that
        every table has the same shape.
    """
    _require(df_worst, ["ae_term", "baseline_grade", "grade"], "lab_worst_grades")
    label = ["0", "1", "2", "3", "4"]
    base = df_worst["baseline_grade"].astype("Float64")
    post = df_worst["grade"].astype("Float64")
    work = pd.DataFrame(
        {
            "ae_term": df_worst["ae_term"].to_numpy(),
            "baseline_grade": [
                "missing" if pd.isna(b) else str(int(b)) for b in base.to_numpy(dtype=object)
            ],
            "post": [
                "post_missing" if pd.isna(p) else f"post_grade_{int(p)}"
                for p in post.to_numpy(dtype=object)
            ],
        }
    )
    if terms is None:
        terms = sorted(work["ae_term"].dropna().unique())
    counts = work.groupby(["ae_term", "baseline_grade", "post"]).size().unstack(fill_value=0)
    post_cols = [f"post_grade_{g}" for g in label] + ["post_missing"]
    counts = counts.reindex(columns=post_cols, fill_value=0)
    rows = []
    for term in terms:
        present = (
            counts.loc[term].index.tolist() if term in counts.index.get_level_values(0) else []
        )
        levels = label + (["missing"] if "missing" in present else [])
        for b in levels:
            values = (
                counts.loc[(term, b)].to_numpy()
                if (term, b) in counts.index
                else np.zeros(len(post_cols), dtype=int)
            )
            rows.append([term, b, *values.tolist()])
    out = pd.DataFrame(rows, columns=["ae_term", "baseline_grade", *post_cols])
    out[post_cols] = out[post_cols].astype(int)
    out["n"] = out[post_cols].sum(axis=1).astype(int)
    return out


def summarise_lab_vs_reported(
    df_lab_ae: pd.DataFrame,
    df_ae: pd.DataFrame,
    df_population: pd.DataFrame,
    *,
    terms: Sequence[str] | None = None,
    high_grade: int = 3,
    decimals: int = 1,
) -> pd.DataFrame:
    """Lab-derived and reported adverse events side by side, for the lab-gradable terms.

    Parameters
    ----------
    df_lab_ae : DataFrame
        Lab-derived events (:func:`filter_lab_adverse_events`): ``patient_id``, ``ae_term``,
        ``grade``.
    df_ae : DataFrame
        Reported events (treatment-emergent): ``patient_id``, ``ae_term``, ``grade``. Terms are
        matched case-insensitively to the CTCAE lab terms.
    df_population : DataFrame
        One row per patient of the population (``patient_id``).
    terms : sequence of str, optional
        CTCAE terms to show; default every lab term of CTCAE v5.0
        (:func:`sirtstats.ctcae.load_ctcae_criteria`).
    high_grade : int
        Severity cut-off of the ``grade ≥`` columns.
    decimals : int
        Decimals of the formatted percentages.

    Returns
    -------
    DataFrame
        One row per term: ``ae_term``, ``N``, ``lab_any_grade``, ``lab_grade_{h}plus``,
        ``reported_any_grade``, ``reported_grade_{h}plus`` (formatted n (%)) and the
        underlying counts ``n_lab_any``, ``n_lab_high``, ``n_reported_any``,
        ``n_reported_high``.
    """
    if terms is None:
        from sirtstats.ctcae import load_ctcae_criteria

        terms = list(dict.fromkeys(load_ctcae_criteria()["term"]))
    canon = {t.lower(): t for t in terms}
    pop = _population(df_population, None)
    N = len(pop)
    high = f"grade_{high_grade}plus"
    out = pd.DataFrame({"ae_term": list(terms), "N": N})
    for source, frame in (("lab", df_lab_ae), ("reported", df_ae)):
        _require(frame, ["patient_id", "ae_term", "grade"], "adverse_events")
        f = frame[frame["patient_id"].isin(pop["patient_id"])]
        term = f["ae_term"].astype(str).str.lower().map(canon)
        f = pd.DataFrame(
            {
                "patient_id": f["patient_id"].to_numpy(),
                "ae_term": term.to_numpy(),
                "grade": f["grade"].to_numpy(dtype=float),
            }
        ).dropna(subset=["ae_term"])
        worst = f.groupby(["ae_term", "patient_id"])["grade"].max()
        n_any = worst.groupby(level=0).size()
        n_high = (worst >= high_grade).groupby(level=0).sum()
        out[f"n_{source}_any"] = out["ae_term"].map(n_any).fillna(0).astype(int)
        out[f"n_{source}_high"] = out["ae_term"].map(n_high).fillna(0).astype(int)
        pct_any = 100.0 * out[f"n_{source}_any"] / N if N else pd.Series(np.nan, index=out.index)
        pct_high = 100.0 * out[f"n_{source}_high"] / N if N else pd.Series(np.nan, index=out.index)
        out[f"{source}_any_grade"] = _format_n_pct(out[f"n_{source}_any"], pct_any, decimals)
        out[f"{source}_{high}"] = _format_n_pct(out[f"n_{source}_high"], pct_high, decimals)
    return out[
        [
            "ae_term",
            "N",
            "lab_any_grade",
            f"lab_{high}",
            "reported_any_grade",
            f"reported_{high}",
            "n_lab_any",
            "n_lab_high",
            "n_reported_any",
            "n_reported_high",
        ]
    ]



#: Time bins for lab trajectories (days from the first SIRT, inclusive): each patient
#: contributes the sample nearest to ``target_day`` in each bin (ties: the earlier).
LAB_TRAJECTORY_BINS = pd.DataFrame(
    {
        "timepoint": [
            "baseline",
            "week_1",
            "week_2",
            "month_1",
            "month_2",
            "month_3",
            "month_6",
            "month_12",
        ],
        "target_day": [0, 7, 14, 30, 61, 91, 182, 365],
        "window_start_day": [-30, 1, 10, 22, 46, 76, 137, 274],
        "window_end_day": [0, 9, 21, 45, 75, 136, 273, 456],
    }
)


# --------------------------------------------------------------------------- trajectories


def summarise_lab_trajectories(
    df_grades: pd.DataFrame,
    *,
    analytes: Sequence[str] = ("bilirubin_total", "albumin", "alt", "platelets", "lymphocytes"),
    bins: pd.DataFrame | None = None,
    scale: str = "value",
    min_patients: int = 10,
) -> pd.DataFrame:
    """Median and interquartile range of lab values over time from the first SIRT.

    Parameters
    ----------
    df_grades : DataFrame
        Output of :func:`sirtstats.ctcae.derive_lab_grades` (``patient_id``, ``analyte``,
        ``days_from_first_sirt``, ``value_si``, ``unit_si``, ``uln_si``, ``lln_si``).
    analytes : sequence of str
        Analytes to summarise, in this order.
    bins : DataFrame, optional
        Time bins like :data:`LAB_TRAJECTORY_BINS`.
    scale : {"value", "x_uln", "x_lln"}
        Summarise the SI value, or the value as a multiple of the sample's ULN / LLN
        (samples without that limit are left out).
    min_patients : int
        Bins with fewer patients keep their ``n_patients`` but get no median/quartiles (NaN):
        a handful of patients sampled off-schedule, usually because they were unwell, would
        otherwise draw a misleading spike.

    Returns
    -------
    DataFrame
        One row per analyte and bin with at least one patient: ``analyte``, ``timepoint``,
        ``target_day``, ``n_patients``, ``median``, ``q1``, ``q3`` and ``unit`` (SI unit, or
        "x ULN" / "x LLN").

    Notes
    -----
    Each patient contributes at most one value per bin (nearest to the target day), so that
    frequently sampled patients do not dominate; quartiles are pandas' linear interpolation.
    """
    scale = _check_option(scale, ("value", "x_uln", "x_lln"), "scale", "summarise_lab_trajectories")
    need = ["patient_id", "analyte", "days_from_first_sirt", "value_si", "unit_si"]
    _require(df_grades, need, "labs")
    tb = (LAB_TRAJECTORY_BINS if bins is None else bins).reset_index(drop=True)
    limit = {"x_uln": ["uln_si"], "x_lln": ["lln_si"]}.get(scale, [])
    g = df_grades.loc[df_grades["analyte"].isin(list(analytes)), need + limit]
    value = g["value_si"].astype(float)
    if scale == "x_uln":
        value = value / g["uln_si"].astype(float)
    elif scale == "x_lln":
        value = value / g["lln_si"].astype(float)
    work = pd.DataFrame(
        {
            "patient_id": g["patient_id"].to_numpy(),
            "analyte": g["analyte"].to_numpy(),
            "day": g["days_from_first_sirt"]
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan),
            "value": value.to_numpy(dtype=float),
            "unit_si": g["unit_si"].to_numpy(),
        }
    )
    work = work[~np.isnan(work["day"]) & np.isfinite(work["value"])]
    near = _nearest_in_windows(work, tb)
    agg = near.groupby(["analyte", "timepoint"], sort=False)
    out = pd.DataFrame(
        {
            "n_patients": agg["patient_id"].nunique(),
            "median": agg["value"].median(),
            "q1": agg["value"].quantile(0.25),
            "q3": agg["value"].quantile(0.75),
            "unit": agg["unit_si"].first(),
        }
    ).reset_index()
    if scale != "value":
        out["unit"] = "x ULN" if scale == "x_uln" else "x LLN"
    sparse = out["n_patients"] < min_patients
    out.loc[sparse, ["median", "q1", "q3"]] = np.nan
    out = out.merge(tb[["timepoint", "target_day"]], on="timepoint", how="left")
    a_order = {a: i for i, a in enumerate(analytes)}
    t_order = {t: i for i, t in enumerate(tb["timepoint"])}
    out = out.assign(_a=out["analyte"].map(a_order), _t=out["timepoint"].map(t_order))
    out = out.sort_values(["_a", "_t"]).drop(columns=["_a", "_t"]).reset_index(drop=True)
    return out[["analyte", "timepoint", "target_day", "n_patients", "median", "q1", "q3", "unit"]]
