"""CDISC SDTM TR (tumour results) FDG-PET records -> ``pet_assessments`` and ``pet_lesions``.

SDTM carries PET uptake in TR like any other tumour result: one record per lesion (``TRLNKID``,
the TU link), scan (``TRDTC``) and test. Tests read (``TRTESTCD`` -> column):

=========  ================  ================================
SULPEAK    ``sul_peak``      SULpeak (g/mL, SUL)
SUVMAX     ``suv_max``       SUVmax (g/mL)
MTV        ``mtv_ml``        metabolic tumour volume (mL, cm3)
TLG        ``tlg_g``         total lesion glycolysis (g)
=========  ================  ================================

The PERCIST reference regions are TR records without a lesion link and with
``TRTESTCD`` SULMEAN or SULSD at ``TRLOC`` LIVER (normal-liver VOI) or BLOOD POOL / AORTA
(descending thoracic aorta): a sirtstats convention, since SDTM has no dedicated test code for
them. New lesions of TU (``TUSTRESC`` NEW) on a PET scan's visit give ``new_fdg_avid_lesion``
(TR ``TUMSTATE`` EQUIVOCAL -> EQUIVOCAL). A record's scan is FDG when ``TRMETHOD`` names FDG or
is PET/PET-CT without another tracer; other tracers are listed as problems and left out
(PERCIST 1.0 is defined for FDG). Uptake time, blood glucose and injected activity are not TR
results and stay empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns
from sirtstats.interop.sdtm import compute_imputed_date
from sirtstats.schema import apply_dtypes

__all__ = ["PET_REFERENCE_LOCATIONS", "PET_TESTS", "SdtmPetConversion", "convert_sdtm_pet",
           "import_sdtm_pet"]

#: TRTESTCD of lesion uptake -> pet_lesions column.
PET_TESTS: dict[str, str] = {"SULPEAK": "sul_peak", "SUVMAX": "suv_max", "MTV": "mtv_ml",
                             "TLG": "tlg_g"}
#: TRLOC (upper case, substring) of a reference-region record -> column stem.
PET_REFERENCE_LOCATIONS: tuple[tuple[str, str], ...] = (
    ("LIVER", "liver"), ("BLOOD POOL", "blood_pool"), ("AORTA", "blood_pool"))
_REF_TESTS = {"SULMEAN": "sul_mean", "SULSD": "sul_sd"}
_OTHER_TRACERS = ("PSMA", "DOTATATE", "DOTATOC", "FLT", "CHOLINE", "FES", "FAPI", "GA-68",
                  "GA68", "F-DOPA")
_FN = "convert_sdtm_pet"
PROBLEM_COLUMNS = ["patient_id", "domain", "variable", "value", "problem"]


@dataclass(frozen=True)
class SdtmPetConversion:
    """PET registry tables converted from SDTM TR (and TU), with the problems.

    Attributes
    ----------
    tables : dict of str to DataFrame
        ``pet_assessments`` and ``pet_lesions``, typed with
        :func:`sirtstats.schema.apply_dtypes` (empty when TR has no PET record).
    problems : DataFrame
        ``patient_id``, ``domain``, ``variable``, ``value``, ``problem``.
    """

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]


def _is_fdg(method: pd.Series) -> np.ndarray:
    m = method.fillna("").astype(str).str.upper()
    other = np.zeros(len(m), dtype=bool)
    for tracer in _OTHER_TRACERS:
        other |= m.str.contains(tracer, regex=False).to_numpy()
    return (m.str.contains("FDG", regex=False).to_numpy()
            | (m.str.contains("PET", regex=False).to_numpy() & ~other))


def _reference_columns(ref: pd.DataFrame) -> pd.DataFrame:
    """One row per (USUBJID, date) with liver/blood-pool SUL mean and SD."""
    loc = ref["TRLOC"].fillna("").astype(str).str.upper() if "TRLOC" in ref else pd.Series(
        "", index=ref.index)
    stem = pd.Series(None, index=ref.index, dtype=object)
    for key, name in PET_REFERENCE_LOCATIONS:
        stem = stem.where(stem.notna() | ~loc.str.contains(key, regex=False), name)
    r = ref.assign(col=stem + "_" + ref["TRTESTCD"].map(_REF_TESTS)).dropna(subset=["col"])
    if r.empty:
        return pd.DataFrame(columns=["USUBJID", "date"])
    return r.pivot_table(index=["USUBJID", "date"], columns="col", values="value",
                         aggfunc="first").reset_index()


def _new_lesions(scans: pd.DataFrame, df_tu, df_tr) -> pd.Series:
    """YES / EQUIVOCAL / NO per scan from TU NEW records of the scan's visit."""
    out = pd.Series("NO", index=scans.index, dtype=object)
    if df_tu is None or "TUSTRESC" not in df_tu or "VISITNUM" not in df_tu:
        return out
    new = df_tu.loc[df_tu["TUSTRESC"].fillna("").str.upper() == "NEW",
                    ["USUBJID", "TULNKID", "VISITNUM"]].copy()
    new["VISITNUM"] = pd.to_numeric(new["VISITNUM"], errors="coerce")
    state = df_tr.loc[df_tr["TRTESTCD"] == "TUMSTATE", ["USUBJID", "TRLNKID", "TRSTRESC"]]
    new = new.merge(state, left_on=["USUBJID", "TULNKID"], right_on=["USUBJID", "TRLNKID"],
                    how="left")
    new["code"] = np.where(new["TRSTRESC"].fillna("").str.upper() == "EQUIVOCAL",
                           "EQUIVOCAL", "YES")
    best = new.sort_values("code", ascending=False).drop_duplicates(["USUBJID", "VISITNUM"])
    key = best.set_index(["USUBJID", "VISITNUM"])["code"]
    idx = pd.MultiIndex.from_frame(scans[["USUBJID", "VISITNUM"]])
    return out.where(key.reindex(idx).isna().to_numpy(), key.reindex(idx).to_numpy())


def convert_sdtm_pet(
    df_tr: pd.DataFrame,
    df_tu: pd.DataFrame | None = None,
    *,
    date_imputation: str = "first",
) -> SdtmPetConversion:
    """Convert the FDG-PET records of SDTM TR into ``pet_assessments`` and ``pet_lesions``.

    Parameters
    ----------
    df_tr : DataFrame
        TR (all text) with ``USUBJID``, ``TRTESTCD``, ``TRSTRESN``, ``TRDTC``, ``VISITNUM``;
        ``TRLNKID`` for lesion records; optional ``TRLOC``, ``TRMETHOD``, ``TRSTRESU``.
    df_tu : DataFrame, optional
        TU, for new lesions (``TUSTRESC`` NEW) on a PET visit.
    date_imputation : {"first", "last"}, default "first"
        Partial ``TRDTC`` -> first or last day of the period
        (:func:`sirtstats.interop.sdtm.compute_imputed_date`).

    Returns
    -------
    SdtmPetConversion
        ``pet_assessments`` (one row per subject and scan date, ``tracer`` FDG, reference
        regions, ``new_fdg_avid_lesion``), ``pet_lesions`` (``lesion_id = USUBJID/TRLNKID``,
        as :func:`sirtstats.interop.sdtm.convert_sdtm_tumour` names lesions) and problems.

    Raises
    ------
    SirtDataError
        TR without its key columns.

    References
    ----------
    CDISC SDTMIG v3.3, TR domain; Wahl et al., J Nucl Med 2009;50 Suppl 1:122S-150S (PERCIST
    1.0: SULpeak, reference regions).

    Examples
    --------
    >>> import pandas as pd
    >>> tr = pd.DataFrame({"USUBJID": "S1", "TRLNKID": ["T01", "T01", None],
    ...     "TRTESTCD": ["SULPEAK", "SUVMAX", "SULMEAN"], "TRSTRESN": ["8.2", "11.5", "1.6"],
    ...     "TRLOC": ["LIVER", "LIVER", "BLOOD POOL"], "TRMETHOD": "FDG PET/CT",
    ...     "TRDTC": "2024-01-10", "VISITNUM": "1"})
    >>> conv = convert_sdtm_pet(tr)
    >>> conv["pet_lesions"][["lesion_id", "sul_peak", "suv_max"]].values.tolist()
    [['S1/T01', 8.2, 11.5]]
    >>> conv["pet_assessments"]["blood_pool_sul_mean"].tolist()
    [1.6]
    """
    require_columns(df_tr, ["USUBJID", "TRTESTCD", "TRSTRESN", "TRDTC", "VISITNUM"], "TR", _FN)
    tr = df_tr.loc[df_tr["TRTESTCD"].isin(list(PET_TESTS) + list(_REF_TESTS))].copy()
    problems = []
    if "TRMETHOD" in tr:
        fdg = _is_fdg(tr["TRMETHOD"])
        for sid, method in tr.loc[~fdg, ["USUBJID", "TRMETHOD"]].drop_duplicates().values:
            problems.append((sid, "TR", "TRMETHOD", method,
                             "not an FDG-PET record (PERCIST is defined for FDG): left out"))
        tr = tr.loc[fdg]
    if tr.empty:
        return SdtmPetConversion(
            tables={t: _typed(pd.DataFrame(), t) for t in ("pet_assessments", "pet_lesions")},
            problems=pd.DataFrame(problems, columns=PROBLEM_COLUMNS))
    tr["date"], _flag = compute_imputed_date(tr["TRDTC"], imputation=date_imputation)
    tr["value"] = pd.to_numeric(tr["TRSTRESN"], errors="coerce")
    tr["VISITNUM"] = pd.to_numeric(tr["VISITNUM"], errors="coerce")
    link = tr["TRLNKID"] if "TRLNKID" in tr else pd.Series(None, index=tr.index, dtype=object)
    les_rows = tr.loc[tr["TRTESTCD"].isin(list(PET_TESTS)) & link.notna()]
    les_rows = les_rows.assign(lesion_id=les_rows["USUBJID"] + "/" + les_rows["TRLNKID"],
                               col=les_rows["TRTESTCD"].map(PET_TESTS))
    lesions = les_rows.pivot_table(index=["lesion_id", "USUBJID", "date"], columns="col",
                                   values="value", aggfunc="first").reset_index()
    no_sul = lesions["sul_peak"].isna() if "sul_peak" in lesions else pd.Series(
        True, index=lesions.index)
    for lid in lesions.loc[no_sul, "lesion_id"]:
        problems.append((lid.split("/")[0], "TR", "TRTESTCD", lid,
                         "PET lesion record without SULPEAK: left out"))
    lesions = lesions.loc[~no_sul]
    ref = _reference_columns(tr.loc[tr["TRTESTCD"].isin(list(_REF_TESTS)) & link.isna()])
    scans = tr.groupby(["USUBJID", "date"], as_index=False)["VISITNUM"].min()
    scans = scans.merge(ref, on=["USUBJID", "date"], how="left")
    scans["new_fdg_avid_lesion"] = _new_lesions(scans, df_tu, df_tr)
    pet = pd.DataFrame({"patient_id": scans["USUBJID"], "scan_date": scans["date"],
                        "tracer": "FDG", "new_fdg_avid_lesion": scans["new_fdg_avid_lesion"]})
    for col in ("liver_sul_mean", "liver_sul_sd", "blood_pool_sul_mean", "blood_pool_sul_sd"):
        pet[col] = scans[col] if col in scans else np.nan
    les = pd.DataFrame({"lesion_id": lesions["lesion_id"], "patient_id": lesions["USUBJID"],
                        "scan_date": lesions["date"]})
    for col in PET_TESTS.values():
        les[col] = lesions[col] if col in lesions else np.nan
    tables = {"pet_assessments": _typed(pet, "pet_assessments"),
              "pet_lesions": _typed(les, "pet_lesions")}
    return SdtmPetConversion(tables=tables,
                             problems=pd.DataFrame(problems, columns=PROBLEM_COLUMNS))


def import_sdtm_pet(domains, *, date_imputation: str = "first"):
    """The PET tables of an SDTM study for :func:`sirtstats.interop.sdtm_subjects.import_sdtm`.

    Parameters
    ----------
    domains : mapping of str to DataFrame
        The study's domains (``TR`` required, ``TU`` optional).
    date_imputation : {"first", "last"}, default "first"
        Partial-date imputation.

    Returns
    -------
    tables : dict of str to DataFrame
        ``pet_assessments`` and ``pet_lesions``; empty dict when TR holds no FDG-PET record.
    problems : DataFrame
        As :attr:`SdtmPetConversion.problems`.
    """
    conv = convert_sdtm_pet(domains["TR"], domains.get("TU"), date_imputation=date_imputation)
    return (conv.tables if len(conv["pet_assessments"]) else {}), conv.problems


def _typed(df: pd.DataFrame, table: str) -> pd.DataFrame:
    from sirtstats.schema import load_schema

    schema = load_schema(table)
    full = df.reindex(columns=schema.field_names)
    pk = list(schema.primary_key)
    return apply_dtypes(full, table).sort_values(pk, kind="mergesort").reset_index(drop=True)
