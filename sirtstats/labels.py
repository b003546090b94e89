"""Readable labels for column names and coded values, for tables and figures.

One label table for the whole report: tables (:mod:`sirtstats.tables`) and figures
(:mod:`sirtstats.plotting`) call :func:`column_label` and :func:`value_label` so that no raw code
(``Y90_glass``, ``RECIST_1_1``, ``albi_grade``) reaches a reader. Column labels come from this
module's table of derived columns first, then from a unit-aware spelling of the column name;
coded values from :data:`VALUE_LABELS`.

Spellings follow the criteria documents (RECIST 1.1, mRECIST, CTCAE v5.0, BCLC 2022) and the
device names of the manufacturers' instructions for use.
"""

from __future__ import annotations

import re

__all__ = ["COLUMN_LABELS", "UNIT_SUFFIXES", "VALUE_LABELS", "column_label", "value_label"]

#: Coded values -> readable label (codes of ``data_schema/`` enums and of derived columns).
VALUE_LABELS: dict[str, str] = {
    # devices
    "Y90_glass": "Y-90 glass",
    "Y90_resin": "Y-90 resin",
    "Ho166_PLLA": "Ho-166 PLLA",
    # criteria
    "RECIST_1_1": "RECIST 1.1",
    "recist11": "RECIST 1.1",
    "mRECIST": "mRECIST",
    "mrecist": "mRECIST",
    "PERCIST_1_0": "PERCIST 1.0",
    "EORTC_1999": "EORTC 1999",
    # diagnoses
    "HCC": "HCC",
    "ICC": "iCCA",
    "mCRC": "mCRC",
    "NET": "NET",
    "breast": "Breast",
    "uveal_melanoma": "Uveal melanoma",
    "pancreas": "Pancreas",
    "other": "Other",
    # endpoints
    "OS": "Overall survival",
    "PFS": "Progression-free survival",
    "hepatic_PFS": "Hepatic progression-free survival",
    "treated_PFS": "Treated-territory progression-free survival",
    "TTP": "Time to progression",
    "TTMP": "Time to metabolic progression",
    "metabolic_PFS": "Metabolic progression-free survival",
    # PERCIST 1.0 scan-quality checks (P1.10)
    "uptake_time_outside_50_70": "Uptake time outside 50–70 min",
    "uptake_time_differs_from_baseline": "Uptake time > 15 min from baseline",
    "liver_reference_changed": "Liver reference changed > 20 % and > 0.3 SUL",
    "blood_pool_reference_changed": "Blood-pool reference changed > 20 % and > 0.3 SUL",
    "glucose_above_11_1": "Glucose > 11.1 mmol/L (200 mg/dL)",
    "TTLP": "Time to local progression",
    "DoR": "Duration of response",
    "TTR": "Time to response",
    # response codes
    "NON_CR_NON_PD": "Non-CR/non-PD",
    # territories
    "whole_liver": "Whole liver",
    "bilobar_single_session": "Bilobar, single session",
    "right_lobe": "Right lobe",
    "left_lobe": "Left lobe",
    "sector": "Sector",
    "segmental": "Segmental",
    "radiation_segmentectomy": "Radiation segmentectomy",
    "radiation_lobectomy": "Radiation lobectomy",
    # prescription methods
    "BSA": "BSA",
    "MIRD_single": "MIRD single compartment",
    "partition": "Partition model",
    "multicompartment_voxel": "Multicompartment / voxel",
    "empirical": "Empirical",
    # aetiologies and misc.
    "alcohol": "Alcohol",
    "haemochromatosis": "Haemochromatosis",
    "none": "None",
    "M": "Male",
    "F": "Female",
    "grade_1_2": "Grade 1–2",
    "grade_3_4": "Grade 3–4",
    "mild": "Mild",
    "moderate_severe": "Moderate/severe",
    "intrahepatic": "Intrahepatic",
    "extrahepatic": "Extrahepatic",
    "lymph_node": "Lymph node",
    "tumour_progression": "Tumour progression",
    "liver_failure": "Liver failure",
    "treatment_related": "Treatment related",
    "unknown": "Unknown",
    # portal vein tumour thrombus and treatment intent (Table 1)
    "branch": "Branch",
    "lobar": "Lobar",
    "main": "Main trunk",
    "palliative": "Palliative",
    "downstaging": "Downstaging",
    "bridge_to_transplant": "Bridge to transplant",
    "neoadjuvant_resection": "Neoadjuvant to resection",
    "curative_segmentectomy": "Curative segmentectomy",
    "MISSING": "Missing",
    # rows of every patient and response scopes (response-rate table: "all", "overall")
    "all": "All patients",
    "overall": "Overall",
    "hepatic": "Hepatic",
}

#: Column names -> readable label, for derived columns and where the spelled-out name misleads.
COLUMN_LABELS: dict[str, str] = {
    "patient_id": "Patient",
    "age_years": "Age (years)",
    "sex": "Sex",
    "diagnosis": "Diagnosis",
    "primary_tumour": "Primary tumour",
    "device": "Device",
    "criterion": "Criterion",
    "endpoint": "Endpoint",
    "ecog": "ECOG PS",
    "ecog_ps": "ECOG PS",
    "bclc": "BCLC stage",
    "bclc_stage": "BCLC stage",
    "albi_grade": "ALBI grade",
    "albi_score": "ALBI score",
    "child_pugh_class": "Child-Pugh class",
    "child_pugh_score": "Child-Pugh score",
    "meld": "MELD",
    "pvtt": "Portal vein tumour thrombosis",
    "afp_ng_ml": "AFP (ng/mL)",
    "bor": "Best overall response",
    "confirmed_bor": "Confirmed best overall response",
    "orr": "Objective response rate",
    "dcr": "Disease control rate",
    "n": "n",
    "n_events": "Events",
    "n_at_risk": "At risk",
    "hr": "HR",
    "ci_lower": "95 % CI lower",
    "ci_upper": "95 % CI upper",
    "p": "p",
    "p_value": "p",
    "lsf_pct": "Lung shunt fraction (%)",
    "tumour_dose_gy": "Tumour absorbed dose (Gy)",
    "lesion_dose_gy": "Lesion absorbed dose (Gy)",
    "absorbed_dose_gy": "Lesion absorbed dose (Gy)",
    "normal_liver_dose_gy": "Non-tumoural liver absorbed dose (Gy)",
    "lung_dose_gy": "Lung absorbed dose (Gy)",
    "ctcae_grade": "CTCAE grade",
    "grade": "CTCAE grade",
    "soc": "System organ class",
    "ae_term": "Adverse event",
    "time_months": "Time (months)",
    "pct_change": "Change from baseline (%)",
    "best_pct_change": "Best change from baseline (%)",
    "is_responder": "Responder",
    # Table 1 and paste-ready tables (sirtstats.tables, sirtstats.formatting)
    "age_at_first_sirt_years": "Age at first SIRT (years)",
    "hcc_aetiology": "HCC aetiology",
    "n_liver_lesions": "Liver lesions (n)",
    "n_sessions": "SIRT sessions (n)",
    "n_prior_systemic_lines": "Prior systemic lines (n)",
    "tumour_burden_pct": "Tumour burden (% of liver volume)",
    "centre_id": "Centre",
    "bilobar": "Bilobar disease",
    "extrahepatic_disease": "Extrahepatic disease",
    "treatment_intent": "Treatment intent",
    "n_censored": "Censored",
    "n_patients": "Patients",
    "n_lesions": "Lesions",
    "n_any_grade": "Any grade (n)",
    "pct_any_grade": "Any grade (%)",
    "hr_lower": "HR 95 % CI lower",
    "hr_upper": "HR 95 % CI upper",
    "median_months": "Median (months)",
    "visit_date": "Visit date",
    "assessment_date": "Assessment date",
    "lesion_id": "Lesion",
    "session_id": "Session",
    "visit": "Visit",
    "orr_pct": "ORR (%)",
    "dcr_pct": "DCR (%)",
    "cr_rate_pct": "CR rate (%)",
    # metabolic response (PERCIST 1.0, sirtstats.metabolic)
    "bmr": "Best metabolic response",
    "mrr_pct": "Metabolic response (%)",
    "mdcr_pct": "Metabolic disease control (%)",
    "cmr_pct": "CMR rate (%)",
    "n_cmr": "CMR (n)",
    "n_pmd": "PMD (n)",
    "n_not_measurable": "Not measurable at baseline (n)",
    "check": "Check",
    "n_scans": "Scans (n)",
    "pct_scans": "Scans (%)",
    "n_responders": "Responders",
    "n_disease_control": "Disease control (n)",
    "n_cr": "CR (n)",
    "n_ne": "NE (n)",
    "n_missing": "Missing (n)",
    "n_evaluable": "Evaluable",
    "n_deaths": "Deaths",
    "horizon_days": "Within (days of first SIRT)",
    "n_no_origin": "No first-SIRT date (n)",
    "n_incomplete_followup": "Alive, followed < window (n)",
    "mortality_pct": "Mortality (%)",
    "median_followup": "Median follow-up (months)",
    "estimate": "Estimate",
    "n_in": "Patients in",
    "n_remaining": "Patients remaining",
    "n_excluded": "Excluded",
    "pct": "%",
    "chisq": "χ²",
    "df": "df",
    "p_holm": "p (Holm)",
    "conf_type": "CI transform",
}

#: Unit suffixes of column names (style.md §3) -> the unit as printed.
UNIT_SUFFIXES: dict[str, str] = {
    "mm": "mm",
    "ml": "mL",
    "gy": "Gy",
    "gbq": "GBq",
    "pct": "%",
    "months": "months",
    "days": "days",
    "years": "years",
    "kg": "kg",
    "cm": "cm",
    "m2": "m²",
    "umol_l": "µmol/L",
    "g_l": "g/L",
    "ng_ml": "ng/mL",
}

_ACRONYMS = {"ae", "afp", "albi", "alp", "alt", "ast", "bsa", "ci", "ct", "ecog", "ggt", "hr",
             "inr", "lsf", "meld", "mri", "os", "pet", "pfs", "reild", "sirt", "ttp", "wbc"}


def value_label(value: object) -> str:
    """Return the readable label of one coded value.

    Parameters
    ----------
    value : object
        A code such as ``"Y90_glass"``; other values are returned as text unchanged, except
        that underscores become spaces.

    Returns
    -------
    str
        The label of :data:`VALUE_LABELS`, or the value as text.

    Examples
    --------
    >>> from sirtstats.labels import value_label
    >>> value_label("Y90_glass"), value_label("RECIST_1_1"), value_label("PR")
    ('Y-90 glass', 'RECIST 1.1', 'PR')
    """
    if isinstance(value, str) and value in VALUE_LABELS:
        return VALUE_LABELS[value]
    text = str(value)
    return text.replace("_", " ") if "_" in text else text


def column_label(name: str) -> str:
    """Return the readable label of a column name.

    Parameters
    ----------
    name : str
        A snake_case column name; a trailing unit suffix (style.md §3) becomes the unit in
        parentheses.

    Returns
    -------
    str
        The label of :data:`COLUMN_LABELS`, else the name in sentence case with its unit.

    Examples
    --------
    >>> from sirtstats.labels import column_label
    >>> column_label("albi_grade"), column_label("target_dose_gy"), column_label("lsf_pct")
    ('ALBI grade', 'Target dose (Gy)', 'Lung shunt fraction (%)')
    """
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    words = [w for w in re.split(r"_+", str(name)) if w]
    unit = None
    for n_words in (2, 1):
        suffix = "_".join(words[-n_words:]).lower()
        if len(words) > n_words and suffix in UNIT_SUFFIXES:
            unit = UNIT_SUFFIXES[suffix]
            words = words[:-n_words]
            break
    spelled = [w.upper() if w.lower() in _ACRONYMS else w.lower() for w in words]
    if spelled and spelled[0].islower():
        spelled[0] = spelled[0].capitalize()
    text = " ".join(spelled)
    return f"{text} ({unit})" if unit else text
