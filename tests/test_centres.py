"""Multi-centre analyses (issue #16 item 8): funnel limits by hand, centre Cox against R."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import binom  # noqa: E402

from sirtstats.comparative import (  # noqa: E402
    centre_cox,
    centre_rates,
    centre_summary,
    funnel_limits,
)
from sirtstats.plotting.funnel import plot_funnel  # noqa: E402

GOLD = Path(__file__).parent / "golden"


def test_funnel_limits_by_hand_n2():
    # Binomial(2, 0.5): F(0) = .25, F(1) = .75, F(2) = 1.
    # p = .975: r = 2, alpha = (1 - .975) / .25 = 0.1 -> (2 - 0.1) / 2 = 0.95
    # p = .025: r = 0, alpha = (.25 - .025) / .25 = 0.9 -> -0.45, clipped to 0
    lim = funnel_limits([2], 0.5, levels=(0.95, 0.8))
    assert lim.loc[0, "upper_95"] == pytest.approx(0.95)
    assert lim.loc[0, "lower_95"] == 0
    # p = .9: r = 2, alpha = (1 - .9) / .25 = 0.4 -> 0.8; p = .1: r = 0 -> (0 - 0.6) clipped
    assert lim.loc[0, "upper_80"] == pytest.approx(0.8)


def test_funnel_limits_are_interpolated_binomial_quantiles():
    n, p0 = 100, 0.2
    lim = funnel_limits([n], p0)
    r = binom.ppf(0.999, n, p0)
    alpha = (binom.cdf(r, n, p0) - 0.999) / binom.pmf(r, n, p0)
    assert lim.loc[0, "upper_99.8"] == pytest.approx((r - alpha) / n)
    assert binom.cdf(r - 1, n, p0) < 0.999 <= binom.cdf(r, n, p0)
    # the limits narrow as n grows and bracket p0
    wide = funnel_limits([20, 80, 320], p0)
    assert (np.diff(wide["upper_95"]) < 0).all()
    assert (np.diff(wide["lower_95"]) > 0).all()
    assert ((wide["lower_99.8"] < p0) & (p0 < wide["upper_99.8"])).all()


def _centres():
    # C1 3/10, C2 0/10 (below), C3 10/10 (above), one missing indicator in C1
    y = [1, 1, 1] + [0] * 7 + [0] * 10 + [1] * 10 + [np.nan]
    return pd.DataFrame({"c": ["C1"] * 10 + ["C2"] * 10 + ["C3"] * 10 + ["C1"], "y": y})


def test_centre_rates_pooled_rate_and_flags():
    r = centre_rates(_centres(), "c", "y")
    assert r.attrs["p0"] == pytest.approx(13 / 30)
    assert list(r["n"]) == [10, 10, 10]
    # Binomial(10, 13/30): P(X = 0) = 0.0034 lies between 0.001 and 0.025, so 0/10 is below
    # the 95 % limit but the 99.8 % lower limit is 0; P(X <= 9) = 0.99977 > 0.999: the
    # 99.8 % upper limit is (9 - alpha) / 10 < 1, so 10/10 is above both
    assert list(r["outside_95"]) == ["", "below", "above"]
    assert list(r["outside_99.8"]) == ["", "", "above"]


def test_centre_summary_counts_and_pooled_row():
    d = _centres().assign(z=1.0)
    s = centre_summary(d, "c", {"ORR": "y", "All": "z"})
    assert list(s["centre"]) == ["C1", "C2", "C3", "All centres"]
    assert list(s["n"]) == [11, 10, 10, 31]
    assert list(s["ORR n/N"]) == ["3/10", "0/10", "10/10", "13/30"]
    assert list(s["ORR %"]) == [30.0, 0.0, 100.0, 43.3]


@pytest.mark.parametrize("method", ["stratified", "clustered"])
def test_centre_cox_matches_r(method):
    d = pd.read_csv(GOLD / "subgroups" / "subgroup_data.csv")
    d["centre"] = "C0" + d["albi"].astype(str)
    ref = pd.read_csv(GOLD / "centres" / "centre_cox_reference.csv").set_index("method")
    out = centre_cox(d, ["arm"], "time", "event", "centre", method=method)
    assert out.loc[0, "hr"] == pytest.approx(ref.loc[method, "hr"], abs=1e-6)
    assert out.loc[0, "se"] == pytest.approx(ref.loc[method, "se"], abs=1e-6)


def test_funnel_plot_draws_limits_and_labels():
    r = centre_rates(_centres(), "c", "y")
    fig = plot_funnel(r, ylabel="ORR (%)")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["C1", "C2", "C3"]
    labels = ax.get_legend_handles_labels()[1]
    assert "95 % control limits" in labels
    assert "99.8 % control limits" in labels
    assert ax.get_legend() is not None
    plt.close(fig)
