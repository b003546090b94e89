"""Vectorised response classifiers on sums (exact arithmetic), and the overall-response table.

These ``compute_*`` functions map arrays/Series to arrays/Series of response codes; the
timepoint engine (:func:`sirtstats.response.derive_timepoint_response`) uses the same rules on
lesion tables. Implements RECIST 1.1 R1.4 and R1.8 (Eisenhauer et al., Eur J Cancer 2009),
mRECIST R2.2 (Lencioni & Llovet, Semin Liver Dis 2010), and the bidimensional EASL (Bruix et al.,
J Hepatol 2001) and WHO (Miller et al., Cancer 1981) sum-of-products rules of
R3.1–R3.2 (docs/rules/response.md) with the defaults D13.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.response._common import (
    CRITERIA,
    OVERALL_NONTARGET_ONLY,
    OVERALL_WITH_TARGETS,
    check_bool,
    check_choice,
    exact_scale,
    pd_condition,
    pr_condition,
    to_exact,
)

__all__ = [
    "compute_bidimensional_response",
    "compute_overall_response",
    "compute_target_response",
]

#: EASL/WHO (D13): PR at >= 50 % decrease of the sum of products from baseline; PD at >= 25 %
#: increase over the nadir sum of products.
BIDIM_PR_NUM, BIDIM_PR_DEN = 1, 2
BIDIM_PD_NUM, BIDIM_PD_DEN = 1, 4


def _arr(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def _wrap(out: np.ndarray, like):
    if isinstance(like, pd.Series):
        return pd.Series(out, index=like.index, dtype=object)
    return out


def compute_overall_response(target, nontarget, new_lesion):
    """Overall timepoint response from target, non-target and new-lesion findings (R1.8).

    Parameters
    ----------
    target : array-like of str or None
        Target response (CR, PR, SD, PD, NE); None when the patient has no target lesion.
    nontarget : array-like of str or None
        Non-target response (CR, NON_CR_NON_PD, PD, NE); None when there is no non-target
        disease.
    new_lesion : array-like of str or None
        New lesion status (YES, NO, EQUIVOCAL; None read as NO). EQUIVOCAL is not PD (R1.7.2).

    Returns
    -------
    ndarray or Series of str
        Overall response per element (a Series when ``target`` is a Series).

    Notes
    -----
    Evaluation order (Appendix A): a new lesion YES -> PD; target or non-target PD -> PD; then
    table R1.8.1 for patients with targets and R1.8.2 for non-target-only disease; a patient
    without target or non-target disease is NE.

    References
    ----------
    RECIST 1.1, Eisenhauer et al., Eur J Cancer 2009;45:228-247, Tables 1-2.

    Examples
    --------
    >>> compute_overall_response(["CR", "CR", None], ["NON_CR_NON_PD", "NE", "CR"],
    ...                          ["NO", "NO", "NO"]).tolist()
    ['PR', 'PR', 'CR']
    """
    tr = np.atleast_1d(np.asarray(target, dtype=object))
    ntr = np.atleast_1d(np.asarray(nontarget, dtype=object))
    new = np.atleast_1d(np.asarray(new_lesion, dtype=object))
    # integer codes; the last code of each axis means "none" (no target / no non-target)
    t_codes = ["CR", "PR", "SD", "PD", "NE"]
    n_codes = ["CR", "NON_CR_NON_PD", "NE", "PD"]
    ti = np.full(tr.shape, len(t_codes), dtype=np.int64)
    for k, c in enumerate(t_codes):
        ti[tr == c] = k
    ni = np.full(ntr.shape, len(n_codes), dtype=np.int64)
    for k, c in enumerate(n_codes):
        ni[ntr == c] = k
    unknown_t = (ti == len(t_codes)) & ~pd.isna(tr)
    table = np.full((len(t_codes) + 1, len(n_codes) + 1), "NE", dtype=object)
    for (t, x), v in OVERALL_WITH_TARGETS.items():
        table[t_codes.index(t), len(n_codes) if x is None else n_codes.index(x)] = v
    for x, v in OVERALL_NONTARGET_ONLY.items():
        table[len(t_codes), n_codes.index(x)] = v
    out = table[ti, ni]
    out[unknown_t] = "NE"
    pd_any = (ti == t_codes.index("PD")) | (ni == n_codes.index("PD")) | (new == "YES")
    out = np.where(pd_any, "PD", out).astype(object)
    return _wrap(out, target)


def compute_target_response(
    current_mm,
    baseline_mm,
    nadir_mm,
    *,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    is_all_targets_cr=False,
    is_complete=True,
    mrecist_pd_requires_5mm: bool = False,
):
    """Target response from sums of diameters, compared exactly (R1.4, R1.5, R2.2).

    Parameters
    ----------
    current_mm, baseline_mm, nadir_mm : array-like of float
        Current sum, baseline sum and nadir sum (mm, >= 0; nadir = smallest complete sum
        before this visit, baseline included). For mRECIST these are viable-diameter sums.
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        RECIST 1.1 PD needs +20 % and +5 mm over the nadir; mRECIST +20 % only (D2).
    is_all_targets_cr : bool or array-like of bool, default False
        Every target meets the lesion-level CR rule (non-nodal 0 mm and nodes < 10 mm;
        mRECIST: no enhancement). CR is decided lesion by lesion, never by ``sum == 0``.
    is_complete : bool or array-like of bool, default True
        All targets were assessed; otherwise only PD can be shown (R1.5.2), else NE.
    mrecist_pd_requires_5mm : bool, default False
        Add the 5 mm absolute condition to mRECIST PD (D2).

    Returns
    -------
    ndarray or Series of str
        CR, PR, SD, PD or NE.

    Notes
    -----
    With ``B``, ``N``, ``C`` as exact integers (§0): PD if ``(C − N) × 5 ≥ N`` (any increase
    when ``N = 0``) and, where required, ``C − N ≥ 5 mm``; then CR; then PR if
    ``(B − C) × 10 ≥ 3 × B``; else SD.

    Examples
    --------
    >>> compute_target_response([23.1, 73.0, 19.0], [33.0, 100.0, 20.0],
    ...                         [33.0, 60.0, 15.0]).tolist()
    ['PR', 'PD', 'SD']
    """
    criterion = check_choice(criterion, CRITERIA, "criterion", "compute_target_response")
    req = check_bool(mrecist_pd_requires_5mm, "mrecist_pd_requires_5mm",
                     "compute_target_response") or criterion == "RECIST_1_1"
    c, b, n = _arr(current_mm), _arr(baseline_mm), _arr(nadir_mm)
    c, b, n = np.broadcast_arrays(c, b, n)
    scale = exact_scale(np.concatenate([c, b, n, [5.0]]))
    ci, _ = to_exact(c, scale)
    bi, _ = to_exact(b, scale)
    ni, _ = to_exact(n, scale)
    cr = np.broadcast_to(np.asarray(is_all_targets_cr, dtype=bool), c.shape)
    complete = np.broadcast_to(np.asarray(is_complete, dtype=bool), c.shape)
    pdc = pd_condition(ci, ni, scale=scale, requires_abs=req)
    out = np.select([pdc, ~complete, cr, pr_condition(ci, bi)], ["PD", "NE", "CR", "PR"],
                    default="SD").astype(object)
    out[np.isnan(c) | np.isnan(b) | np.isnan(n)] = "NE"
    return _wrap(out, current_mm)


def compute_bidimensional_response(
    current_mm2,
    baseline_mm2,
    nadir_mm2,
    *,
    criterion: Literal["EASL", "WHO"] = "EASL",
):
    """EASL / WHO response from sums of products of perpendicular diameters (§3.1-§3.2).

    Parameters
    ----------
    current_mm2, baseline_mm2, nadir_mm2 : array-like of float
        Sum of products (mm², >= 0) now, at baseline and at the nadir. EASL uses the viable
        (enhancing) tumour, WHO the whole lesion.
    criterion : {"EASL", "WHO"}, default "EASL"
        Both use the same thresholds (D13); the name is recorded for clarity.

    Returns
    -------
    ndarray or Series of str
        CR (sum 0), PR (>= 50 % decrease from baseline), PD (>= 25 % increase over the nadir,
        or any increase from a zero nadir), else SD; compared exactly.

    References
    ----------
    EASL: Bruix J et al., J Hepatol 2001;35:421-430. WHO: Miller AB et al., Cancer
    1981;47:207-214.

    Examples
    --------
    >>> compute_bidimensional_response([500.0, 644.0], [1200.0, 1200.0], [1200.0, 500.0]).tolist()
    ['PR', 'PD']
    """
    check_choice(criterion, ("EASL", "WHO"), "criterion", "compute_bidimensional_response")
    c, b, n = np.broadcast_arrays(_arr(current_mm2), _arr(baseline_mm2), _arr(nadir_mm2))
    scale = exact_scale(np.concatenate([c, b, n]))
    ci, _ = to_exact(c, scale)
    bi, _ = to_exact(b, scale)
    ni, _ = to_exact(n, scale)
    pdc = ((ni == 0) & (ci > 0)) | ((ni > 0) & ((ci - ni) * BIDIM_PD_DEN >= ni * BIDIM_PD_NUM))
    prc = (bi - ci) * BIDIM_PR_DEN >= bi * BIDIM_PR_NUM
    out = np.select([np.asarray(pdc, bool), np.asarray(ci == 0, bool), np.asarray(prc, bool)],
                    ["PD", "CR", "PR"], default="SD").astype(object)
    out[np.isnan(c) | np.isnan(b) | np.isnan(n)] = "NE"
    return _wrap(out, current_mm2)
