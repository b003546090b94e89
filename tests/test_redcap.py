"""REDCap import: mapping rules, raw and label exports, checkboxes, problems, round trip."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import yaml

from sirtstats.exceptions import SirtDataError
from sirtstats.interop.redcap import import_redcap, parse_redcap_choices
from sirtstats.interop.redcap_project import (
    make_redcap_dictionary,
    make_redcap_mapping,
    to_redcap_records,
)
from sirtstats.schema import apply_dtypes


def _registry() -> dict[str, pd.DataFrame]:
    patients = pd.DataFrame({
        "patient_id": ["P001", "P002"], "centre_id": ["C1", "C1"], "sex": ["M", "F"],
        "birth_year": [1955, 1960], "height_cm": [175.0, 162.5], "weight_kg": [80.0, 61.2],
        "primary_tumour": ["HCC", "mCRC"], "hcc_aetiology": ["HCV", None],
        "cirrhosis": [True, False], "diagnosis_date": ["2023-01-10", "2022-06-01"],
        "n_prior_systemic_lines": [0, 2], "death_date": [None, "2024-03-01"],
        "cause_of_death": [None, "tumour_progression"],
        "last_contact_date": ["2024-09-30", "2024-03-01"],
    })
    baseline = pd.DataFrame({
        "patient_id": ["P001"], "assessment_date": ["2023-02-01"], "ecog": [0],
        "bclc_stage": ["B"], "ascites": ["none"], "encephalopathy": ["none"],
        "bilirubin_umol_l": [15.0], "albumin_g_l": [38.5], "inr": [1.1],
        "extrahepatic_disease": [False], "treatment_intent": ["palliative"],
    })
    treatments = pd.DataFrame({
        "injection_id": ["P001-1", "P001-2", "P002-1"], "session_id": ["S1", "S2", "S3"],
        "patient_id": ["P001", "P001", "P002"],
        "treatment_date": ["2023-02-15", "2023-05-02", "2022-09-01"],
        "device": ["Y90_glass", "Y90_glass", "Y90_resin"],
        "territory": ["right_lobe", "left_lobe", "whole_liver"],
        "delivered_activity_gbq": [2.51, 1.2, 1.6],
        "administration_datetime": ["2023-02-15 10:30", None, None],
    })
    labs = pd.DataFrame({
        "patient_id": ["P001", "P001"], "sample_date": ["2023-02-01", "2023-03-15"],
        "analyte": ["bilirubin_total", "bilirubin_total"], "value": [15.0, 1.9],
        "unit": ["µmol/L", "mg/dL"], "uln": [21.0, 1.2],
    })
    lesions = pd.DataFrame({
        "lesion_id": ["P001-L1"], "patient_id": ["P001"], "baseline_date": ["2023-02-01"],
        "organ": ["liver"], "is_nodal": [False], "recist_role": ["target"],
        "mrecist_role": ["target"], "in_treated_territory": [True],
    })
    measurements = pd.DataFrame({  # keyed by lesion: the REDCap record is the lesion's patient
        "lesion_id": ["P001-L1", "P001-L1"], "assessment_date": ["2023-02-01", "2023-05-01"],
        "criterion": ["RECIST_1_1", "RECIST_1_1"], "fragment": [1, 1],
        "state": ["measured", "measured"], "diameter_mm": [42.0, 30.5],
    })
    raw = {"patients": patients, "baseline": baseline, "treatments": treatments, "labs": labs,
           "lesions": lesions, "lesion_measurements": measurements}
    return {t: apply_dtypes(df, t) for t, df in raw.items()}


def _write_project(tmp_path, tables, *, labels=False, mapping=None, records=None):
    records = to_redcap_records(tables, labels=labels) if records is None else records
    records.to_csv(tmp_path / "records.csv", index=False)
    make_redcap_dictionary().to_csv(tmp_path / "dictionary.csv", index=False)
    mapping = make_redcap_mapping() if mapping is None else mapping
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    return tmp_path / "records.csv", tmp_path / "dictionary.csv", tmp_path / "mapping.yaml"


def test_parse_redcap_choices_keeps_commas_in_labels():
    assert parse_redcap_choices("1, Yes, confirmed | 2, No") == {"1": "Yes, confirmed", "2": "No"}


@pytest.mark.parametrize("labels", [False, True], ids=["raw", "label"])
def test_round_trip_raw_and_label_exports(tmp_path, labels):
    tables = _registry()
    paths = _write_project(tmp_path, tables, labels=labels)
    result = import_redcap(*paths)
    assert not result.has_errors, result.problems
    for name, expected in tables.items():
        pd.testing.assert_frame_equal(result.tables[name], expected, check_like=False)


def test_checkbox_with_several_options_uses_first_and_warns(tmp_path):
    tables = _registry()
    records = to_redcap_records(tables)
    records.loc[records["record_id"].eq("P001") & records["redcap_repeat_instrument"].eq(""),
                "pt_hcc_aetiology___3"] = "1"  # HCV (2) and alcohol (3) both checked
    result = import_redcap(*_write_project(tmp_path, tables, records=records))
    assert result.tables["patients"].loc[0, "hcc_aetiology"] == "HCV"
    warn = result.problems.query("column == 'hcc_aetiology' and severity == 'warning'")
    assert warn[["record_id", "redcap_field"]].values.tolist() == [["P001", "pt_hcc_aetiology"]]


def test_unmapped_code_is_an_error_naming_field_and_record(tmp_path):
    tables = _registry()
    records = to_redcap_records(tables)
    records.loc[records["redcap_repeat_instrument"].eq("treatments")
                & records["record_id"].eq("P002"), "tx_device"] = "9"
    result = import_redcap(*_write_project(tmp_path, tables, records=records))
    err = result.problems.query("severity == 'error'")
    assert err[["record_id", "redcap_field", "table", "column", "value"]].values.tolist() == [
        ["P002", "tx_device", "treatments", "device", "9"]]


def test_unparseable_value_is_reported_not_dropped(tmp_path):
    tables = _registry()
    records = to_redcap_records(tables)
    records.loc[records["redcap_repeat_instrument"].eq("labs"), "lab_value"] = ["15", "1,9"]
    result = import_redcap(*_write_project(tmp_path, tables, records=records))
    err = result.problems.query("severity == 'error'")
    assert err[["record_id", "redcap_field", "column", "value"]].values.tolist() == [
        ["P001", "lab_value", "value", "1,9"]]
    assert len(result.tables["labs"]) == 2


def test_unmapped_required_column_is_an_error(tmp_path):
    mapping = make_redcap_mapping()
    del mapping["tables"]["treatments"]["columns"]["device"]
    result = import_redcap(*_write_project(tmp_path, _registry(), mapping=mapping))
    err = result.problems.query("severity == 'error'")
    assert err[["table", "column", "rule"]].values.tolist() == [
        ["treatments", "device", "required registry column not mapped"]]


def test_identifier_fields_mapped_are_refused_and_exported_ones_reported(tmp_path):
    tables = _registry()
    records = to_redcap_records(tables)
    records["patient_name"] = "Jean DUPONT"
    records["pt_mrn"] = "123456"
    mapping = make_redcap_mapping()
    mapping["tables"]["patients"]["columns"]["centre_id"] = "pt_mrn"
    result = import_redcap(*_write_project(tmp_path, tables, records=records, mapping=mapping))
    probs = result.problems.set_index("redcap_field")
    assert probs.loc["pt_mrn", "severity"] == "error"
    assert "pseudonymise" in probs.loc["pt_mrn", "rule"]
    assert probs.loc["patient_name", "severity"] == "warning"
    assert "identifier" in probs.loc["patient_name", "rule"]
    assert "Jean" not in result.problems.to_csv()
    assert "123456" not in result.problems.to_csv()
    assert "123456" not in result.tables["patients"].to_csv()


def test_unused_export_field_is_reported(tmp_path):
    tables = _registry()
    records = to_redcap_records(tables)
    records["smoking_status"] = ""
    result = import_redcap(*_write_project(tmp_path, tables, records=records))
    row = result.problems.query("redcap_field == 'smoking_status'")
    assert row["rule"].tolist() == ["field in the export that no registry table imports"]


def test_bad_mapping_lists_every_problem(tmp_path):
    mapping = make_redcap_mapping()
    mapping["tables"]["treatment"] = {"columns": {}}
    mapping["tables"]["labs"]["columns"]["value_umol"] = "lab_value"
    mapping["tables"]["labs"]["rows"] = "sometimes"
    with pytest.raises(SirtDataError, match="3 problem") as info:
        import_redcap(*_write_project(tmp_path, _registry(), mapping=mapping))
    msg = str(info.value)
    assert "unknown table 'treatment'" in msg
    assert "labs.value_umol" in msg
    assert "sometimes" in msg


def test_sources_are_not_modified(tmp_path):
    paths = _write_project(tmp_path, _registry())
    before = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    import_redcap(*paths)
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths] == before
