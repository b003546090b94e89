"""PERCIST 1.0 per-scan metabolic response and best metabolic response.

Wahl RL, Jacene H, Kasamon Y, Lodge MA. From RECIST to PERCIST: evolving considerations for PET
response criteria in solid tumors. J Nucl Med 2009;50 Suppl 1:122S-150S; rules P1.1-P1.9 of
docs/rules/metabolic.md. Every threshold is compared in exact arithmetic (:mod:`fractions`).
"""

from __future__ import annotations

import pandas as pd

from sirtstats.metabolic._common import prepare
from sirtstats.metabolic._rules import (
    BLOOD_POOL_FACTOR,
    LIVER_FACTOR,
    METABOLIC_CODES,
    PERCIST_ABS_SUL,
    PERCIST_REL,
    SD_FACTOR,
    SUM_MAX_LESIONS,
    SUM_MAX_PER_ORGAN,
    TLG_REL,
    TO_RECIST_CODE,
    exact,
)
from sirtstats.metabolic._scans import LesionIndex, patient_reference, patient_scans
from sirtstats.response._common import check_bool

__all__ = ["derive_best_metabolic_response", "derive_percist_response", "is_measurable"]

#: Lesion columns the PERCIST engine reads (``tlg_g`` when recorded).
LESION_VALUES = ("lesion_id", "sul_peak", "organ", "tlg_g")


def _threshold(scan, reference: str):
    """P1.1 measurability threshold (exact SUL) of one scan, or None when not recorded."""
    if reference == "liver":
        mean, sd, factor = scan["liver_sul_mean"], scan["liver_sul_sd"], LIVER_FACTOR
    else:
        mean, sd = scan["blood_pool_sul_mean"], scan["blood_pool_sul_sd"]
        factor = BLOOD_POOL_FACTOR
    if pd.isna(mean) or pd.isna(sd):
        return None
    return factor * exact(mean) + SD_FACTOR * exact(sd)


def is_measurable(sul_peak, *, reference_mean, reference_sd, reference: str = "blood_pool"):
    """Whether a tumour SULpeak is measurable under PERCIST 1.0 (rule P1.1).

    Parameters
    ----------
    sul_peak : float
        Tumour SULpeak (SUL, g/mL).
    reference_mean, reference_sd : float
        SUL mean and SD (g/mL) of the reference region: normal liver (3 cm VOI) or blood pool.
    reference : {"blood_pool", "liver"}, default "blood_pool"
        Reference region: liver 1.5 x mean + 2 SD; blood pool 2.0 x mean + 2 SD.

    Returns
    -------
    bool
        True when ``sul_peak`` >= the threshold (exact decimal arithmetic).

    References
    ----------
    Wahl et al., J Nucl Med 2009;50 Suppl 1:122S-150S, section "PERCIST 1.0", measurability
    of tumour FDG uptake (rule P1.1).

    Examples
    --------
    >>> is_measurable(2.0, reference_mean=1.0, reference_sd=0.25, reference="liver")
    True
    """
    factor = LIVER_FACTOR if reference == "liver" else BLOOD_POOL_FACTOR
    return exact(sul_peak) >= factor * exact(reference_mean) + SD_FACTOR * exact(reference_sd)


def _sul_sum(index, pos: list):
    """P1.4: sum of the SULpeaks of up to 5 hottest lesions (rows ``pos``), at most 2 per organ."""
    sul, organ = index.col["sul_peak"], index.col["organ"]
    picked, per_organ = [], {}
    for i in index.ranked(pos):
        if per_organ.get(organ[i], 0) >= SUM_MAX_PER_ORGAN:
            continue
        per_organ[organ[i]] = per_organ.get(organ[i], 0) + 1
        picked.append(exact(sul[i]))
        if len(picked) == SUM_MAX_LESIONS:
            break
    return sum(picked) if picked else None


def _hottest(index, pos: list):
    """P1.3: the lesion (of rows ``pos``) with the highest SULpeak (ties: first lesion_id)."""
    i = index.ranked(pos)[0]
    return index.col["lesion_id"][i], exact(index.col["sul_peak"][i])


def _pct(new, old):
    return float(100 * (new - old) / old) if old else float("nan")


def _is_background(sul_peaks, scan, reference):
    """P1.5: every lesion (SULpeaks ``sul_peaks``, table order) at or below background (CMR)."""
    bp_mean, bp_sd = scan["blood_pool_sul_mean"], scan["blood_pool_sul_sd"]
    if pd.isna(bp_mean) or pd.isna(bp_sd):
        return False
    bp_limit = exact(bp_mean) + SD_FACTOR * exact(bp_sd)
    for s in sul_peaks:
        if exact(s) > bp_limit:
            return False
        if reference == "liver" and (pd.isna(scan["liver_sul_mean"])
                                     or exact(s) >= exact(scan["liver_sul_mean"])):
            return False
    return True


def derive_percist_response(
    df_pet: pd.DataFrame,
    df_pet_lesions: pd.DataFrame,
    *,
    df_lesions: pd.DataFrame | None = None,
    reference: str = "auto",
    include_tlg: bool = True,
) -> pd.DataFrame:
    """PERCIST 1.0 metabolic response at each follow-up PET scan (rules P1.1-P1.8).

    Parameters
    ----------
    df_pet : DataFrame
        ``pet_assessments``: ``patient_id`` (str), ``scan_date`` (datetime64), reference
        regions ``liver_sul_mean``, ``liver_sul_sd``, ``blood_pool_sul_mean``,
        ``blood_pool_sul_sd`` (SUL, g/mL) and optionally ``new_fdg_avid_lesion`` (YES, NO,
        EQUIVOCAL). The earliest scan of each patient is the baseline.
    df_pet_lesions : DataFrame
        ``pet_lesions``: ``patient_id``, ``lesion_id``, ``scan_date``, ``sul_peak`` (SUL, g/mL),
        optionally ``tlg_g`` (g) and ``organ``.
    df_lesions : DataFrame, optional
        ``lesions`` (``lesion_id``, ``organ``), for the organ when ``df_pet_lesions`` lacks it.
    reference : {"auto", "blood_pool", "liver"}, default "auto"
        Measurability reference (P1.2). "auto" uses the blood pool for a patient with hepatic
        disease (after SIRT the liver is the treated organ) and the liver otherwise.
    include_tlg : bool, default True
        Count a TLG increase of >= 75 % without SULpeak decline as PMD (P1.8).

    Returns
    -------
    DataFrame
        One row per patient and follow-up scan: ``patient_id``, ``scan_date``, ``reference``,
        ``threshold_sul`` (P1.1, from the baseline scan), ``baseline_lesion_id``,
        ``baseline_sul_peak``, ``hottest_lesion_id``, ``sul_peak`` (hottest at this scan, P1.3),
        ``sul_peak_change_pct`` (% from baseline; negative = decline), ``sul_sum_change_pct``
        (P1.4, informative), ``tlg_change_pct``, ``response`` (CMR, PMR, SMD, PMD, NE) and
        ``reason``.

    References
    ----------
    Wahl et al., J Nucl Med 2009;50 Suppl 1:122S-150S, section "PERCIST 1.0" and its Table
    (response categories); rules P1.1-P1.8 of docs/rules/metabolic.md.

    Examples
    --------
    >>> import pandas as pd
    >>> pet = pd.DataFrame({"patient_id": ["P1", "P1"],
    ...     "scan_date": pd.to_datetime(["2024-01-01", "2024-04-01"]),
    ...     "liver_sul_mean": [2.0, 2.0], "liver_sul_sd": [0.3, 0.3],
    ...     "blood_pool_sul_mean": [1.5, 1.5], "blood_pool_sul_sd": [0.2, 0.2]})
    >>> les = pd.DataFrame({"patient_id": ["P1", "P1"], "lesion_id": ["L1", "L1"],
    ...     "scan_date": pet["scan_date"], "sul_peak": [8.0, 5.6], "organ": "liver"})
    >>> derive_percist_response(pet, les)["response"].tolist()
    ['PMR']
    """
    fn = "derive_percist_response"
    include_tlg = check_bool(include_tlg, "include_tlg", fn)
    pet, les = prepare(df_pet, df_pet_lesions, df_lesions, fn)
    index = LesionIndex(les, LESION_VALUES)
    rows = []
    for pid, scans in patient_scans(pet):
        ref = patient_reference(reference, index, pid, fn)
        base = _baseline(index, pid, scans[0], ref)
        for scan in scans[1:]:
            rows.append(_scan_row(pid, scan, index, ref, base, include_tlg))
    cols = ["patient_id", "scan_date", "reference", "threshold_sul", "baseline_lesion_id",
            "baseline_sul_peak", "hottest_lesion_id", "sul_peak", "sul_peak_change_pct",
            "sul_sum_change_pct", "tlg_change_pct", "response", "reason"]
    res = pd.DataFrame(rows, columns=cols)
    res.attrs["settings"] = {"criterion": "PERCIST_1_0", "reference": reference,
                             "include_tlg": include_tlg}
    return res


def _baseline(index, pid, base, ref, *, sums: bool = True):
    """Baseline of one patient: threshold (P1.1), measurable lesions' hottest and sum, TLG.

    Returns ``(thr, b_id, b_sul, b_sum, b_tlg)``; None where not available (the sums always
    None when ``sums`` is False).
    """
    b_rows = index.scan(pid, base["scan_date"])
    thr = _threshold(base, ref)
    sul = index.col["sul_peak"]
    measurable = [i for i in b_rows if exact(sul[i]) >= thr] if thr is not None else []
    b_id, b_sul = _hottest(index, measurable) if measurable else (None, None)
    if not sums:
        return thr, b_id, b_sul, None, None
    b_sum = _sul_sum(index, measurable) if measurable else None
    return thr, b_id, b_sul, b_sum, _tlg(index, b_rows)


def _scan_row(pid, scan, index, ref, base, include_tlg):
    """One follow-up scan's output row: hottest lesion, changes and the PERCIST response."""
    thr, b_id, b_sul, b_sum, b_tlg = base
    f_rows = index.scan(pid, scan["scan_date"])
    new = scan["new_fdg_avid_lesion"]
    out = {"patient_id": pid, "scan_date": scan["scan_date"], "reference": ref,
           "threshold_sul": float(thr) if thr is not None else float("nan"),
           "baseline_lesion_id": b_id,
           "baseline_sul_peak": float(b_sul) if b_sul is not None else float("nan"),
           "hottest_lesion_id": None, "sul_peak": float("nan"),
           "sul_peak_change_pct": float("nan"), "sul_sum_change_pct": float("nan"),
           "tlg_change_pct": float("nan")}
    if new == "YES":
        out.update(response="PMD", reason="new FDG-avid lesion")
    if b_sul is None or not f_rows:
        out.setdefault("response", "NE")
        out.setdefault("reason", "no measurable lesion at baseline" if b_sul is None
                       else "no lesion measured at this scan")
        return out
    f_id, f_sul = _hottest(index, f_rows)
    f_sum = _sul_sum(index, f_rows)
    f_tlg = _tlg(index, f_rows)
    out.update(hottest_lesion_id=f_id, sul_peak=float(f_sul),
               sul_peak_change_pct=_pct(f_sul, b_sul))
    if b_sum is not None and f_sum is not None:
        out["sul_sum_change_pct"] = _pct(f_sum, b_sum)
    if b_tlg is not None and f_tlg is not None:
        out["tlg_change_pct"] = _pct(f_tlg, b_tlg)
    if "response" not in out:
        tlg = (b_tlg, f_tlg) if include_tlg else None
        sul = index.col["sul_peak"]
        response, reason = _verdict(new, b_sul, f_sul, tlg, [sul[i] for i in f_rows], scan, ref)
        out.update(response=response, reason=reason)
    return out


def _verdict(new, b_sul, f_sul, tlg, f_suls, scan, ref):
    """PERCIST response and reason of a measured follow-up scan, first rule wins (P1.5-P1.8).

    ``f_suls`` are the SULpeaks of the scan's lesions in table order.
    ``tlg`` is ``(baseline TLG, follow-up TLG)`` (g, None when unknown), or None when TLG is
    not counted (``include_tlg=False``).
    """
    up, down = f_sul - b_sul, b_sul - f_sul
    if up >= PERCIST_REL * b_sul and up >= PERCIST_ABS_SUL:
        return "PMD", "SULpeak up >= 30 % and >= 0.8"
    if tlg is not None and _tlg_pmd(*tlg, b_sul, f_sul):
        return "PMD", "TLG up >= 75 % without SULpeak decline"
    if new != "EQUIVOCAL" and _is_background(f_suls, scan, ref):
        return "CMR", "all lesions at background"
    if down >= PERCIST_REL * b_sul and down >= PERCIST_ABS_SUL:
        return "PMR", "SULpeak down >= 30 % and >= 0.8"
    return "SMD", "neither PMR nor PMD"


def _tlg_pmd(b_tlg, f_tlg, b_sul, f_sul):
    """P1.8: TLG up >= 75 % without SULpeak decline."""
    return (b_tlg is not None and f_tlg is not None and b_tlg > 0
            and f_tlg - b_tlg >= TLG_REL * b_tlg and f_sul >= b_sul)


def _tlg(index, pos: list):
    """Summed TLG (g, exact) of rows ``pos``; None without a recorded value."""
    if "tlg_g" not in index.col or not pos:
        return None
    tlg, na = index.col["tlg_g"], index.na["tlg_g"]
    values = [tlg[i] for i in pos if not na[i]]
    return sum(exact(v) for v in values) if values else None


_RANK = {c: i for i, c in enumerate(METABOLIC_CODES)}


def derive_best_metabolic_response(
    df_response: pd.DataFrame,
    *,
    confirm: bool = False,
    criterion: str = "PERCIST_1_0",
) -> pd.DataFrame:
    """Best metabolic response per patient, with or without a confirmation scan (rule P1.9).

    Parameters
    ----------
    df_response : DataFrame
        Output of :func:`derive_percist_response` or :func:`derive_eortc_response`:
        ``patient_id``, ``scan_date``, ``response``.
    confirm : bool, default False
        When True a CMR or PMR counts only if the next scan is also CMR or PMR (the worse of
        the two is kept); an unconfirmed response counts as SMD.
        Scans after the first PMD are not read (D22), with or without confirmation.
    criterion : str, default "PERCIST_1_0"
        Label written to the ``criterion`` column.

    Returns
    -------
    DataFrame
        One row per patient: ``patient_id``, ``criterion``, ``confirmed`` (bool), ``bmr``
        (CMR, PMR, SMD, PMD, NE), ``bmr_date`` and ``bor``, the RECIST-coded equivalent
        (CR, PR, SD, PD, NE) accepted by
        :func:`sirtstats.response.rates.summarise_response_rates` (ORR = CMR + PMR).

    References
    ----------
    Wahl et al., J Nucl Med 2009;50 Suppl 1:122S-150S, section "PERCIST 1.0" (confirmation
    and best response); rule P1.9 of docs/rules/metabolic.md.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"patient_id": ["P1", "P1"],
    ...     "scan_date": pd.to_datetime(["2024-04-01", "2024-07-01"]),
    ...     "response": ["PMR", "SMD"]})
    >>> derive_best_metabolic_response(r, confirm=True)["bmr"].tolist()
    ['SMD']
    """
    confirm = check_bool(confirm, "confirm", "derive_best_metabolic_response")
    out = []
    d = df_response.sort_values(["patient_id", "scan_date"], kind="mergesort")
    for pid, g in d.groupby("patient_id", sort=False):
        codes, dates = g["response"].tolist(), g["scan_date"].tolist()
        if "PMD" in codes:  # P1.9 / D22: nothing after the first PMD counts
            stop = codes.index("PMD") + 1
            codes, dates = codes[:stop], dates[:stop]
        if confirm:
            eff = []
            for i, c in enumerate(codes):
                if c in ("CMR", "PMR"):
                    nxt = next((x for x in codes[i + 1:] if x != "NE"), None)
                    c = max(c, nxt, key=_RANK.get) if nxt in ("CMR", "PMR") else "SMD"
                eff.append(c)
            codes = eff
        best = min(range(len(codes)), key=lambda i: (_RANK[codes[i]], i))
        out.append({"patient_id": pid, "criterion": criterion, "confirmed": confirm,
                    "bmr": codes[best], "bmr_date": dates[best],
                    "bor": TO_RECIST_CODE[codes[best]]})
    return pd.DataFrame(out, columns=["patient_id", "criterion", "confirmed", "bmr",
                                      "bmr_date", "bor"])
