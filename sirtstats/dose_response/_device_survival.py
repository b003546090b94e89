"""Survival by device and dose group: each device split at its own threshold (M2.6).

Part of :mod:`sirtstats.dose_response` (import from there); docs/rules/dosimetry.md.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sirtstats.dose_response._by_device import (
    _DEVICE_ORDER,
    _device_label,
    _ordered,
)
from sirtstats.dose_response._common import (
    _require_columns,
)
from sirtstats.exceptions import SirtStatsWarning

__all__ = [
    "DEVICE_LOGRANK_COLUMNS",
    "DeviceDoseGroupSurvival",
    "derive_patient_dose_by_device",
    "summarise_survival_by_device_dose_group",
]


def derive_patient_dose_by_device(
    df: pd.DataFrame,
    *,
    criterion: str,
    dose_col: str = "absorbed_dose_gy",
    device_col: str = "device",
    criterion_col: str = "criterion",
) -> pd.DataFrame:
    """Mean lesion dose per patient, with the patient's device, for one criterion's lesions.

    Parameters
    ----------
    df : DataFrame
        :func:`derive_lesion_dose_response_by_device` output: ``patient_id``, ``device_col``,
        ``criterion_col`` and the dose (float, Gy).
    criterion : str
        Lesions that are targets under this criterion are averaged (a lesion appears once per
        criterion in ``df``).
    dose_col, device_col, criterion_col : str
        Columns of ``df``.

    Returns
    -------
    DataFrame
        One row per patient with a device (sorted by ``patient_id``): ``patient_id``,
        ``device``, ``dose_col`` (mean over the patient's lesions, Gy), ``n_lesions`` (int).

    Raises
    ------
    SirtDataError
        If a column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P1", "P2"], "device": ["Y90_glass"] * 2
    ...                    + ["Y90_resin"], "criterion": "mRECIST",
    ...                    "absorbed_dose_gy": [100.0, 300.0, 80.0]})
    >>> derive_patient_dose_by_device(df, criterion="mRECIST")
      patient_id     device  absorbed_dose_gy  n_lesions
    0         P1  Y90_glass             200.0          2
    1         P2  Y90_resin              80.0          1
    """
    fn = "derive_patient_dose_by_device"
    _require_columns(df, ["patient_id", device_col, criterion_col, dose_col], fn)
    rows = df[(df[criterion_col] == criterion).fillna(False).to_numpy(dtype=bool)
              & df[device_col].notna().to_numpy() & df[dose_col].notna().to_numpy()]
    out = (rows.groupby("patient_id", sort=True)
           .agg(device=(device_col, "first"), dose=(dose_col, "mean"),
                n_lesions=(dose_col, "size"))
           .reset_index().rename(columns={"dose": dose_col}))
    out["device"] = out["device"].astype(object)
    out["n_lesions"] = out["n_lesions"].astype("int64")
    return out


#: Columns of :attr:`DeviceDoseGroupSurvival.tests`, in order.
DEVICE_LOGRANK_COLUMNS = ["device", "threshold_gy", "threshold_source", "n_patients",
                          "n_below", "n_above", "logrank_p", "note"]


@dataclass(frozen=True)
class DeviceDoseGroupSurvival:
    """Result of :func:`summarise_survival_by_device_dose_group`.

    Attributes
    ----------
    data : DataFrame
        Endpoint rows analysed: endpoint columns, ``device``, the dose, ``dose_group``.
    km : DataFrame
        :func:`sirtstats.survival.summarise_km` by ``device`` and ``dose_group``.
    curve : DataFrame
        :func:`sirtstats.survival.compute_km_curve` by ``device`` and ``dose_group``.
    risk_table : DataFrame
        :func:`sirtstats.survival.compute_number_at_risk` by ``device`` and ``dose_group`` at
        every ``tick_months``.
    tests : DataFrame
        One row per device: :data:`DEVICE_LOGRANK_COLUMNS` (log-rank p within the device).
    n_excluded : int
        Endpoint rows left out (no dose, no single device, or a device without threshold).
    """

    data: pd.DataFrame
    km: pd.DataFrame
    curve: pd.DataFrame
    risk_table: pd.DataFrame
    tests: pd.DataFrame
    n_excluded: int

    def to_frame(self) -> pd.DataFrame:
        """KM summary with each device's threshold and log-rank p.

        Returns
        -------
        DataFrame
            ``km`` joined to ``tests`` on ``device``.
        """
        if self.km.empty:
            return self.tests.copy()
        return self.km.merge(self.tests[["device", "threshold_gy", "threshold_source",
                                         "logrank_p"]], on="device", how="left")

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def summarise_survival_by_device_dose_group(
    df_endpoints: pd.DataFrame,
    df_doses: pd.DataFrame,
    df_thresholds: pd.DataFrame,
    *,
    dose_col: str = "absorbed_dose_gy",
    device_col: str = "device",
    endpoint: str | None = "OS",
    time_col: str = "time_months",
    event_col: str = "event",
    tick_months: float = 6.0,
) -> DeviceDoseGroupSurvival:
    """Kaplan-Meier and log-rank by dose group within each device, at its own threshold.

    Parameters
    ----------
    df_endpoints : DataFrame
        ``sirtstats.endpoints.derive_endpoints`` output: ``patient_id``, ``endpoint``,
        ``time_col`` (months), ``event_col`` (0/1).
    df_doses : DataFrame
        :func:`derive_patient_dose_by_device` output: ``patient_id``, ``device_col``, dose (Gy).
    df_thresholds : DataFrame
        :func:`select_device_thresholds` output: each device is split at its own threshold;
        a device without one is not analysed (its row in ``tests`` says so).
    dose_col, device_col : str
        Columns of ``df_doses``.
    endpoint : str or None, default "OS"
        Endpoint rows to keep; None when ``df_endpoints`` holds a single endpoint.
    time_col, event_col : str
        Endpoint columns.
    tick_months : float, default 6
        Spacing of the number-at-risk times (0, 6, 12 ... months up to the device's longest
        time).

    Returns
    -------
    DeviceDoseGroupSurvival
        Rows analysed, KM summary, curves, number at risk and one log-rank test per device.

    Raises
    ------
    SirtDataError
        For missing columns.

    Warns
    -----
    SirtStatsWarning
        A device without threshold, with a single dose group, or small groups.

    Notes
    -----
    The dose is fixed at treatment (the time origin), so grouping by it carries no
    guarantee-time bias; dose groups are not randomised (confounding by indication). Devices
    are never pooled: "above threshold" means a different dose for each device.
    """
    from sirtstats.dose_response._summaries import derive_dose_group
    from sirtstats.survival import (
        compute_km_curve,
        compute_number_at_risk,
        summarise_km,
        test_logrank,
    )

    fn = "summarise_survival_by_device_dose_group"
    _require_columns(df_endpoints, ["patient_id", time_col, event_col]
                     + (["endpoint"] if endpoint is not None else []), fn)
    _require_columns(df_doses, ["patient_id", device_col, dose_col], fn)
    _require_columns(df_thresholds, ["device", "threshold_gy", "source"], fn)
    rows = df_endpoints
    if endpoint is not None:
        rows = rows[rows["endpoint"] == endpoint]
    lookup = df_doses.drop_duplicates("patient_id").set_index("patient_id")
    thresholds = df_thresholds.drop_duplicates("device").set_index("device")
    frames, tests = [], []
    for device in _ordered(list(lookup[device_col].dropna()), _DEVICE_ORDER):
        ids = lookup.index[lookup[device_col] == device]
        sub = rows[rows["patient_id"].isin(ids)]
        sub = sub.assign(device=device, **{dose_col: sub["patient_id"].map(lookup[dose_col])})
        test = dict.fromkeys(DEVICE_LOGRANK_COLUMNS, np.nan)
        test.update(device=device, n_patients=len(sub), note="")
        if device not in thresholds.index:
            test["note"] = "no published threshold for this device and diagnosis"
            warnings.warn(f"{fn}: {_device_label(device)}: {test['note']}; not analysed.",
                          SirtStatsWarning, stacklevel=2)
            tests.append(test)
            continue
        cut = float(thresholds.at[device, "threshold_gy"])
        grouped = derive_dose_group(sub, dose_col=dose_col, thresholds=[cut])
        grouped["dose_group"] = grouped["dose_group"].cat.rename_categories(
            [f"< {cut:g} Gy", f"≥ {cut:g} Gy"])
        low, high = grouped["dose_group"].cat.categories
        test.update(threshold_gy=cut, threshold_source=str(thresholds.at[device, "source"]),
                    n_below=int((grouped["dose_group"] == low).sum()),
                    n_above=int((grouped["dose_group"] == high).sum()))
        if min(test["n_below"], test["n_above"]) == 0:
            test["note"] = "a single dose group: no log-rank test"
            warnings.warn(f"{fn}: {_device_label(device)}: {test['note']}.", SirtStatsWarning,
                          stacklevel=2)
        else:
            result = test_logrank(grouped, group_col="dose_group", time_col=time_col,
                                  event_col=event_col)
            table = result.table
            test["logrank_p"] = float(table.loc[table["comparison"] == "overall", "p"].iloc[0])
        tests.append(test)
        frames.append(grouped)
    tests = pd.DataFrame(tests, columns=DEVICE_LOGRANK_COLUMNS)
    for col in ("n_patients", "n_below", "n_above"):
        tests[col] = tests[col].astype("Int64")
    if not frames:
        empty = pd.DataFrame()
        return DeviceDoseGroupSurvival(rows.iloc[:0], empty, empty, empty, tests, len(rows))
    data = pd.concat(frames, ignore_index=True)
    data["dose_group"] = data["dose_group"].astype(str)
    by = ["device", "dose_group"]
    km = summarise_km(data, time_col=time_col, event_col=event_col, by=by,
                      check_type="warning")
    curve = compute_km_curve(data, time_col=time_col, event_col=event_col, by=by)
    risks = []
    for _device, sub in data.groupby("device", sort=False):
        times = np.arange(0.0, float(sub[time_col].max()) + 1e-9, float(tick_months))
        risks.append(compute_number_at_risk(sub, list(times), time_col=time_col,
                                            event_col=event_col, by=by))
    risk = pd.concat(risks, ignore_index=True)
    return DeviceDoseGroupSurvival(data=data, km=km, curve=curve, risk_table=risk, tests=tests,
                                   n_excluded=len(rows) - len(data))
