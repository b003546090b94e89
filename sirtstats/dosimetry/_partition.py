"""The three-compartment partition model (Ho et al., Eur J Nucl Med 1996), forward and inverse.

Part of :mod:`sirtstats.dosimetry` (import from there); M2, docs/rules/dosimetry.md.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from sirtstats.dosimetry._physics import (
    LUNG_MASS_KG,
    _check_choice,
    _check_range,
    _index_of,
    _lsf_fraction,
    _wrap,
    compute_dose_factor,
)
from sirtstats.exceptions import SirtDataError

__all__ = [
    "compute_partition_activity",
    "compute_partition_doses",
]


# --------------------------------------------------------------------------------------------
# partition model
# --------------------------------------------------------------------------------------------
def _partition_inputs(tumour_mass_kg, normal_liver_mass_kg, tnr, lsf_pct, fn, *, allow_100):
    m_t = _check_range(tumour_mass_kg, "tumour_mass_kg", fn, low=0, unit=" kg")
    m_n = _check_range(normal_liver_mass_kg, "normal_liver_mass_kg", fn, low=0, unit=" kg")
    r = _check_range(tnr, "tnr", fn, low=0, unit=" (ratio)")
    lsf = _lsf_fraction(lsf_pct, fn, allow_100=allow_100)
    denom = r * m_t + m_n
    if np.any(denom == 0):
        raise SirtDataError(
            f"{fn}: TNR x tumour_mass_kg + normal_liver_mass_kg is 0; the perfused liver has "
            f"no mass that can take up activity.",
            rule="tnr * tumour_mass_kg + normal_liver_mass_kg > 0",
        )
    return m_t, m_n, r, lsf, denom


def compute_partition_doses(
    activity_gbq,
    tumour_mass_kg,
    normal_liver_mass_kg,
    tnr,
    lsf_pct,
    *,
    lung_mass_kg=LUNG_MASS_KG,
    isotope: Literal["Y90", "Ho166"] = "Y90",
    dose_factor=None,
) -> pd.DataFrame:
    """Partition-model (three-compartment) doses for an administered activity.

    Parameters
    ----------
    activity_gbq : float, array-like or Series
        Total activity administered, GBq (>= 0).
    tumour_mass_kg : float, array-like or Series
        Perfused tumour mass m_T, kg (>= 0).
    normal_liver_mass_kg : float, array-like or Series
        Non-tumoural perfused liver mass m_N, kg (>= 0).
    tnr : float, array-like or Series
        Tumour-to-normal-liver uptake (concentration) ratio (>= 0).
    lsf_pct : float, array-like or Series
        Lung shunt fraction, % (0-100).
    lung_mass_kg : float, array-like or Series, default 1.0
        Lung mass, kg (> 0).
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide.
    dose_factor : float or str, optional
        Dose constant override (see :func:`compute_dose_factor`).

    Returns
    -------
    DataFrame
        One row per input element (index of the first Series input, else a RangeIndex):
        ``tumour_dose_gy``, ``normal_liver_dose_gy``, ``lung_dose_gy`` (float, Gy).

    Raises
    ------
    SirtDataError
        For negative masses, activity or TNR, an LSF outside 0-100 %, or ``TNR m_T + m_N = 0``.

    Notes
    -----
    ``A_liver = A (1 - LSF)``; ``D_N = K A_liver / (TNR m_T + m_N)``; ``D_T = TNR D_N``;
    ``D_L = K A LSF / m_L``. TNR must be the ratio of count *concentrations*, not of total counts.

    References
    ----------
    Ho S et al. Partition model for estimating radiation doses from yttrium-90 microspheres in
    treating hepatic tumours. Eur J Nucl Med 1996;23:947-952; M2.5 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> compute_partition_doses(1.40054, 0.2, 1.0, 3, 8).round(2)
       tumour_dose_gy  normal_liver_dose_gy  lung_dose_gy
    0           120.0                  40.0          5.57
    """
    fn = "compute_partition_doses"
    k = compute_dose_factor(isotope, dose_factor)
    a = _check_range(activity_gbq, "activity_gbq", fn, low=0, unit=" GBq")
    m_t, m_n, r, lsf, denom = _partition_inputs(
        tumour_mass_kg, normal_liver_mass_kg, tnr, lsf_pct, fn, allow_100=True
    )
    m_l = _check_range(lung_mass_kg, "lung_mass_kg", fn, low=0, low_open=True, unit=" kg")
    d_n = k * a * (1.0 - lsf) / denom
    a_b, d_n_b, r_b, lsf_b, m_l_b = np.broadcast_arrays(a, d_n, r, lsf, m_l)
    index = _index_of(activity_gbq, tumour_mass_kg, normal_liver_mass_kg, tnr, lsf_pct)
    out = pd.DataFrame(
        {
            "tumour_dose_gy": np.atleast_1d(r_b * d_n_b),
            "normal_liver_dose_gy": np.atleast_1d(d_n_b),
            "lung_dose_gy": np.atleast_1d(k * a_b * lsf_b / m_l_b),
        }
    )
    if index is not None and len(index) == len(out):
        out.index = index
    return out


def compute_partition_activity(
    dose_gy,
    tumour_mass_kg,
    normal_liver_mass_kg,
    tnr,
    lsf_pct,
    *,
    compartment: Literal["normal_liver", "tumour"] = "normal_liver",
    isotope: Literal["Y90", "Ho166"] = "Y90",
    dose_factor=None,
):
    """Partition-model activity for a target dose in the normal liver or the tumour.

    Parameters
    ----------
    dose_gy : float, array-like or Series
        Target (or limit) dose in the chosen compartment, Gy (>= 0).
    tumour_mass_kg : float, array-like or Series
        Perfused tumour mass m_T, kg (>= 0).
    normal_liver_mass_kg : float, array-like or Series
        Non-tumoural perfused liver mass m_N, kg (>= 0).
    tnr : float, array-like or Series
        Tumour-to-normal-liver concentration ratio (> 0 when ``compartment="tumour"``).
    lsf_pct : float, array-like or Series
        Lung shunt fraction, % (0 to < 100).
    compartment : {"normal_liver", "tumour"}, default "normal_liver"
        Compartment the dose refers to (normal-liver safety limit, or tumour target).
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide.
    dose_factor : float or str, optional
        Dose constant override (see :func:`compute_dose_factor`).

    Returns
    -------
    float, ndarray or Series
        Activity in GBq: ``D_N (TNR m_T + m_N) / (K (1 - LSF))``, or for a tumour target
        ``D_T (TNR m_T + m_N) / (K TNR (1 - LSF))``.

    Raises
    ------
    ValueError
        For an unknown ``compartment``.
    SirtDataError
        For negative inputs, an LSF outside 0 to < 100 %, or a tumour target with TNR = 0.

    References
    ----------
    Ho S et al. Eur J Nucl Med 1996;23:947-952; M2.5 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> round(compute_partition_activity(40, 0.2, 1.0, 3, 8), 3)
    1.401
    >>> round(compute_partition_activity(120, 0.2, 1.0, 3, 8, compartment="tumour"), 3)
    1.401
    """
    fn = "compute_partition_activity"
    _check_choice(compartment, ("normal_liver", "tumour"), "compartment", fn)
    k = compute_dose_factor(isotope, dose_factor)
    d = _check_range(dose_gy, "dose_gy", fn, low=0, unit=" Gy")
    _m_t, _m_n, r, lsf, denom = _partition_inputs(
        tumour_mass_kg, normal_liver_mass_kg, tnr, lsf_pct, fn, allow_100=False
    )
    if compartment == "tumour":
        if np.any(r == 0):
            raise SirtDataError(
                f"{fn}: a tumour dose target needs tnr > 0 (TNR 0 means no tumour uptake).",
                column="tnr",
                rule="tnr > 0",
            )
        out = d * denom / (k * r * (1.0 - lsf))
    else:
        out = d * denom / (k * (1.0 - lsf))
    return _wrap(out, dose_gy, tumour_mass_kg, normal_liver_mass_kg, tnr, lsf_pct)
