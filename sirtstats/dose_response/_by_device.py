"""Lesion dose-response per device and per criterion: never pooled across devices.

Absorbed doses of Y-90 glass, Y-90 resin and Ho-166 PLLA microspheres are not interchangeable
(sphere activity and number, hence dose heterogeneity at the microscopic scale, differ by more
than an order of magnitude; published response thresholds differ: >= 205 Gy glass, >= 100-120 Gy
resin for HCC, EANM 2022 Tables 2-3). Every estimate here is therefore made within one device and
one response criterion, and compared with that device's published threshold only (rule M2.6 of
``docs/rules/dosimetry.md``; lesions clustered within patients, R4.1.5).

The curves, ROC curves and metrics of the per-device summary are in
:mod:`sirtstats.dose_response._device_curves`, the survival by device and dose group in
:mod:`sirtstats.dose_response._device_survival`; import all from :mod:`sirtstats.dose_response`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from sirtstats.dose_response._assembly import (
    LESION_DOSE_RESPONSE_COLUMNS,
    derive_lesion_dose_response,
)
from sirtstats.dose_response._common import (
    DEFAULT_SEED,
    _check_alpha,
    _check_int,
    _require_columns,
)
from sirtstats.dose_response._logistic import fit_dose_response
from sirtstats.dose_response._roc import compute_roc, compute_youden_threshold
from sirtstats.dose_response._summaries import summarise_response_by_threshold
from sirtstats.exceptions import SirtStatsWarning

__all__ = [
    "DEVICE_DOSE_RESPONSE_COLUMNS",
    "derive_toxicity_dose_outcomes",
    "DEVICE_THRESHOLD_COLUMNS",
    "MIN_EVENTS_PER_DEVICE",
    "MIN_LESIONS_PER_DEVICE",
    "derive_lesion_dose_response_by_device",
    "select_device_thresholds",
    "summarise_dose_response_by_device",
]


#: A device x criterion group with fewer complete lesions than this is "not estimable"
#: (a project convention: below it a two-parameter logistic fit, an AUC and a Youden optimum
#: are noise; the statistics' own warnings start at 10 events / 20 clusters).
MIN_LESIONS_PER_DEVICE = 20
#: ... or with fewer responders, or fewer non-responders, than this.
MIN_EVENTS_PER_DEVICE = 5

#: Order of the devices in every output (then any other device, alphabetically).
_DEVICE_ORDER = ("Y90_glass", "Y90_resin", "Ho166_PLLA")
_CRITERION_ORDER = ("mRECIST", "RECIST_1_1")

#: Columns of :func:`select_device_thresholds`, in order.
DEVICE_THRESHOLD_COLUMNS = ["device", "threshold_gy", "indication", "response_criterion",
                            "source"]

#: Columns of :func:`summarise_dose_response_by_device`, in order.
DEVICE_DOSE_RESPONSE_COLUMNS = [
    "device", "criterion", "is_estimable", "n_lesions", "n_patients", "n_events",
    "n_excluded", "odds_ratio_per_100gy", "or_ci_lower", "or_ci_upper", "d50_gy",
    "d50_ci_lower", "d50_ci_upper", "auc", "auc_ci_lower", "auc_ci_upper",
    "youden_threshold_gy", "youden_ci_lower", "youden_ci_upper", "youden_sensitivity",
    "youden_specificity", "threshold_gy", "threshold_source", "n_below", "rate_below",
    "rate_below_ci_lower", "rate_below_ci_upper", "n_above", "rate_above",
    "rate_above_ci_lower", "rate_above_ci_upper", "note",
]


def _ordered(values: Sequence, order: Sequence[str]) -> list:
    present = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    return [v for v in order if v in present] + sorted(v for v in present if v not in order)


def _device_label(device: str) -> str:
    from sirtstats.labels import value_label

    return value_label(device)


def derive_lesion_dose_response_by_device(
    df_lesions: pd.DataFrame,
    df_measurements: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    criteria: Sequence[str] = _CRITERION_ORDER,
    dose_col: str = "absorbed_dose_gy",
    treated_only: bool = True,
) -> pd.DataFrame:
    """Lesion response under each criterion joined to lesion dose and to the patient's device.

    Parameters
    ----------
    df_lesions : DataFrame
        ``lesions`` table (``lesion_id``, ``patient_id``, the roles, ``in_treated_territory``
        (bool) and the dose column, Gy).
    df_measurements : DataFrame
        ``lesion_measurements`` table.
    df_treatments : DataFrame
        ``treatments`` table: ``patient_id``, ``device`` (str).
    criteria : sequence of {"mRECIST", "RECIST_1_1"}, default both
        Criteria to derive; one block of rows per criterion, in this order.
    dose_col : str, default "absorbed_dose_gy"
        Lesion dose column, Gy.
    treated_only : bool, default True
        Keep lesions in the treated territory only.

    Returns
    -------
    DataFrame
        :func:`derive_lesion_dose_response` columns plus ``device`` (str): the device of every
        SIRT session of the patient; NA when the patient received several devices (the lesion
        dose cannot be attributed to one device: such lesions are left out of the per-device
        analyses, with a warning).

    Raises
    ------
    SirtDataError
        If a required column is missing.

    Warns
    -----
    SirtStatsWarning
        When lesions of patients treated with several devices get no device.

    See Also
    --------
    summarise_dose_response_by_device : the per-device statistics of this frame.
    """
    from sirtstats.response import derive_lesion_response

    fn = "derive_lesion_dose_response_by_device"
    _require_columns(df_treatments, ["patient_id", "device"], fn)
    frames = []
    for criterion in criteria:
        lesion_response = derive_lesion_response(df_lesions, df_measurements,
                                                 criterion=criterion)
        frames.append(derive_lesion_dose_response(lesion_response, df_lesions,
                                                  criterion=criterion, dose_col=dose_col,
                                                  treated_only=treated_only))
    columns = [dose_col if c == "absorbed_dose_gy" else c for c in LESION_DOSE_RESPONSE_COLUMNS]
    out = (pd.concat(frames, ignore_index=True) if frames
           else pd.DataFrame(columns=columns))
    single = _single_device(df_treatments)
    out["device"] = out["patient_id"].map(single).astype("string")
    mixed = out["device"].isna() & out["patient_id"].isin(single.index)
    if mixed.any():
        warnings.warn(
            f"{fn}: {int(mixed.sum())} lesion rows of {out.loc[mixed, 'patient_id'].nunique()} "
            f"patients treated with several devices have no single device; they are left out "
            f"of the per-device dose-response.", SirtStatsWarning, stacklevel=2)
    return out


def _single_device(df_treatments: pd.DataFrame) -> pd.Series:
    """patient_id -> the device of all the patient's sessions (NA when several devices)."""
    used = df_treatments.dropna(subset=["device"]).groupby("patient_id")["device"]
    return used.first().where(used.nunique() == 1, pd.NA)


def derive_toxicity_dose_outcomes(
    df: pd.DataFrame,
    df_treatments: pd.DataFrame,
    *,
    dose_col: str = "normal_liver_dose_gy",
    outcome_cols: Sequence[str] = ("is_reild", "is_lab_toxicity"),
) -> pd.DataFrame:
    """Patient toxicity outcomes stacked one outcome per row, with the patient's device.

    Parameters
    ----------
    df : DataFrame
        One row per patient: ``patient_id``, the dose (float, Gy) and the binary outcome
        columns, e.g. :func:`derive_toxicity_outcomes` with the normal-liver dose attached by
        :func:`derive_patient_dose_outcome`.
    df_treatments : DataFrame
        ``treatments`` table: ``patient_id``, ``device``.
    dose_col : str, default "normal_liver_dose_gy"
        Dose column of ``df``, Gy.
    outcome_cols : sequence of str, default ("is_reild", "is_lab_toxicity")
        Outcome columns (bool/boolean; NA = unknown).

    Returns
    -------
    DataFrame
        One row per patient and outcome (outcomes in the given order, patients in ``df``
        order): ``patient_id``, ``device`` (NA for a patient treated with several devices),
        ``outcome`` (the outcome column name), ``dose_col``, ``is_event`` (boolean). Pass it to
        :func:`summarise_dose_response_by_device` with ``criterion_col="outcome"``,
        ``response_col="is_event"`` and ``cluster_col=None``.

    Raises
    ------
    SirtDataError
        If a column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> tox = pd.DataFrame({"patient_id": ["P1", "P2"], "normal_liver_dose_gy": [30.0, 60.0],
    ...                     "is_reild": [False, True]})
    >>> tx = pd.DataFrame({"patient_id": ["P1", "P2"], "device": ["Y90_resin", "Y90_glass"]})
    >>> derive_toxicity_dose_outcomes(tox, tx, outcome_cols=["is_reild"])
      patient_id     device   outcome  normal_liver_dose_gy  is_event
    0         P1  Y90_resin  is_reild                  30.0     False
    1         P2  Y90_glass  is_reild                  60.0      True
    """
    fn = "derive_toxicity_dose_outcomes"
    _require_columns(df, ["patient_id", dose_col, *outcome_cols], fn)
    _require_columns(df_treatments, ["patient_id", "device"], fn)
    device = df["patient_id"].map(_single_device(df_treatments)).astype("string")
    frames = [pd.DataFrame({"patient_id": df["patient_id"].to_numpy(),
                            "device": device.to_numpy(), "outcome": col,
                            dose_col: pd.to_numeric(df[dose_col]).to_numpy(dtype=float),
                            "is_event": df[col].astype("boolean").to_numpy()})
              for col in outcome_cols]
    if not frames:
        return pd.DataFrame(columns=["patient_id", "device", "outcome", dose_col, "is_event"])
    out = pd.concat(frames, ignore_index=True)
    out["is_event"] = out["is_event"].astype("boolean")
    out["device"] = out["device"].astype(object).where(out["device"].notna(), None)
    return out


def select_device_thresholds(
    diagnoses: Sequence[str] | str | None,
    *,
    thresholds_gy: Mapping[str, float] | None = None,
    compartment: str | Sequence[str] = "tumour",
    kind: str = "response_minimum",
) -> pd.DataFrame:
    """The published tumour-dose response threshold of each device, for one diagnosis.

    Parameters
    ----------
    diagnoses : sequence of str, str or None
        The cohort's diagnosis filter. A published response threshold is specific to a tumour
        type: such thresholds are looked up only when the filter holds exactly one diagnosis
        (e.g. ``["HCC"]``); an empty filter (all tumours) gets none.
    thresholds_gy : mapping of str to float, optional
        Device -> pre-specified threshold (Gy, >= 0) that replaces or adds to the published
        one; its source reads "pre-specified (parameter)".
    compartment : str or sequence of str, default "tumour"
        Compartment(s) of :data:`sirtstats.dosimetry.LITERATURE_DOSE_THRESHOLDS` (e.g.
        ``("whole_normal_liver", "normal_perfused_liver")`` for the normal-liver safety limits
        of glass and resin).
    kind : str, default "response_minimum"
        Threshold kind of that table ("safety_maximum" for normal-liver limits). Thresholds
        whose indication is "any" apply whatever the diagnosis filter.

    Returns
    -------
    DataFrame
        One row per device with a threshold: :data:`DEVICE_THRESHOLD_COLUMNS` (``device``,
        ``threshold_gy`` (float, Gy), ``indication``, ``response_criterion`` (criterion of
        the source study), ``source`` (reference)). A device without a published threshold
        for the diagnosis (e.g. Ho-166 PLLA) has no row.

    Raises
    ------
    ValueError
        For a negative or non-numeric threshold in ``thresholds_gy``.

    References
    ----------
    Weber M et al. EANM procedure guideline, EJNMMI 2022;49:1682-1699 (Tables 2-3); Garin E et
    al. DOSISPHERE-01, Lancet Gastroenterol Hepatol 2021;6:17-29; Levillain H et al. EJNMMI
    2021;48:1570-1584.

    Examples
    --------
    >>> select_device_thresholds(["HCC"])[["device", "threshold_gy"]]
          device  threshold_gy
    0  Y90_glass         205.0
    1  Y90_resin         120.0
    >>> len(select_device_thresholds([]))
    0
    """
    from sirtstats.dosimetry import LITERATURE_DOSE_THRESHOLDS

    fn = "select_device_thresholds"
    dx = [diagnoses] if isinstance(diagnoses, str) else list(diagnoses or [])
    compartments = {compartment} if isinstance(compartment, str) else set(compartment)
    indications = {"any", dx[0]} if len(dx) == 1 else {"any"}
    rows = []
    for rule in LITERATURE_DOSE_THRESHOLDS:
        if (rule["indication"] in indications and rule["compartment"] in compartments
                and rule["kind"] == kind):
            rows.append({"device": rule["device"], "threshold_gy": float(rule["threshold_gy"]),
                         "indication": rule["indication"],
                         "response_criterion": rule.get("response_criterion", ""),
                         "source": rule.get("reference", rule["source"])})
    table = pd.DataFrame(rows, columns=DEVICE_THRESHOLD_COLUMNS).drop_duplicates("device")
    for device, value in dict(thresholds_gy or {}).items():
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = np.nan
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"The 'thresholds_gy' argument of {fn} must map devices to doses "
                             f">= 0 Gy. Got {device!r}: {thresholds_gy[device]!r} instead.")
        table = table[table["device"] != device]
        extra = pd.DataFrame([{"device": device, "threshold_gy": value,
                               "indication": dx[0] if len(dx) == 1 else "",
                               "response_criterion": "", "source": "pre-specified (parameter)"}])
        table = pd.concat([table, extra], ignore_index=True) if len(table) else extra
    order = {d: i for i, d in enumerate(_ordered(table["device"], _DEVICE_ORDER))}
    return (table.assign(_o=table["device"].map(order)).sort_values("_o", kind="stable")
            .drop(columns="_o").reset_index(drop=True)[DEVICE_THRESHOLD_COLUMNS])


def _groups(df, device_col, criterion_col, devices, criteria) -> Iterator[tuple]:
    extra_dev = [] if devices is None else list(devices)
    extra_cri = [] if criteria is None else list(criteria)
    dev = _ordered(list(df[device_col].dropna()) + extra_dev, _DEVICE_ORDER)
    cri = _ordered(list(df[criterion_col].dropna()) + extra_cri, _CRITERION_ORDER)
    for d in dev:
        for c in cri:
            sel = (df[device_col] == d).fillna(False) & (df[criterion_col] == c).fillna(False)
            yield d, c, df.loc[sel.to_numpy(dtype=bool)]


def _complete(sub, dose_col, response_col, cluster_col):
    keep = sub[dose_col].notna() & sub[response_col].notna()
    if cluster_col is not None:
        keep &= sub[cluster_col].notna()
    return sub.loc[keep.to_numpy(dtype=bool)]


def _estimability(sub, response_col, min_lesions, min_events, unit="lesions") -> str:
    n = len(sub)
    k = int(sub[response_col].astype(float).sum()) if n else 0
    if n < min_lesions:
        return f"{n} evaluable {unit} (< {min_lesions})"
    if min(k, n - k) < min_events:
        return f"{k} with and {n - k} without the outcome (< {min_events} of one)"
    return ""


def _run(label, func, *args, **kwargs):
    """Call ``func`` collecting its warnings; return (result, messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    messages = [str(w.message) for w in caught if issubclass(w.category, SirtStatsWarning)]
    return result, [f"{label}: {m}" for m in messages]


def summarise_dose_response_by_device(
    df: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    response_col: str = "is_responder",
    device_col: str = "device",
    criterion_col: str = "criterion",
    cluster_col: str | None = "patient_id",
    df_thresholds: pd.DataFrame | None = None,
    devices: Sequence[str] | None = None,
    criteria: Sequence[str] | None = None,
    min_lesions: int = MIN_LESIONS_PER_DEVICE,
    min_events: int = MIN_EVENTS_PER_DEVICE,
    n_bootstrap: int = 1000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Lesion dose-response, ROC, Youden and published-threshold rates per device and criterion.

    Parameters
    ----------
    df : DataFrame
        One row per lesion and criterion (:func:`derive_lesion_dose_response_by_device`):
        ``device_col`` (str), ``criterion_col`` (str), the dose (float, Gy, >= 0), the binary
        outcome and the cluster id.
    dose_col, response_col, device_col, criterion_col : str
        Columns of ``df``.
    cluster_col : str or None, default "patient_id"
        Cluster of the GEE and of the bootstraps (lesions of a patient are correlated).
    df_thresholds : DataFrame, optional
        :func:`select_device_thresholds` output; a device's threshold is used for its own rows
        only. Devices without a row get no rate table (NaN).
    devices, criteria : sequence of str, optional
        Devices and criteria that get a row even without lesions (e.g. the devices of the
        cohort); those of ``df`` always get one.
    min_lesions : int, default 20
        Fewer complete lesions (dose and outcome known) -> "not estimable".
    min_events : int, default 5
        Fewer responders, or fewer non-responders -> "not estimable".
    n_bootstrap : int, default 1000
        Cluster-bootstrap replicates of the AUC, Youden and rate CIs.
    seed : int, default 20261127
        Seed of every bootstrap (the same for each group).
    alpha : float, default 0.05
        1 - confidence level.

    Returns
    -------
    DataFrame
        One row per (device, criterion), devices in the order glass, resin, Ho-166, columns
        :data:`DEVICE_DOSE_RESPONSE_COLUMNS` (``criterion`` named ``criterion_col``): counts
        (int; ``n_lesions`` counts the rows analysed: lesions, or patients for patient-level
        data, ``n_events`` those with the outcome); the GEE odds ratio per 100 Gy and
        D50 (Gy) with CIs (:func:`fit_dose_response`); AUC and Youden threshold (Gy) with
        cluster-bootstrap CIs (:func:`compute_roc`, :func:`compute_youden_threshold`); the
        device's threshold (Gy) and its source, and the response rate (0-1) below / at or
        above it with cluster-bootstrap CIs (:func:`summarise_response_by_threshold`);
        ``note``: why the row is not estimable, and the statistical caveats raised.
        A not-estimable row has its counts and NaN estimates.

    Raises
    ------
    ValueError
        For invalid arguments.
    SirtDataError
        For missing columns, negative doses or a non-binary outcome.

    Warns
    -----
    SirtStatsWarning
        For each not-estimable group, and each caveat of the statistics, prefixed with the
        device and criterion.

    Notes
    -----
    Doses of different devices are never pooled: each (device, criterion) group is analysed
    on its own rows, and a device is compared with its own published threshold only.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P2"], "device": ["Y90_glass", "Y90_resin"],
    ...                    "criterion": "mRECIST", "absorbed_dose_gy": [250.0, 90.0],
    ...                    "is_responder": [True, False]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = summarise_dose_response_by_device(df)
    >>> out[["device", "criterion", "is_estimable", "n_lesions"]]
          device criterion  is_estimable  n_lesions
    0  Y90_glass   mRECIST         False          1
    1  Y90_resin   mRECIST         False          1
    """
    fn = "summarise_dose_response_by_device"
    _require_columns(df, [device_col, criterion_col, dose_col, response_col, cluster_col], fn)
    min_lesions = _check_int(min_lesions, "min_lesions", fn, minimum=2)
    min_events = _check_int(min_events, "min_events", fn, minimum=1)
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", fn, minimum=1)
    seed = _check_int(seed, "seed", fn, minimum=0)
    alpha = _check_alpha(alpha, fn)
    thresholds = {}
    if df_thresholds is not None:
        _require_columns(df_thresholds, ["device", "threshold_gy", "source"], fn)
        thresholds = {r.device: (float(r.threshold_gy), str(r.source))
                      for r in df_thresholds.itertuples(index=False)}
    common = {"dose_col": dose_col, "response_col": response_col, "cluster_col": cluster_col}
    boot = {"n_bootstrap": n_bootstrap, "seed": seed, "alpha": alpha}
    rows = []
    for device, criterion, sub in _groups(df, device_col, criterion_col, devices, criteria):
        label = f"{_device_label(device)}, {criterion}"
        complete = _complete(sub, dose_col, response_col, cluster_col)
        threshold, source = thresholds.get(device, (np.nan, ""))
        row = dict.fromkeys(DEVICE_DOSE_RESPONSE_COLUMNS, np.nan)
        row.update(device=device, criterion=criterion, n_lesions=len(complete),
                   n_patients=(complete[cluster_col].nunique() if cluster_col else len(complete)),
                   n_events=int(complete[response_col].astype(float).sum()),
                   n_excluded=len(sub) - len(complete), threshold_gy=threshold,
                   threshold_source=source, is_estimable=False, note="")
        reason = _estimability(complete, response_col, min_lesions, min_events,
                               "lesions" if cluster_col is not None else "patients")
        if reason:
            message = f"{fn}: {label}: {reason}; not estimable."
            warnings.warn(message, SirtStatsWarning, stacklevel=2)
            row["note"] = f"not estimable: {reason}"
            rows.append(row)
            continue
        notes = []
        fit, msg = _run(label, fit_dose_response, complete, method="gee", alpha=alpha,
                        check_type="warning", **common)
        notes += msg
        roc, msg = _run(label, compute_roc, complete, check_type="warning", **common, **boot)
        notes += msg
        youden, msg = _run(label, compute_youden_threshold, complete, check_type="warning",
                           **common, **boot)
        notes += msg
        est = fit.to_frame().set_index("parameter")
        row.update(
            is_estimable=True,
            odds_ratio_per_100gy=est.at["odds_ratio_per_100gy", "estimate"],
            or_ci_lower=est.at["odds_ratio_per_100gy", "ci_lower"],
            or_ci_upper=est.at["odds_ratio_per_100gy", "ci_upper"],
            d50_gy=fit.d50_gy, d50_ci_lower=fit.d50_ci[0], d50_ci_upper=fit.d50_ci[1],
            auc=roc.auc, auc_ci_lower=roc.auc_ci[0], auc_ci_upper=roc.auc_ci[1],
            youden_threshold_gy=youden.threshold_gy, youden_ci_lower=youden.threshold_ci[0],
            youden_ci_upper=youden.threshold_ci[1], youden_sensitivity=youden.sensitivity,
            youden_specificity=youden.specificity,
        )
        if np.isfinite(threshold):
            rates, msg = _run(label, summarise_response_by_threshold, complete,
                              thresholds=[threshold], ci_method="cluster_bootstrap", **common,
                              **boot)
            notes += msg
            below, above = rates.iloc[0], rates.iloc[1]
            row.update(n_below=below["n"], rate_below=below["rate"],
                       rate_below_ci_lower=below["ci_lower"],
                       rate_below_ci_upper=below["ci_upper"], n_above=above["n"],
                       rate_above=above["rate"], rate_above_ci_lower=above["ci_lower"],
                       rate_above_ci_upper=above["ci_upper"])
        for message in notes:
            warnings.warn(f"{fn}: {message}", SirtStatsWarning, stacklevel=2)
        row["note"] = "; ".join(m.split(": ", 1)[1] for m in notes)
        rows.append(row)
    out = pd.DataFrame(rows, columns=DEVICE_DOSE_RESPONSE_COLUMNS)
    if criterion_col != "criterion":
        out = out.rename(columns={"criterion": criterion_col})
    for col in ("n_lesions", "n_patients", "n_events", "n_excluded"):
        out[col] = out[col].astype("int64")
    for col in ("n_below", "n_above"):
        out[col] = out[col].astype("Int64")
    out["is_estimable"] = out["is_estimable"].astype(bool)
    return out
