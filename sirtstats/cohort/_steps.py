"""The eligibility steps of :func:`sirtstats.cohort.select_cohort`, in order, as data.

Private module of :mod:`sirtstats.cohort`: each step is (criterion, exclusion reason,
keep-mask); SIRT session and cut-off first, then centre, diagnosis, device, first-SIRT window,
treatment intent, minimum follow-up and baseline imaging (RECIST 1.1, Eisenhauer et al., Eur J
Cancer 2009: at most 4 weeks before treatment start; R1.1 in docs/rules/response.md).
"""

from __future__ import annotations

import pandas as pd

from sirtstats.cohort._arguments import _fmt

__all__ = ["_baseline_imaging_step", "_sirt_steps", "_steps"]


def _steps(
    base: pd.DataFrame,
    has_sirt: pd.Series,
    *,
    cutoff,
    pre_cut,
    diagnoses,
    devices,
    first_from,
    first_to,
    intents,
    min_followup_days,
    require_baseline_imaging,
    baseline_imaging_max_days,
    centres=None,
    centre=None,
) -> list[tuple[str, str, pd.Series]]:
    """Selection steps as (criterion, reason, keep-mask) in order; rules as data."""
    steps = _sirt_steps(base, has_sirt, cutoff=cutoff, pre_cut=pre_cut)
    if centres is not None:
        steps.append((f"centre in {{{', '.join(centres)}}}", "centre not selected",
                      centre.isin(centres)))
    if diagnoses is not None:
        steps.append(
            (f"primary tumour in {{{', '.join(diagnoses)}}}",
             "primary tumour not selected", base["primary_tumour"].isin(diagnoses))
        )
    if devices is not None:
        steps.append(
            (f"first-session device in {{{', '.join(devices)}}}",
             "device not selected", base["device"].isin(devices))
        )
    if first_from is not None:
        steps.append(
            (f"first SIRT on or after {_fmt(first_from)}",
             "first SIRT before the selection window",
             base["first_sirt_date"] >= first_from)
        )
    if first_to is not None:
        steps.append(
            (f"first SIRT on or before {_fmt(first_to)}",
             "first SIRT after the selection window",
             base["first_sirt_date"] <= first_to)
        )
    if intents is not None:
        intent = base["treatment_intent"] if "treatment_intent" in base.columns else None
        keep = intent.isin(intents) if intent is not None else pd.Series(False, index=base.index)
        steps.append(
            (f"treatment intent in {{{', '.join(intents)}}}",
             "treatment intent not selected or missing", keep)
        )
    if min_followup_days is not None:
        steps.append(
            (f"follow-up of at least {min_followup_days} days (or death)",
             f"follow-up shorter than {min_followup_days} days",
             base["is_deceased"].fillna(False).astype(bool)
             | (base["followup_days"].fillna(-1) >= min_followup_days))
        )
    if require_baseline_imaging:
        steps.append(_baseline_imaging_step(base, baseline_imaging_max_days))
    return steps


def _sirt_steps(base: pd.DataFrame, has_sirt: pd.Series, *, cutoff,
                pre_cut) -> list[tuple[str, str, pd.Series]]:
    """The first steps of :func:`_steps`: a SIRT session, and a first SIRT by the cut-off."""
    treated_by_cutoff = base["first_sirt_date"].notna()
    if pre_cut:
        steps: list[tuple[str, str, pd.Series]] = [
            (f"at least one SIRT session on or before cut-off {_fmt(cutoff)}",
             "no SIRT session recorded by the data cut-off", has_sirt),
        ]
        if (has_sirt & ~treated_by_cutoff).any():
            steps.append(
                (f"first SIRT on or before cut-off {_fmt(cutoff)}",
                 "first SIRT after the data cut-off", treated_by_cutoff)
            )
    else:
        steps = [("at least one SIRT session", "no SIRT session recorded", has_sirt)]
        if cutoff is not None:
            steps.append(
                (f"first SIRT on or before cut-off {_fmt(cutoff)}",
                 "first SIRT after the data cut-off", treated_by_cutoff)
            )
    return steps


def _baseline_imaging_step(base: pd.DataFrame,
                           baseline_imaging_max_days) -> tuple[str, str, pd.Series]:
    """The baseline-imaging step of :func:`_steps` (within ``baseline_imaging_max_days``)."""
    days = base["baseline_imaging_days_before"]
    keep = days.notna()
    text = "baseline imaging on or before the first SIRT"
    if baseline_imaging_max_days is not None:
        keep = keep & (days.fillna(10**9) <= baseline_imaging_max_days)
        text += f", within {baseline_imaging_max_days} days"
    return text, "no baseline imaging in the window", keep
