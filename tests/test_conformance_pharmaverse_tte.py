"""Conformance: sirtstats.endpoints reproduces the pharmaverse ADTTE (OS, PFS, DoR) exactly.

Inputs: investigator per-visit overall responses (SDTM RS ``_recist``, RSTESTCD OVRLRESP) and
ADSL (RANDDT, DTHDT, LSTALVDT) of ../shared/conformance/pharmaverse. Expected: adam/adtte_onco.csv
(512 rows: OS 254, PFS 254, RSD 4), made by admiral/admiralonco (README §6.2, §7 check 3).
Convention: ``derive_endpoints(..., convention="admiral")`` (no missed-assessment rule, no new
therapy censoring, last assessment of any response incl. NE, assessments on the origin day
count, durations end − start + 1). Partial RS dates are imputed to the last day of the month
as ADRS does (README §6.1). EVNTDESC is derived from our ``event_type`` and censoring date.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sirtstats.endpoints import derive_endpoints

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "pharmaverse"

pytestmark = pytest.mark.skipif(not (SHARED / "adam" / "adtte_onco.csv").exists(),
                                reason="pharmaverse conformance data not available")

PARAMCD = {"OS": "OS", "PFS": "PFS", "DoR": "RSD"}
RESPONSE = {"CR": "CR", "PR": "PR", "SD": "SD", "NON-CR/NON-PD": "NON_CR_NON_PD", "PD": "PD",
            "NE": "NE"}


def _read(rel):
    return pd.read_csv(SHARED / rel, dtype=str, keep_default_na=False, na_values=[""])


def _impute_last_day(dtc: pd.Series) -> pd.Series:
    """ISO date or partial YYYY-MM -> date, a missing day imputed to the month's last day."""
    full = pd.to_datetime(dtc.where(dtc.str.len() >= 10).str[:10], errors="coerce")
    month = pd.to_datetime(dtc.where(dtc.str.len() == 7), format="%Y-%m", errors="coerce")
    return full.fillna(month + pd.offsets.MonthEnd(0))


@pytest.fixture(scope="module")
def derived() -> pd.DataFrame:
    rs = _read("sdtm/rs_onco_recist.csv")
    rs = rs[(rs["RSEVAL"] == "INVESTIGATOR") & (rs["RSTESTCD"] == "OVRLRESP")]
    visits = pd.DataFrame({
        "patient_id": rs["USUBJID"],
        "assessment_date": _impute_last_day(rs["RSDTC"]),
        "overall_response": rs["RSSTRESC"].map(RESPONSE),
    })
    assert visits["overall_response"].notna().all()
    adsl = _read("adam/adsl.csv")
    adsl = adsl[adsl["RANDDT"].notna()]  # screen failures have no ADTTE rows
    patients = pd.DataFrame({
        "patient_id": adsl["USUBJID"],
        "origin_date": pd.to_datetime(adsl["RANDDT"]),
        "death_date": pd.to_datetime(adsl["DTHDT"]),
        "last_contact_date": pd.to_datetime(adsl["LSTALVDT"]),
    })
    return derive_endpoints(patients, visits, endpoints=["OS", "PFS", "DoR"],
                            convention="admiral")


def _evntdesc(row) -> str:
    if row["event_type"] == "death":
        return "Death"
    if row["event_type"] == "progression":
        return "Disease Progression"
    if row["endpoint"] != "DoR" and row["event_date"] == row["origin_date"]:
        return "Randomization"  # admiral: on a tie the censoring source listed last wins
    return "Alive" if row["endpoint"] == "OS" else "Last Tumor Assessment"


def test_adtte_all_512_records_equal(derived):
    expected = _read("adam/adtte_onco.csv")
    ours = pd.DataFrame({
        "USUBJID": derived["patient_id"],
        "PARAMCD": derived["endpoint"].map(PARAMCD),
        "STARTDT": derived["origin_date"].dt.strftime("%Y-%m-%d"),
        "ADT": derived["event_date"].dt.strftime("%Y-%m-%d"),
        "AVAL": derived["time_days"].astype(str),
        "CNSR": (1 - derived["event"]).astype(str),
        "EVNTDESC": derived.apply(_evntdesc, axis=1),
    })
    cols = ["STARTDT", "ADT", "AVAL", "CNSR", "EVNTDESC"]
    merged = expected.merge(ours, on=["USUBJID", "PARAMCD"], how="outer",
                            suffixes=("_exp", "_ours"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both",
                                                          ["USUBJID", "PARAMCD", "_merge"]]
    equal = pd.concat([merged[f"{c}_exp"] == merged[f"{c}_ours"] for c in cols], axis=1).all(
        axis=1)
    assert len(merged) == 512
    assert equal.sum() == 512, merged.loc[~equal, ["USUBJID", "PARAMCD"]
                                          + [f"{c}_{s}" for c in cols for s in ("exp", "ours")]]


def test_adtte_parameter_counts_and_totals(derived):
    counts = derived.groupby("endpoint").size().to_dict()
    assert counts == {"OS": 254, "PFS": 254, "DoR": 4}
    pfs = derived[derived["endpoint"] == "PFS"]
    assert pfs["event_type"].value_counts().to_dict() == {"censored": 248, "death": 3,
                                                         "progression": 3}


@pytest.mark.parametrize(("subject", "adt", "cnsr", "aval"), [
    ("01-701-1015", "2014-03-06", 1, 64),
    ("01-701-1028", "2013-08-30", 0, 43),
    ("01-701-1034", "2014-08-12", 1, 43),
    ("01-701-1097", "2014-01-22", 1, 22),
    ("01-701-1115", "2013-02-01", 1, 64),
    ("01-701-1118", "2014-06-04", 1, 85),
    ("01-701-1130", "2014-04-19", 0, 64),
    ("01-701-1133", "2012-12-30", 0, 64),
])
def test_readme_worked_pfs_values(derived, subject, adt, cnsr, aval):
    row = derived[(derived["endpoint"] == "PFS") & (derived["patient_id"] == subject)].iloc[0]
    assert row["event_date"] == pd.Timestamp(adt)
    assert 1 - row["event"] == cnsr
    assert row["time_days"] == aval


def test_fda_rules_differ_from_admiral_on_the_same_data(derived):
    """The default convention must not silently equal the sponsor convention (e.g. +1 day)."""
    rs = _read("sdtm/rs_onco_recist.csv")
    rs = rs[(rs["RSEVAL"] == "INVESTIGATOR") & (rs["RSTESTCD"] == "OVRLRESP")]
    visits = pd.DataFrame({"patient_id": rs["USUBJID"],
                           "assessment_date": _impute_last_day(rs["RSDTC"]),
                           "overall_response": rs["RSSTRESC"].map(RESPONSE)})
    adsl = _read("adam/adsl.csv").dropna(subset=["RANDDT"])
    patients = pd.DataFrame({"patient_id": adsl["USUBJID"],
                             "origin_date": pd.to_datetime(adsl["RANDDT"]),
                             "death_date": pd.to_datetime(adsl["DTHDT"]),
                             "last_contact_date": pd.to_datetime(adsl["LSTALVDT"])})
    fda = derive_endpoints(patients, visits, endpoints=["PFS"]).set_index("patient_id")
    adm = derived[derived["endpoint"] == "PFS"].set_index("patient_id")
    assert (adm["time_days"] - fda["time_days"]).eq(1).all()
