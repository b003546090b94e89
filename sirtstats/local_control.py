"""Local control per lesion, clustered within patients (R4.4.3).

Statistics on the frame of :func:`sirtstats.response.local.derive_time_to_local_progression`
(one row per treated lesion): the Kaplan–Meier local-control probability with a patient
cluster-bootstrap confidence interval (whole patients resampled, Davison & Hinkley, Bootstrap
Methods and their Application, 1997, section 3.8), and a Cox model with a robust sandwich
variance clustered on the patient (Lin & Wei, JASA 1989;84:1074-1078; lifelines
``cluster_col``). The Kaplan–Meier point estimate comes from
:func:`sirtstats.survival.compute_km_curve`. A death without local progression is censored
(D21); with ``event`` = 2 (competing death) it is censored here too, i.e. the estimate is
cause-specific (use :func:`sirtstats.survival.compute_cif_curve` for the cumulative incidence).
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sirtstats import survival as sv
from sirtstats.exceptions import SirtDataError, SirtStatsWarning

__all__ = [
    "LOCAL_CONTROL_COLUMNS",
    "compute_local_control_curve",
    "LOCAL_CONTROL_SEED",
    "LocalControlCox",
    "derive_local_control_dose",
    "fit_local_control_cox",
    "summarise_local_control",
]

#: Default seed of the cluster bootstrap.
LOCAL_CONTROL_SEED: int = 20261203

#: Output columns of :func:`summarise_local_control`.
LOCAL_CONTROL_COLUMNS: list[str] = [
    "time_months", "n_lesions", "n_patients", "n_events", "n_at_risk", "local_control",
    "lower", "upper", "lower_unclustered", "upper_unclustered", "ci_method",
]

_MIN_EVENTS = 10


def _prepare(df, time_col, event_col, cluster_col, fn):
    cols = [c for c in (time_col, event_col, cluster_col) if c is not None]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SirtDataError(f"{fn}: missing column(s) {missing}.", table="local_progression",
                            column=missing[0], rule="required column")
    keep = (df["is_evaluable"].astype(bool) if "is_evaluable" in df.columns
            else pd.Series(True, index=df.index))
    keep &= df[time_col].notna() & df[event_col].notna()
    d = df.loc[keep, cols].copy()
    d[time_col] = d[time_col].astype(float)
    d["_event"] = (d[event_col].astype(int) == 1).astype(int)  # 2 (competing death) censored
    return d, int((~keep).sum())


def _km_at(time: np.ndarray, event: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Kaplan–Meier survival at ``times`` (NaN beyond the last observed time)."""
    if not len(time):
        return np.full(len(times), np.nan)
    ut, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event, minlength=len(ut))
    n_at = len(time) - np.concatenate([[0], np.cumsum(np.bincount(inv, minlength=len(ut)))[:-1]])
    surv = np.cumprod(1.0 - d / n_at)
    pos = np.searchsorted(ut, times, side="right") - 1
    out = np.where(pos >= 0, surv[np.maximum(pos, 0)], 1.0)
    return np.where(times > ut.max(), np.nan, out)


def _cluster_bootstrap(d, time_col, cluster_col, times, n_boot, seed):
    """(n_boot, len(times)) KM estimates on resampled patients."""
    codes, _ = pd.factorize(d[cluster_col])
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(codes.max() + 1))
    sizes = np.bincount(codes)
    t = d[time_col].to_numpy(float)[order]
    e = d["_event"].to_numpy(float)[order]
    rng = np.random.default_rng(seed)
    n_c = len(sizes)
    out = np.empty((n_boot, len(times)))
    for b in range(n_boot):
        pick = rng.integers(0, n_c, n_c)
        # the rows of the picked clusters, in pick order: one arange, no per-cluster loop
        size = sizes[pick]
        shift = np.repeat(starts[pick] - (np.cumsum(size) - size), size)
        idx = np.arange(int(size.sum())) + shift
        out[b] = _km_at(t[idx], e[idx], times)
    return out


def compute_local_control_curve(
    df: pd.DataFrame,
    *,
    time_col: str = "time_months",
    event_col: str = "event",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Kaplan–Meier local-control curve of the evaluable lesions, ready for ``plot_km``.

    Parameters
    ----------
    df : DataFrame
        One row per lesion (see :func:`summarise_local_control`).
    time_col, event_col : str
        Column names (months; 1 = local progression, 0 or 2 censored).
    conf_level : float, default 0.95
        Level of the pointwise band (Greenwood, lesions as independent: the band is too
        narrow; the clustered CIs are those of :func:`summarise_local_control`).

    Returns
    -------
    DataFrame
        :func:`sirtstats.survival.compute_km_curve` output with ``endpoint`` = ``"TTLP"``.
    """
    d, _ = _prepare(df, time_col, event_col, None, "compute_local_control_curve")
    curve = sv.compute_km_curve(d.assign(_t=d[time_col]), time_col="_t", event_col="_event",
                                conf_level=conf_level)
    return curve.assign(endpoint="TTLP")


def summarise_local_control(
    df: pd.DataFrame,
    *,
    times: Sequence[float] = (6, 12, 24),
    time_col: str = "time_months",
    event_col: str = "event",
    cluster_col: str = "patient_id",
    conf_level: float = 0.95,
    n_boot: int = 500,
    seed: int = LOCAL_CONTROL_SEED,
) -> pd.DataFrame:
    """Local control per lesion at landmark times with a patient-clustered CI (R4.4.3).

    Parameters
    ----------
    df : DataFrame
        One row per lesion: ``time_col`` (float, months from the treating session, ≥ 0),
        ``event_col`` (1 = local progression, 0 = censored, 2 = competing death: censored
        here), ``cluster_col`` (the patient) and optionally ``is_evaluable`` (rows with False
        are counted and left out), as from
        :func:`sirtstats.response.local.derive_time_to_local_progression`.
    times : sequence of float, default (6, 12, 24)
        Landmark times, in the unit of ``time_col`` (months).
    time_col, event_col, cluster_col : str
        Column names.
    conf_level : float, default 0.95
        Level of the confidence intervals.
    n_boot : int, default 500
        Bootstrap replicates (whole patients resampled with replacement).
    seed : int
        Seed of the bootstrap's ``numpy.random.Generator``.

    Returns
    -------
    DataFrame
        One row per landmark with :data:`LOCAL_CONTROL_COLUMNS`: ``local_control`` (the
        Kaplan–Meier probability of no local progression, 0-1; NaN beyond the last observed
        time), ``lower``/``upper`` (patient cluster-bootstrap percentile CI),
        ``lower_unclustered``/``upper_unclustered`` (the log-log Greenwood CI treating lesions
        as independent, shown for comparison only), ``n_at_risk`` (lesions). ``attrs``
        records ``n_excluded`` (not evaluable lesions) and the settings.

    Warns
    -----
    SirtStatsWarning
        Fewer than 10 local progressions.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P3"],
    ...                    "time_months": [3.0, 8.0, 10.0, 14.0], "event": [1, 0, 1, 0]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # 2 events: the small-sample warning
    ...     warnings.simplefilter("ignore")
    ...     out = summarise_local_control(df, times=[6, 12], n_boot=50)
    >>> out[["time_months", "local_control"]]
       time_months  local_control
    0          6.0          0.750
    1         12.0          0.375
    """
    fn = "summarise_local_control"
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 10:
        raise ValueError(f"The 'n_boot' argument of {fn} must be an integer >= 10. "
                         f"Got {n_boot!r} instead.")
    if not 0 < conf_level < 1:
        raise ValueError(f"The 'conf_level' argument of {fn} must lie in (0, 1). "
                         f"Got {conf_level!r} instead.")
    d, n_excl = _prepare(df, time_col, event_col, cluster_col, fn)
    tt = np.asarray(times, dtype=float)
    n_ev = int(d["_event"].sum())
    if n_ev < _MIN_EVENTS:
        warnings.warn(f"{fn}: {n_ev} local progression(s) (fewer than {_MIN_EVENTS}); the "
                      "estimates are imprecise.", SirtStatsWarning, stacklevel=2)
    curve = sv.compute_km_curve(d.assign(_t=d[time_col]), time_col="_t", event_col="_event",
                                conf_level=conf_level)
    pos = np.searchsorted(curve["time"].to_numpy(), tt, side="right") - 1
    beyond = tt > d[time_col].max() if len(d) else np.ones(len(tt), bool)

    def at(col, start):
        v = np.where(pos >= 0, curve[col].to_numpy()[np.maximum(pos, 0)], start)
        return np.where(beyond, np.nan, v)

    boot = _cluster_bootstrap(d, time_col, cluster_col, tt, int(n_boot), seed) if len(d) else \
        np.full((1, len(tt)), np.nan)
    alpha = 1 - conf_level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN landmarks
        lo = np.nanquantile(boot, alpha / 2, axis=0)
        hi = np.nanquantile(boot, 1 - alpha / 2, axis=0)
    n_risk = np.array([(d[time_col].to_numpy() >= t).sum() for t in tt])
    out = pd.DataFrame({
        "time_months": tt, "n_lesions": len(d), "n_patients": d[cluster_col].nunique(),
        "n_events": n_ev, "n_at_risk": n_risk, "local_control": at("surv", 1.0),
        "lower": np.where(beyond, np.nan, lo), "upper": np.where(beyond, np.nan, hi),
        "lower_unclustered": at("lower", 1.0), "upper_unclustered": at("upper", 1.0),
        "ci_method": f"patient cluster bootstrap, percentile, B={int(n_boot)}"})
    out.attrs["n_excluded"] = n_excl
    out.attrs["settings"] = {"conf_level": conf_level, "n_boot": int(n_boot), "seed": seed,
                             "cluster_col": cluster_col}
    return out[LOCAL_CONTROL_COLUMNS]


@dataclass(frozen=True, eq=False)
class LocalControlCox:
    """Cox model of time to local progression per lesion, patient-clustered variance.

    Attributes
    ----------
    hr_table : DataFrame
        One row per covariate: ``covariate``, ``coef``, ``hr``, ``lower``, ``upper`` (CI of the
        HR), ``se_robust`` (clustered sandwich SE of ``coef``), ``p``.
    fitter : lifelines.CoxPHFitter
        The fitted model (``print_summary()``).
    n_lesions, n_patients, n_events : int
        Lesions, patients (clusters) and local progressions used.
    n_excluded : int
        Lesions left out (not evaluable or a missing covariate).
    """

    hr_table: pd.DataFrame
    fitter: object
    n_lesions: int
    n_patients: int
    n_events: int
    n_excluded: int

    def to_frame(self) -> pd.DataFrame:
        """The HR table with the counts."""
        return self.hr_table.assign(n_lesions=self.n_lesions, n_patients=self.n_patients,
                                    n_events=self.n_events)

    def _repr_html_(self) -> str:
        return ("<b>Local control, Cox (patient-clustered SE)</b> "
                + html.escape(f"{self.n_lesions} lesions, {self.n_patients} patients, "
                              f"{self.n_events} events")
                + self.to_frame().to_html(index=False))


def fit_local_control_cox(
    df: pd.DataFrame,
    covariates: Sequence[str],
    *,
    time_col: str = "time_months",
    event_col: str = "event",
    cluster_col: str = "patient_id",
    conf_level: float = 0.95,
) -> LocalControlCox:
    """Fit a Cox model of local progression per lesion with patient-clustered SEs (R4.4.3).

    Parameters
    ----------
    df : DataFrame
        One row per lesion (see :func:`summarise_local_control`) with numeric
        ``covariates`` (e.g. ``absorbed_dose_100gy`` from :func:`derive_local_control_dose`).
    covariates : sequence of str
        Numeric covariate columns (HR per unit).
    time_col, event_col, cluster_col : str
        Column names; ``event`` 2 (competing death) is censored (cause-specific hazard).
    conf_level : float, default 0.95
        Level of the HR confidence intervals.

    Returns
    -------
    LocalControlCox

    Raises
    ------
    SirtDataError
        Missing columns or no local progression.

    Notes
    -----
    The point estimates are the ordinary partial-likelihood ones (Efron ties, D16); only the
    variance changes: the robust sandwich estimator summed over patients (Lin & Wei 1989),
    lifelines ``CoxPHFitter.fit(..., cluster_col=...)``, as R ``coxph(..., cluster(id))``.
    """
    from lifelines import CoxPHFitter

    fn = "fit_local_control_cox"
    covariates = list(covariates)
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise SirtDataError(f"{fn}: missing covariate column(s) {missing}.",
                            table="local_progression", column=missing[0],
                            rule="required column")
    d, n_excl = _prepare(df, time_col, event_col, cluster_col, fn)
    x = df.loc[d.index, covariates].astype(float)
    ok = x.notna().all(axis=1)
    n_excl += int((~ok).sum())
    data = pd.concat([d.loc[ok, [time_col, "_event", cluster_col]], x.loc[ok]], axis=1)
    if data["_event"].sum() == 0:
        raise SirtDataError(f"{fn}: no local progression among {len(data)} lesions.",
                            table="local_progression", column=event_col, rule="events")
    if data["_event"].sum() < _MIN_EVENTS:
        warnings.warn(f"{fn}: {int(data['_event'].sum())} local progression(s) (fewer than "
                      f"{_MIN_EVENTS}).", SirtStatsWarning, stacklevel=2)
    cph = CoxPHFitter(alpha=1 - conf_level)
    cph.fit(data, duration_col=time_col, event_col="_event", cluster_col=cluster_col)
    s = cph.summary
    hr = pd.DataFrame({
        "covariate": covariates, "coef": s["coef"].to_numpy(),
        "hr": s["exp(coef)"].to_numpy(),
        "lower": s.filter(like="exp(coef) lower").iloc[:, 0].to_numpy(),
        "upper": s.filter(like="exp(coef) upper").iloc[:, 0].to_numpy(),
        "se_robust": s["se(coef)"].to_numpy(), "p": s["p"].to_numpy()})
    return LocalControlCox(hr_table=hr, fitter=cph, n_lesions=len(data),
                           n_patients=int(data[cluster_col].nunique()),
                           n_events=int(data["_event"].sum()), n_excluded=n_excl)


def derive_local_control_dose(
    df: pd.DataFrame,
    df_lesions: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
) -> pd.DataFrame:
    """Join time to local progression per lesion with the lesion's absorbed dose.

    Parameters
    ----------
    df : DataFrame
        One row per lesion with ``lesion_id`` (from
        :func:`sirtstats.response.local.derive_time_to_local_progression`).
    df_lesions : DataFrame
        ``lesions`` with ``lesion_id`` and ``dose_col`` (float, Gy, mean absorbed dose from
        post-treatment dosimetry).
    dose_col : str, default "absorbed_dose_gy"
        Dose column (Gy).

    Returns
    -------
    DataFrame
        ``df`` (order and index kept) with ``dose_col`` (Gy; NaN without dosimetry, the row is
        kept) and ``absorbed_dose_100gy`` (dose / 100, for an HR per 100 Gy).

    See Also
    --------
    sirtstats.dose_response.derive_lesion_dose_response : the same join for lesion response.

    Examples
    --------
    >>> import pandas as pd
    >>> tt = pd.DataFrame({"lesion_id": ["A", "B"], "event": [1, 0]})
    >>> les = pd.DataFrame({"lesion_id": ["A", "B"], "absorbed_dose_gy": [80.0, None]})
    >>> derive_local_control_dose(tt, les)
      lesion_id  event  absorbed_dose_gy  absorbed_dose_100gy
    0         A      1              80.0                  0.8
    1         B      0               NaN                  NaN
    """
    if dose_col not in df_lesions.columns:
        raise SirtDataError(f"derive_local_control_dose: lesions has no column {dose_col!r}.",
                            table="lesions", column=dose_col, rule="required column")
    dose = df_lesions.drop_duplicates("lesion_id").set_index("lesion_id")[dose_col]
    vals = pd.to_numeric(dose.reindex(df["lesion_id"].to_numpy()), errors="coerce").to_numpy(
        dtype=float)
    return df.assign(**{dose_col: vals, "absorbed_dose_100gy": vals / 100.0})
