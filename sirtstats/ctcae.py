"""CTCAE v5.0 laboratory grading, with the grading criteria kept as a data table.

Implements the laboratory terms of CTCAE v5.0 (NCI, 27 November 2017) used after SIRT: blood
bilirubin, ALT, AST, alkaline phosphatase and GGT increased (with the v5 rule that grades on
multiples of the **baseline** value when the baseline was abnormal), hypoalbuminemia, platelet,
lymphocyte, neutrophil and white-cell counts decreased, anemia, INR increased (baseline multiples
only for anticoagulated patients), creatinine increased (the worse of the ULN and the baseline
criteria) and hyponatremia. The criteria live in ``sirtstats/data/ctcae_v5_labs.csv``
(:func:`load_ctcae_criteria`): one row per term, grade and branch, transcribed from the
machine-readable CTCAE v5.0 table of pharmaverse/admiral (``ncictcaev5.json``) as summarised in
T4.1 (docs/rules/toxicity.md). Grades that need clinical information (anemia grade 4,
hypoalbuminemia grade 4, symptomatic hyponatremia) are not lab-gradable and are not assigned,
unless an option says how (``hyponatremia_125_129="symptomatic"``, admiral's worst case; INR on
the worse of the absolute and baseline criteria with ``inr_criteria="worse_of_both"``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import match_choice as _check_option
from sirtstats.exceptions import SirtDataError
from sirtstats.units import normalise_lab_units

__all__ = [
    "CTCAE_VERSION",
    "DEFAULT_BASELINE_WINDOW_DAYS",
    "SIGNIFICANT_DIGITS",
    "compute_ctcae_grade",
    "derive_lab_grades",
    "load_ctcae_criteria",
]

#: CTCAE version of the bundled criteria table.
CTCAE_VERSION = "5.0"

#: Baseline lab window, days relative to the first SIRT session, inclusive: the last value in
#: it is the baseline (T4.1, docs/rules/toxicity.md proposal; same window as baseline.yaml).
DEFAULT_BASELINE_WINDOW_DAYS: tuple[int, int] = (-30, 0)

#: Values and thresholds are compared after rounding to this many significant digits, as admiral
#: does (``signif``), so that unit-conversion noise (3 mg/dL × 17.1 = 51.300000000000004 µmol/L)
#: never decides a grade.
SIGNIFICANT_DIGITS = 12

_BASES = ("ULN", "LLN", "baseline", "absolute")
_CONDITIONS = (
    "any",
    "baseline_normal",
    "baseline_abnormal",
    "anticoagulated",
    "not_anticoagulated",
)
_COMPARATORS = (">", ">=", "<", "<=")
_CRITERIA_COLUMNS = [
    "term",
    "analyte",
    "direction",
    "grade",
    "basis",
    "comparator",
    "threshold",
    "condition",
    "if_reference_missing",
    "criterion_text",
]


@cache
def _read_criteria(version: str) -> pd.DataFrame:
    name = f"ctcae_v{version.split('.')[0]}_labs.csv"
    with resources.files("sirtstats").joinpath("data", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"grade": "int64", "threshold": "float64"})


def load_ctcae_criteria(version: str = CTCAE_VERSION) -> pd.DataFrame:
    """The CTCAE laboratory grading criteria as a table.

    Parameters
    ----------
    version : {"5.0"}
        CTCAE version; only v5.0 is bundled (v4.03 graded on ULN only and v6.0 changed the
        baseline rules: never mix versions in one report).

    Returns
    -------
    DataFrame
        One row per term, grade and branch: ``term`` (CTCAE term), ``analyte`` (labs.yaml
        code), ``direction`` ("high"/"low"), ``grade`` (int 1-4), ``basis`` ("ULN", "LLN",
        "baseline" or "absolute"), ``comparator`` (">", ">=", "<", "<="), ``threshold``
        (multiple of the basis, or an absolute value in the canonical unit of
        :data:`sirtstats.units.CANONICAL_UNITS`), ``condition`` ("any", "baseline_normal",
        "baseline_abnormal", "anticoagulated", "not_anticoagulated"),
        ``if_reference_missing`` ("ungradable": the grade cannot be decided without the
        reference; "not_met": the criterion simply does not apply) and ``criterion_text``.

    Raises
    ------
    ValueError
        If ``version`` is not bundled.

    Notes
    -----
    A value meets a criterion when ``value <comparator> threshold × reference`` (reference =
    ULN, LLN or the baseline value; 1 for absolute thresholds). Its grade is the highest grade
    whose criterion it meets among the criteria whose condition holds; 0 if none. Upper bounds
    of the CTCAE ranges are implied by the next grade.

    Examples
    --------
    >>> crit = load_ctcae_criteria()
    >>> crit.query("analyte == 'alt' and condition == 'baseline_abnormal'")[
    ...     ["grade", "comparator", "threshold"]].reset_index(drop=True)
       grade comparator  threshold
    0      1         >=        1.5
    1      2          >        3.0
    2      3          >        5.0
    3      4          >       20.0
    """
    if str(version) not in ("5.0", "5"):
        raise ValueError(
            f"The 'version' argument of load_ctcae_criteria must be one of {{'5.0'}}. "
            f"Got {version!r} instead."
        )
    return _read_criteria("5.0").copy()


def _check_criteria(criteria: pd.DataFrame) -> None:
    missing = [c for c in _CRITERIA_COLUMNS[:-1] if c not in criteria.columns]
    if missing:
        raise ValueError(f"criteria table is missing column(s) {missing}")
    for col, allowed in (
        ("basis", _BASES),
        ("condition", _CONDITIONS),
        ("comparator", _COMPARATORS),
        ("if_reference_missing", ("ungradable", "not_met")),
    ):
        bad = sorted(set(criteria[col]) - set(allowed))
        if bad:
            raise ValueError(f"criteria.{col} has unknown value(s) {bad}; allowed {allowed}")
    terms = criteria.groupby("analyte")["term"].nunique()
    if (terms > 1).any():
        raise ValueError(f"criteria: several terms for analyte(s) {list(terms[terms > 1].index)}")


#: Choices of the options that change the criteria table (see :func:`_criteria_with_options`).
_HYPONATREMIA_CHOICES = ("asymptomatic", "symptomatic")
_INR_CHOICES = ("anticoagulation", "worse_of_both")


def _criteria_with_options(
    criteria: pd.DataFrame, hyponatremia_125_129: str, inr_criteria: str
) -> pd.DataFrame:
    """Criteria table after the grading options.

    ``hyponatremia_125_129="symptomatic"`` grades 125-129 mmol/L as grade 3 (CTCAE v5.0: grade 3
    is "125-129 mmol/L symptomatic; 120-124 mmol/L regardless of symptoms"): the grade 2 row
    goes and the grade 3 threshold becomes < 130 mmol/L, admiral's worst case
    (``atoxgr_criteria_ctcv5``, test-derive_var_atoxgr.R test 80a: 129 mmol/L -> grade 3).
    ``inr_criteria="worse_of_both"`` applies the absolute and the baseline-multiple INR criteria
    to every sample and keeps the worse, as admiral does without an anticoagulation flag (test
    36a: INR 1.2 with baseline 1.0 -> grade 1 on "> 1 x baseline").
    """
    crit = criteria
    if hyponatremia_125_129 == "symptomatic":
        sodium_low = (crit["analyte"] == "sodium") & (crit["direction"] == "low")
        crit = crit[~(sodium_low & (crit["grade"] == 2))].copy()
        g3 = (crit["analyte"] == "sodium") & (crit["direction"] == "low") & (crit["grade"] == 3)
        crit.loc[g3, "threshold"] = 130.0
        crit.loc[g3, "criterion_text"] = (
            "<130 mmol/L: 125 - 129 mmol/L taken as symptomatic (admiral worst case); "
            "120 - 124 mmol/L regardless of symptoms"
        )
    if inr_criteria == "worse_of_both":
        crit = crit.copy()
        inr = crit["condition"].isin(["anticoagulated", "not_anticoagulated"])
        crit.loc[inr, "condition"] = "any"
    return crit


def _signif(x: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(np.where(x == 0, 1.0, x))))
        scale = 10.0 ** (digits - 1 - np.nan_to_num(mag))
        return np.where(np.isfinite(x), np.round(x * scale) / scale, x)


#: Lab rows graded at a time: each slice's per-criterion comparison arrays are bounded
#: (same result; 2.16 M lab rows at 20,000 patients peak 80 MB lower than at 50,000).
_GRADE_CHUNK_ROWS = 20_000


def _grade_frame(frame: pd.DataFrame, criteria: pd.DataFrame) -> pd.DataFrame:
    """Grade positional rows (:func:`_grade_chunk`), :data:`_GRADE_CHUNK_ROWS` at a time."""
    step = _GRADE_CHUNK_ROWS
    if len(frame) <= step:
        return _grade_chunk(frame, criteria)
    # each slice's grades go into the full-length columns (no list of slices to concatenate:
    # that held every column twice at the end)
    first = _grade_chunk(frame.iloc[:step], criteria)
    columns = {c: np.empty(len(frame), dtype=first[c].to_numpy().dtype) for c in first.columns}
    for i in range(0, len(frame), step):
        part = first if i == 0 else _grade_chunk(frame.iloc[i : i + step], criteria)
        for c, values in columns.items():
            values[i : i + len(part)] = part[c].to_numpy()
    return pd.DataFrame(columns, copy=False)


def _grade_chunk(frame: pd.DataFrame, criteria: pd.DataFrame) -> pd.DataFrame:
    """Grade positional rows. ``frame`` has ``analyte, value, uln, lln, baseline, abnormal,
    anticoagulated``; returns ``grade`` (float, NaN = not graded), ``basis``, ``term``,
    ``undetermined`` (bool) and ``missing_reference`` (str) per row, same positions.

    Each row is compared with the criteria of its analyte, one criterion (table row) at a time
    over all the rows of that analyte: the grade is the highest grade met (the first such
    criterion in table order gives the basis), grade 0 takes the basis of the lowest applicable
    criterion (first in table order among equal grades), and a criterion that cannot be decided
    without its reference and would raise the grade makes the row undetermined
    (``missing_reference``: the bases of such criteria, in table order, without repeats).
    """
    n = len(frame)
    term = np.full(n, None, dtype=object)
    grade = np.full(n, np.nan)
    basis_out = np.full(n, None, dtype=object)
    undetermined = np.zeros(n, dtype=bool)
    missing = np.full(n, "", dtype=object)
    analytes = frame["analyte"].to_numpy(dtype=object)
    crit = criteria.reset_index(drop=True)
    c_analyte = crit["analyte"].to_numpy(dtype=object)
    c_grade = crit["grade"].to_numpy(dtype=float)
    c_basis = crit["basis"].to_numpy(dtype=object)
    c_op = crit["comparator"].to_numpy(dtype=object)
    c_threshold = crit["threshold"].to_numpy(dtype=float)
    c_condition = crit["condition"].to_numpy(dtype=object)
    c_not_met = crit["if_reference_missing"].to_numpy(dtype=object) == "not_met"
    c_term = crit["term"].to_numpy(dtype=object)
    codes, uniques = pd.factorize(analytes, use_na_sentinel=True)
    rows_of = {}
    if n:
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        rows_of = {a: order[bounds[i] : bounds[i + 1]] for i, a in enumerate(uniques)}
    value_all = frame["value"].to_numpy(dtype=float)
    refs_all = {
        "ULN": frame["uln"].to_numpy(dtype=float),
        "LLN": frame["lln"].to_numpy(dtype=float),
        "baseline": frame["baseline"].to_numpy(dtype=float),
    }
    abnormal_all = frame["abnormal"].to_numpy(dtype=bool)
    anticoag_all = frame["anticoagulated"].to_numpy(dtype=bool)
    for analyte in dict.fromkeys(c_analyte):
        rows = rows_of.get(analyte)
        if rows is None or len(rows) == 0:
            continue
        js = np.flatnonzero(c_analyte == analyte)
        term[rows] = c_term[js[0]]
        k = len(rows)
        value = _signif(value_all[rows])
        abnormal, anticoag = abnormal_all[rows], anticoag_all[rows]
        refs = {b: r[rows] for b, r in refs_all.items()}
        best = np.zeros(k)  # highest grade met (0: none)
        best_basis = np.full(k, None, dtype=object)
        low = np.full(k, np.inf)  # lowest applicable grade
        low_basis = np.full(k, None, dtype=object)
        open_ = []  # (criterion, rows it applies to whose reference is missing)
        for j in js:
            cond = c_condition[j]
            applies = {
                "any": np.ones(k, dtype=bool),
                "baseline_normal": ~abnormal,
                "baseline_abnormal": abnormal,
                "anticoagulated": anticoag,
                "not_anticoagulated": ~anticoag,
            }[cond]
            ref = refs.get(c_basis[j], np.ones(k))
            has_ref = ~np.isnan(ref)
            limit = _signif(c_threshold[j] * ref)
            with np.errstate(invalid="ignore"):
                met = {
                    ">": value > limit,
                    ">=": value >= limit,
                    "<": value < limit,
                    "<=": value <= limit,
                }[c_op[j]]
            met &= has_ref & applies
            g = c_grade[j]
            up = met & (g > best)
            best[up] = g
            best_basis[up] = c_basis[j]
            down = applies & (g < low)
            low[down] = g
            low_basis[down] = c_basis[j]
            if not c_not_met[j]:
                open_.append((j, applies & ~has_ref))
        graded = ~np.isnan(value_all[rows]) & pd.notna(c_term[js[0]])
        basis = np.where(best > 0, best_basis, low_basis)
        und = np.zeros(k, dtype=bool)
        miss = np.full(k, "", dtype=object)
        seen: dict = {}
        for j, unknown in open_:
            unknown = unknown & (c_grade[j] > best)
            if not unknown.any():
                continue
            b = c_basis[j]
            new = unknown & ~seen.get(b, np.zeros(k, dtype=bool))
            seen[b] = seen.get(b, np.zeros(k, dtype=bool)) | unknown
            miss[new] = np.where(miss[new] == "", b, miss[new] + ";" + b)
            und |= unknown
        und &= graded
        grade[rows] = np.where(graded & ~und, best, np.nan)
        basis_out[rows] = np.where(graded, basis, None)
        undetermined[rows] = und
        missing[rows] = np.where(und, miss, "")
    return pd.DataFrame(
        {
            "term": term,
            "grade": grade,
            "basis": basis_out,
            "undetermined": undetermined,
            "missing_reference": missing,
        },
        copy=False,
    )


def compute_ctcae_grade(
    analyte,
    value,
    *,
    uln=np.nan,
    lln=np.nan,
    baseline=np.nan,
    baseline_uln=None,
    anticoagulated=False,
    criteria: pd.DataFrame | None = None,
    hyponatremia_125_129: Literal["asymptomatic", "symptomatic"] = "asymptomatic",
    inr_criteria: Literal["anticoagulation", "worse_of_both"] = "anticoagulation",
):
    """CTCAE v5.0 grade of laboratory values already in canonical units.

    Parameters
    ----------
    analyte : str or array-like of str
        Analyte code from labs.yaml (e.g. ``"alt"``, ``"bilirubin_total"``).
    value : float or array-like
        Value in the canonical unit of :data:`sirtstats.units.CANONICAL_UNITS` (µmol/L,
        g/L, U/L, 10⁹/L, ratio ...).
    uln, lln : float or array-like
        Upper / lower limit of normal of the sample, same unit.
    baseline : float or array-like
        Baseline value of the patient (same unit); NaN when unknown. Drives the
        abnormal-baseline branch (bilirubin, ALT, AST, ALP, GGT), the creatinine baseline
        criterion and, for anticoagulated patients, INR.
    baseline_uln : float or array-like, optional
        ULN of the baseline sample; defaults to ``uln``. Baseline is abnormal when
        ``baseline > baseline_uln``.
    anticoagulated : bool or array-like of bool
        Patient on anticoagulation (INR graded on baseline multiples).
    criteria : DataFrame, optional
        Criteria table; defaults to :func:`load_ctcae_criteria`.
    hyponatremia_125_129 : {"asymptomatic", "symptomatic"}
        How to grade sodium 125-129 mmol/L, whose CTCAE v5.0 grade depends on symptoms a lab
        value does not carry: "asymptomatic" (default) gives grade 2, "symptomatic" gives grade
        3, the worst case that pharmaverse/admiral's ``atoxgr_criteria_ctcv5`` assumes.
    inr_criteria : {"anticoagulation", "worse_of_both"}
        "anticoagulation" (default, CTCAE v5.0 text): absolute thresholds (> 1.2, 1.5, 2.5)
        unless ``anticoagulated``, then multiples of baseline. "worse_of_both": the worse of
        the absolute and the baseline-multiple criteria for every sample (admiral), an
        alternative when the anticoagulation status is not recorded; a missing baseline then
        leaves grades the baseline criterion could raise undetermined.

    Returns
    -------
    Int64 Series, or int / pandas.NA for scalars
        Grade 0-4; NA when the value is missing, the analyte has no lab criteria, or a needed
        reference (ULN/LLN, or the baseline of an anticoagulated INR) is missing.

    References
    ----------
    Common Terminology Criteria for Adverse Events (CTCAE) v5.0, NCI, 2017; admiral
    ``ncictcaev5.json``; T4.1 (docs/rules/toxicity.md).

    Examples
    --------
    >>> compute_ctcae_grade("alt", 130, uln=40, baseline=30)   # normal baseline: 3.25 x ULN
    2
    >>> compute_ctcae_grade("alt", 130, uln=40, baseline=80)   # abnormal: 1.625 x baseline
    1
    >>> compute_ctcae_grade("bilirubin_total", 95, uln=21, baseline=30)
    3
    >>> compute_ctcae_grade("sodium", 128, lln=135), compute_ctcae_grade(
    ...     "sodium", 128, lln=135, hyponatremia_125_129="symptomatic")
    (2, 3)
    >>> compute_ctcae_grade("inr", 1.2, baseline=1.0, inr_criteria="worse_of_both")
    1
    """
    func = "compute_ctcae_grade"
    hyponatremia_125_129 = _check_option(
        hyponatremia_125_129, _HYPONATREMIA_CHOICES, "hyponatremia_125_129", func
    )
    inr_criteria = _check_option(inr_criteria, _INR_CHOICES, "inr_criteria", func)
    crit = load_ctcae_criteria() if criteria is None else criteria
    crit = _criteria_with_options(crit, hyponatremia_125_129, inr_criteria)
    scalar = np.ndim(value) == 0 and np.ndim(analyte) == 0
    n = np.broadcast(
        np.atleast_1d(np.asarray(analyte, dtype=object)),
        np.atleast_1d(np.asarray(value, dtype=float)),
    ).shape[0]

    def _b(x, dtype=float):
        return np.broadcast_to(np.atleast_1d(np.asarray(x, dtype=dtype)), (n,)).copy()

    frame = pd.DataFrame({"analyte": _b(analyte, object), "value": _b(value)})
    frame["uln"] = _b(uln)
    frame["lln"] = _b(lln)
    frame["baseline"] = _b(baseline)
    b_uln = frame["uln"].to_numpy() if baseline_uln is None else _b(baseline_uln)
    with np.errstate(invalid="ignore"):
        frame["abnormal"] = frame["baseline"].to_numpy() > b_uln
    frame["anticoagulated"] = _b(anticoagulated, bool)
    grades = _grade_frame(frame, crit)["grade"]
    out = pd.Series(grades.to_numpy(), dtype="Float64").round().astype("Int64")
    if isinstance(value, pd.Series):
        return out.set_axis(value.index)
    if scalar:
        v = out.iloc[0]
        return v if v is pd.NA else int(v)
    return out


def _whole_numbers(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 array of whole-number floats, NA where NaN (``pd.array(values, dtype="Int64")``
    without its per-element checks; ``values`` are day counts or grades)."""
    missing = np.isnan(values)
    whole = np.where(missing, 0.0, values)
    if not (whole == np.trunc(whole)).all():
        raise ValueError("expected whole numbers")  # never for day counts and grades
    return pd.arrays.IntegerArray(whole.astype(np.int64), missing)


def _first_sirt_dates(df_treatments: pd.DataFrame | None) -> pd.Series:
    if df_treatments is None:
        return pd.Series(dtype="datetime64[ns]")
    missing = [c for c in ("patient_id", "treatment_date") if c not in df_treatments.columns]
    if missing:
        raise SirtDataError(
            f"treatments: missing required column(s) {missing}.",
            table="treatments",
            column=missing[0],
            rule="required column",
        )
    dates = pd.to_datetime(df_treatments["treatment_date"])
    return dates.groupby(df_treatments["patient_id"]).min()


def _keys(rows: pd.DataFrame, extra: str | None = None, n: int = 3) -> str:
    parts = []
    for _, r in rows.head(n).iterrows():
        date = pd.Timestamp(r["sample_date"]).date() if pd.notna(r["sample_date"]) else "NaT"
        items = [str(r["patient_id"]), str(date), str(r["analyte"])]
        if extra is not None:
            items.append(str(r[extra]))
        parts.append("(" + ", ".join(items) + ")")
    return ", ".join(parts)


def derive_lab_grades(
    df_labs: pd.DataFrame,
    *,
    df_treatments: pd.DataFrame | None = None,
    baseline_window_days: tuple[int, int] = DEFAULT_BASELINE_WINDOW_DAYS,
    anticoagulated_col: str | None = None,
    missing_limits: Literal["error", "ungraded"] = "error",
    criteria: pd.DataFrame | None = None,
    hyponatremia_125_129: Literal["asymptomatic", "symptomatic"] = "asymptomatic",
    inr_criteria: Literal["anticoagulation", "worse_of_both"] = "anticoagulation",
) -> pd.DataFrame:
    """Add SI values, the patient's baseline and the CTCAE v5.0 grade to each lab result.

    Parameters
    ----------
    df_labs : DataFrame
        The ``labs`` table: ``patient_id`` (str), ``sample_date`` (datetime64), ``analyte``
        (str), ``value`` (float ≥ 0, unit of the row), ``unit`` (str), ``lln`` and ``uln``
        (float, unit of the row; needed where a grade depends on them).
    df_treatments : DataFrame, optional
        The ``treatments`` table (``patient_id``, ``treatment_date``): the first SIRT date of
        each patient anchors the baseline window. Without it no row has a baseline and every
        row is graded on ULN/LLN/absolute thresholds.
    baseline_window_days : tuple of int
        Days relative to the first SIRT (inclusive) in which the **last** non-missing value of
        each analyte is the baseline; default (-30, 0).
    anticoagulated_col : str, optional
        Boolean column of ``df_labs`` marking samples taken on anticoagulation (INR then graded
        on multiples of baseline). None: no patient is anticoagulated.
    missing_limits : {"error", "ungraded"}
        What to do when a grade cannot be decided because a needed ULN/LLN (or the baseline of
        an anticoagulated INR) is missing: raise, or leave ``ctcae_grade`` missing.
    criteria : DataFrame, optional
        Grading table; defaults to :func:`load_ctcae_criteria` (v5.0).
    hyponatremia_125_129 : {"asymptomatic", "symptomatic"}
        How to grade sodium 125-129 mmol/L, whose CTCAE v5.0 grade depends on symptoms a lab
        value does not carry: "asymptomatic" (default) gives grade 2, "symptomatic" gives grade
        3, the worst case that pharmaverse/admiral's ``atoxgr_criteria_ctcv5`` assumes.
    inr_criteria : {"anticoagulation", "worse_of_both"}
        "anticoagulation" (default, CTCAE v5.0 text): absolute thresholds (> 1.2, 1.5, 2.5)
        unless ``anticoagulated_col``, then multiples of baseline. "worse_of_both": the worse
        of the absolute and the baseline-multiple criteria for every sample, baseline sample
        included (admiral), an alternative when the anticoagulation status is not recorded; a
        missing baseline then leaves grades the baseline criterion could raise undetermined.

    Returns
    -------
    DataFrame
        A copy of ``df_labs`` (same rows, order and index) with the columns of
        :func:`sirtstats.units.normalise_lab_units` (``value_si``, ``unit_si``, ``lln_si``,
        ``uln_si``, ``unit_factor``) and:

        - ``first_sirt_date`` (datetime64) and ``days_from_first_sirt`` (Int64, days; negative
          before SIRT);
        - ``is_baseline_sample`` (bool): this row is the patient's baseline for the analyte;
        - ``baseline_sample_date`` (datetime64), ``baseline_value_si``, ``baseline_uln_si``
          (float, SI) and ``is_baseline_abnormal`` (boolean: baseline > its ULN; NA without
          baseline);
        - ``is_post_baseline`` (bool): sampled after the first SIRT day;
        - ``ctcae_term`` (str), ``ctcae_grade`` (Int64 0-4, NA if not gradable) and
          ``grade_basis`` ("ULN", "baseline", "LLN" or "absolute": the reference of the
          criterion that set the grade, or of the branch used for grade 0).

    Raises
    ------
    SirtDataError
        For an unknown unit (see :func:`sirtstats.units.normalise_lab_units`), or, with
        ``missing_limits="error"``, for rows whose grade needs a missing ULN/LLN/baseline; the
        message names the first rows (patient_id, sample_date, analyte) and ``.rows`` holds all.
    ValueError
        For an invalid option.

    Notes
    -----
    Rows sampled on or before the first SIRT day (baseline included) are graded without a
    baseline: on ULN/LLN and absolute thresholds. Post-baseline rows follow the v5 branches:
    for bilirubin, ALT, AST, ALP and GGT, a normal (≤ ULN) or missing baseline grades on
    multiples of ULN and an abnormal baseline grades on multiples of the baseline value (ALT/AST
    grade 1 from 1.5 × baseline, ALP/GGT from 2.0 × baseline, bilirubin above 1.0 × baseline).
    Creatinine takes the worse of its ULN and baseline criteria. Cytopenias, hypoalbuminemia,
    anemia and hyponatremia use absolute thresholds, with grade 1 below the sample's LLN.
    Comparisons are made on values rounded to :data:`SIGNIFICANT_DIGITS` significant digits.

    References
    ----------
    CTCAE v5.0 (NCI, 2017); pharmaverse/admiral ``ncictcaev5.json``; T4.1 (docs/rules/toxicity.md).

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({
    ...     "patient_id": ["P1", "P1", "P2", "P2"],
    ...     "sample_date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-08",
    ...                                    "2024-02-12"]),
    ...     "analyte": ["alt"] * 4, "value": [30.0, 130.0, 80.0, 130.0],
    ...     "unit": ["U/L"] * 4, "lln": [None] * 4, "uln": [40.0] * 4,
    ... })
    >>> tx = pd.DataFrame({"patient_id": ["P1", "P2"],
    ...                    "treatment_date": pd.to_datetime(["2024-01-10", "2024-01-10"])})
    >>> derive_lab_grades(labs, df_treatments=tx)[
    ...     ["patient_id", "value_si", "baseline_value_si", "ctcae_grade", "grade_basis"]]
      patient_id  value_si  baseline_value_si  ctcae_grade grade_basis
    0         P1      30.0               30.0            0         ULN
    1         P1     130.0               30.0            2         ULN
    2         P2      80.0               80.0            1         ULN
    3         P2     130.0               80.0            1    baseline
    """
    func = "derive_lab_grades"
    missing_limits = _check_option(missing_limits, ("error", "ungraded"), "missing_limits", func)
    hyponatremia_125_129 = _check_option(
        hyponatremia_125_129, _HYPONATREMIA_CHOICES, "hyponatremia_125_129", func
    )
    inr_criteria = _check_option(inr_criteria, _INR_CHOICES, "inr_criteria", func)
    lo, hi = baseline_window_days
    if lo > hi:
        raise ValueError(
            f"The 'baseline_window_days' argument of {func} must be (start, end) with "
            f"start <= end. Got {baseline_window_days!r} instead."
        )
    crit = load_ctcae_criteria() if criteria is None else criteria
    _check_criteria(crit)
    anticoag_analytes = set(crit.loc[crit["condition"] == "anticoagulated", "analyte"])
    every_sample = anticoag_analytes if inr_criteria == "worse_of_both" else set()
    crit = _criteria_with_options(crit, hyponatremia_125_129, inr_criteria)
    out = normalise_lab_units(df_labs)
    n = len(out)
    pos = np.arange(n)
    sample = pd.to_datetime(out["sample_date"])
    first = _first_sirt_dates(df_treatments)
    first_date = out["patient_id"].map(first).astype("datetime64[ns]")
    days = (sample - first_date).dt.days
    out["first_sirt_date"] = first_date.to_numpy()
    out["days_from_first_sirt"] = _whole_numbers(days.to_numpy(dtype=float))

    work = pd.DataFrame(
        {
            "_pos": pos,
            "patient_id": out["patient_id"].to_numpy(),
            "analyte": out["analyte"].to_numpy(),
            "sample_date": sample.to_numpy(),
            "days": days.to_numpy(dtype=float),
            "value": out["value_si"].to_numpy(float),
            "uln": out["uln_si"].to_numpy(float),
        },
        copy=False,  # views of out's columns, not a third copy of them (2 M rows at 20k)
    )
    del sample, days, first_date
    cand = work[work["days"].between(lo, hi) & work["value"].notna()]
    cand = cand.sort_values(["patient_id", "analyte", "sample_date", "_pos"], kind="mergesort")
    base = cand.drop_duplicates(["patient_id", "analyte"], keep="last")
    base_pos = base["_pos"].to_numpy()
    is_base = np.zeros(n, dtype=bool)
    is_base[base_pos] = True
    # each row's (patient_id, analyte) as one integer; missing values form a key of their
    # own, as they match each other in a join. The baseline row of each key, if any, is
    # looked up by that integer (what a left join on the two columns gives, row for row)
    p_codes, p_values = pd.factorize(work["patient_id"], use_na_sentinel=False)
    a_codes, a_values = pd.factorize(work["analyte"], use_na_sentinel=False)
    key = p_codes.astype(np.int64) * (len(a_values) + 1) + a_codes
    del p_codes, a_codes
    row_of_key = np.full((len(p_values) + 1) * (len(a_values) + 1), -1, dtype=np.int64)
    row_of_key[key[base_pos]] = base_pos
    src = row_of_key[key]
    has_base = src >= 0
    src = np.where(has_base, src, 0)
    b_value = np.where(has_base, work["value"].to_numpy(float)[src], np.nan)
    b_uln = np.where(has_base, work["uln"].to_numpy(float)[src], np.nan)
    b_date = np.where(
        has_base,
        work["sample_date"].to_numpy(dtype="datetime64[ns]")[src],
        np.datetime64("NaT", "ns"),
    )
    b_uln_eff = np.where(np.isnan(b_uln), work["uln"].to_numpy(float), b_uln)
    with np.errstate(invalid="ignore"):
        abnormal = b_value > b_uln_eff
    abnormal_known = ~np.isnan(b_value) & ~np.isnan(b_uln_eff)
    del b_uln_eff, has_base
    out["is_baseline_sample"] = is_base
    out["baseline_sample_date"] = b_date
    del cand, base, key, src, row_of_key  # 2 M rows at 20,000 patients: not held further
    out["baseline_value_si"] = b_value
    out["baseline_uln_si"] = b_uln
    del b_date, b_uln
    out["is_baseline_abnormal"] = pd.array(
        np.where(abnormal_known, abnormal, False), dtype="boolean"
    )
    out.loc[~abnormal_known, "is_baseline_abnormal"] = pd.NA
    post = (work["days"] > 0).to_numpy()
    out["is_post_baseline"] = post

    if anticoagulated_col is not None:
        if anticoagulated_col not in out.columns:
            raise SirtDataError(
                f"labs: anticoagulated_col {anticoagulated_col!r} is not a column.",
                table="labs",
                column=anticoagulated_col,
                rule="required column",
            )
        anticoag = out[anticoagulated_col].astype("boolean").fillna(False).to_numpy(bool)
    else:
        anticoag = np.zeros(n, dtype=bool)

    # Anticoagulated INR is graded on multiples of baseline at every sample (the baseline
    # sample itself is then grade 0); other analytes use the baseline only after SIRT.
    # With inr_criteria="worse_of_both" INR uses the baseline at every sample too.
    use_baseline = (
        post
        | (anticoag & work["analyte"].isin(anticoag_analytes).to_numpy())
        | work["analyte"].isin(every_sample).to_numpy()
    )
    frame = pd.DataFrame(
        {
            "analyte": work["analyte"].to_numpy(),
            "value": work["value"].to_numpy(float),
            "uln": work["uln"].to_numpy(float),
            "lln": out["lln_si"].to_numpy(float),
            "baseline": np.where(use_baseline, b_value, np.nan),
            "abnormal": post & abnormal_known & abnormal,
            "anticoagulated": anticoag,
        },
        copy=False,
    )
    # the full-length working arrays are in ``out`` or ``frame`` now: held no further while
    # the rows are graded (each is 2 M rows at 20,000 patients)
    del work, b_value, abnormal, abnormal_known, post, use_baseline, anticoag
    graded = _grade_frame(frame, crit)
    del frame
    if graded["undetermined"].any() and missing_limits == "error":
        bad_pos = np.flatnonzero(graded["undetermined"].to_numpy())
        rows = df_labs.iloc[bad_pos]
        shown = rows[["patient_id", "sample_date", "analyte"]].assign(
            missing=graded["missing_reference"].iloc[bad_pos].to_numpy()
        )
        kinds = sorted(set(";".join(shown["missing"]).split(";")))
        column = "uln" if "ULN" in kinds else ("lln" if "LLN" in kinds else "value")
        where = f"labs.{column}" if column != "value" else "labs"
        raise SirtDataError(
            f"{where}: {len(bad_pos)} rows cannot be graded by CTCAE v{CTCAE_VERSION} "
            f"without their reference ({', '.join(kinds)}); first keys (patient_id, "
            f"sample_date, analyte, missing): {_keys(shown, 'missing')}. Add the laboratory's "
            "reference limits (lln/uln) to these rows, or pass missing_limits='ungraded' to "
            "leave them ungraded.",
            table="labs",
            column=column,
            rule="reference limit required for CTCAE grading",
            rows=rows,
        )
    out["ctcae_term"] = graded["term"].to_numpy()
    out["ctcae_grade"] = _whole_numbers(graded["grade"].to_numpy(dtype=float))
    out["grade_basis"] = graded["basis"].to_numpy()
    return out
