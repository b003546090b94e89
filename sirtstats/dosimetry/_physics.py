"""Dosimetry physics: constants, dose factors, tissue mass, decay, MIRD and lung dose.

The partition model is in :mod:`sirtstats.dosimetry._partition`, the resin BSA method in
:mod:`sirtstats.dosimetry._bsa`; import all of them from :mod:`sirtstats.dosimetry`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import check_choice, match_choice
from sirtstats.exceptions import SirtDataError

__all__ = [
    "BSA_METHOD_OFFSET_GBQ",
    "DEVICE_ISOTOPE",
    "HALF_LIFE_H",
    "HO166_GY_KG_PER_GBQ",
    "LITERATURE_DOSE_THRESHOLDS",
    "LUNG_DOSE_LIMIT_CUMULATIVE_GY",
    "LUNG_DOSE_LIMIT_SINGLE_GY",
    "LUNG_MASS_KG",
    "RESIN_LSF_REDUCTION",
    "TISSUE_DENSITY_G_ML",
    "Y90_DOSE_FACTORS",
    "Y90_GY_KG_PER_GBQ",
    "compute_decay_factor",
    "compute_decayed_activity",
    "compute_dose_factor",
    "compute_lung_dose",
    "compute_max_activity_for_lung_limit",
    "compute_mird_activity",
    "compute_mird_dose",
    "compute_tissue_mass",
    "load_dose_thresholds",
]


# --------------------------------------------------------------------------------------------
# constants (M1.1, docs/rules/dosimetry.md)
# --------------------------------------------------------------------------------------------

#: Y-90 absorbed-dose constant, Gy.kg/GBq (= J/GBq released over complete decay, local
#: deposition). Default of the partition-model literature and most calculators
#: (M2.1, docs/rules/dosimetry.md recommendation).
Y90_GY_KG_PER_GBQ: float = 49.67

#: Named Y-90 dose-constant variants (Gy.kg/GBq); differences are <= 1.2 %.
#: ``"partition_model"`` 49.67 (partition-model literature, Ho et al. 1996 tradition);
#: ``"glass_insert"`` 50 (TheraSphere US package insert v12, ``D = 50 A (1 - F) / M``);
#: ``"icrp107"`` 49.38 (ICRP-107 mean beta energy 0.9267 MeV with T1/2 64.1 h).
Y90_DOSE_FACTORS: dict[str, float] = {
    "partition_model": 49.67,
    "glass_insert": 50.0,
    "icrp107": 49.38,
}

#: Ho-166 absorbed-dose constant, Gy.kg/GBq (15.87 mJ/MBq; J Nucl Med 2016;57(S2):199).
HO166_GY_KG_PER_GBQ: float = 15.87

#: Physical half-lives in hours: Y-90 64.1 h (TheraSphere insert v12), Ho-166 26.8 h.
HALF_LIFE_H: dict[str, float] = {"Y90": 64.1, "Ho166": 26.8}

#: Isotope of each ``treatments.device`` value.
DEVICE_ISOTOPE: dict[str, str] = {"Y90_glass": "Y90", "Y90_resin": "Y90", "Ho166_PLLA": "Ho166"}

#: Liver and tumour tissue density, g/mL (convention; 1.05 and 1.06 are also in use).
TISSUE_DENSITY_G_ML: float = 1.03

#: Lung mass convention, kg (a CT-derived patient-specific mass may replace it).
LUNG_MASS_KG: float = 1.0

#: Lung absorbed-dose limits, Gy: 30 Gy for a single treatment, 50 Gy cumulative over all
#: treatments (glass insert tradition; M2.3 (docs/rules/dosimetry.md)). Some resin guidance uses
#: ~25 Gy per session [unverified]: pass ``single_limit_gy=25``.
LUNG_DOSE_LIMIT_SINGLE_GY: float = 30.0
LUNG_DOSE_LIMIT_CUMULATIVE_GY: float = 50.0

#: Resin (SIR-Spheres IFU) lung-shunt reduction applied to the BSA/empirical activity, as rules:
#: ``(lower_pct, lower_inclusive, upper_pct, upper_inclusive, factor)``: [0, 10) -> 1.0,
#: [10, 15) -> 0.8, [15, 20] -> 0.6, (20, 100] -> 0 = do not treat with resin (docs/rules/
#: section 2.3, our edge proposal for the IFU's "10-15 %, 15-20 %"; Grosser et al. JVIR 2015).
RESIN_LSF_REDUCTION: tuple[tuple[float, bool, float, bool, float], ...] = (
    (0.0, True, 10.0, False, 1.0),
    (10.0, True, 15.0, False, 0.8),
    (15.0, True, 20.0, True, 0.6),
    (20.0, False, 100.0, True, 0.0),
)

#: BSA-method offset, GBq: ``A = (BSA - 0.2) + f_tumour`` (SIR-Spheres IFU).
BSA_METHOD_OFFSET_GBQ: float = 0.2

#: Literature dose thresholds (mean absorbed dose, Gy) used to split dose-response analyses;
#: EANM 2022 (Weber et al., EJNMMI 2022;49:1682-1699, Tables 2-3), DOSISPHERE-01 (Garin et al.,
#: Lancet Gastroenterol Hepatol 2021), Gabr et al. 2021, Levillain et al. EJNMMI 2021.
#: Each threshold belongs to one device and indication (never apply a glass threshold to resin or
#: Ho-166 doses); the tumour response thresholds also carry ``response_criterion`` (criterion of
#: the source study) and ``reference`` (full citation) for the per-device dose-response.
LITERATURE_DOSE_THRESHOLDS: tuple[dict, ...] = (
    {"device": "Y90_glass", "indication": "HCC", "compartment": "tumour", "threshold_gy": 205.0,
     "kind": "response_minimum", "source": "DOSISPHERE-01 (Garin 2021); EANM 2022 Table 2",
     "response_criterion": "EASL, index lesion [unverified]",
     "reference": "Y-90 glass, HCC: Garin E et al. DOSISPHERE-01, Lancet Gastroenterol Hepatol "
                  "2021;6:17-29; Weber M et al. EANM guideline, EJNMMI 2022;49:1682-1699, "
                  "Table 2"},
    {"device": "Y90_glass", "indication": "HCC", "compartment": "perfused", "threshold_gy": 150.0,
     "kind": "response_minimum", "source": "DOSISPHERE-01 update (Garin 2024)"},
    {"device": "Y90_glass", "indication": "HCC", "compartment": "perfused_segment",
     "threshold_gy": 400.0, "kind": "ablative_minimum",
     "source": "Gabr 2021; EANM 2022 (radiation segmentectomy)"},
    {"device": "Y90_glass", "indication": "HCC", "compartment": "perfused_segment",
     "threshold_gy": 190.0, "kind": "ablative_minimum",
     "source": "Vouche 2014 / Lewandowski 2018 (historical)"},
    {"device": "Y90_glass", "indication": "ICC", "compartment": "tumour", "threshold_gy": 260.0,
     "kind": "response_minimum", "source": "EANM 2022 Table 2"},
    {"device": "Y90_glass", "indication": "mCRC", "compartment": "tumour", "threshold_gy": 189.0,
     "kind": "response_minimum", "source": "EANM 2022 Table 2"},
    {"device": "Y90_glass", "indication": "any", "compartment": "whole_normal_liver",
     "threshold_gy": 75.0, "kind": "safety_maximum", "source": "EANM 2022 Table 2 (50-90)"},
    {"device": "Y90_resin", "indication": "HCC", "compartment": "tumour", "threshold_gy": 120.0,
     "kind": "response_minimum", "source": "Levillain 2021; EANM 2022 Table 3 (100-120)",
     "response_criterion": "not stated in docs/rules/",
     "reference": "Y-90 resin, HCC: Levillain H et al. EJNMMI 2021;48:1570-1584; Weber M et al. "
                  "EANM guideline, EJNMMI 2022;49:1682-1699, Table 3 (100-120 Gy)"},
    {"device": "Y90_resin", "indication": "mCRC", "compartment": "tumour", "threshold_gy": 100.0,
     "kind": "response_minimum", "source": "Levillain 2021; EANM 2022 Table 3"},
    {"device": "Y90_resin", "indication": "any", "compartment": "normal_perfused_liver",
     "threshold_gy": 40.0, "kind": "safety_maximum", "source": "EANM 2022 Table 3"},
    {"device": "Ho166_PLLA", "indication": "any", "compartment": "whole_liver",
     "threshold_gy": 60.0, "kind": "planning_target",
     "source": "M2.1, docs/rules/dosimetry.md (3.78 GBq/kg)"},
)

_ISOTOPES = ("Y90", "Ho166")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
_check_choice = check_choice  # exact match (sklearn message shape)


def _isotope(isotope, function) -> str:
    """Canonical isotope name; case-insensitive, "Y-90" spelled with a hyphen accepted."""
    value = isotope.replace("-", "") if isinstance(isotope, str) else isotope
    try:
        return match_choice(value, _ISOTOPES, "isotope", function)
    except ValueError:
        check_choice(isotope, _ISOTOPES, "isotope", function)  # message with the given value
        raise


def _arr(values) -> np.ndarray:
    if isinstance(values, pd.Series):
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _index_of(*inputs):
    for value in inputs:
        if isinstance(value, pd.Series):
            return value.index
    return None


def _wrap(values, *inputs):
    index = _index_of(*inputs)
    values = np.asarray(values, dtype=float)
    if index is not None:
        return pd.Series(np.broadcast_to(values, (len(index),)).copy(), index=index)
    return values.item() if values.ndim == 0 else values


def _check_range(values, name, function, *, low=None, high=None, low_open=False, unit=""):
    """Raise SirtDataError when finite values fall outside [low, high] (NaN passes through)."""
    v = _arr(values)
    bad = np.zeros(v.shape, dtype=bool)
    if low is not None:
        bad |= (v <= low) if low_open else (v < low)
    if high is not None:
        bad |= v > high
    bad &= ~np.isnan(v)
    if bad.any():
        if low is not None and high is not None:
            rule = f"{low} {'<' if low_open else '<='} {name} <= {high}"
        elif low is not None:
            rule = f"{name} {'>' if low_open else '>='} {low}"
        else:
            rule = f"{name} <= {high}"
        first = np.atleast_1d(v[bad])[:3]
        shown = ", ".join(f"{x:g}" for x in first)
        raise SirtDataError(
            f"{function}: {int(bad.sum())} value(s) of '{name}' violate \"{rule}\"{unit}; "
            f"got {shown}. A physical quantity cannot take this value: check the units "
            f"(LSF in %, masses in kg, activities in GBq).",
            column=name,
            rule=rule,
        )
    return v


def compute_dose_factor(isotope: Literal["Y90", "Ho166"] = "Y90", dose_factor=None) -> float:
    """Absorbed-dose constant K (Gy.kg/GBq) for an isotope.

    Parameters
    ----------
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide.
    dose_factor : float or {"partition_model", "glass_insert", "icrp107"}, optional
        Override: a number in Gy.kg/GBq, or the name of a Y-90 variant in
        :data:`Y90_DOSE_FACTORS`. None gives 49.67 for Y-90 and 15.87 for Ho-166.

    Returns
    -------
    float
        K in Gy.kg/GBq (energy per GBq over complete decay, local deposition).

    Raises
    ------
    ValueError
        For an unknown isotope or variant name, a Y-90 variant asked for Ho-166, or K <= 0.

    Notes
    -----
    ``K = A * tau * E_mean`` with ``tau = T1/2 / ln 2``; the published Y-90 values cluster at 50,
    49.67 and 49.38 Gy.kg/GBq depending on the mean beta energy and rounding.

    References
    ----------
    TheraSphere US package insert v12; M2.1 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> compute_dose_factor("Y90")
    49.67
    >>> compute_dose_factor("Y90", "glass_insert")
    50.0
    >>> compute_dose_factor("Ho166")
    15.87
    """
    iso = _isotope(isotope, "compute_dose_factor")
    if dose_factor is None:
        return Y90_GY_KG_PER_GBQ if iso == "Y90" else HO166_GY_KG_PER_GBQ
    if isinstance(dose_factor, str):
        if iso != "Y90":
            raise ValueError(
                f"The 'dose_factor' argument of compute_dose_factor names a Y-90 variant "
                f"({dose_factor!r}) but isotope is {iso!r}; pass a number instead."
            )
        _check_choice(dose_factor, tuple(Y90_DOSE_FACTORS), "dose_factor", "compute_dose_factor")
        return Y90_DOSE_FACTORS[dose_factor]
    k = float(dose_factor)
    if not k > 0:
        raise ValueError(
            f"The 'dose_factor' argument of compute_dose_factor must be > 0 Gy.kg/GBq. "
            f"Got {dose_factor!r} instead."
        )
    return k


# --------------------------------------------------------------------------------------------
# mass and decay
# --------------------------------------------------------------------------------------------
def compute_tissue_mass(volume_ml, *, density_g_ml: float = TISSUE_DENSITY_G_ML):
    """Tissue mass from volume.

    Parameters
    ----------
    volume_ml : float, array-like or Series
        Volume in mL (>= 0).
    density_g_ml : float, default 1.03
        Tissue density in g/mL (1.05 and 1.06 are also used).

    Returns
    -------
    float, ndarray or Series
        Mass in kg: ``volume_ml * density_g_ml / 1000``.

    Raises
    ------
    SirtDataError
        If a volume is negative or the density is not positive.

    Examples
    --------
    >>> compute_tissue_mass(1000)
    1.03
    """
    v = _check_range(volume_ml, "volume_ml", "compute_tissue_mass", low=0, unit=" mL")
    _check_range(density_g_ml, "density_g_ml", "compute_tissue_mass", low=0, low_open=True)
    return _wrap(v * float(density_g_ml) / 1000.0, volume_ml)


def compute_decay_factor(elapsed_h, *, isotope: Literal["Y90", "Ho166"] = "Y90"):
    """Fraction of activity remaining after a time interval.

    Parameters
    ----------
    elapsed_h : float, array-like or Series
        Time elapsed in hours; negative means before the reference time (factor > 1).
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide (half-lives in :data:`HALF_LIFE_H`).

    Returns
    -------
    float, ndarray or Series
        ``2 ** (-elapsed_h / T1/2)`` (dimensionless).

    Notes
    -----
    ``A(t) = A(t0) * 2^(-(t - t0) / T1/2)`` (M1.1, docs/rules/dosimetry.md).

    Examples
    --------
    >>> round(compute_decay_factor(24), 4)
    0.7714
    """
    iso = _isotope(isotope, "compute_decay_factor")
    t = _arr(elapsed_h)
    return _wrap(np.exp2(-t / HALF_LIFE_H[iso]), elapsed_h)


def compute_decayed_activity(
    activity_gbq, from_datetime, to_datetime, *, isotope: Literal["Y90", "Ho166"] = "Y90"
):
    """Decay-correct an activity from one time to another (e.g. calibration to administration).

    Parameters
    ----------
    activity_gbq : float, array-like or Series
        Activity at ``from_datetime``, GBq (>= 0).
    from_datetime, to_datetime : datetime-like, array-like or Series
        Reference time of ``activity_gbq`` and the time wanted (naive, same time zone).
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide.

    Returns
    -------
    float, ndarray or Series
        Activity at ``to_datetime`` in GBq; NaN when a time is missing.

    Raises
    ------
    SirtDataError
        If an activity is negative.

    Examples
    --------
    >>> round(compute_decayed_activity(3.0, "2026-01-04 12:00", "2026-01-05 12:00"), 4)
    2.3143
    """
    a = _check_range(activity_gbq, "activity_gbq", "compute_decayed_activity", low=0,
                     unit=" GBq")
    t0 = pd.to_datetime(pd.Series(np.atleast_1d(np.asarray(from_datetime, dtype=object))))
    t1 = pd.to_datetime(pd.Series(np.atleast_1d(np.asarray(to_datetime, dtype=object))))
    hours = ((t1 - t0).dt.total_seconds() / 3600.0).to_numpy(dtype=float, na_value=np.nan)
    if np.ndim(from_datetime) == 0 and np.ndim(to_datetime) == 0:
        hours = hours[0]
    factor = _arr(compute_decay_factor(hours, isotope=isotope))
    return _wrap(a * factor, activity_gbq, from_datetime, to_datetime)


# --------------------------------------------------------------------------------------------
# MIRD single compartment and lung dose
# --------------------------------------------------------------------------------------------
def _lsf_fraction(lsf_pct, function, *, allow_100=True):
    lsf = _check_range(lsf_pct, "lsf_pct", function, low=0, high=100, unit=" %")
    if not allow_100 and np.any(lsf == 100):
        raise SirtDataError(
            f"{function}: lsf_pct = 100 % sends all activity to the lungs; no activity can "
            f"reach a liver dose target.",
            column="lsf_pct",
            rule="lsf_pct < 100",
        )
    return lsf / 100.0


def compute_mird_dose(
    activity_gbq,
    mass_kg,
    *,
    lsf_pct=0.0,
    isotope: Literal["Y90", "Ho166"] = "Y90",
    dose_factor=None,
):
    """MIRD single-compartment mean absorbed dose to a perfused mass.

    Parameters
    ----------
    activity_gbq : float, array-like or Series
        Delivered activity at administration time, GBq (>= 0).
    mass_kg : float, array-like or Series
        Perfused tissue mass, kg (> 0); see :func:`compute_tissue_mass`.
    lsf_pct : float, array-like or Series, default 0
        Lung shunt fraction, % (0-100).
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide.
    dose_factor : float or str, optional
        Dose constant override (see :func:`compute_dose_factor`).

    Returns
    -------
    float, ndarray or Series
        Mean absorbed dose in Gy: ``K * A * (1 - LSF) / m``.

    Raises
    ------
    SirtDataError
        For a negative activity, a mass <= 0 or an LSF outside 0-100 %.

    Notes
    -----
    Assumes uniform distribution in ``m``, local deposition of all beta energy, no biological
    clearance and complete physical decay.

    References
    ----------
    TheraSphere US package insert v12; M2.2 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> round(compute_mird_dose(2.543, 1.0, lsf_pct=5), 1)
    120.0
    """
    fn = "compute_mird_dose"
    k = compute_dose_factor(isotope, dose_factor)
    a = _check_range(activity_gbq, "activity_gbq", fn, low=0, unit=" GBq")
    m = _check_range(mass_kg, "mass_kg", fn, low=0, low_open=True, unit=" kg")
    lsf = _lsf_fraction(lsf_pct, fn)
    return _wrap(k * a * (1.0 - lsf) / m, activity_gbq, mass_kg, lsf_pct)


def compute_mird_activity(
    dose_gy,
    mass_kg,
    *,
    lsf_pct=0.0,
    isotope: Literal["Y90", "Ho166"] = "Y90",
    dose_factor=None,
):
    """Activity to administer for a MIRD single-compartment target dose (inverse MIRD).

    Parameters
    ----------
    dose_gy : float, array-like or Series
        Target mean absorbed dose to the perfused mass, Gy (>= 0).
    mass_kg : float, array-like or Series
        Perfused tissue mass, kg (> 0).
    lsf_pct : float, array-like or Series, default 0
        Lung shunt fraction, % (0 to < 100).
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide.
    dose_factor : float or str, optional
        Dose constant override (see :func:`compute_dose_factor`).

    Returns
    -------
    float, ndarray or Series
        Activity in GBq at administration time: ``D * m / (K * (1 - LSF))``.

    Raises
    ------
    SirtDataError
        For a negative dose, a mass <= 0, or an LSF outside 0 to < 100 %.

    References
    ----------
    TheraSphere US package insert v12; M2.2 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> round(compute_mird_activity(120, 1.0, lsf_pct=5), 3)
    2.543
    >>> round(compute_mird_activity(60, 1.5, isotope="Ho166"), 2)
    5.67
    """
    fn = "compute_mird_activity"
    k = compute_dose_factor(isotope, dose_factor)
    d = _check_range(dose_gy, "dose_gy", fn, low=0, unit=" Gy")
    m = _check_range(mass_kg, "mass_kg", fn, low=0, low_open=True, unit=" kg")
    lsf = _lsf_fraction(lsf_pct, fn, allow_100=False)
    return _wrap(d * m / (k * (1.0 - lsf)), dose_gy, mass_kg, lsf_pct)


def compute_lung_dose(
    activity_gbq,
    lsf_pct,
    *,
    lung_mass_kg=LUNG_MASS_KG,
    isotope: Literal["Y90", "Ho166"] = "Y90",
    dose_factor=None,
):
    """Mean lung absorbed dose from the shunted activity.

    Parameters
    ----------
    activity_gbq : float, array-like or Series
        Delivered (or planned) activity, GBq (>= 0).
    lsf_pct : float, array-like or Series
        Lung shunt fraction, % (0-100).
    lung_mass_kg : float, array-like or Series, default 1.0
        Lung mass, kg (> 0; convention 1 kg).
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide.
    dose_factor : float or str, optional
        Dose constant override (see :func:`compute_dose_factor`).

    Returns
    -------
    float, ndarray or Series
        Lung dose in Gy: ``K * A * LSF / m_lung``.

    Raises
    ------
    SirtDataError
        For a negative activity, an LSF outside 0-100 % or a lung mass <= 0.

    References
    ----------
    M2.3 (docs/rules/dosimetry.md).

    Examples
    --------
    >>> round(compute_lung_dose(2.543, 5), 2)
    6.32
    """
    fn = "compute_lung_dose"
    k = compute_dose_factor(isotope, dose_factor)
    a = _check_range(activity_gbq, "activity_gbq", fn, low=0, unit=" GBq")
    lsf = _lsf_fraction(lsf_pct, fn)
    m = _check_range(lung_mass_kg, "lung_mass_kg", fn, low=0, low_open=True, unit=" kg")
    return _wrap(k * a * lsf / m, activity_gbq, lsf_pct, lung_mass_kg)


def compute_max_activity_for_lung_limit(
    lsf_pct,
    *,
    lung_dose_limit_gy: float = LUNG_DOSE_LIMIT_SINGLE_GY,
    lung_mass_kg=LUNG_MASS_KG,
    isotope: Literal["Y90", "Ho166"] = "Y90",
    dose_factor=None,
):
    """Largest activity whose lung dose stays within a limit.

    Parameters
    ----------
    lsf_pct : float, array-like or Series
        Lung shunt fraction, % (0-100); 0 gives an infinite maximum.
    lung_dose_limit_gy : float, default 30
        Lung dose limit, Gy (> 0); for the cumulative rule pass the remaining budget
        ``50 - previous lung dose``.
    lung_mass_kg : float, array-like or Series, default 1.0
        Lung mass, kg (> 0).
    isotope : {"Y90", "Ho166"}, default "Y90"
        Radionuclide.
    dose_factor : float or str, optional
        Dose constant override (see :func:`compute_dose_factor`).

    Returns
    -------
    float, ndarray or Series
        ``A_max = D_limit * m_lung / (K * LSF)`` in GBq.

    Raises
    ------
    SirtDataError
        For an LSF outside 0-100 %, a lung mass <= 0 or a limit <= 0.

    Examples
    --------
    >>> round(compute_max_activity_for_lung_limit(10), 2)
    6.04
    """
    fn = "compute_max_activity_for_lung_limit"
    k = compute_dose_factor(isotope, dose_factor)
    lsf = _lsf_fraction(lsf_pct, fn)
    m = _check_range(lung_mass_kg, "lung_mass_kg", fn, low=0, low_open=True, unit=" kg")
    limit = _check_range(lung_dose_limit_gy, "lung_dose_limit_gy", fn, low=0, low_open=True)
    with np.errstate(divide="ignore"):
        out = np.where(lsf > 0, limit * m / (k * np.where(lsf > 0, lsf, 1.0)), np.inf)
    out = np.where(np.isnan(lsf) | np.isnan(m), np.nan, out)
    return _wrap(out, lsf_pct, lung_mass_kg)




def load_dose_thresholds() -> pd.DataFrame:
    """Literature dose thresholds as a table.

    Returns
    -------
    DataFrame
        :data:`LITERATURE_DOSE_THRESHOLDS`: ``device``, ``indication``, ``compartment``,
        ``threshold_gy`` (float, Gy), ``kind`` (response_minimum, ablative_minimum,
        safety_maximum, planning_target), ``source``; ``response_criterion`` and
        ``reference`` (full citation) where given, else NaN.

    Examples
    --------
    >>> t = load_dose_thresholds()
    >>> t.loc[(t.device == "Y90_glass") & (t.indication == "HCC")
    ...       & (t.compartment == "tumour"), "threshold_gy"].item()
    205.0
    """
    return pd.DataFrame(list(LITERATURE_DOSE_THRESHOLDS))
