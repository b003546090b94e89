"""Property tests of the response engine (response-criteria.md Appendix A expectations).

(i) appending an assessment never changes earlier per-visit target responses;
(ii) the vectorised engine equals a plain per-visit classifier in exact rationals
    (``fractions.Fraction``) written here from the rules;
(iii) confirmed BOR is never better than unconfirmed BOR;
(iv) scaling every diameter by the same factor never changes an mRECIST response (all
    mRECIST target thresholds are relative; RECIST 1.1 has absolute 5 mm / 10 mm thresholds,
    so it is not scale invariant and is left out on purpose);
(v) the row order of the inputs does not matter, and the inputs are never modified.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _response_helpers import case, lesion, origin_frame, timepoints  # noqa: E402

from sirtstats.response import derive_best_overall_response, derive_timepoint_response

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

tenths = st.integers(min_value=0, max_value=1500).map(lambda t: t / 10)


@st.composite
def lesion_series(draw):
    n_les = draw(st.integers(1, 3))
    n_vis = draw(st.integers(1, 5))
    les = []
    for _ in range(n_les):
        base = draw(st.integers(100, 1500).map(lambda t: t / 10))
        follow = draw(st.lists(st.one_of(tenths, tenths, tenths, st.none()),
                               min_size=n_vis, max_size=n_vis))
        les.append([base, *follow])
    return les


def _frames(values, criterion="RECIST_1_1"):
    lesions = [lesion(f"L{i}", v, enhancing=[(x or 0) > 0 for x in v]) for i, v in
               enumerate(values)]
    n_vis = len(values[0]) - 1
    return case(lesions, [28 * (k + 1) for k in range(n_vis)], criterion=criterion)


def _reference(values):
    """Per-visit RECIST 1.1 target response for non-nodal targets, in Fractions (R1.4, R1.5)."""
    fr = [[None if v is None else Fraction(str(v)) for v in les] for les in values]
    b = sum(les[0] for les in fr)
    nadir = b
    out = []
    for k in range(1, len(fr[0])):
        vals = [les[k] for les in fr]
        c = sum(v for v in vals if v is not None)
        complete = all(v is not None for v in vals)
        is_pd = ((nadir == 0 and c > 0) or (nadir > 0 and c - nadir >= nadir / 5)) and (
            c - nadir >= 5)
        if is_pd:
            out.append("PD")
        elif not complete:
            out.append("NE")
        elif all(v == 0 for v in vals):
            out.append("CR")
        elif b - c >= Fraction(3, 10) * b:
            out.append("PR")
        else:
            out.append("SD")
        if complete:
            nadir = min(nadir, c)
    return out


@SETTINGS
@given(lesion_series())
def test_engine_equals_exact_rational_reference(values):
    tp = derive_timepoint_response(*_frames(values))
    assert tp["target_response"].tolist() == _reference(values)


@SETTINGS
@given(lesion_series())
def test_appending_an_assessment_never_changes_earlier_responses(values):
    full = derive_timepoint_response(*_frames(values))["target_response"].tolist()
    for k in range(2, len(values[0])):
        part = derive_timepoint_response(*_frames([v[:k] for v in values]))
        assert part["target_response"].tolist() == full[:k - 1]


@SETTINGS
@given(lesion_series(), st.sampled_from([2, 3, 10, 0.5]))
def test_scaling_all_diameters_never_changes_mrecist_responses(values, factor):
    scaled = [[None if v is None else v * factor for v in les] for les in values]
    a = derive_timepoint_response(*_frames(values, "mRECIST"), criterion="mRECIST")
    b = derive_timepoint_response(*_frames(scaled, "mRECIST"), criterion="mRECIST")
    assert a["target_response"].tolist() == b["target_response"].tolist()
    assert a["overall_response"].tolist() == b["overall_response"].tolist()


_ORDER = {"CR": 0, "PR": 1, "SD": 2, "NON_CR_NON_PD": 3, "PD": 4, "NE": 5, "MISSING": 6}


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 400),
                          st.sampled_from(["CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE"])),
                min_size=0, max_size=7, unique_by=lambda t: t[0]))
def test_confirmed_bor_is_never_better_than_unconfirmed(seq):
    seq = sorted(seq)
    tp = timepoints(seq) if seq else timepoints([(1, "NE")]).iloc[:0]
    o = origin_frame(["P1"])
    unc = derive_best_overall_response(tp, o, confirm=False).iloc[0]
    con = derive_best_overall_response(tp, o, confirm=True).iloc[0]
    assert _ORDER[con["bor"]] >= _ORDER[unc["bor"]] or (
        unc["bor"] in ("NE", "MISSING") and con["bor"] in ("NE", "MISSING"))
    assert con["is_responder"] <= unc["is_responder"]


@SETTINGS
@given(lesion_series(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter_and_inputs_are_not_mutated(values, rnd):
    les, meas, ass = _frames(values)
    copies = [x.copy(deep=True) for x in (les, meas, ass)]
    ref = derive_timepoint_response(les, meas, ass)
    idx = list(meas.index)
    rnd.shuffle(idx)
    shuffled = derive_timepoint_response(les.iloc[::-1], meas.loc[idx], ass.iloc[::-1])
    pd.testing.assert_frame_equal(ref, shuffled)
    for before, after in zip(copies, (les, meas, ass), strict=True):
        pd.testing.assert_frame_equal(before, after)
