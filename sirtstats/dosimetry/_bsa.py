"""The resin (SIR-Spheres) BSA method and its lung-shunt activity reduction.

Part of :mod:`sirtstats.dosimetry` (import from there); M2, docs/rules/dosimetry.md.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from sirtstats.dosimetry._physics import (
    BSA_METHOD_OFFSET_GBQ,
    RESIN_LSF_REDUCTION,
    _arr,
    _check_choice,
    _check_range,
    _wrap,
)

__all__ = [
    "compute_bsa_activity",
    "compute_resin_lsf_factor",
]


# --------------------------------------------------------------------------------------------
# resin BSA method
# --------------------------------------------------------------------------------------------
def compute_resin_lsf_factor(lsf_pct):
    """Resin (SIR-Spheres) activity reduction factor for a lung shunt fraction.

    Parameters
    ----------
    lsf_pct : float, array-like or Series
        Lung shunt fraction, % (0-100).

    Returns
    -------
    float, ndarray or Series
        1.0 below 10 %; 0.8 for [10, 15) %; 0.6 for [15, 20] %; 0.0 above 20 % (do not treat
        with resin); NaN for a missing LSF. Rules in :data:`RESIN_LSF_REDUCTION`.

    Raises
    ------
    SirtDataError
        For an LSF outside 0-100 %.

    References
    ----------
    SIR-Spheres IFU, via Grosser OS et al. JVIR 2015;26:1615-1621; M2.3 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> [compute_resin_lsf_factor(x) for x in (9.99, 10, 15, 20, 20.01)]
    [1.0, 0.8, 0.6, 0.6, 0.0]
    """
    lsf = _check_range(lsf_pct, "lsf_pct", "compute_resin_lsf_factor", low=0, high=100,
                       unit=" %")
    out = np.full(lsf.shape, np.nan)
    for low, low_inclusive, high, high_inclusive, factor in RESIN_LSF_REDUCTION:
        above = (lsf >= low) if low_inclusive else (lsf > low)
        below = (lsf <= high) if high_inclusive else (lsf < high)
        out = np.where(above & below, factor, out)
    return _wrap(out, lsf_pct)


def compute_bsa_activity(
    bsa_m2,
    tumour_involvement_pct,
    *,
    lsf_pct=None,
    target_liver_fraction=1.0,
    lobar_method: Literal["proportional", "base_only"] = "proportional",
):
    """Resin activity by the BSA method, with the lung-shunt reduction.

    Parameters
    ----------
    bsa_m2 : float, array-like or Series
        Body surface area, m^2 (> 0), DuBois formula (see
        :func:`sirtstats.scores.compute_bsa_dubois`; do not substitute Mosteller silently).
    tumour_involvement_pct : float, array-like or Series
        Tumour volume as % of the total liver volume, ``V_T / (V_T + V_N) * 100`` (0-100).
    lsf_pct : float, array-like or Series, optional
        Lung shunt fraction, %; when given, the activity is multiplied by
        :func:`compute_resin_lsf_factor` (0 above 20 %). None applies no reduction.
    target_liver_fraction : float, array-like or Series, default 1.0
        Treated fraction of the total liver volume (0-1] for lobar/partial treatment.
    lobar_method : {"proportional", "base_only"}, default "proportional"
        Lobar scaling: "proportional" scales the whole-liver activity,
        ``A * V_target / V_liver``; "base_only" scales only the BSA term,
        ``(BSA - 0.2) * V_target / V_liver + f_tumour`` (variant of one public calculator;
        then pass the tumour involvement of the target as a % of the whole liver).

    Returns
    -------
    float, ndarray or Series
        Activity in GBq: ``((BSA - 0.2) + f_tumour) * factor(LSF)`` for the whole liver.

    Raises
    ------
    ValueError
        For an unknown ``lobar_method``.
    SirtDataError
        For BSA <= 0, tumour involvement or LSF outside 0-100 %, or a target fraction outside
        (0, 1].

    Notes
    -----
    BSA correlates only moderately with liver volume: large livers are under-dosed and small
    livers over-dosed (Lam et al. JVIR 2014). The exact IFU wording of the lobar scaling was not
    verified (M7.1, docs/rules/dosimetry.md), hence the option.

    References
    ----------
    SIR-Spheres IFU; Kao YH et al. Ann Nucl Med 2011;25:455-461; M2.4 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> round(compute_bsa_activity(1.9031, 20, lsf_pct=12), 3)
    1.522
    """
    fn = "compute_bsa_activity"
    _check_choice(lobar_method, ("proportional", "base_only"), "lobar_method", fn)
    bsa = _check_range(bsa_m2, "bsa_m2", fn, low=0, low_open=True, unit=" m^2")
    f_t = _check_range(tumour_involvement_pct, "tumour_involvement_pct", fn, low=0, high=100,
                       unit=" %") / 100.0
    frac = _check_range(target_liver_fraction, "target_liver_fraction", fn, low=0, high=1,
                        low_open=True)
    if lobar_method == "proportional":
        activity = ((bsa - BSA_METHOD_OFFSET_GBQ) + f_t) * frac
    else:
        activity = (bsa - BSA_METHOD_OFFSET_GBQ) * frac + f_t
    if lsf_pct is not None:
        activity = activity * _arr(compute_resin_lsf_factor(lsf_pct))
    return _wrap(activity, bsa_m2, tumour_involvement_pct, lsf_pct, target_liver_fraction)
