"""Liver-function and body-size scores: ALBI, Child-Pugh, MELD, BSA.

Implements ALBI (Johnson et al., J Clin Oncol 2015;33:550-558), Child-Turcotte-Pugh (with the
French prothrombin-ratio "TP" option), MELD (UNOS/OPTN form, Kamath et al., Hepatology 2001) and
DuBois body surface area (DuBois & DuBois, Arch Intern Med 1916), as described in
M2.4 (docs/rules/dosimetry.md) and 3. All functions are vectorised: they take
scalars, arrays or Series and return the same shape (a Series keeps its index).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "ALBI_GRADE_CUTOFFS",
    "compute_albi",
    "compute_albi_grade",
    "compute_bsa_dubois",
    "compute_child_pugh_class",
    "compute_child_pugh_points",
    "compute_meld",
    "derive_liver_scores",
]

#: ALBI grade cut-offs: grade 1 if score <= -2.60, grade 2 if <= -1.39, else grade 3
#: (Johnson et al. 2015).
ALBI_GRADE_CUTOFFS: tuple[float, float] = (-2.60, -1.39)

#: Bilirubin mg/dL -> umol/L.
BILIRUBIN_MG_DL_TO_UMOL_L = 17.1
#: Creatinine mg/dL -> umol/L.
CREATININE_MG_DL_TO_UMOL_L = 88.4


def _wrap(values, like):
    if isinstance(like, pd.Series):
        return pd.Series(values, index=like.index)
    values = np.asarray(values)
    return values.item() if values.ndim == 0 else values


def _scalar_or(series: pd.Series, like):
    """Return a plain Python scalar (or pandas.NA) for scalar input, else the Series."""
    if np.ndim(like) != 0:
        return series
    value = series.iloc[0]
    if value is None or value is pd.NA:
        return value
    return value.item() if hasattr(value, "item") else value


def compute_albi(bilirubin_umol_l, albumin_g_l):
    """ALBI score from total bilirubin and albumin.

    Parameters
    ----------
    bilirubin_umol_l : float, array-like or Series
        Total bilirubin in umol/L (mg/dL x 17.1); must be > 0, else the score is NaN.
    albumin_g_l : float, array-like or Series
        Serum albumin in g/L (g/dL x 10).

    Returns
    -------
    float, ndarray or Series
        ``0.66 * log10(bilirubin) - 0.085 * albumin`` (dimensionless; lower is better).

    References
    ----------
    Johnson PJ et al. J Clin Oncol 2015;33:550-558.

    Examples
    --------
    >>> round(compute_albi(17.1, 40), 3)
    -2.586
    """
    bili = np.asarray(bilirubin_umol_l, dtype=float)
    alb = np.asarray(albumin_g_l, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(bili > 0, 0.66 * np.log10(np.where(bili > 0, bili, 1.0)), np.nan)
    return _wrap(score - 0.085 * alb, bilirubin_umol_l)


def compute_albi_grade(albi_score):
    """ALBI grade (1, 2 or 3) from the ALBI score.

    Parameters
    ----------
    albi_score : float, array-like or Series
        ALBI score (see :func:`compute_albi`).

    Returns
    -------
    Int64 Series, or int / pandas.NA for a scalar
        1 if score <= -2.60; 2 if -2.60 < score <= -1.39; 3 if score > -1.39; NA if missing.

    Examples
    --------
    >>> compute_albi_grade(-2.586)
    2
    """
    s = pd.Series(np.round(np.atleast_1d(np.asarray(albi_score, dtype=float)), 9))
    low, high = ALBI_GRADE_CUTOFFS
    grade = pd.Series(np.select([s <= low, s <= high, s > high], [1, 2, 3], 0)).astype("Int64")
    grade[s.isna()] = pd.NA
    if isinstance(albi_score, pd.Series):
        return grade.set_axis(albi_score.index)
    return _scalar_or(grade, albi_score)


#: Decimals kept before comparing a value with a score boundary, so that a unit conversion such
#: as 3.0 mg/dL x 17.1 = 51.300000000000004 umol/L still lands exactly on the 51.3 boundary.
BOUNDARY_DECIMALS = 6


def _points(values, low, high, *, higher_is_worse):
    """1/2/3 points with both boundaries scoring 2 (S3.2, docs/rules/toxicity.md)."""
    v = np.round(np.asarray(values, dtype=float), BOUNDARY_DECIMALS)
    if higher_is_worse:
        pts = np.where(v < low, 1, np.where(v <= high, 2, 3))
    else:
        pts = np.where(v > high, 1, np.where(v >= low, 2, 3))
    return np.where(np.isnan(v), np.nan, pts)


_ASCITES_POINTS = {"none": 1, "mild": 2, "moderate_severe": 3}
_ENCEPHALOPATHY_POINTS = {"none": 1, "grade_1_2": 2, "grade_3_4": 3}


def compute_child_pugh_points(
    bilirubin_umol_l,
    albumin_g_l,
    inr,
    ascites,
    encephalopathy,
    *,
    prothrombin_pct=None,
    bilirubin_cutoffs_umol_l: tuple[float, float] = (34.2, 51.3),
):
    """Child-Pugh score (5-15 points).

    Parameters
    ----------
    bilirubin_umol_l : array-like
        Total bilirubin, umol/L. Points: < 34.2 -> 1, 34.2-51.3 -> 2, > 51.3 -> 3 (2 and
        3 mg/dL; boundaries score 2). French tables use ``bilirubin_cutoffs_umol_l=(35, 50)``.
    albumin_g_l : array-like
        Albumin, g/L. Points: > 35 -> 1, 28-35 -> 2, < 28 -> 3.
    inr : array-like
        INR. Points: < 1.7 -> 1, 1.7-2.3 -> 2, > 2.3 -> 3. Where INR is missing and
        ``prothrombin_pct`` is given, the prothrombin ratio is used instead.
    ascites : array-like of {"none", "mild", "moderate_severe"}
        Ascites category (1 / 2 / 3 points).
    encephalopathy : array-like of {"none", "grade_1_2", "grade_3_4"}
        Hepatic encephalopathy category (1 / 2 / 3 points).
    prothrombin_pct : array-like, optional
        Prothrombin ratio "TP" in %: > 50 -> 1, 40-50 -> 2, < 40 -> 3.
    bilirubin_cutoffs_umol_l : tuple of float
        Bilirubin boundaries in umol/L.

    Returns
    -------
    Int64 Series or int
        Sum of the five items; NA when any item is missing.

    References
    ----------
    Pugh RN et al. Br J Surg 1973;60:646-649; S3.2 (docs/rules/toxicity.md).

    Examples
    --------
    >>> compute_child_pugh_points(34.2, 35, 1.2, "none", "none")
    7
    """
    n = np.broadcast(np.atleast_1d(bilirubin_umol_l), np.atleast_1d(albumin_g_l)).shape
    bili = _points(bilirubin_umol_l, *bilirubin_cutoffs_umol_l, higher_is_worse=True)
    alb = _points(albumin_g_l, 28.0, 35.0, higher_is_worse=False)
    coag = _points(inr, 1.7, 2.3, higher_is_worse=True)
    if prothrombin_pct is not None:
        tp = _points(prothrombin_pct, 40.0, 50.0, higher_is_worse=False)
        coag = np.where(np.isnan(coag), tp, coag)
    asc = pd.Series(np.broadcast_to(np.asarray(ascites, dtype=object), n)).map(_ASCITES_POINTS)
    enc = pd.Series(np.broadcast_to(np.asarray(encephalopathy, dtype=object), n)).map(
        _ENCEPHALOPATHY_POINTS
    )
    total = pd.Series(
        np.broadcast_to(bili, n) + np.broadcast_to(alb, n) + np.broadcast_to(coag, n)
        + asc.to_numpy(dtype=float) + enc.to_numpy(dtype=float)
    )
    total = total.round().astype("Int64")
    if isinstance(bilirubin_umol_l, pd.Series):
        return total.set_axis(bilirubin_umol_l.index)
    return _scalar_or(total, bilirubin_umol_l)


def compute_child_pugh_class(points):
    """Child-Pugh class from points: A (5-6), B (7-9), C (10-15).

    Parameters
    ----------
    points : int, array-like or Series
        Child-Pugh points.

    Returns
    -------
    str Series (object) or str
        "A", "B", "C", or None where points are missing.

    Examples
    --------
    >>> compute_child_pugh_class(7)
    'B'
    """
    p = pd.Series(np.atleast_1d(np.asarray(points, dtype=float)))
    cls = pd.Series(np.select([p <= 6, p <= 9, p <= 15], ["A", "B", "C"], ""), dtype=object)
    cls[p.isna() | (cls == "")] = None
    if isinstance(points, pd.Series):
        return cls.set_axis(points.index)
    return _scalar_or(cls, points)


def compute_meld(bilirubin_umol_l, inr, creatinine_umol_l, *, on_dialysis=False):
    """MELD score (UNOS/OPTN form), bounded 6-40.

    Parameters
    ----------
    bilirubin_umol_l : array-like
        Total bilirubin, umol/L (converted to mg/dL by / 17.1; floored at 1 mg/dL).
    inr : array-like
        INR (floored at 1).
    creatinine_umol_l : array-like
        Creatinine, umol/L (converted to mg/dL by / 88.4; bounded to 1-4 mg/dL; 4 on dialysis).
    on_dialysis : bool or array-like of bool
        Dialysis at least twice a week (creatinine set to 4 mg/dL).

    Returns
    -------
    Int64 Series or int
        ``round(10 * (0.957 ln cr + 0.378 ln bili + 1.120 ln inr + 0.643))``; rounding is
        applied once, to 10 x MELD(i), half away from zero.

    References
    ----------
    Kamath PS et al. Hepatology 2001;33:464-470; S3.5 (docs/rules/toxicity.md).

    Examples
    --------
    >>> compute_meld(2.0 * 17.1, 1.3, 1.0 * 88.4)
    12
    """
    bili = np.maximum(np.asarray(bilirubin_umol_l, dtype=float) / BILIRUBIN_MG_DL_TO_UMOL_L, 1.0)
    inr_ = np.maximum(np.asarray(inr, dtype=float), 1.0)
    cr = np.clip(np.asarray(creatinine_umol_l, dtype=float) / CREATININE_MG_DL_TO_UMOL_L, 1, 4)
    cr = np.where(np.asarray(on_dialysis, dtype=bool), 4.0, cr)
    meld_i = 0.957 * np.log(cr) + 0.378 * np.log(bili) + 1.120 * np.log(inr_) + 0.643
    x = 10 * meld_i
    rounded = np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), 6, 40)
    out = pd.Series(np.atleast_1d(rounded)).astype("Int64")
    if isinstance(bilirubin_umol_l, pd.Series):
        return out.set_axis(bilirubin_umol_l.index)
    return _scalar_or(out, bilirubin_umol_l)


def compute_bsa_dubois(height_cm, weight_kg):
    """Body surface area by DuBois & DuBois.

    Parameters
    ----------
    height_cm : array-like
        Height in cm.
    weight_kg : array-like
        Weight in kg.

    Returns
    -------
    float, ndarray or Series
        BSA in m^2: ``0.007184 * height_cm**0.725 * weight_kg**0.425``.

    References
    ----------
    DuBois D, DuBois EF. Arch Intern Med 1916;17:863-871; M2.4 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> round(compute_bsa_dubois(175, 75), 4)
    1.9031
    """
    h = np.asarray(height_cm, dtype=float)
    w = np.asarray(weight_kg, dtype=float)
    return _wrap(0.007184 * h**0.725 * w**0.425, height_cm)


def derive_liver_scores(
    df: pd.DataFrame, *, bilirubin_cutoffs_umol_l: tuple[float, float] = (34.2, 51.3)
) -> pd.DataFrame:
    """Add ALBI score and grade and Child-Pugh points and class to a frame of liver values.

    Parameters
    ----------
    df : DataFrame
        One row per patient (or patient and timepoint) with ``bilirubin_umol_l`` (float,
        umol/L), ``albumin_g_l`` (float, g/L), ``inr`` (float), ``prothrombin_pct`` (float, %,
        used where INR is missing), ``ascites`` and ``encephalopathy`` (Child-Pugh categories).
    bilirubin_cutoffs_umol_l : tuple of float
        Child-Pugh bilirubin boundaries (see :func:`compute_child_pugh_points`).

    Returns
    -------
    DataFrame
        A copy of ``df`` with ``albi_score`` (float), ``albi_grade`` (Int64 1-3),
        ``child_pugh_points`` (Int64 5-15) and ``child_pugh_class`` ("A"/"B"/"C"); NA where an
        input is missing.

    Examples
    --------
    >>> df = pd.DataFrame({"bilirubin_umol_l": [34.2], "albumin_g_l": [35.0], "inr": [1.2],
    ...                    "prothrombin_pct": [None], "ascites": ["none"],
    ...                    "encephalopathy": ["none"]})
    >>> derive_liver_scores(df)[["albi_grade", "child_pugh_points", "child_pugh_class"]]
       albi_grade  child_pugh_points child_pugh_class
    0           2                  7                B
    """
    out = df.copy()
    out["albi_score"] = compute_albi(out["bilirubin_umol_l"], out["albumin_g_l"])
    out["albi_grade"] = compute_albi_grade(out["albi_score"])
    out["child_pugh_points"] = compute_child_pugh_points(
        out["bilirubin_umol_l"], out["albumin_g_l"], out["inr"], out["ascites"],
        out["encephalopathy"], prothrombin_pct=out["prothrombin_pct"],
        bilirubin_cutoffs_umol_l=bilirubin_cutoffs_umol_l,
    ).astype("Int64")
    out["child_pugh_class"] = compute_child_pugh_class(out["child_pugh_points"])
    return out
