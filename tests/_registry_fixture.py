# ruff: noqa: E501  (registry rows are kept as exported, one line per row)
"""A small valid hand-made registry (3 patients) and writers for the registry tests.

Rows are written as text exactly as a centre would export them, so tests can mutate one cell
and know its file row: the first data row of every file is row 2 (header = row 1).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
from pathlib import Path

import pandas as pd

from sirtstats.schema import load_schema

_TEXT = {
    "patients": """
patient_id,centre_id,sex,birth_year,height_cm,weight_kg,primary_tumour,hcc_aetiology,cirrhosis,diagnosis_date,n_prior_systemic_lines,death_date,cause_of_death,last_contact_date
P01,C1,M,1952,175,80,HCC,HCV,true,2023-01-10,0,,,2024-12-01
P02,C1,F,1960,162,61.5,mCRC,,false,2022-06-01,2,2024-08-15,tumour_progression,2024-08-15
P03,C2,M,1948,170,72,HCC,alcohol,true,2023-03-01,1,,,2024-10-01
""",
    "baseline": """
patient_id,assessment_date,ecog,bclc_stage,ascites,encephalopathy,bilirubin_umol_l,albumin_g_l,inr,prothrombin_pct,creatinine_umol_l,sodium_mmol_l,afp_ng_ml,pvtt,extrahepatic_disease,n_liver_lesions,largest_lesion_mm,tumour_volume_ml,liver_volume_ml,bilobar,treatment_intent
P01,2023-02-20,0,B,none,none,15,38,1.1,,70,139,250,none,false,2,55,120,1600,false,palliative
P02,2023-01-05,1,,none,none,10,40,1.0,,80,140,,none,false,3,40,90,1500,true,palliative
P03,2023-04-10,1,C,mild,none,25.5,33,1.3,,90,137,1200,branch,false,1,80,300,1800,false,palliative
""",
    "workups": """
workup_id,patient_id,workup_date,scout_agent,maa_activity_mbq,lsf_pct,lsf_method,lung_mass_kg,tnr,extrahepatic_uptake,perfused_volume_ml,perfused_tumour_volume_ml,hepatic_reserve_pct,predicted_tumour_dose_gy,predicted_normal_liver_dose_gy,predicted_lung_dose_gy
W01,P01,2023-02-20,Tc99m_MAA,150,6.5,planar,1.0,3.2,false,900,120,45,250,60,8
W02,P02,2023-01-05,Tc99m_MAA,150,8,planar,1.0,2.0,false,1500,90,0,80,40,10
W03,P03,2023-04-10,Tc99m_MAA,150,4,SPECT_CT,1.0,2.5,false,800,300,50,200,50,5
""",
    "treatments": """
injection_id,session_id,patient_id,workup_id,treatment_date,device,prescription_method,territory,couinaud_segments,target_dose_gy,prescribed_activity_gbq,vial_calibration_activity_gbq,vial_calibration_datetime,administration_datetime,measured_activity_gbq,residual_activity_gbq,delivered_activity_gbq,delivery_complete,perfused_volume_ml,perfused_tumour_volume_ml,perfused_dose_gy,tumour_dose_gy,normal_liver_dose_gy,lung_dose_gy,concomitant_systemic
T01,S01,P01,W01,2023-03-06,Y90_glass,partition,right_lobe,5;6;7;8,250,2.5,3.0,2023-03-05 12:00,2023-03-06 10:30,2.6,0.1,2.5,true,900,120,120,250,60,8,aucun (évalué)
T02,S02,P02,W02,2023-01-20,Y90_resin,BSA,whole_liver,,,1.6,3.0,,2023-01-20 11:00:00,1.7,0.1,1.6,true,1500,90,50,80,40,10,
T03,S03,P03,W03,2023-04-24,Y90_glass,MIRD_single,segmental,2;3,400,1.2,,,,,,1.2,true,300,150,200,400,50,5,
""",
    "post_dosimetry": """
dosimetry_id,patient_id,session_id,scan_date,modality,method,tumour_mean_dose_gy,tumour_d70_gy,normal_liver_mean_dose_gy,perfused_volume_dose_gy,lung_dose_gy,extrahepatic_deposition
D01,P01,S01,2023-03-07,Y90_PET_CT,voxel_S_value,260,180,55,120,7,false
D02,P03,S03,2023-04-25,Y90_PET_CT,local_deposition,380,250,45,190,4,false
""",
    "lesions": """
lesion_id,patient_id,baseline_date,organ,is_nodal,recist_role,mrecist_role,is_arterially_enhancing,in_treated_territory,absorbed_dose_gy
L01,P01,2023-02-15,liver,false,target,target,true,true,280
L02,P01,2023-02-15,liver,false,non_target,non_target,true,true,
L03,P02,2023-01-02,liver,false,target,none,false,true,90
L04,P03,2023-04-05,liver,false,target,target,true,true,210
""",
    "lesion_measurements": """
lesion_id,assessment_date,criterion,fragment,state,diameter_mm,is_enhancing,nontarget_status
L01,2023-02-15,RECIST_1_1,1,measured,55,true,
L01,2023-02-15,mRECIST,1,measured,50,true,
L01,2023-05-15,RECIST_1_1,1,measured,40,,
L01,2023-05-15,mRECIST,1,measured,20.5,true,
L02,2023-02-15,RECIST_1_1,1,,,,NON_CR_NON_PD
L03,2023-01-02,RECIST_1_1,1,measured,40,,
L03,2023-04-20,RECIST_1_1,1,measured,30.5,,
L04,2023-04-05,RECIST_1_1,1,measured,80,,
""",
    "imaging_assessments": """
patient_id,assessment_date,criterion,modality,new_lesion,new_lesion_site,new_lesion_in_treated_territory,new_lesion_size_mm,new_lesion_typical_hcc,reported_overall_response,reported_treated_area_response
P01,2023-02-15,RECIST_1_1,CT,NO,,,,,,
P01,2023-05-15,RECIST_1_1,CT,NO,,,,,PR,PR
P02,2023-01-02,RECIST_1_1,CT,NO,,,,,,
P02,2023-04-20,RECIST_1_1,MRI,YES,extrahepatic,false,12,,PD,SD
""",
    "labs": """
patient_id,sample_date,analyte,value,unit,lln,uln
P01,2023-02-20,bilirubin_total,15,µmol/L,,21
P01,2023-02-20,albumin,38,g/L,35,50
P02,2023-01-05,bilirubin_total,0.6,mg/dL,,1.2
P01,2023-04-06,alt,45.5,U/L,,40
""",
    "adverse_events": """
ae_id,patient_id,session_id,ae_term,soc,onset_date,resolution_date,grade,attribution,serious,is_reild
AE01,P01,S01,Fatigue,"General disorders and administration site conditions",2023-03-08,2023-03-20,1,probable,false,false
AE02,P02,S02,Abdominal pain,Gastrointestinal disorders,2023-01-21,,2,possible,no,non
""",
    "other_therapies": """
therapy_id,patient_id,therapy_type,start_date,end_date,systemic_line,agent,is_planned_with_sirt
O01,P02,systemic,2022-07-01,2022-12-01,1,FOLFOX,false
O02,P02,systemic,2023-06-01,,2,FOLFIRI,false
""",
    "pet_assessments": """
patient_id,scan_date,tracer,uptake_time_min,blood_glucose_mmol_l,injected_activity_mbq,liver_sul_mean,liver_sul_sd,blood_pool_sul_mean,blood_pool_sul_sd,new_fdg_avid_lesion,new_lesion_site
P02,2023-01-03,FDG,60,5.4,250,1.8,0.25,1.4,0.2,NO,
P02,2023-04-21,FDG,62,6.1,245,1.9,0.3,1.5,0.2,YES,extrahepatic
""",
    "pet_lesions": """
lesion_id,patient_id,scan_date,sul_peak,suv_max,mtv_ml,tlg_g,fdg_extent_mm
L03,P02,2023-01-03,8.2,11.5,22,120.5,41
L03,P02,2023-04-21,4.1,5.9,9.5,30,28
""",
}


def valid_tables() -> dict[str, list[list[str]]]:
    """The valid registry: table -> rows of text cells (first row = header)."""
    out = {}
    for table, text in _TEXT.items():
        out[table] = list(csv.reader(io.StringIO(text.strip())))
    return copy.deepcopy(out)


def set_cell(tables, table: str, row: int, column: str, value: str) -> None:
    """Set a cell by file row number (2 = first data row) and column name, in place."""
    rows = tables[table]
    rows[row - 1][rows[0].index(column)] = value


def cell(table: str, row: int, column: str, value: str):
    """A mutation of :func:`valid_tables` output setting one cell (see :func:`set_cell`)."""
    return lambda t: set_cell(t, table, row, column, value)


def append_row(table: str, cells: str):
    """A mutation appending one CSV-formatted row to ``table``."""
    return lambda t: t[table].append(next(csv.reader(io.StringIO(cells))))


def in_turn(*operations):
    """Apply several mutations (or several post-write file operations) in order."""
    def apply(target):
        for op in operations:
            op(target)
    return apply


def write_raw(name: str, data: bytes):
    """A post-write operation replacing file ``name`` of the registry folder by raw bytes."""
    return lambda folder: (folder / name).write_bytes(data)


def to_french(table: str, rows: list[list[str]]) -> list[list[str]]:
    """Dates as dd/mm/yyyy and decimal commas in numeric columns (French Excel export)."""
    schema = load_schema(table)
    types = {f.name: f.type for f in schema.fields}
    header = rows[0]
    out = [list(header)]
    for r in rows[1:]:
        new = []
        for name, cell in zip(header, r, strict=True):
            t = types.get(name)
            if cell and t in ("date", "datetime"):
                d, _, rest = cell.partition(" ")
                y, m, dd = d.split("-")
                cell = f"{dd}/{m}/{y}" + (f" {rest}" if rest else "")
            elif cell and t == "number":
                cell = cell.replace(".", ",")
            new.append(cell)
        out.append(new)
    return out


def write_registry(folder: Path, tables, *, fmt: str = "csv", sep: str = ",",
                   encoding: str = "utf-8", french: bool = False) -> Path:
    """Write ``tables`` (from :func:`valid_tables`) to ``folder``, one file per table."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        if french:
            rows = to_french(table, rows)
        if fmt == "csv":
            buf = io.StringIO()
            csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
            (folder / f"{table}.csv").write_bytes(buf.getvalue().encode(encoding))
        else:
            df = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
            if fmt == "xlsx":
                df.to_excel(folder / f"{table}.xlsx", index=False)
            elif fmt == "parquet":
                df.to_parquet(folder / f"{table}.parquet", index=False)
            else:  # pragma: no cover
                raise ValueError(fmt)
    return folder


def hash_folder(folder: Path) -> dict[str, str]:
    """SHA-256 and mtime of every file in ``folder`` (to prove sources are untouched)."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(Path(folder).iterdir()) if p.is_file()}
