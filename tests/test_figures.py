"""Journal-grade figures (issue #11 item 3): every figure drawn on the demo registry.

For each figure that the survival, response and cohort plotting functions draw on the demo
registry (the calls of notebooks 01-04 and 06), the tests check what a journal reviewer checks:

* every legend lies outside the data area of every axes of the figure (window extents from the
  renderer, after a full draw), so no curve or bar is hidden;
* no visible text (tick labels, axis labels, titles, legend entries and title, annotations)
  is a raw code: an underscore-joined identifier (``albi_grade``, ``Y90_glass``) or a key of
  :data:`sirtstats.labels.VALUE_LABELS` whose label differs (``ICC``, ``M``, ``OS``);
* no text is smaller than :data:`sirtstats.plotting.theme.MIN_PRINT_PT` once the figure is
  printed two columns (183 mm) wide;
* survival y-axis titles name the endpoint, the time axes are in months with ticks every
  6 months, and the KM axes keep most of the figure height with 8 strata.

``python tests/test_figures.py OUT_DIR`` writes the same figures as PNG for a visual review.
"""

from __future__ import annotations

import re
import sys
import warnings
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402

from sirtstats import survival as sv  # noqa: E402
from sirtstats.cohort import select_cohort  # noqa: E402
from sirtstats.demo import load_registry  # noqa: E402
from sirtstats.endpoints import ORIGIN_LABELS, derive_endpoints, derive_origin  # noqa: E402
from sirtstats.labels import VALUE_LABELS  # noqa: E402
from sirtstats.plotting.cohort import plot_flow  # noqa: E402
from sirtstats.plotting.response import plot_spider, plot_swimmer, plot_waterfall  # noqa: E402
from sirtstats.plotting.survival import (  # noqa: E402
    format_gray_annotation,
    format_hr_annotation,
    plot_cif,
    plot_forest,
    plot_km,
)
from sirtstats.response import (  # noqa: E402
    derive_best_overall_response,
    derive_response_analysis,
    derive_swimmer_data,
    derive_timepoint_response,
)

CUTOFF = "2026-09-30"
TICKS = [0, 6, 12, 18, 24, 30, 36, 42, 48]  # the notebook default: every 6 months


@lru_cache(maxsize=1)
def _inputs():
    registry = load_registry("demo", cutoff_date=CUTOFF)
    selection = select_cohort(registry, diagnoses=[], devices=[], cutoff_date=CUTOFF)
    tables = selection.registry.tables
    patients = derive_origin(selection.patients, origin="first_sirt",
                             df_workups=tables["workups"])
    lesion_tables = (tables["lesions"], tables["lesion_measurements"],
                     tables["imaging_assessments"])
    overall = derive_timepoint_response(*lesion_tables, criterion="RECIST_1_1", scope="overall")
    hepatic = derive_timepoint_response(*lesion_tables, criterion="RECIST_1_1", scope="hepatic")
    bor = derive_best_overall_response(overall, derive_origin(selection.patients), confirm=True,
                                       df_therapies=tables["other_therapies"])
    covariates = ["albi_grade", "ecog", "primary_tumour"]
    ep = derive_endpoints(patients, pd.concat([overall, hepatic]), tables["other_therapies"],
                          endpoints=["OS", "PFS", "hepatic_PFS", "TTP", "DoR"],
                          df_responses=bor, cutoff_date=CUTOFF, keep_columns=covariates,
                          baseline_assessment_col="baseline_imaging_date")
    analysis = derive_response_analysis(selection.registry, derive_origin(selection.patients),
                                        criteria=["RECIST_1_1", "mRECIST"])
    swimmer = derive_swimmer_data(analysis.timepoints, derive_origin(selection.patients),
                                  df_treatments=tables["treatments"],
                                  df_patients=selection.patients, cutoff_date=CUTOFF,
                                  criterion="RECIST_1_1")
    return {"selection": selection, "ep": ep, "analysis": analysis, "swimmer": swimmer,
            "origin": derive_origin(selection.patients), "covariates": covariates}


def _km(endpoint, strata, title):
    d = _inputs()
    rows = d["ep"][d["ep"]["endpoint"] == endpoint]
    lr = sv.test_logrank(rows, group_col=strata, check_type="warning")
    return plot_km(sv.compute_km_curve(rows, by=strata),
                   risk_table=sv.compute_number_at_risk(rows, TICKS, by=strata),
                   summary=sv.summarise_km(rows, by=strata),
                   annotation=format_hr_annotation(logrank=lr), title=title,
                   endpoint=endpoint, xlabel=f"Months since {ORIGIN_LABELS['first_sirt']}")


def _forest():
    d = _inputs()
    rows = d["ep"][d["ep"]["endpoint"] == "OS"]
    cox = sv.fit_cox(rows, d["covariates"], categorical=["albi_grade"])
    return plot_forest(cox.hr_table,
                       title=f"Overall survival: multivariable Cox model (n = {cox.n})")


def _cif(strata):
    d = _inputs()
    rows = d["ep"][d["ep"]["endpoint"] == "PFS"]
    gray = sv.test_gray(rows, group_col=strata, check_type="warning")
    return plot_cif(sv.compute_cif_curve(rows, by=strata),
                    risk_table=sv.compute_number_at_risk(rows, TICKS, by=strata),
                    annotation=format_gray_annotation(gray),
                    title="Cumulative incidence of progression and of death without "
                          "progression")


def _flow():
    return plot_flow(_inputs()["selection"].flow, title="Patient flow")


def _waterfall():
    return plot_waterfall(_inputs()["analysis"].best_change)


def _spider():
    d = _inputs()
    return plot_spider(d["analysis"].timepoints, df_origin=d["origin"],
                       df_bor=d["analysis"].bor)


def _swimmer():
    return plot_swimmer(_inputs()["swimmer"])


@lru_cache(maxsize=1)
def _toxicity_inputs():
    """The frames notebook 04 draws (all diagnoses, as the report runs it)."""
    from sirtstats import toxicity as tox
    from sirtstats.ctcae import derive_lab_grades

    selection = _inputs()["selection"]
    tables = selection.registry.tables
    ae = tox.derive_treatment_emergent(tables["adverse_events"], tables["treatments"],
                                      window_days=90)
    counts = tox.summarise_ae_grade_counts(tox.filter_treatment_emergent(ae), selection.patients)
    grades = derive_lab_grades(tables["labs"], df_treatments=tables["treatments"])
    liver = tox.derive_liver_function_timepoints(tables["labs"], tables["treatments"],
                                                 df_baseline=selection.patients,
                                                 df_ae=tables["adverse_events"])
    summary = tox.summarise_liver_function_change(tox.derive_liver_function_change(liver))
    return {"counts": counts, "trajectories": tox.summarise_lab_trajectories(grades),
            "liver": liver, "liver_summary": summary}


def _ae_grades(kind):
    from sirtstats.plotting.toxicity import plot_ae_grades

    return plot_ae_grades(_toxicity_inputs()["counts"], kind=kind,
                          title="Treatment-emergent AEs: worst grade per patient")


def _lab_trajectories():
    from sirtstats.plotting.toxicity import plot_lab_trajectories

    return plot_lab_trajectories(_toxicity_inputs()["trajectories"])


def _albi_change():
    from sirtstats.plotting.toxicity import plot_albi_change

    d = _toxicity_inputs()
    return plot_albi_change(d["liver_summary"], df_timepoints=d["liver"], title="ALBI after SIRT")


@lru_cache(maxsize=1)
def _pet_inputs():
    """The frames notebook 06 draws (defaults: all diagnoses, reference "auto")."""
    from sirtstats import metabolic as pet

    selection = _inputs()["selection"]
    tables = selection.registry.tables
    scans, pet_lesions, lesions = (tables["pet_assessments"], tables["pet_lesions"],
                                   tables["lesions"])
    baseline = pet.derive_percist_baseline(scans, pet_lesions, df_lesions=lesions,
                                           reference="auto")
    percist = pet.derive_percist_response(scans, pet_lesions, df_lesions=lesions,
                                          reference="auto", include_tlg=True)
    bmr = pet.derive_best_metabolic_response(percist, confirm=False)
    ttmp = pet.derive_metabolic_endpoints(_inputs()["origin"], percist, tables["other_therapies"],
                                          endpoints=["TTMP"], df_baseline=baseline,
                                          cutoff_date=CUTOFF)
    return {"best": pet.derive_best_sul_change(percist, bmr), "baseline": baseline,
            "ttmp": ttmp[ttmp["endpoint"] == "TTMP"]}


def _pet_waterfall():
    from sirtstats.plotting.metabolic import plot_metabolic_waterfall

    d = _pet_inputs()
    used = ", ".join(sorted(d["baseline"]["reference"].str.replace("_", " ").unique()))
    return plot_metabolic_waterfall(d["best"], footnote=f"Reference region: {used} (option "
                                    "'auto'); best metabolic response unconfirmed")


def _pet_ttmp():
    rows = _pet_inputs()["ttmp"]
    return plot_km(sv.compute_km_curve(rows),
                   risk_table=sv.compute_number_at_risk(rows, [0, 3, 6, 9, 12, 15, 18]),
                   summary=sv.summarise_km(rows), title="Time to metabolic progression "
                   "(PERCIST 1.0)", ylabel="Probability without metabolic progression")


#: name -> callable drawing the figure (names as the notebooks save them).
FIGURES = {
    "01_flow": _flow,
    "02_waterfall": _waterfall,
    "02_spider": _spider,
    "02_swimmer": _swimmer,
    "03_km_os": lambda: _km("OS", "albi_grade", "Overall survival"),
    "03_km_pfs": lambda: _km("PFS", "albi_grade", "Progression-free survival (RECIST 1.1)"),
    "03_km_os_primary_tumour": lambda: _km("OS", "primary_tumour", "Overall survival"),
    "03_forest_os": _forest,
    "03_cif": lambda: _cif("albi_grade"),
    "03_cif_primary_tumour": lambda: _cif("primary_tumour"),
    "04_ae_grades": lambda: _ae_grades("bar"),
    "04_ae_grades_heatmap": lambda: _ae_grades("heatmap"),
    "04_lab_trajectories": _lab_trajectories,
    "04_albi_change": _albi_change,
    "06_waterfall": _pet_waterfall,
    "06_ttmp": _pet_ttmp,
}


def _figure(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = FIGURES[name]()
    first = np.atleast_1d(out)[0]
    fig = first.figure
    fig.canvas.draw()
    return fig


@pytest.fixture(params=sorted(FIGURES))
def figure(request):
    fig = _figure(request.param)
    yield request.param, fig
    plt.close("all")


def _legends(fig):
    found = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
    found += list(fig.legends)
    return [leg for leg in found if isinstance(leg, Legend) and leg.get_visible()]


def _data_axes(fig):
    """Axes that show data (not the hidden axes of a flow diagram or a risk-table panel)."""
    return [a for a in fig.axes if a.axison and a.get_gid() != "risk_table_axes"
            and (a.lines or a.collections or a.patches or a.images)]


def test_every_legend_lies_outside_every_data_area(figure):
    name, fig = figure
    renderer = fig.canvas.get_renderer()
    for leg in _legends(fig):
        box = leg.get_window_extent(renderer)
        for ax in _data_axes(fig):
            area = ax.get_window_extent(renderer)
            overlap_w = min(box.x1, area.x1) - max(box.x0, area.x0)
            overlap_h = min(box.y1, area.y1) - max(box.y0, area.y0)
            assert overlap_w <= 0.5 or overlap_h <= 0.5, (
                f"{name}: legend {[t.get_text() for t in leg.get_texts()]} overlaps the data "
                f"area of axes {ax.get_title()!r} by {overlap_w:.0f} x {overlap_h:.0f} px")


_CODE = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b")
# a label that only capitalises its code ("overall" -> "Overall") is a word in running text
_RAW_VALUES = {k for k, v in VALUE_LABELS.items() if k.lower() != v.lower()}


def _texts(fig):
    out = []
    for ax in fig.axes:
        out += list(ax.get_xticklabels()) + list(ax.get_yticklabels())
        out += [ax.xaxis.label, ax.yaxis.label, ax.title, ax._left_title, ax._right_title]
        out += list(ax.texts)
        leg = ax.get_legend()
        if leg is not None:
            out += list(leg.get_texts()) + [leg.get_title()]
    for leg in fig.legends:
        out += list(leg.get_texts()) + [leg.get_title()]
    out += list(fig.texts)
    if fig._suptitle is not None:
        out.append(fig._suptitle)
    return [t.get_text() for t in out if t.get_visible() and t.get_text()]


def _raw_codes(text):
    found = _CODE.findall(text)
    words = re.findall(r"[A-Za-z0-9_]+", text)
    found += [w for w in words if w in _RAW_VALUES]
    return found


def test_no_text_is_a_raw_code(figure):
    name, fig = figure
    bad = {t: _raw_codes(t) for t in _texts(fig) if _raw_codes(t)}
    assert not bad, f"{name}: raw codes in figure text: {bad}"


def test_raw_code_detector_catches_the_issue_examples():
    for text in ("albi_grade 1", "RECIST_1_1", "Y90_glass", "uveal_melanoma",
                 "ecog (per unit)", "ICC"):
        hit = _raw_codes(text) or "(per unit)" in text
        assert hit, text
    assert not _raw_codes("Y-90 glass (N = 12)")
    assert not _raw_codes("ALBI grade 2 vs 1")


def test_no_text_is_under_the_minimum_size_once_printed_at_two_columns(figure):
    """A figure wider than 183 mm is shrunk to it: its smallest text must stay >= 6 pt
    (the swimmer's 6 pt lane labels printed at 4.7 pt, the waterfall footnote at 4.5 pt)."""
    from sirtstats.plotting import theme

    name, fig = figure
    small = [(round(size, 1), text) for size, text in theme.printed_text_sizes(fig)
             if size < theme.MIN_PRINT_PT]
    assert not small, f"{name}: text under {theme.MIN_PRINT_PT} pt in print: {small[:5]}"


def test_albi_counts_sit_under_the_axes_and_cutoffs_carry_a_true_minus():
    """The n / grade-worse labels were written inside the data area over the patient lines."""
    fig = _figure("04_albi_change")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    area = ax.get_window_extent(renderer)
    counts = [t for t in ax.texts if t.get_gid() == "albi_count"]
    n_points = len(ax.get_xticks())
    assert len(counts) == 2 * n_points
    assert all(t.get_window_extent(renderer).y1 < ax.xaxis.label.get_window_extent(
        renderer).y0 for t in counts)
    assert counts[1].get_text() == "\u2014"  # nothing to compare at baseline itself
    cutoffs = [t for t in ax.texts if t.get_gid() == "albi_cutoff_label"]
    assert [t.get_text().split("\n")[0] for t in cutoffs] == ["\u22122.60", "\u22121.39"]
    assert all(t.get_window_extent(renderer).x0 >= area.x1 for t in cutoffs)
    plt.close("all")


def test_heatmap_counts_are_as_large_as_the_tick_labels():
    """The counts were 8 pt on a 9.7 in figure: 6.0 pt in print, the smallest text of 04."""
    fig = _figure("04_ae_grades_heatmap")
    ax = fig.axes[0]
    tick = ax.get_yticklabels()[0].get_fontsize()
    assert {t.get_fontsize() for t in ax.texts} == {tick}
    plt.close("all")


def test_theme_context_keeps_interactive_mode_switched_on_inside_it():
    """IPython's inline backend turns interactive mode on when first used (inside a plot):
    restoring it on exit stopped notebooks 02/03 from showing every figure after the first."""
    from sirtstats.plotting import theme

    before = matplotlib.is_interactive()
    try:
        matplotlib.interactive(False)
        with theme.context():
            matplotlib.interactive(True)
            assert plt.rcParams["axes.prop_cycle"].by_key()["color"][0] == theme.PALETTE[0]
        assert matplotlib.is_interactive()
        assert plt.rcParams["axes.prop_cycle"].by_key()["color"][0] != theme.PALETTE[0]
    finally:
        matplotlib.interactive(before)


@pytest.mark.parametrize(("name", "ylabel"), [
    ("03_km_os", "Overall survival probability"),
    ("03_km_pfs", "Progression-free survival probability"),
])
def test_km_y_axis_names_the_endpoint_and_x_ticks_every_6_months(name, ylabel):
    fig = _figure(name)
    ax = fig.axes[0]
    assert ax.get_ylabel() == ylabel
    ticks = [float(t) for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks[0] == 0
    assert np.allclose(np.diff(ticks), 6)
    assert "month" in ax.get_xlabel().lower()
    plt.close("all")


def test_km_with_8_strata_keeps_the_axes_large():
    fig = _figure("03_km_os_primary_tumour")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    whole = fig.get_tightbbox(renderer)  # inches, what savefig(bbox_inches="tight") writes
    area = ax.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())
    assert area.height / whole.height >= 0.5
    assert "(per unit)" not in " ".join(_texts(fig))
    plt.close("all")


def test_forest_has_no_per_unit_raw_labels():
    fig = _figure("03_forest_os")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert not [t for t in labels if "per unit" in t or "_" in t], labels
    plt.close("all")


if __name__ == "__main__":
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for fig_name in sys.argv[2:] or sorted(FIGURES):
        _figure(fig_name).savefig(out_dir / f"{fig_name}.png", dpi=150, bbox_inches="tight")
        plt.close("all")
        print(out_dir / f"{fig_name}.png")


def test_pet_waterfall_notes_are_as_large_as_the_tick_labels():
    """The PET waterfall's footnote was 7 pt, the smallest text of the report."""
    fig = _figure("06_waterfall")
    ax = fig.axes[0]
    notes = [t for t in ax.texts if t.get_gid() == "waterfall_note"]
    assert notes
    assert "SUL" in notes[0].get_text()
    assert notes[0].get_fontsize() >= ax.get_yticklabels()[0].get_fontsize()
    plt.close("all")
