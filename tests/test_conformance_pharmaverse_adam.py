"""Conformance: pharmaverse SDTM -> sirtstats registry -> our ADaM, against pharmaverse ADaM.

Data: ../shared/conformance/pharmaverse (read at test time; README there). The study is not a
SIRT study, so the import uses the documented non-SIRT options (primary tumour "other",
device/territory/activity placeholders, the end of continuous exposure as the last treatment
date); the origin of every analysis is then the first exposure, which equals RANDDT there
(README §3).

1. The SDTM (DM, DS, EX, AE + the `_recist` TU/TR/RS) imports and the written registry folder
   validates without errors; its warnings are only the expected kinds. The reloaded registry
   equals the import, and it agrees with the independent ADSL/ADAE (TRTSDT, TRTEDT, DTHDT,
   ASTDT, AENDT).

pharmaverse imputes partial dates differently in different datasets (README §9.4): ADAE
imputes AE starts to the first of the month, ADRS imputes response dates to the last. The
import is therefore run with ``date_imputation="first"`` for the ADSL/ADAE checks and with
``"last"`` for the response checks.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from sirtstats.cli import _write_registry_folder
from sirtstats.exceptions import SirtStatsWarning
from sirtstats.interop.sdtm_subjects import import_sdtm
from sirtstats.registry import load_registry, validate_registry

PHARMAVERSE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "pharmaverse"
pytestmark = pytest.mark.skipif(not (PHARMAVERSE / "sdtm" / "dm.csv").exists(),
                                reason="pharmaverse conformance data not available")

TUMOUR_FILES = {"TU": "tu_onco_recist.csv", "TR": "tr_onco_recist.csv",
                "RS": "rs_onco_recist.csv"}
NON_SIRT = {"primary_tumour": "other", "device": "Y90_glass", "territory": "whole_liver",
            "activity_gbq": 1.0, "include_exposure_end": True}

EXPECTED_WARNINGS = {
    "patient has no SIRT treatment (the cohort will exclude them)",  # screen failures
    "suspicious value: below 0.1 GBq (allowed, please check)",  # 0 GBq end-of-exposure rows
    "onset more than 30 days before the first SIRT",  # AEs before the first exposure
}


def _read(rel):
    return pd.read_csv(PHARMAVERSE / rel, dtype=str, keep_default_na=False, na_values=[""])


def _import(imputation):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SirtStatsWarning)
        return import_sdtm(PHARMAVERSE / "sdtm", files=TUMOUR_FILES,
                           date_imputation=imputation, **NON_SIRT)


@pytest.fixture(scope="module")
def imported_first():
    return _import("first")


@pytest.fixture(scope="module")
def folder_first(imported_first, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pharmaverse_registry")
    _write_registry_folder(dict(imported_first), folder)
    return folder


@pytest.fixture(scope="module")
def adsl():
    return _read("adam/adsl.csv").set_index("USUBJID")


# --------------------------------------------------------------------------- 1. import


def test_pharmaverse_sdtm_imports_without_errors(imported_first):
    assert not imported_first.has_errors, imported_first.problems
    # the only problems: AEs dated before the registry's plausible range (AESTDTC "2002"...)
    ae = _read("sdtm/ae.csv")
    old = ae.loc[ae["AESTDTC"].str.len().eq(4) & (ae["AESTDTC"] < "1990"), "USUBJID"]
    assert sorted(imported_first.problems["patient_id"]) == sorted(old)
    assert set(imported_first.problems["problem"].str[:24]) == {"onset before 1990-01-01 "}
    counts = {t: len(df) for t, df in imported_first.items()}
    assert counts["patients"] == len(_read("sdtm/dm.csv")) == 306
    assert counts["adverse_events"] == len(ae) - len(old)
    assert counts["lesions"] == 25  # README §4: 25 lesions per reader


def test_written_registry_validates_cleanly(folder_first):
    problems = validate_registry(folder_first)
    assert (problems["severity"] == "warning").all(), problems[problems["severity"] == "error"]
    assert set(problems["rule"]) <= EXPECTED_WARNINGS, set(problems["rule"]) - EXPECTED_WARNINGS
    # screen failures (DS) are the patients without treatment
    ds = _read("sdtm/ds.csv")
    screen_failures = set(ds.loc[ds["DSDECOD"] == "SCREEN FAILURE", "USUBJID"])
    untreated = problems.loc[problems["rule"].str.startswith("patient has no SIRT"), "value"]
    assert set(untreated) == screen_failures
    assert len(screen_failures) == 52


def test_reloaded_registry_equals_the_import(folder_first, imported_first):
    registry = load_registry(folder_first)
    for table, df in imported_first.items():
        pd.testing.assert_frame_equal(registry[table], df, obj=table)


def test_patients_and_treatments_agree_with_adsl(imported_first, adsl):
    tx = imported_first["treatments"].groupby("patient_id")["treatment_date"].agg(["min", "max"])
    rand = adsl.loc[adsl["RANDDT"].notna()]
    assert len(rand) == 254
    assert set(tx.index) == set(rand.index)
    pd.testing.assert_series_equal(tx["min"], pd.to_datetime(rand["TRTSDT"]).rename("min")
                                   .rename_axis("patient_id").sort_index(), check_names=False)
    # TRTEDT is the last EXENDTC; where the last exposure record has no EXENDTC (6 subjects),
    # admiral ignores that record while the registry keeps its start as a treatment date
    ex = _read("sdtm/ex.csv").sort_values(["USUBJID", "EXSTDTC"])
    last = ex.groupby("USUBJID").tail(1).set_index("USUBJID")
    open_end = last.index[last["EXENDTC"].isna()]
    expected_end = pd.to_datetime(rand["TRTEDT"]).where(
        ~rand.index.isin(open_end), pd.to_datetime(last["EXSTDTC"].reindex(rand.index)))
    assert len(open_end) == 6
    pd.testing.assert_series_equal(tx["max"], expected_end.rename_axis("patient_id")
                                   .sort_index(), check_names=False)
    assert (pd.to_datetime(rand["RANDDT"]) == pd.to_datetime(rand["TRTSDT"])).all()
    pts = imported_first["patients"].set_index("patient_id")
    deaths = pts["death_date"].dropna()
    assert deaths.to_dict() == pd.to_datetime(adsl["DTHDT"].dropna()).to_dict()
    assert (pts["birth_year"] == adsl["BRTHDTC"].str[:4].astype(int).reindex(pts.index)).all()
    assert (pts["centre_id"] == adsl["SITEID"].reindex(pts.index)).all()


def test_adverse_event_dates_agree_with_adae(imported_first):
    adae = _read("adam/adae.csv")
    adae = adae.assign(ae_id=adae["USUBJID"] + "/AE" + adae["AESEQ"]).set_index("ae_id")
    ours = imported_first["adverse_events"].set_index("ae_id")
    common = ours.index.intersection(adae.index)
    assert len(common) == len(ours) == 1186
    # ASTDT: partial starts to the first day, not before TRTSDT in the same month (admiral)
    assert (ours.loc[common, "onset_date"] == pd.to_datetime(adae.loc[common, "ASTDT"])).all()
    end = pd.to_datetime(adae.loc[common, "AENDT"])
    same = (ours.loc[common, "resolution_date"] == end) | (
        ours.loc[common, "resolution_date"].isna() & end.isna())
    assert same.all()
    assert (ours.loc[common, "grade"] == adae.loc[common, "ASEVN"].astype(int)).all()
