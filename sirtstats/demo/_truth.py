"""The generating truth of the demo registry (every parameter a test may try to recover).

Kept apart from the generator so that documentation (``docs/demo-registry.md``) and tests can
import the numbers without running anything. All values are plain Python data; the public
:data:`DEMO_TRUTH` is a read-only view of :data:`_TRUTH`.
"""

from __future__ import annotations

import math
from types import MappingProxyType

__all__ = ["DEMO_TRUTH", "deep_freeze"]


def deep_freeze(obj):
    """Return ``obj`` with every dict turned into a read-only mapping and lists into tuples."""
    if isinstance(obj, dict):
        return MappingProxyType({k: deep_freeze(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return tuple(deep_freeze(v) for v in obj)
    return obj


_TRUTH: dict = {
    "version": 2,
    "defaults": {"n_patients": 300, "seed": 20261127, "snapshot_date": "2026-11-15"},
    # ------------------------------------------------------------------ case mix
    "case_mix": {
        "primary_tumour": {"HCC": 0.60, "mCRC": 0.22, "ICC": 0.08, "NET": 0.04,
                           "breast": 0.02, "uveal_melanoma": 0.015, "pancreas": 0.01,
                           "other": 0.015},
        "first_sirt_window_days_before_snapshot": (3971, 30),
        "no_sirt_fraction": 0.015,
        "no_sirt_reason": "work-up only: lung shunt fraction > 20 % or extrahepatic uptake",
        "old_baseline_imaging_fraction": 0.02,
        "old_baseline_imaging_days": (35, 60),
        "bclc_hcc": {"A": 0.15, "B": 0.28, "C": 0.55, "D": 0.02},
    },
    # ------------------------------------------------------------------ lesion dose-response
    # logit P(objective response of a treated liver lesion) = slope_per_gy * (dose - d50_gy),
    # dose = lesions.absorbed_dose_gy (recorded exactly whenever the session had post-treatment
    # dosimetry; missing completely at random otherwise). No patient random effect: lesions of
    # one patient are conditionally independent given their doses, so a marginal (GEE) or plain
    # logistic fit is unbiased. "Objective response" = best % change of the lesion diameter
    # under the criterion <= -30 % (R4.1.2), reached already at the first follow-up imaging and
    # kept until progression; non-responders never reach -30 %.
    "lesion_dose_response": {
        "HCC": {"criterion": "mRECIST", "d50_gy": 120.0, "slope_per_gy": 0.03},
        "other": {"criterion": "RECIST_1_1", "d50_gy": 150.0, "slope_per_gy": 0.02},
        "applies_to": "liver lesions with in_treated_territory True (all roles); untreated "
                      "and extrahepatic lesions never respond",
        "lesion_dose_lognormal_sigma": 0.5,
        "lesion_dose_around": "session mean tumour dose achieved (post_dosimetry "
                              "tumour_mean_dose_gy), lognormal with mean preserved",
        "hcc_recist_responder_fraction_reaching_pr": "about half: HCC responders shrink "
                                                     "in size by 3-40 % at first imaging",
    },
    # ------------------------------------------------------------------ overall survival
    # Proportional hazards with a Weibull baseline: S(t | x) = exp(-(t / scale)^shape * exp(lp)),
    # t in days from the first SIRT (from the work-up for never-treated patients),
    # lp = sum of log_hr over the covariates below, all observable in the registry:
    #   albi grade from baseline.bilirubin_umol_l / albumin_g_l via sirtstats.scores;
    #   bclc from baseline.bclc_stage (HCC only; 0/A/B reference); ecog from baseline.ecog;
    #   primary tumour from patients.primary_tumour (reference HCC).
    # Nothing else (dose, response, device, sessions, AEs) affects OS: response has NO causal
    # effect on survival, so a naive responder-vs-non-responder comparison shows pure
    # guarantee-time bias (R5.6, docs/rules/endpoints.md).
    "os_model": {
        "baseline": "weibull",
        "shape": 1.4,
        "median_reference_months": 26.0,
        "month_days": 30.4375,
        "reference": "HCC, ALBI grade 1, BCLC 0/A/B, ECOG 0",
        "hazard_ratios": {
            "albi_grade_2": 1.6,
            "albi_grade_3": 2.6,
            "bclc_C": 1.8,
            "bclc_D": 3.0,
            "ecog_ge1": 1.3,
            "primary_mCRC": 2.2,
            "primary_ICC": 1.9,
            "primary_NET": 0.7,
            "primary_other": 2.0,
        },
        "primary_other_includes": ("breast", "uveal_melanoma", "pancreas", "other"),
    },
    # ------------------------------------------------------------------ device (issue #16)
    # The one treatment effect of the demo: OS hazard x hr for patients whose FIRST session used
    # the treated device (Y-90 glass) against everyone else (Y-90 resin and Ho-166 alike), on
    # top of os_model (proportional hazards, same Weibull baseline). Nothing else of the
    # device acts on OS; its dose and response do not.
    "device_effect": {"treated": "Y90_glass", "control": "Y90_resin", "hr": 0.70},
    # Confounding: among HCC the first-session device depends on the ALBI grade (which also
    # acts on OS: os_model), P(glass, resin, Ho-166 | grade); metastases glass 20 / resin 75 /
    # Ho-166 5 %; segmentectomies glass 90 % (BCLC A); no Ho-166 before 2018 (resin instead).
    # Primary tumour and BCLC therefore confound too. Adjusting for ALBI grade, BCLC, ECOG and
    # primary tumour removes all confounding.
    "device_choice": {
        "hcc_by_albi_grade": {1: (0.85, 0.11, 0.04), 2: (0.50, 0.46, 0.04),
                              3: (0.25, 0.71, 0.04)},
        "metastases": (0.20, 0.75, 0.05),
        "confounders": ("albi_grade", "bclc_stage", "primary_tumour", "ecog"),
    },
    # ------------------------------------------------------------------ centres (issue #16)
    # centre_id drawn from its own stream; centres are labels (no effect on anything)
    "centres": {"C01": 0.40, "C02": 0.25, "C03": 0.20, "C04": 0.15},
    # ------------------------------------------------------------------ censoring
    "censoring": {
        "administrative": "snapshot_date: alive patients' last_contact_date is the snapshot "
                          "minus U(0, 30) days",
        "loss_to_follow_up_rate_per_year": 0.04,
        "loss_to_follow_up": "exponential, independent of everything; last_contact_date = "
                             "time lost",
    },
    # ------------------------------------------------------------------ progression
    # Time to progression (any site), Weibull PH, days from first SIRT:
    # hazard multiplier = hr_full_response ** (fraction of the patient's liver lesions that are
    # responders); dose acts on progression only through lesion response.
    "progression_model": {
        "baseline": "weibull",
        "shape": 1.2,
        "median_months_no_response": {"HCC": 5.0, "mCRC": 3.5, "ICC": 4.0, "NET": 9.0,
                                      "other": 3.5},
        "hr_full_response": 0.35,
        "manifestation": {"new_lesion": 0.45, "target_growth": 0.30, "both": 0.15,
                          "non_target": 0.10},
        "manifestation_rules": "target growth needs a previous follow-up imaging; non-target "
                               "PD needs a non-target lesion; otherwise a new lesion",
        "target_growth": "each target at the PD imaging = previous value x U(1.30, 1.60) x "
                         "1.04 + 5 mm",
        "equivocal_new_lesion_before_pd_fraction": 0.15,
        "new_lesion_intrahepatic": {"HCC": 0.75, "other": 0.55},
        "observed_at": "first imaging on or after the progression time",
    },
    "imaging_schedule": {
        "baseline_days_before_first_sirt": (1, 28),
        "first_followup_days": (42, 70),
        "interval_days_first_2_years": (56, 91),
        "interval_days_later": (90, 180),
        "missed_visit_fraction": 0.04,
        "stops_at": "progression imaging, death, last contact, transplant or resection",
        "not_assessed_target_fraction": 0.015,
        "split_lesion_fraction": 0.01,
        "reader_discordance_fraction": 0.04,
        "reader_missing_fraction": 0.10,
    },
    # ------------------------------------------------------------------ dosimetry
    "dosimetry": {
        "y90_gy_kg_per_gbq": 49.67,
        "ho166_gy_kg_per_gbq": 15.87,
        "tissue_density_g_ml": 1.03,
        "lung_mass_kg": 1.0,
        "recorded_doses_from": "delivered activity with the work-up LSF and TNR "
                               "(MIRD perfused, partition tumour/normal, lung)",
        "planted_perfused_dose_discrepancy_fraction": 0.01,
        "planted_discrepancy_factor": "x U(1.25, 1.6) or x U(0.5, 0.75)",
        "post_dosimetry_fraction": {"before_2019": 0.70, "from_2019": 0.95},
        "achieved_tumour_dose_lognormal_sigma": 0.2,
    },
    # ------------------------------------------------------------------ toxicity
    "toxicity": {
        "reild_logit": {"intercept": -4.5, "per_gy_normal_liver": 0.012,
                        "dose": "max over sessions of the unweighted mean over the session's "
                                "injections of the recorded treatments.normal_liver_dose_gy"},
        "reild_onset_days": (21, 90),
        "reild_bilirubin_peak_umol_l": (60.0, 150.0),
    "reild_lab": "unscheduled lab panel 14 days after onset (bilirubin near its peak, "
                 "albumin -8 g/L, INR +0.3); ascites AE grade 2-3 within 7 days of onset",
        "clinical_ae_per_session": {
            "Fatigue": 0.35, "Abdominal pain": 0.25, "Nausea": 0.20, "Vomiting": 0.08,
            "Fever": 0.10, "Anorexia": 0.10, "Diarrhea": 0.04, "Ascites": 0.04,
            "Gastric ulcer": 0.015, "Duodenal ulcer": 0.008, "Cholecystitis": 0.006,
            "Pneumonitis": 0.003, "Urinary tract infection": 0.03,
        },
        "grade5": "labels only: deaths drawn by the OS model within 30 days of SIRT get a "
                  "grade 5 AE with probability 0.4; REILD deaths within 120 days of onset",
        "lymphopenia": "lymphocytes x (1 - U(0.3, 0.7) x bump peaking at 45 days)",
    },
    "labs": {
        "schedule_days": (30, 90, 180, 270, 365, "then every 90"),
        "early_day7_fraction": 0.5,
        "bilirubin_mg_dl_patient_fraction": 0.10,
    },
    "other_therapies": {
        "systemic_after_progression": 0.65,
        "second_line": 0.35,
        "systemic_without_progression": 0.04,
        "transplant_after_bridge": 0.5,
        "resection_after_lobectomy_or_neoadjuvant": 0.5,
        "surgery_after_downstaging": 0.25,
    },
}

#: Read-only generating truth of :func:`sirtstats.demo.make_demo_registry`.
DEMO_TRUTH = deep_freeze(_TRUTH)


def os_weibull_scale_days() -> float:
    """Weibull scale (days) of the OS baseline hazard (reference patient median)."""
    m = _TRUTH["os_model"]
    median_days = m["median_reference_months"] * m["month_days"]
    return median_days / math.log(2.0) ** (1.0 / m["shape"])
