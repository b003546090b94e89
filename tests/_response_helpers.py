"""Small builders of registry-shaped lesion/measurement/assessment frames for the response tests.

A case is written as lesions with one value per imaging (baseline first) so that each worked
example of response-criteria.md §8 reads like the document's table.
"""

from __future__ import annotations

import pandas as pd

ORIGIN = pd.Timestamp("2024-01-10")  # first SIRT
BASELINE = pd.Timestamp("2024-01-03")  # baseline imaging, 7 days before the origin

_STATES = {"too_small", "disappeared", "merged", "not_assessed"}
_NT = {"CR", "NON_CR_NON_PD", "PD", "NE"}


def lesion(lid, values, *, organ="liver", nodal=False, role="target", treated=None,
           enhancing=None, mrecist_role=None, arterial=None, **extra):
    """One lesion: ``values`` has one entry per imaging (baseline first).

    Target entries: a number (mm), a state name, None (no row = not assessed) or a list of
    numbers (fragments of a split lesion). Non-target entries: a status code or None.
    """
    return {"id": lid, "values": list(values), "organ": organ, "nodal": nodal, "role": role,
                "treated": (organ == "liver") if treated is None else treated,
                "enhancing": enhancing, "mrecist_role": mrecist_role, "arterial": arterial,
                "extra": extra}


def case(lesions, days, *, patient="P1", new=None, criterion="RECIST_1_1", origin=ORIGIN,
         baseline=BASELINE, new_site=None, new_treated=None, new_size=None, new_typical=None):
    """Return (lesions, lesion_measurements, imaging_assessments) frames for one patient.

    ``days`` are the post-baseline imaging days counted from ``origin``; ``new`` the
    new-lesion status per post-baseline imaging (default all "NO").
    """
    dates = [baseline] + [origin + pd.Timedelta(days=int(d)) for d in days]
    les_rows, meas_rows = [], []
    role_col = "recist_role" if criterion == "RECIST_1_1" else "mrecist_role"
    other_col = "mrecist_role" if criterion == "RECIST_1_1" else "recist_role"
    for le in lesions:
        assert len(le["values"]) == len(dates), (le["id"], len(le["values"]), len(dates))
        row = {"lesion_id": f"{patient}-{le['id']}", "patient_id": patient,
               "baseline_date": baseline, "organ": le["organ"], "is_nodal": le["nodal"],
               role_col: le["role"], other_col: le["mrecist_role"] or "none",
               "is_arterially_enhancing": le["arterial"],
               "in_treated_territory": le["treated"], "absorbed_dose_gy": None}
        row.update(le["extra"])
        les_rows.append(row)
        for i, (d, v) in enumerate(zip(dates, le["values"], strict=True)):
            if v is None:
                continue
            enh = le["enhancing"][i] if le["enhancing"] is not None else None
            base = {"lesion_id": row["lesion_id"], "assessment_date": d, "criterion": criterion,
                    "fragment": 1, "state": None, "diameter_mm": None, "is_enhancing": enh,
                    "nontarget_status": None}
            if le["role"] == "non_target":
                assert v in _NT, v
                meas_rows.append({**base, "nontarget_status": v})
            elif isinstance(v, list):
                for k, frag in enumerate(v, start=1):
                    meas_rows.append({**base, "fragment": k, "state": "measured",
                                      "diameter_mm": float(frag)})
            elif isinstance(v, str):
                assert v in _STATES, v
                meas_rows.append({**base, "state": v})
            else:
                meas_rows.append({**base, "state": "measured", "diameter_mm": float(v)})
    new = list(new) if new is not None else ["NO"] * len(days)
    ass_rows = [{"patient_id": patient, "assessment_date": baseline, "criterion": criterion,
                 "modality": "CT", "new_lesion": "NO"}]
    for i, d in enumerate(dates[1:]):
        ass_rows.append({
            "patient_id": patient, "assessment_date": d, "criterion": criterion,
            "modality": "CT", "new_lesion": new[i],
            "new_lesion_site": new_site[i] if new_site else None,
            "new_lesion_in_treated_territory": new_treated[i] if new_treated else None,
            "new_lesion_size_mm": new_size[i] if new_size else None,
            "new_lesion_typical_hcc": new_typical[i] if new_typical else None,
        })
    les = pd.DataFrame(les_rows)
    meas = pd.DataFrame(meas_rows, columns=["lesion_id", "assessment_date", "criterion",
                                            "fragment", "state", "diameter_mm", "is_enhancing",
                                            "nontarget_status"])
    ass = pd.DataFrame(ass_rows)
    return les, meas, ass


def combine(*cases):
    """Concatenate several cases (different patients) table by table."""
    return tuple(pd.concat([c[i] for c in cases], ignore_index=True) for i in range(3))


def origin_frame(patients, origin=ORIGIN):
    """df_origin for BOR: one row per patient with the first SIRT date."""
    return pd.DataFrame({"patient_id": list(patients), "origin_date": origin})


def timepoints(sequence, *, patient="P1", origin=ORIGIN, criterion="RECIST_1_1",
               scope="overall"):
    """A timepoint frame from (day, overall_response) pairs (for BOR tests)."""
    return pd.DataFrame({
        "patient_id": patient, "criterion": criterion, "scope": scope,
        "assessment_date": [origin + pd.Timedelta(days=d) for d, _ in sequence],
        "overall_response": [r for _, r in sequence],
    })


# --------------------------------------------------------------------------------------------
# CDISC (SDTM/ADaM, pharmaverse) adapters shared by the conformance tests
# --------------------------------------------------------------------------------------------

def cdisc_to_sirtstats():
    """AVALC / RSSTRESC response codes -> sirtstats codes (SDTM_RESPONSE_MAP plus ND)."""
    from sirtstats.interop.sdtm import SDTM_RESPONSE_MAP

    return {**SDTM_RESPONSE_MAP, "ND": "ND"}


def sirtstats_to_cdisc():
    """sirtstats BOR codes -> ADRS AVALC (the inverse of SDTM_RESPONSE_MAP, plus ND/MISSING)."""
    from sirtstats.interop.sdtm import SDTM_RESPONSE_MAP

    out = {v: k for k, v in SDTM_RESPONSE_MAP.items()
           if k in ("CR", "PR", "SD", "PD", "NE", "NON-CR/NON-PD")}
    return {**out, "ND": "ND", "MISSING": "MISSING"}


def yn(flag):
    """Boolean array -> ADRS "Y"/"N"."""
    import numpy as np

    return np.where(flag, "Y", "N")
