"""Fine–Gray data set and model (R6.6.1, D30): by hand and against R finegray + coxph."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sirtstats.exceptions import SirtDataError
from sirtstats.survival import compare_finegray_cause_specific, finegray_data, fit_finegray

GOLD = Path(__file__).parent / "golden" / "finegray"


def _hand():
    # A competing at 2, B censored 3, C event 4, D censored 5, E event 6
    return pd.DataFrame({"id": list("ABCDE"), "t": [2.0, 3, 4, 5, 6],
                         "cause": ["death", "censored", "pd", "censored", "pd"]})


def test_finegray_data_by_hand():
    fg = finegray_data(_hand(), "t", "cause", "pd", censored="censored")
    # G: at 3, 4 at risk (B, C, D, E) -> 3/4; at 5, 2 at risk (D, E) -> 3/8.
    # A is extended: (0, 3] w 1, (3, 5] w G(3)/1 = 0.75, (5, 6] w G(5) = 0.375.
    a = fg[fg["id"] == "A"]
    np.testing.assert_allclose(a[["fgstart", "fgstop", "fgwt"]].to_numpy(),
                               [[0, 3, 1], [3, 5, 0.75], [5, 6, 0.375]])
    assert list(fg["id"]) == ["A", "A", "A", "B", "C", "D", "E"]
    assert list(fg["fgstatus"]) == [0, 0, 0, 0, 1, 0, 1]
    np.testing.assert_allclose(fg.loc[fg["id"] != "A", "fgstop"], [3, 4, 5, 6])
    assert (fg.loc[fg["id"] != "A", "fgwt"] == 1).all()


def test_interval_without_event_is_left_out():
    # events only at 4: the interval (5, 6] holds no event of interest and is dropped
    d = _hand()
    d.loc[4, "cause"] = "censored"
    fg = finegray_data(d, "t", "cause", "pd", censored="censored")
    np.testing.assert_allclose(fg.loc[fg["id"] == "A", ["fgstart", "fgstop"]].to_numpy(),
                               [[0, 3], [3, 5]])


def test_no_event_raises():
    d = _hand().assign(cause="censored")
    with pytest.raises(SirtDataError):
        finegray_data(d, "t", "cause", "pd", censored="censored")


def test_finegray_data_matches_r():
    d = pd.read_csv(GOLD / "cr_data.csv")
    ref = pd.read_csv(GOLD / "fg_data_reference.csv")
    fg = finegray_data(d, "time", "status", 1)
    assert len(fg) == len(ref)
    np.testing.assert_array_equal(fg["id"], ref["id"])
    np.testing.assert_array_equal(fg["fgstatus"], ref["fgstatus"])
    for c in ("fgstart", "fgstop", "fgwt"):
        np.testing.assert_allclose(fg[c], ref[c], rtol=0, atol=1e-12)


@pytest.mark.parametrize(("event", "covs", "ref_file"), [
    (1, ["x", "z"], "fg_cox_reference.csv"), (2, ["x"], "fg_death_reference.csv")])
def test_fit_finegray_matches_r_coxph(event, covs, ref_file):
    d = pd.read_csv(GOLD / "cr_data.csv")
    ref = pd.read_csv(GOLD / ref_file)
    res = fit_finegray(d, covs, "time", "status", event)
    np.testing.assert_allclose(res["coef"], ref["coef"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(res["se_model"], ref["se_model"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(res["se_robust_rows"], ref["se_robust_rows"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(res["se"], ref["se_robust"], rtol=0, atol=1e-6)
    if "nrow" in ref:
        assert res.attrs["n_rows"] == ref["nrow"].iloc[0]


def test_finegray_beside_cause_specific_matches_r():
    d = pd.read_csv(GOLD / "cr_data.csv")
    ref = pd.read_csv(GOLD / "fg_cox_reference.csv").set_index("term")
    tab = compare_finegray_cause_specific(d, ["x", "z"], "time", "status", 1)
    cs = tab[tab["model"] == "Cause-specific Cox"].set_index("term")
    np.testing.assert_allclose(np.log(cs["hr"]), ref["cs_coef"], atol=1e-6)
    np.testing.assert_allclose(cs["se"], ref["cs_se"], atol=1e-6)
    fg = tab[tab["model"] == "Fine-Gray"].set_index("term")
    np.testing.assert_allclose(np.log(fg["hr"]), ref["coef"], atol=1e-6)
    # cmprsk::crr weights at event times: close, not equal
    np.testing.assert_allclose(np.log(fg["hr"]), ref["crr_coef"], atol=0.03)
