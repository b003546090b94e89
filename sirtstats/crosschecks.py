"""Cross-table rules of the registry, as data: rule id, table, column, severity, text, check.

Each rule's ``check(tables)`` receives the typed tables (index = row number in the file) and
returns a boolean Series over the rows of ``table`` that violate it (True = problem). The rules
run after the per-table checks; foreign keys are checked separately
(:func:`sirtstats.validation.check_keys`).

``first SIRT`` is the earliest ``treatments.treatment_date`` of the patient. Windows (in days)
are named constants below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sirtstats import territory as _terr
from sirtstats.validation import ProblemLog

__all__ = [
    "AE_BEFORE_SIRT_DAYS",
    "BASELINE_WINDOW_DAYS",
    "CROSS_RULES",
    "CUTOFF_COLUMNS",
    "CUTOFF_EFFECTS",
    "CrossRule",
    "TARGET_MIN_MM",
    "check_cross_rules",
    "check_cutoff",
]

#: Baseline assessment expected within this window of days relative to first SIRT (inclusive).
BASELINE_WINDOW_DAYS: tuple[int, int] = (-90, 0)

#: Adverse events with onset more than this many days before first SIRT are suspicious.
AE_BEFORE_SIRT_DAYS: int = 30

#: Smallest measurable non-nodal target at baseline, mm (RECIST 1.1, R1.1): a target below it
#: is more likely a diameter entered in cm.
TARGET_MIN_MM: float = 10.0

#: What apply_cutoff does with a date after the cut-off, where it is not "ignored" (the row
#: dropped): patients are followed up to the cut-off (administrative censoring, R5.5).
CUTOFF_EFFECTS: dict[tuple[str, str], str] = {
    ("patients", "death_date"): "alive at the cut-off, followed up to it",
    ("patients", "last_contact_date"): "followed up to the cut-off",
}

#: Date columns compared with the data cut-off, per table.
CUTOFF_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("death_date", "last_contact_date"),
    "workups": ("workup_date",),
    "treatments": ("treatment_date",),
    "post_dosimetry": ("scan_date",),
    "lesions": ("baseline_date",),
    "lesion_measurements": ("assessment_date",),
    "imaging_assessments": ("assessment_date",),
    "labs": ("sample_date",),
    "adverse_events": ("onset_date",),
    "other_therapies": ("start_date",),
    "pet_assessments": ("scan_date",),
    "pet_lesions": ("scan_date",),
}


@dataclass(frozen=True)
class CrossRule:
    """A declarative cross-table rule."""

    id: str
    table: str
    column: str
    severity: str
    text: str
    check: Callable[[dict], pd.Series]


def _first_sirt(tables) -> pd.Series:
    tx = tables["treatments"]
    return tx.groupby("patient_id")["treatment_date"].min()


def _patient_first_sirt(tables, table="patients") -> pd.Series:
    return tables[table]["patient_id"].map(_first_sirt(tables))


def _lt(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a < b).fillna(False).astype(bool)


def _death_before_first_sirt(t):
    p = t["patients"]
    return _lt(p["death_date"], _patient_first_sirt(t))


def _death_before_diagnosis(t):
    p = t["patients"]
    return _lt(p["death_date"], p["diagnosis_date"])


def _diagnosis_after_first_sirt(t):
    p = t["patients"]
    return _lt(_patient_first_sirt(t), p["diagnosis_date"])


def _last_contact_before_first_sirt(t):
    p = t["patients"]
    return _lt(p["last_contact_date"], _patient_first_sirt(t))


def _last_contact_after_death(t):
    p = t["patients"]
    return _lt(p["death_date"], p["last_contact_date"])


def _cause_without_death(t):
    p = t["patients"]
    return p["cause_of_death"].notna() & p["death_date"].isna()


def _no_treatment(t):
    p = t["patients"]
    return ~p["patient_id"].isin(set(t["treatments"]["patient_id"].dropna()))


def _baseline_window(t):
    b = t["baseline"]
    days = (b["assessment_date"] - _patient_first_sirt(t, "baseline")).dt.days
    lo, hi = BASELINE_WINDOW_DAYS
    return ((days < lo) | (days > hi)).fillna(False).astype(bool)


def _workup_other_patient(t):
    tx = t["treatments"]
    owner = tx["workup_id"].map(t["workups"].drop_duplicates("workup_id").set_index(
        "workup_id")["patient_id"])
    return (owner.notna() & (owner != tx["patient_id"])).astype(bool)


def _workup_after_treatment(t):
    tx = t["treatments"]
    wdate = tx["workup_id"].map(t["workups"].drop_duplicates("workup_id").set_index(
        "workup_id")["workup_date"])
    return _lt(tx["treatment_date"], wdate)


def _session_inconsistent(t):
    tx = t["treatments"]
    g = tx.groupby("session_id")
    n_pat = g["patient_id"].transform("nunique")
    n_day = g["treatment_date"].transform("nunique")
    return ((n_pat > 1) | (n_day > 1)).fillna(False).astype(bool)


def _session_dates(t) -> pd.Series:
    """First treatment date per (patient, session), keyed by :func:`_session_key`."""
    tx = t["treatments"]
    s = tx.groupby(["patient_id", "session_id"], as_index=False)["treatment_date"].min()
    return pd.Series(s["treatment_date"].to_numpy(), index=_session_key(s))


def _session_key(df) -> pd.Series:
    return df["patient_id"].astype(str) + "\x1f" + df["session_id"].astype(str)


def _session_unknown(table):
    def check(t):
        df = t[table]
        known = _session_key(df).isin(set(_session_dates(t).index))
        return (df["session_id"].notna() & ~known).astype(bool)
    return check


def _dosimetry_before_session(t):
    d = t["post_dosimetry"]
    return _lt(d["scan_date"], _session_key(d).map(_session_dates(t)))


def _lesion_map(t, col):
    return t["lesions"].drop_duplicates("lesion_id").set_index("lesion_id")[col]


def _measurement_before_baseline(t):
    m = t["lesion_measurements"]
    return _lt(m["assessment_date"], m["lesion_id"].map(_lesion_map(t, "baseline_date")))


def _measurement_role_none(t):
    m = t["lesion_measurements"]
    recist = m["lesion_id"].map(_lesion_map(t, "recist_role"))
    mrecist = m["lesion_id"].map(_lesion_map(t, "mrecist_role"))
    bad = ((m["criterion"] == "RECIST_1_1") & (recist == "none")) | (
        (m["criterion"] == "mRECIST") & (mrecist == "none"))
    return bad.fillna(False).astype(bool)


def _death_of(t, table, via_lesion=False):
    """Each row's patient death date (lesion measurements reach the patient via the lesion)."""
    deaths = t["patients"].drop_duplicates("patient_id").set_index("patient_id")["death_date"]
    df = t[table]
    patients = df["lesion_id"].map(_lesion_map(t, "patient_id")) if via_lesion else df[
        "patient_id"]
    return patients.map(deaths)


def _birth_after_diagnosis(t):
    p = t["patients"]
    return (p["birth_year"] > p["diagnosis_date"].dt.year).fillna(False).astype(bool)


def _measurement_after_death(t):
    m = t["lesion_measurements"]
    return _lt(_death_of(t, "lesion_measurements", via_lesion=True), m["assessment_date"])


def _imaging_after_death(t):
    i = t["imaging_assessments"]
    return _lt(_death_of(t, "imaging_assessments"), i["assessment_date"])


def _pet_after_death(t):
    return _lt(_death_of(t, "pet_assessments"), t["pet_assessments"]["scan_date"])


def _pet_lesion_other_patient(t):
    """A PET measurement whose lesion belongs to another patient (metabolic P1.3)."""
    pl = t["pet_lesions"]
    owner = pl["lesion_id"].map(_lesion_map(t, "patient_id"))
    return (owner.notna() & (owner != pl["patient_id"])).astype(bool)


def _pet_lesion_scan_unknown(t):
    """A PET lesion measurement without its scan in pet_assessments (patient and date)."""
    pl, pa = t["pet_lesions"], t["pet_assessments"]
    scans = pd.MultiIndex.from_frame(pa[["patient_id", "scan_date"]])
    rows = pd.MultiIndex.from_frame(pl[["patient_id", "scan_date"]])
    known = pl["patient_id"].notna() & pl["scan_date"].notna()
    return pd.Series(~rows.isin(scans), index=pl.index) & known


def _parse_segments(value):
    """Couinaud segments of one cell (None where empty or unparseable)."""
    try:
        return _terr.compute_segments(pd.Series([value])).iloc[0]
    except ValueError:  # the schema pattern reports it
        return None


def _segments_or_none(df, col) -> pd.Series:
    """Parsed Couinaud segments of ``df[col]`` (None where empty or unparseable).

    Each distinct text is parsed once (a registry holds a few hundred segment lists in
    hundreds of thousands of rows); a missing cell parses to None.
    """
    if col not in df.columns:
        return pd.Series([None] * len(df.index), index=df.index, dtype=object)
    values = df[col]
    codes, uniques = pd.factorize(values)
    if not all(type(u) is str for u in uniques):  # in-memory cells of other types: one by one
        return values.map(_parse_segments)
    parsed = np.empty(len(uniques) + 1, dtype=object)  # the last one for missing (code -1)
    for i, u in enumerate(uniques):
        parsed[i] = _parse_segments(u)
    return pd.Series(parsed[codes], index=df.index, name=col, dtype=object)


def _segments_on_extrahepatic_lesion(t):
    """Segments recorded for a lesion outside the liver (R4.3.1)."""
    les = t["lesions"]
    return (_segments_or_none(les, "couinaud_segments").notna()
            & (les["organ"] != "liver")).astype(bool)


def _session_segments_outside_lobe(t):
    """A lobar injection with segments of the other lobe; a radiation lobectomy on both (R4.3.1)."""
    tx = t["treatments"]
    segs = _segments_or_none(tx, "couinaud_segments")
    caud = {_terr.CAUDATE_SEGMENT}

    def bad(territory, s):
        if s is None:
            return False
        lobe = _terr.LOBE_OF_TERRITORY.get(territory)
        if lobe is not None:
            return not s <= lobe | caud
        if territory == "radiation_lobectomy":
            return bool(s & _terr.RIGHT_LOBE_SEGMENTS) and bool(s & _terr.LEFT_LOBE_SEGMENTS)
        return False
    return pd.Series([bad(a, b) for a, b in zip(tx["territory"], segs, strict=True)],
                     index=tx.index, dtype=bool)


def _patients_with_lesion_segments(t) -> set:
    les = t["lesions"]
    has = _segments_or_none(les, "couinaud_segments").notna() & (les["organ"] == "liver")
    return set(les.loc[has, "patient_id"])


def _session_segments_missing(t):
    """A session whose territory names no segments, for a patient whose lesions carry them."""
    tx = t["treatments"]
    unknown = tx["territory"].isin([k for k, v in _terr.TERRITORY_SEGMENTS.items() if v is None])
    no_segs = _segments_or_none(tx, "couinaud_segments").isna()
    return (unknown & no_segs & tx["patient_id"].isin(_patients_with_lesion_segments(t))
            ).astype(bool)


def _liver_lesion_without_segment(t):
    """A liver lesion without segments while another liver lesion of its patient has them."""
    les = t["lesions"]
    no_segs = _segments_or_none(les, "couinaud_segments").isna() & (les["organ"] == "liver")
    return (no_segs & les["patient_id"].isin(_patients_with_lesion_segments(t))).astype(bool)


def _territory_flag_disagrees(t):
    """The recorded in_treated_territory differs from the territory derived from segments."""
    les, tx = t["lesions"], t["treatments"]
    if les.empty or tx.empty or "couinaud_segments" not in les.columns:
        return pd.Series(False, index=les.index)
    # Rows without a patient are reported by the required rule; a set holding None would
    # match them to each other here.
    ok = (_segments_or_none(les, "couinaud_segments").notna() & (les["organ"] == "liver")
          & les["in_treated_territory"].notna() & les["patient_id"].notna())
    if not ok.any():
        return pd.Series(False, index=les.index)
    sub = les.loc[ok]
    tx_ok = tx.loc[tx["patient_id"].notna() & tx["patient_id"].isin(set(sub["patient_id"]))
                   & tx["session_id"].notna() & tx["treatment_date"].notna()]
    tx_ok = tx_ok.assign(couinaud_segments=tx_ok["couinaud_segments"].where(
        _segments_or_none(tx_ok, "couinaud_segments").notna()))
    derived = _terr.derive_lesion_territory(sub, tx_ok)
    seg_based = derived["territory_source"] == "segments"
    differs = seg_based & (derived["is_treated"].fillna(False).astype(bool)
                           != sub["in_treated_territory"].astype(bool))
    return differs.reindex(les.index, fill_value=False).astype(bool)


def _new_lesion_segments_extrahepatic(t):
    """Segments given for a new lesion recorded as extrahepatic (R4.3.6)."""
    ia = t["imaging_assessments"]
    return (_segments_or_none(ia, "new_lesion_segments").notna()
            & (ia["new_lesion_site"] == "extrahepatic")).astype(bool)


def _grade5_without_death(t):
    ae = t["adverse_events"]
    return ((ae["grade"] == 5) & _death_of(t, "adverse_events").isna()).fillna(False).astype(bool)


def _target_diameter_in_cm(t):
    """A measured target diameter below 10 mm at the lesion's baseline: cm in an mm column?"""
    m = t["lesion_measurements"]
    role = m["lesion_id"].map(_lesion_map(t, "recist_role"))
    at_baseline = m["assessment_date"] == m["lesion_id"].map(_lesion_map(t, "baseline_date"))
    small = (m["diameter_mm"] > 0) & (m["diameter_mm"] < TARGET_MIN_MM)
    return (small & at_baseline & (role == "target") & (m["criterion"] == "RECIST_1_1")).fillna(
        False).astype(bool)


def _ae_before_sirt(t):
    ae = t["adverse_events"]
    first = _patient_first_sirt(t, "adverse_events")
    return _lt(ae["onset_date"], first - pd.Timedelta(days=AE_BEFORE_SIRT_DAYS))


def _ae_resolution_before_onset(t):
    ae = t["adverse_events"]
    return _lt(ae["resolution_date"], ae["onset_date"])


def _therapy_end_before_start(t):
    o = t["other_therapies"]
    return _lt(o["end_date"], o["start_date"])


def _lab_unit_unknown(t):
    labs = t["labs"]
    try:
        from sirtstats.units import is_accepted_unit
    except ImportError:  # pragma: no cover - units module ships with the package
        return pd.Series(False, index=labs.index)
    pairs = labs[["analyte", "unit"]].dropna().drop_duplicates()
    bad = {(a, u) for a, u in pairs.itertuples(index=False) if not is_accepted_unit(a, u)}
    if not bad:
        return pd.Series(False, index=labs.index)
    key = pd.MultiIndex.from_arrays([labs["analyte"], labs["unit"]])
    return pd.Series(key.isin(list(bad)), index=labs.index)


def _lab_lln_above_uln(t):
    labs = t["labs"]
    return (labs["lln"] > labs["uln"]).fillna(False).astype(bool)


#: The cross-table rules, checked in this order.
CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule("death_before_first_sirt", "patients", "death_date", "error",
              "death before the first SIRT", _death_before_first_sirt),
    CrossRule("death_before_diagnosis", "patients", "death_date", "error",
              "death before diagnosis", _death_before_diagnosis),
    CrossRule("diagnosis_after_first_sirt", "patients", "diagnosis_date", "error",
              "diagnosis after the first SIRT", _diagnosis_after_first_sirt),
    CrossRule("last_contact_before_first_sirt", "patients", "last_contact_date", "error",
              "last contact before the first SIRT", _last_contact_before_first_sirt),
    CrossRule("last_contact_after_death", "patients", "last_contact_date", "error",
              "last contact after death (last_contact_date must be on or before death_date)",
              _last_contact_after_death),
    CrossRule("birth_after_diagnosis", "patients", "birth_year", "error",
              "birth year after the diagnosis date (negative age)", _birth_after_diagnosis),
    CrossRule("cause_without_death", "patients", "cause_of_death", "warning",
              "cause of death given without a death date", _cause_without_death),
    CrossRule("patient_without_treatment", "patients", "patient_id", "warning",
              "patient has no SIRT treatment (the cohort will exclude them)", _no_treatment),
    CrossRule("baseline_outside_window", "baseline", "assessment_date", "warning",
              f"baseline assessment not within {BASELINE_WINDOW_DAYS[0]}..."
              f"{BASELINE_WINDOW_DAYS[1]} days of the first SIRT", _baseline_window),
    CrossRule("workup_of_other_patient", "treatments", "workup_id", "error",
              "work-up belongs to another patient", _workup_other_patient),
    CrossRule("workup_after_treatment", "treatments", "treatment_date", "error",
              "treatment before its work-up", _workup_after_treatment),
    CrossRule("session_inconsistent", "treatments", "session_id", "error",
              "session spans several patients or dates", _session_inconsistent),
    CrossRule("dosimetry_session_unknown", "post_dosimetry", "session_id", "error",
              "session not found among the patient's treatments",
              _session_unknown("post_dosimetry")),
    CrossRule("dosimetry_before_session", "post_dosimetry", "scan_date", "error",
              "post-treatment scan before the session", _dosimetry_before_session),
    CrossRule("measurement_before_lesion_baseline", "lesion_measurements", "assessment_date",
              "error", "measurement before the lesion's baseline_date",
              _measurement_before_baseline),
    CrossRule("measurement_after_death", "lesion_measurements", "assessment_date", "error",
              "measurement after the patient's death_date", _measurement_after_death),
    CrossRule("target_diameter_in_cm", "lesion_measurements", "diameter_mm", "warning",
              f"target lesion below {TARGET_MIN_MM:g} mm at baseline: diameter entered in cm?",
              _target_diameter_in_cm),
    CrossRule("measurement_of_role_none", "lesion_measurements", "criterion", "warning",
              "lesion has role none under this criterion (measurement ignored)",
              _measurement_role_none),
    CrossRule("lesion_segments_not_liver", "lesions", "couinaud_segments", "error",
              "Couinaud segments given for a lesion outside the liver (R4.3.1)",
              _segments_on_extrahepatic_lesion),
    CrossRule("liver_lesion_without_segment", "lesions", "couinaud_segments", "warning",
              "liver lesion without segments while other lesions of the patient have them: its "
              "territory falls back to in_treated_territory (R4.3.4)",
              _liver_lesion_without_segment),
    CrossRule("territory_flag_disagrees", "lesions", "in_treated_territory", "warning",
              "in_treated_territory differs from the territory derived from the Couinaud "
              "segments of the lesion and the sessions; the derived one is used (R4.3.4)",
              _territory_flag_disagrees),
    CrossRule("session_segments_outside_lobe", "treatments", "couinaud_segments", "error",
              "segments outside the session's lobe (right lobe V-VIII, left lobe II-IV, "
              "caudate I with either; a radiation lobectomy in one lobe, R4.3.1)",
              _session_segments_outside_lobe),
    CrossRule("session_segments_missing", "treatments", "couinaud_segments", "warning",
              "territory names no segments (sector, segmental, radiation segmentectomy or "
              "lobectomy) but the patient's lesions have segments: record the treated segments "
              "(R4.3.2)", _session_segments_missing),
    CrossRule("new_lesion_segments_extrahepatic", "imaging_assessments", "new_lesion_segments",
              "error", "Couinaud segments given for an extrahepatic new lesion (R4.3.6)",
              _new_lesion_segments_extrahepatic),
    CrossRule("ae_long_before_sirt", "adverse_events", "onset_date", "warning",
              f"onset more than {AE_BEFORE_SIRT_DAYS} days before the first SIRT",
              _ae_before_sirt),
    CrossRule("ae_grade5_without_death", "adverse_events", "grade", "error",
              "grade 5 (fatal) adverse event but the patient has no death_date",
              _grade5_without_death),
    CrossRule("ae_resolution_before_onset", "adverse_events", "resolution_date", "error",
              "resolution before onset", _ae_resolution_before_onset),
    CrossRule("ae_session_unknown", "adverse_events", "session_id", "error",
              "session not found among the patient's treatments",
              _session_unknown("adverse_events")),
    CrossRule("imaging_after_death", "imaging_assessments", "assessment_date", "error",
              "imaging after the patient's death_date", _imaging_after_death),
    CrossRule("pet_after_death", "pet_assessments", "scan_date", "error",
              "PET scan after the patient's death_date", _pet_after_death),
    CrossRule("pet_lesion_of_other_patient", "pet_lesions", "patient_id", "error",
              "PET lesion belongs to another patient in lesions", _pet_lesion_other_patient),
    CrossRule("pet_lesion_scan_unknown", "pet_lesions", "scan_date", "error",
              "no scan of this patient on this date in pet_assessments",
              _pet_lesion_scan_unknown),
    CrossRule("therapy_end_before_start", "other_therapies", "end_date", "error",
              "end before start", _therapy_end_before_start),
    CrossRule("lab_unit_unknown", "labs", "unit", "error",
              "unit not accepted for this analyte (see sirtstats.units.ACCEPTED_UNITS)",
              _lab_unit_unknown),
    CrossRule("lab_lln_above_uln", "labs", "lln", "error",
              "lower limit of normal above the upper limit", _lab_lln_above_uln),
)


def check_cross_rules(tables: dict[str, pd.DataFrame], files: dict[str, str], *,
                      log: ProblemLog, rules=CROSS_RULES, skip_tables=()) -> None:
    """Run the cross-table rules, one problem per violating row.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Every registry table, typed, index = row number in the file.
    files : dict of str to str
        File name per table.
    log : ProblemLog
        Receives the problems.
    rules : sequence of CrossRule
        Rules to run (default :data:`CROSS_RULES`).
    skip_tables : collection of str
        Tables that could not be read; rules on them are skipped.
    """
    for rule in rules:
        df = tables[rule.table]
        if df.empty or rule.table in skip_tables:
            continue
        bad = rule.check(tables)
        if bad.any():
            log.add_rows(rule.table, files.get(rule.table, ""), df.index[bad], rule.column,
                         df.loc[bad, rule.column], rule.text, rule.severity)


def check_cutoff(tables: dict[str, pd.DataFrame], files: dict[str, str], cutoff_date, *,
                 log: ProblemLog) -> None:
    """Warn about dates after the data cut-off (they are ignored by :func:`apply_cutoff`).

    Parameters
    ----------
    tables : dict of str to DataFrame
        Typed tables, index = row number in the file.
    files : dict of str to str
        File name per table.
    cutoff_date : Timestamp
        Data cut-off (inclusive: dates on the cut-off count).
    log : ProblemLog
        Receives one warning per date after the cut-off.
    """
    cutoff = pd.Timestamp(cutoff_date)
    for table, cols in CUTOFF_COLUMNS.items():
        df = tables[table]
        for col in cols:
            effect = CUTOFF_EFFECTS.get((table, col), "ignored")
            rule = f"after the data cut-off ({cutoff:%Y-%m-%d}): {effect}"
            bad = (df[col] > cutoff).fillna(False).astype(bool)
            log.add_rows(table, files.get(table, ""), df.index[bad], col, df.loc[bad, col],
                         rule, "warning")
