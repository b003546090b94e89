"""Tests for sirtstats.endpoints: worked examples WE21, WE22 (response-criteria.md §8) and rules.

Expected values are written by hand from the document's tables, never produced by the code.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sirtstats.endpoints import (
    CONVENTIONS,
    DAYS_PER_MONTH,
    derive_endpoints,
    derive_origin,
    derive_time_to_event,
)
from sirtstats.exceptions import SirtDataError

D = pd.Timestamp
ORIGIN = "2024-01-10"


def _patients(rows):
    """rows: (patient_id, death_date, last_contact_date)."""
    return pd.DataFrame({
        "patient_id": [r[0] for r in rows],
        "origin_date": pd.to_datetime([ORIGIN] * len(rows)),
        "death_date": pd.to_datetime([r[1] for r in rows]),
        "last_contact_date": pd.to_datetime([r[2] for r in rows]),
    })


def _visits(rows):
    return pd.DataFrame({
        "patient_id": [r[0] for r in rows],
        "assessment_date": pd.to_datetime([r[1] for r in rows]),
        "overall_response": [r[2] for r in rows],
    })


# ------------------------------------------------------------------------------------------
# WE21: PFS derivation; origin 2024-01-10, interval 91, window 14 (gap allowed 196 d)
# ------------------------------------------------------------------------------------------
WE21_PATIENTS = _patients([
    ("P1", "2025-02-20", "2025-02-20"),
    ("P2", "2024-06-01", "2024-06-01"),
    ("P3", None, "2025-01-15"),
    ("P4", None, "2024-11-01"),
    ("P5", None, "2025-02-01"),
    ("P6", None, "2024-10-01"),
    ("P7", None, "2024-09-01"),
    ("P8", "2024-03-01", "2024-03-01"),
])
WE21_VISITS = _visits([
    ("P1", "2024-04-10", "SD"), ("P1", "2024-07-10", "SD"),
    ("P2", "2024-04-10", "SD"),
    ("P3", "2024-04-10", "PR"), ("P3", "2024-07-10", "PR"), ("P3", "2024-12-01", "PD"),
    ("P5", "2024-04-10", "SD"), ("P5", "2024-07-10", "SD"), ("P5", "2024-10-09", "SD"),
    ("P5", "2025-01-15", "PD"),
    ("P6", "2024-04-10", "SD"), ("P6", "2024-07-10", "NE"),
    ("P7", "2024-04-10", "PR"), ("P7", "2024-07-10", "PD"),
])
WE21_THERAPIES = pd.DataFrame({
    "patient_id": ["P3"], "start_date": pd.to_datetime(["2024-09-01"]),
    "is_planned_with_sirt": pd.array([False], dtype="boolean"),
})

# (patient, event date, event, days end-start, days +1, rule)
WE21_EXPECTED = [
    ("P1", "2024-07-10", 0, 182, 183, "R5.3.7"),
    ("P2", "2024-06-01", 1, 143, 144, "R5.3.5"),
    ("P3", "2024-07-10", 0, 182, 183, "R5.3.6"),
    ("P4", "2024-01-10", 0, 0, 1, "R5.3.2"),
    ("P5", "2024-10-09", 0, 273, 274, "R5.3.8"),
    ("P6", "2024-04-10", 0, 91, 92, "R5.3.8"),
    ("P7", "2024-07-10", 1, 182, 183, "R5.3.4"),
    ("P8", "2024-03-01", 1, 51, 52, "R5.3.5"),
]


def _we21(add_one_day=False):
    opts = {"endpoints": ["PFS"], "interval_days": 91, "window_days": 14,
            "add_one_day": add_one_day}
    not_p5 = WE21_PATIENTS["patient_id"] != "P5"
    a = derive_endpoints(WE21_PATIENTS[not_p5], WE21_VISITS, WE21_THERAPIES, **opts)
    b = derive_endpoints(WE21_PATIENTS[~not_p5], WE21_VISITS, WE21_THERAPIES,
                         cutoff_date="2024-12-31", **opts)
    return pd.concat([a, b]).sort_values("patient_id").reset_index(drop=True)


@pytest.mark.parametrize("add_one_day", [False, True])
def test_we21_pfs_dates_status_and_days(add_one_day):
    out = _we21(add_one_day)
    expected = pd.DataFrame({
        "patient_id": [r[0] for r in WE21_EXPECTED],
        "event_date": pd.to_datetime([r[1] for r in WE21_EXPECTED]),
        "event": [r[2] for r in WE21_EXPECTED],
        "time_days": [r[4] if add_one_day else r[3] for r in WE21_EXPECTED],
    })
    pd.testing.assert_frame_equal(
        out[["patient_id", "event_date", "event", "time_days"]], expected)
    assert (out["time_months"] == out["time_days"] / 30.4375).all()


def test_we21_rules_and_reasons_name_the_censoring_situation():
    out = _we21().set_index("patient_id")
    assert out["rule"].to_dict() == {r[0]: r[5] for r in WE21_EXPECTED}
    assert out.loc["P1", "reason"] == (
        "censored: death 2025-02-20 after >= 2 missed assessments; "
        "last adequate assessment 2024-07-10")
    assert out.loc["P3", "reason"].startswith("censored: new anticancer therapy 2024-09-01")
    assert out.loc["P4", "reason"] == "censored: no adequate post-baseline assessment (at origin)"
    assert out.loc["P5", "reason"] == "censored: last adequate assessment 2024-10-09"
    assert out.loc["P6", "reason"] == "censored: last adequate assessment 2024-04-10"
    assert out.loc["P7", "reason"] == "progression (PD 2024-07-10)"
    assert out.loc["P8", "reason"] == "death"
    assert out.loc["P2", "event_type"] == "death"
    assert out.loc["P7", "event_type"] == "progression"
    assert out.loc["P1", "event_type"] == "censored"


def test_we21_p1_counts_as_event_without_missed_visit_rule():
    out = derive_endpoints(WE21_PATIENTS, WE21_VISITS, endpoints=["PFS"],
                           missed_visit_rule=False).set_index("patient_id")
    assert out.loc["P1", "event"] == 1
    assert out.loc["P1", "event_date"] == D("2025-02-20")


def test_we21_death_window_boundary_196_days():
    # death exactly 196 d after origin without assessment: event; 197 d: censored at origin
    pts = _patients([("A", "2024-07-24", "2024-07-24"), ("B", "2024-07-25", "2024-07-25")])
    out = derive_endpoints(pts, _visits([]), endpoints=["PFS"]).set_index("patient_id")
    assert (D("2024-07-24") - D(ORIGIN)).days == 196
    assert out.loc["A", "event"] == 1
    assert out.loc["A", "time_days"] == 196
    assert out.loc["B", "event"] == 0
    assert out.loc["B", "time_days"] == 0
    assert out.loc["B", "rule"] == "R5.3.2"


def test_pd_after_exactly_allowed_gap_is_event_and_one_day_more_is_censored():
    pts = _patients([("A", None, "2025-06-01"), ("B", None, "2025-06-01")])
    vis = _visits([("A", "2024-04-10", "SD"), ("A", "2024-10-23", "PD"),
                   ("B", "2024-04-10", "SD"), ("B", "2024-10-24", "PD")])
    out = derive_endpoints(pts, vis, endpoints=["PFS"]).set_index("patient_id")
    assert (D("2024-10-23") - D("2024-04-10")).days == 196
    assert out.loc["A", "event"] == 1
    assert out.loc["B", "event"] == 0
    assert out.loc["B", "event_date"] == D("2024-04-10")


def test_we21_p3_event_if_new_therapy_censoring_is_off():
    out = derive_endpoints(WE21_PATIENTS, WE21_VISITS, WE21_THERAPIES, endpoints=["PFS"],
                           censor_at_new_therapy=False).set_index("patient_id")
    assert out.loc["P3", "event"] == 1
    assert out.loc["P3", "event_date"] == D("2024-12-01")


def test_therapy_planned_with_sirt_is_not_new_therapy():
    th = WE21_THERAPIES.assign(is_planned_with_sirt=pd.array([True], dtype="boolean"))
    out = derive_endpoints(WE21_PATIENTS, WE21_VISITS, th, endpoints=["PFS"]).set_index(
        "patient_id")
    assert out.loc["P3", "event"] == 1


def test_therapy_running_before_origin_is_not_new_therapy():
    th = WE21_THERAPIES.assign(start_date=pd.to_datetime(["2023-12-01"]))
    out = derive_endpoints(WE21_PATIENTS, WE21_VISITS, th, endpoints=["PFS"]).set_index(
        "patient_id")
    assert out.loc["P3", "event"] == 1


# ------------------------------------------------------------------------------------------
# WE22: OS at a cut-off, and DoR
# ------------------------------------------------------------------------------------------
def test_we22_os_at_cutoff():
    pts = _patients([
        ("A", None, "2025-02-10"),       # alive, later contact -> censored at cut-off
        ("B", None, "2024-11-30"),       # alive, last contact before cut-off
        ("C", "2025-01-20", "2025-01-20"),  # death after cut-off -> censored at cut-off
        ("D", "2024-08-01", "2024-08-01"),  # death before cut-off -> event
    ])
    out = derive_endpoints(pts, endpoints=["OS"], cutoff_date="2024-12-31")
    expected = pd.DataFrame({
        "patient_id": ["A", "B", "C", "D"],
        "event_date": pd.to_datetime(["2024-12-31", "2024-11-30", "2024-12-31", "2024-08-01"]),
        "time_days": [356, 325, 356, 204],
        "event": [0, 0, 0, 1],
    })
    pd.testing.assert_frame_equal(out[["patient_id", "event_date", "time_days", "event"]],
                                  expected)
    assert out.loc[0, "time_months"] == pytest.approx(11.70, abs=0.005)
    assert out.loc[0, "reason"] == "censored: alive at data cut-off 2024-12-31"
    assert out.loc[1, "reason"] == "censored: last known alive"
    assert out.loc[3, "reason"] == "death"


def test_we22_os_death_on_cutoff_day_counts():
    pts = _patients([("A", "2024-12-31", "2024-12-31")])
    out = derive_endpoints(pts, endpoints=["OS"], cutoff_date="2024-12-31")
    assert out.loc[0, "event"] == 1


def test_we22_dor_starts_at_first_response_not_confirmation():
    pts = _patients([("A", None, "2024-12-01")])
    vis = _visits([("A", "2024-03-05", "PR"), ("A", "2024-04-02", "PR"),
                   ("A", "2024-06-10", "PR"), ("A", "2024-09-10", "PD")])
    out = derive_endpoints(pts, vis, endpoints=["DoR"])
    assert out.loc[0, "origin_date"] == D("2024-03-05")
    assert out.loc[0, "event_date"] == D("2024-09-10")
    assert out.loc[0, "time_days"] == 189
    assert round(out.loc[0, "time_months"], 2) == 6.21
    assert out.loc[0, "event"] == 1
    assert out.loc[0, "origin"] == "first_response"


def test_dor_from_df_responses_uses_given_dates_and_only_responders():
    pts = _patients([("A", None, "2024-12-01"), ("B", None, "2024-12-01")])
    vis = _visits([("A", "2024-03-05", "PR"), ("A", "2024-04-02", "PR"),
                   ("A", "2024-09-10", "PD"), ("B", "2024-03-05", "PR"),
                   ("B", "2024-04-02", "SD")])
    resp = pd.DataFrame({"patient_id": ["A", "B"],
                         "first_response_date": pd.to_datetime(["2024-03-05", "2024-03-05"]),
                         "is_responder": [True, False]})
    out = derive_endpoints(pts, vis, endpoints=["DoR"], df_responses=resp)
    assert out["patient_id"].tolist() == ["A"]
    assert out.loc[0, "time_days"] == 189


def test_dor_death_switch():
    pts = _patients([("A", "2024-08-01", "2024-08-01")])
    vis = _visits([("A", "2024-03-05", "PR"), ("A", "2024-06-01", "PR")])
    with_death = derive_endpoints(pts, vis, endpoints=["DoR"])
    assert with_death.loc[0, "event"] == 1
    assert with_death.loc[0, "event_date"] == D("2024-08-01")
    recist = derive_endpoints(pts, vis, endpoints=["DoR"], dor_includes_death=False)
    assert recist.loc[0, "event"] == 0
    assert recist.loc[0, "event_date"] == D("2024-06-01")


# ------------------------------------------------------------------------------------------
# other endpoints and rules
# ------------------------------------------------------------------------------------------
def test_ttp_censors_death_at_last_adequate_assessment_or_at_death():
    pts = _patients([("A", "2024-06-01", "2024-06-01")])
    vis = _visits([("A", "2024-04-10", "SD")])
    out = derive_endpoints(pts, vis, endpoints=["TTP", "PFS"])
    ttp = out[out["endpoint"] == "TTP"].iloc[0]
    assert (ttp["event"], ttp["event_date"]) == (0, D("2024-04-10"))
    assert ttp["reason"].startswith("censored: death without progression")
    pfs = out[out["endpoint"] == "PFS"].iloc[0]
    assert (pfs["event"], pfs["event_date"]) == (1, D("2024-06-01"))
    alt = derive_time_to_event(pts, vis, endpoint="TTP", ttp_death_censoring="death_date")
    assert (alt.loc[0, "event"], alt.loc[0, "event_date"]) == (0, D("2024-06-01"))


def test_ne_only_visits_are_not_adequate_but_count_for_admiral_lsta():
    pts = _patients([("A", None, "2024-12-01")])
    vis = _visits([("A", "2024-04-10", "SD"), ("A", "2024-07-10", "NE")])
    fda = derive_endpoints(pts, vis, endpoints=["PFS"])
    assert fda.loc[0, "event_date"] == D("2024-04-10")
    adm = derive_endpoints(pts, vis, endpoints=["PFS"], convention="admiral")
    assert adm.loc[0, "event_date"] == D("2024-07-10")
    assert adm.loc[0, "time_days"] == 183  # +1 day convention


def test_same_day_duplicate_assessments_keep_the_worst():
    pts = _patients([("A", None, "2024-12-01")])
    vis = _visits([("A", "2024-04-10", "SD"), ("A", "2024-04-10", "PD"),
                   ("A", "2024-04-10", "NE")])
    out = derive_endpoints(pts, vis, endpoints=["PFS"])
    assert out.loc[0, "event"] == 1


def test_assessment_on_origin_day_is_baseline_by_default():
    pts = _patients([("A", None, "2024-12-01")])
    vis = _visits([("A", ORIGIN, "PD")])
    assert derive_endpoints(pts, vis, endpoints=["PFS"]).loc[0, "event"] == 0
    out = derive_endpoints(pts, vis, endpoints=["PFS"], include_origin_day=True)
    assert out.loc[0, "event"] == 1


def test_hepatic_pfs_uses_hepatic_scope_only():
    pts = _patients([("A", None, "2025-01-01")])
    vis = pd.concat([
        _visits([("A", "2024-04-10", "PD"), ("A", "2024-07-10", "PD")]).assign(scope="overall"),
        _visits([("A", "2024-04-10", "SD"), ("A", "2024-07-10", "PD")]).assign(scope="hepatic"),
        _visits([("A", "2024-04-10", "PR"), ("A", "2024-07-10", "PR")]).assign(scope="treated"),
    ])
    out = derive_endpoints(pts, vis, endpoints=["PFS", "hepatic_PFS", "TTLP"]).set_index(
        "endpoint")
    assert out.loc["PFS", "event_date"] == D("2024-04-10")
    assert out.loc["hepatic_PFS", "event_date"] == D("2024-07-10")
    assert out.loc["TTLP", "event"] == 0
    assert out.loc["TTLP", "event_date"] == D("2024-07-10")


def test_hepatic_pfs_without_scope_column_is_refused():
    pts = _patients([("A", None, "2025-01-01")])
    with pytest.raises(SirtDataError, match="needs visits of scope 'hepatic'"):
        derive_endpoints(pts, _visits([("A", "2024-04-10", "SD")]), endpoints=["hepatic_PFS"])


def test_ttr_response_and_competing_events():
    pts = _patients([("A", None, "2025-01-01"), ("B", "2024-05-01", "2024-05-01"),
                     ("C", None, "2025-01-01")])
    vis = _visits([("A", "2024-04-10", "SD"), ("A", "2024-07-10", "PR"),
                   ("C", "2024-04-10", "PD"), ("C", "2024-07-10", "PR")])
    out = derive_endpoints(pts, vis, endpoints=["TTR"]).set_index("patient_id")
    assert (out.loc["A", "event"], out.loc["A", "event_type"]) == (1, "response")
    assert out.loc["A", "time_days"] == 182
    assert (out.loc["B", "event"], out.loc["B", "event_type"]) == (0, "death")
    assert (out.loc["C", "event"], out.loc["C", "event_type"]) == (0, "progression")
    assert out.loc["C", "event_date"] == D("2024-04-10")


def test_delayed_entry_from_diagnosis_origin():
    cohort = pd.DataFrame({
        "patient_id": ["A"], "diagnosis_date": pd.to_datetime(["2023-11-01"]),
        "first_sirt_date": pd.to_datetime(["2024-01-10"]),
        "death_date": pd.to_datetime(["2024-03-01"]),
        "last_contact_date": pd.to_datetime(["2024-03-01"]),
    })
    pts = derive_origin(cohort, origin="diagnosis")
    out = derive_endpoints(pts, endpoints=["OS"])
    assert out.loc[0, "origin"] == "diagnosis"
    assert out.loc[0, "entry_days"] == 70
    assert out.loc[0, "time_days"] == 121
    assert out.loc[0, "entry_months"] == pytest.approx(70 / DAYS_PER_MONTH)


def test_output_columns_and_sorting_by_requested_endpoint_then_patient():
    out = derive_endpoints(WE21_PATIENTS.iloc[::-1], WE21_VISITS, endpoints=["PFS", "OS"])
    assert list(out.columns) == [
        "patient_id", "endpoint", "origin", "origin_date", "event_date", "entry_days",
        "entry_months", "time_days", "time_months", "event", "event_type", "reason", "rule"]
    assert out["endpoint"].tolist() == ["PFS"] * 8 + ["OS"] * 8
    assert out["patient_id"].tolist()[:8] == sorted(WE21_PATIENTS["patient_id"])
    assert out["event"].dtype == "int64"


def test_inputs_are_not_modified():
    pts, vis, th = WE21_PATIENTS.copy(), WE21_VISITS.copy(), WE21_THERAPIES.copy()
    derive_endpoints(pts, vis, th, endpoints=["OS", "PFS", "TTP", "DoR", "TTR"],
                     cutoff_date="2024-12-31")
    pd.testing.assert_frame_equal(pts, WE21_PATIENTS)
    pd.testing.assert_frame_equal(vis, WE21_VISITS)
    pd.testing.assert_frame_equal(th, WE21_THERAPIES)


def test_argument_and_data_errors():
    with pytest.raises(ValueError, match=r"The 'endpoints' argument of derive_endpoints must "
                                         r"be one of \{.*\}\. Got 'pfs' instead\."):
        derive_endpoints(WE21_PATIENTS, WE21_VISITS, endpoints=["pfs"])
    with pytest.raises(ValueError, match="The 'convention' argument"):
        derive_endpoints(WE21_PATIENTS, WE21_VISITS, convention="sas")
    with pytest.raises(SirtDataError, match="overall_response in"):
        derive_endpoints(WE21_PATIENTS, WE21_VISITS.assign(overall_response="iCR"),
                         endpoints=["PFS"])
    with pytest.raises(SirtDataError, match="patient_id is unique"):
        derive_endpoints(pd.concat([WE21_PATIENTS, WE21_PATIENTS]), endpoints=["OS"])
    bad = WE21_PATIENTS.assign(death_date=pd.to_datetime("2023-01-01"))
    with pytest.raises(SirtDataError, match="death_date >= origin_date") as err:
        derive_endpoints(bad, endpoints=["OS"])
    assert len(err.value.rows) == 8
    with pytest.raises(SirtDataError, match="mix criteria"):
        derive_endpoints(WE21_PATIENTS, WE21_VISITS.assign(
            criterion=["RECIST_1_1", "mRECIST"] * 7), endpoints=["PFS"])
    with pytest.raises(ValueError, match="The 'origin' argument of derive_origin"):
        derive_origin(WE21_PATIENTS, origin="sirt")


def test_conventions_are_data():
    assert CONVENTIONS["fda"].max_gap_days == 196
    assert CONVENTIONS["admiral"].add_one_day is True
    assert CONVENTIONS["admiral"].missed_visit_rule is False


# ------------------------------------------------------------------------------------------
# vectorised derivation == a slow per-patient reading of R5.3, on random data
# ------------------------------------------------------------------------------------------
_ADEQ = {"CR", "PR", "SD", "NON_CR_NON_PD", "PD"}
_RANK = {"NE": 0, "CR": 1, "PR": 2, "SD": 3, "NON_CR_NON_PD": 4, "PD": 5}


def _reference_pfs(origin, death, visits, therapy, death_is_event, gap=196):
    """R5.3 for one patient, written as plainly as possible (no cut-off)."""
    by_day = {}
    for d, r in visits:
        if d > origin and (d not in by_day or _RANK[r] > _RANK[by_day[d]]):
            by_day[d] = r
    adequate = sorted(d for d, r in by_day.items() if r in _ADEQ)
    pds = sorted(d for d, r in by_day.items() if r == "PD")
    event = None
    if pds and (death is None or pds[0] <= death):
        event = (pds[0], "PD")
    elif death is not None and death_is_event:
        event = (death, "death")

    def last_adequate(limit, inclusive):
        cands = [d for d in adequate if (d <= limit if inclusive else d < limit)]
        return max(cands) if cands else None

    if event is not None:
        prev = last_adequate(event[0], inclusive=event[1] == "death")
        anchor = prev if prev is not None else origin
        status = (0, anchor) if (event[0] - anchor).days > gap else (1, event[0])
    else:
        limit = death if death is not None else pd.Timestamp.max
        last = last_adequate(limit, inclusive=True)
        status = (0, last if last is not None else origin)
    if therapy is not None and (event is None or therapy < event[0]):
        on_or_before = last_adequate(therapy, inclusive=True)
        cens = on_or_before if on_or_before is not None else origin
        if status[0] == 1 or cens < status[1]:
            status = (0, cens)
    return status


def test_vectorised_pfs_and_ttp_equal_per_patient_reference():
    import numpy as np

    rng = np.random.default_rng(7)
    n = 300
    origin = pd.Timestamp("2024-01-10")
    pts, vis, ths = [], [], []
    for i in range(n):
        pid = f"R{i:03d}"
        death = origin + pd.Timedelta(days=int(rng.integers(20, 900))) if rng.random() < 0.5 \
            else None
        pts.append((pid, death, death or origin + pd.Timedelta(days=900)))
        day = 0
        for _ in range(int(rng.integers(0, 7))):
            day += int(rng.integers(20, 260))
            vis.append((pid, origin + pd.Timedelta(days=day),
                        str(rng.choice(["CR", "PR", "SD", "PD", "NE", "NON_CR_NON_PD"],
                                       p=[0.1, 0.2, 0.35, 0.15, 0.1, 0.1]))))
            if rng.random() < 0.1:  # same-day duplicate
                vis.append((pid, origin + pd.Timedelta(days=day), "NE"))
        if rng.random() < 0.25:
            ths.append((pid, origin + pd.Timedelta(days=int(rng.integers(1, 800)))))
    df_p = _patients(pts)
    df_v = _visits(vis)
    df_t = pd.DataFrame({"patient_id": [t[0] for t in ths],
                         "start_date": pd.to_datetime([t[1] for t in ths])})
    out = derive_endpoints(df_p, df_v, df_t, endpoints=["PFS", "TTP"]).set_index(
        ["endpoint", "patient_id"])
    therapy = dict(ths)
    for pid, death, _ in pts:
        death_ts = pd.Timestamp(death) if death is not None else None
        visits = [(pd.Timestamp(d), r) for p, d, r in vis if p == pid]
        for ep, die in (("PFS", True), ("TTP", False)):
            exp = _reference_pfs(origin, death_ts, visits, therapy.get(pid), die)
            got = out.loc[(ep, pid)]
            assert (int(got["event"]), got["event_date"]) == exp, (ep, pid, got["reason"])


def test_keep_columns_are_copied_per_patient():
    pts = WE21_PATIENTS.assign(bclc_stage=list("ABCCBAAC"))
    out = derive_endpoints(pts, WE21_VISITS, endpoints=["OS", "PFS"],
                           keep_columns=["bclc_stage"])
    assert out.columns[-1] == "bclc_stage"
    assert out.set_index(["endpoint", "patient_id"]).loc[("PFS", "P3"), "bclc_stage"] == "C"
    with pytest.raises(SirtDataError, match="missing required column"):
        derive_endpoints(pts, endpoints=["OS"], keep_columns=["albi_grade"])


def test_workup_origin_from_workups_table_and_reason_counts():
    from sirtstats.endpoints import summarise_endpoint_reasons

    cohort = WE21_PATIENTS.drop(columns="origin_date").assign(
        first_sirt_date=pd.to_datetime(ORIGIN))
    workups = pd.DataFrame({"patient_id": ["P1", "P1", "P2"],
                            "workup_date": pd.to_datetime(["2023-12-20", "2023-12-27",
                                                           "2023-12-30"])})
    pts = derive_origin(cohort, origin="workup", df_workups=workups).set_index("patient_id")
    assert pts.loc["P1", "origin_date"] == D("2023-12-20")
    assert pts.loc["P2", "origin_date"] == D("2023-12-30")
    assert pd.isna(pts.loc["P3", "origin_date"])
    counts = summarise_endpoint_reasons(_we21())
    assert counts["n"].sum() == 8
    assert counts.set_index("rule").loc["R5.3.8", "n"] == 2
    assert counts["pct"].sum() == pytest.approx(100)


def test_no_baseline_assessment_censors_progression_endpoints_at_origin():
    pts = WE21_PATIENTS.assign(baseline_imaging_date=pd.to_datetime(
        ["2024-01-02"] * 6 + [None, "2024-01-02"]))  # P7 has no baseline imaging
    out = derive_endpoints(pts, WE21_VISITS, endpoints=["OS", "PFS", "TTP"],
                           baseline_assessment_col="baseline_imaging_date").set_index(
        ["endpoint", "patient_id"])
    for ep in ("PFS", "TTP"):
        row = out.loc[(ep, "P7")]
        assert (row["event"], row["time_days"], row["rule"]) == (0, 0, "R5.3.1")
    assert out.loc[("OS", "P7"), "rule"] != "R5.3.1"
    assert out.loc[("PFS", "P2"), "event"] == 1
