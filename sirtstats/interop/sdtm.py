"""CDISC SDTM tumour domains (TU, TR, RS) -> sirtstats registry tables.

Converts the SDTM Oncology domains TU (tumour identification), TR (tumour results) and RS
(disease response) of one evaluator into the registry tables ``lesions``,
``lesion_measurements`` and ``imaging_assessments`` (see ``data_schema/``), so that the
response engine (:mod:`sirtstats.response`) can run on sponsor or public CDISC data, e.g. the
pharmaverse test data used by the conformance tests. Follows SDTMIG v3.x conventions for the
oncology domains (--LNKID links TU and TR; --EVAL/--EVALID identify the reader; TRTESTCD
LDIAM/LPERP/DIAMETER/TUMSTATE; RSTESTCD OVRLRESP). Later interop work adds DM/EX/AE.

Partial ISO 8601 dates (``2014-02``, ``2014``) are imputed, never dropped: to the first day of
the month/year (``date_imputation="first"``, the ``admiral::derive_vars_dt`` default and what
``pharmaverseadam`` ADTR does) or to the last (``"last"``, what ADRS does). Every imputation is
listed in :attr:`SdtmTumourConversion.imputed_dates`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sirtstats._checks import require_columns
from sirtstats.schema import apply_dtypes

__all__ = [
    "SDTM_RESPONSE_MAP",
    "SdtmTumourConversion",
    "compute_imputed_date",
    "convert_sdtm_tumour",
    "load_sdtm_domain",
]

#: SDTM response codes (RSSTRESC, TRGRESP/NTRGRESP/OVRLRESP) -> sirtstats codes.
SDTM_RESPONSE_MAP: dict[str, str] = {
    "CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE",
    "NON-CR/NON-PD": "NON_CR_NON_PD", "NON-CR/NON-PD (IR/SD)": "NON_CR_NON_PD",
    "IR/SD": "NON_CR_NON_PD", "NOT EVALUABLE": "NE", "NOT ALL EVALUATED": "NE",
}

#: TR TUMSTATE (non-target lesion state) -> lesion_measurements.nontarget_status.
NONTARGET_STATE_MAP: dict[str, str] = {
    "PRESENT": "NON_CR_NON_PD", "ABSENT": "CR", "UNEQUIVOCAL": "PD",
    "UNEQUIVOCAL PROGRESSION": "PD", "EQUIVOCAL": "NON_CR_NON_PD", "NOT EVALUABLE": "NE",
}

#: TR TUMSTATE of NEW lesions -> imaging_assessments.new_lesion.
NEW_STATE_MAP: dict[str, str] = {"UNEQUIVOCAL": "YES", "EQUIVOCAL": "EQUIVOCAL",
                                 "PRESENT": "YES", "ABSENT": "NO"}

#: TU.TULOC substrings -> lesions.organ (first match wins; otherwise "other").
ORGAN_MAP: tuple[tuple[str, str], ...] = (
    ("LYMPH NODE", "lymph_node"), ("LIVER", "liver"), ("HEPAT", "liver"), ("LUNG", "lung"),
    ("BONE", "bone"), ("ADRENAL", "adrenal"), ("PERITON", "peritoneum"),
)

#: TU/TR method -> imaging_assessments.modality.
MODALITY_MAP: tuple[tuple[str, str], ...] = (("PET", "PET_CT"), ("MRI", "MRI"),
                                             ("MAGNETIC", "MRI"), ("CT", "CT"))

_FN = "convert_sdtm_tumour"


@dataclass(frozen=True)
class SdtmTumourConversion:
    """Registry tables converted from SDTM TU/TR/RS, with the imputations and problems.

    Attributes
    ----------
    tables : dict of str to DataFrame
        ``lesions``, ``lesion_measurements``, ``imaging_assessments`` typed with
        :func:`sirtstats.schema.apply_dtypes`.
    imputed_dates : DataFrame
        One row per partial date imputed: ``patient_id``, ``domain``, ``visitnum``,
        ``original``, ``imputed_date``, ``rule``.
    problems : DataFrame
        Records that could not be converted as is: ``patient_id``, ``domain``, ``visitnum``,
        ``problem``.
    """

    tables: dict[str, pd.DataFrame]
    imputed_dates: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    def to_frame(self) -> pd.DataFrame:
        """Row counts per converted table."""
        return pd.DataFrame({"table": list(self.tables),
                             "rows": [len(t) for t in self.tables.values()]})

    def _repr_html_(self) -> str:
        return (f"<b>SDTM tumour conversion</b>: {html.escape(str(self.to_frame().to_dict()))}; "
                f"{len(self.imputed_dates)} imputed dates, {len(self.problems)} problems")


def load_sdtm_domain(path) -> pd.DataFrame:
    """Read an SDTM domain exported as CSV with every column as text.

    Empty fields become missing; the literal string ``NA`` is kept (it is a valid value in
    some CDISC variables).

    Parameters
    ----------
    path : str or Path
        CSV file.

    Returns
    -------
    DataFrame
        All columns ``object`` (str or NaN).
    """
    return pd.read_csv(Path(path), dtype=str, keep_default_na=False, na_values=[""])


def compute_imputed_date(
    dtc: pd.Series, *, imputation: Literal["first", "last"] = "first"
) -> tuple[pd.Series, pd.Series]:
    """Dates from ISO 8601 ``--DTC`` text, imputing missing day/month.

    Parameters
    ----------
    dtc : Series of str
        ISO 8601 date or datetime text (``2014-02-12``, ``2014-02``, ``2014``,
        ``2014-07-02T11:45``); missing allowed.
    imputation : {"first", "last"}, default "first"
        Missing day -> first/last day of the month; missing month -> January 1 / December 31.

    Returns
    -------
    dates : Series of datetime64[ns]
        The (imputed) dates, time of day dropped; NaT where ``dtc`` is missing or invalid.
    flag : Series of str
        ``"D"`` (day imputed), ``"M"`` (month and day imputed), or None (ADaM ``--DTF``).

    Examples
    --------
    >>> import pandas as pd
    >>> d, f = compute_imputed_date(pd.Series(["2014-02", "2014-02-12T10:00"]), imputation="last")
    >>> d.dt.strftime("%Y-%m-%d").tolist(), f.tolist()
    (['2014-02-28', '2014-02-12'], ['D', None])
    """
    if imputation not in ("first", "last"):
        raise ValueError("The 'imputation' argument of compute_imputed_date must be one of "
                         f"{{'first', 'last'}}. Got {imputation!r} instead.")
    text = dtc.astype(object).where(dtc.notna(), None)
    date_part = text.map(lambda s: s.strip().split("T")[0] if isinstance(s, str) else None)
    n_parts = date_part.map(lambda s: len(s.split("-")) if s else 0)
    full = pd.to_datetime(date_part.where(n_parts == 3), errors="coerce", format="%Y-%m-%d")
    month = pd.to_datetime(date_part.where(n_parts == 2), errors="coerce", format="%Y-%m")
    year = pd.to_datetime(date_part.where(n_parts == 1), errors="coerce", format="%Y")
    if imputation == "last":
        month = month + pd.offsets.MonthEnd(0)
        year = year + pd.offsets.YearEnd(0)
    out = full.fillna(month).fillna(year).astype("datetime64[ns]")
    flag = pd.Series(np.select([month.notna().to_numpy(), year.notna().to_numpy()], ["D", "M"],
                               default=None), index=dtc.index, dtype=object)
    return out, flag


def _map_contains(values: pd.Series, table, default):
    up = values.fillna("").astype(str).str.upper()
    out = pd.Series(default, index=values.index, dtype=object)
    done = pd.Series(False, index=values.index)
    for key, val in table:
        hit = up.str.contains(key, regex=False) & ~done
        out[hit] = val
        done |= hit
    return out


def _filter_reader(df, prefix, evaluator, evaluator_id):
    ev = df.get(f"{prefix}EVAL")
    out = df
    if ev is not None and evaluator is not None:
        out = out.loc[ev.fillna("").str.upper() == evaluator.upper()]
    evid = out.get(f"{prefix}EVALID")
    if evid is not None:
        if evaluator_id is None:
            ids = evid.dropna().unique()
            if len(ids) > 1:
                raise ValueError(
                    f"{prefix}: several readers ({sorted(ids)}) for evaluator {evaluator!r}; "
                    f"choose one with the 'evaluator_id' argument of {_FN}.")
        else:
            out = out.loc[evid.fillna("").str.upper() == evaluator_id.upper()]
    return out


def convert_sdtm_tumour(
    df_tu: pd.DataFrame,
    df_tr: pd.DataFrame,
    df_rs: pd.DataFrame | None = None,
    *,
    evaluator: str | None = "INVESTIGATOR",
    evaluator_id: str | None = None,
    criterion: Literal["RECIST_1_1", "mRECIST"] = "RECIST_1_1",
    date_imputation: Literal["first", "last"] = "first",
) -> SdtmTumourConversion:
    """Convert one reader's SDTM TU/TR/RS records into registry tumour tables.

    Parameters
    ----------
    df_tu : DataFrame
        TU with ``USUBJID``, ``TULNKID``, ``TUSTRESC`` (TARGET, NON-TARGET, NEW), ``TULOC``
        (``LYMPH NODE`` marks a node), ``VISITNUM``; optional ``TUEVAL``, ``TUEVALID``,
        ``TUMETHOD``.
    df_tr : DataFrame
        TR with ``USUBJID``, ``TRLNKID``, ``TRTESTCD`` (LDIAM, LPERP, DIAMETER, TUMSTATE;
        others ignored), ``TRSTRESC``, ``TRSTRESN`` (mm), ``VISITNUM``, ``TRDTC``; optional
        ``TRGRPID``, ``TRSTAT`` (NOT DONE), ``TREVAL``, ``TREVALID``, ``TRMETHOD``.
    df_rs : DataFrame, optional
        RS; ``RSTESTCD = OVRLRESP`` rows become ``reported_overall_response``.
    evaluator : str or None, default "INVESTIGATOR"
        ``--EVAL`` to keep (case-insensitive); None keeps all rows.
    evaluator_id : str, optional
        ``--EVALID`` to keep (e.g. "RADIOLOGIST 1"); required when several readers share the
        evaluator.
    criterion : {"RECIST_1_1", "mRECIST"}, default "RECIST_1_1"
        Criterion written into the measurement and assessment rows (the lesion roles go to
        the matching role column; the other is "none").
    date_imputation : {"first", "last"}, default "first"
        Imputation of partial dates (see module docstring).

    Returns
    -------
    SdtmTumourConversion
        ``tables`` (``lesions``, ``lesion_measurements``, ``imaging_assessments``), the
        imputed dates and the problems.

    Raises
    ------
    SirtDataError
        Missing required SDTM columns.
    ValueError
        Several readers without ``evaluator_id``; invalid options.

    Notes
    -----
    * Lesions: one per USUBJID x TULNKID with TUSTRESC TARGET/NON-TARGET (NEW lesions go to
      the assessments); ``lesion_id = USUBJID/TULNKID``; organ from TULOC; ``is_nodal`` when
      TULOC is LYMPH NODE; ``baseline_date`` = date of the TU visit.
    * Target values (RECIST 1.1 R1.2.3): LPERP (short axis) for nodes, LDIAM otherwise;
      DIAMETER when those tests are absent. 0 mm -> ``disappeared``; TRSTAT NOT DONE ->
      ``not_assessed``; a lesion with no row at a visit stays not assessed (no row).
    * Non-target TUMSTATE: PRESENT -> NON_CR_NON_PD, ABSENT -> CR, UNEQUIVOCAL -> PD, NOT DONE
      -> NE. Exact duplicate records are dropped.
    * A visit's date is the earliest (imputed) date of its records (R5.3.11); visits whose
      records carry different dates are listed in ``problems``.
    * NEW lesions: UNEQUIVOCAL -> ``YES``, EQUIVOCAL -> ``EQUIVOCAL``, none -> ``NO``.
    * ``in_treated_territory`` is False (SDTM has no SIRT territory); modality from
      ``--METHOD`` (CT when absent).

    References
    ----------
    CDISC SDTMIG v3.3, Oncology domains TU/TR/RS; RECIST 1.1 (Eisenhauer et al., 2009).
    """
    if criterion not in ("RECIST_1_1", "mRECIST"):
        raise ValueError(f"The 'criterion' argument of {_FN} must be one of "
                         f"{{'RECIST_1_1', 'mRECIST'}}. Got {criterion!r} instead.")
    _require_sdtm(df_tu, ["USUBJID", "TULNKID", "TUSTRESC", "VISITNUM"], "TU")
    _require_sdtm(df_tr, ["USUBJID", "TRLNKID", "TRTESTCD", "TRSTRESC", "TRSTRESN", "VISITNUM",
                     "TRDTC"], "TR")
    problems: list[dict] = []
    imputed: list[pd.DataFrame] = []
    tu, tr, rs = _reader_domains(df_tu, df_tr, df_rs, evaluator, evaluator_id)
    visit_date = _visit_dates(tr, rs, date_imputation, imputed, problems)
    role_col = "recist_role" if criterion == "RECIST_1_1" else "mrecist_role"
    lesions = _sdtm_lesions(tu, visit_date, criterion, role_col, problems)
    meas = _sdtm_measurements(tr, lesions, visit_date, criterion, role_col, problems)
    tr_reader = _filter_reader(df_tr, "TR", evaluator, evaluator_id)
    assessments = _sdtm_assessments(tu, tr_reader, rs, lesions, visit_date, criterion, problems)
    meas = meas.dropna(subset=["assessment_date"]).reset_index(drop=True)

    tables = {
        "lesions": apply_dtypes(lesions.reset_index(drop=True), "lesions"),
        "lesion_measurements": apply_dtypes(meas, "lesion_measurements"),
        "imaging_assessments": apply_dtypes(assessments, "imaging_assessments"),
    }
    imp = (pd.concat(imputed, ignore_index=True) if imputed else pd.DataFrame(
        columns=["patient_id", "domain", "visitnum", "original", "imputed_date", "rule"]))
    prob = pd.DataFrame(problems, columns=["patient_id", "domain", "visitnum", "problem"])
    return SdtmTumourConversion(tables=tables, imputed_dates=imp, problems=prob)


def _reader_domains(df_tu, df_tr, df_rs, evaluator, evaluator_id):
    """One reader's TU, TR and RS (OVRLRESP rows; None without RS), VISITNUM numeric."""
    tu = _filter_reader(df_tu, "TU", evaluator, evaluator_id).copy()
    tr = _filter_reader(df_tr, "TR", evaluator, evaluator_id).copy()
    rs = None
    if df_rs is not None:
        _require_sdtm(df_rs, ["USUBJID", "RSTESTCD", "RSSTRESC", "VISITNUM", "RSDTC"], "RS")
        rs = _filter_reader(df_rs, "RS", evaluator, evaluator_id)
        rs = rs.loc[rs["RSTESTCD"] == "OVRLRESP"].copy()
    for df in (tu, tr) + ((rs,) if rs is not None else ()):
        df["VISITNUM"] = pd.to_numeric(df["VISITNUM"], errors="coerce")
    return tu, tr, rs


def _impute_dates(df, col, domain, date_imputation, imputed):
    """Imputed dates of ``df[col]``; the imputed rows are appended to ``imputed``."""
    dates, flag = compute_imputed_date(df[col], imputation=date_imputation)
    hit = flag.notna()
    if hit.any():
        imputed.append(pd.DataFrame({
            "patient_id": df.loc[hit, "USUBJID"].to_numpy(), "domain": domain,
            "visitnum": df.loc[hit, "VISITNUM"].to_numpy(),
            "original": df.loc[hit, col].to_numpy(), "imputed_date": dates[hit].to_numpy(),
            "rule": np.where(flag[hit] == "D", f"day imputed ({date_imputation})",
                             f"month and day imputed ({date_imputation})")}))
    return dates


def _visit_dates(tr, rs, date_imputation, imputed, problems) -> pd.Series:
    """Earliest record date per (USUBJID, VISITNUM), TR then RS; adds ``date`` to tr and rs."""
    tr["date"] = _impute_dates(tr, "TRDTC", "TR", date_imputation, imputed)
    vd = tr.groupby(["USUBJID", "VISITNUM"])["date"].agg(["min", "max"])
    split = vd.loc[vd["min"] != vd["max"]]
    for (sid, vn), row in split.iterrows():
        problems.append({"patient_id": sid, "domain": "TR", "visitnum": vn,
                         "problem": f"visit spread over {row['min'].date()} to "
                                    f"{row['max'].date()}; earliest date used"})
    visit_date = vd["min"]
    if rs is not None:
        rs["date"] = _impute_dates(rs, "RSDTC", "RS", date_imputation, imputed)
        rs_vd = rs.groupby(["USUBJID", "VISITNUM"])["date"].min()
        visit_date = visit_date.combine_first(rs_vd)
    return visit_date


def _sdtm_lesions(tu, visit_date, criterion, role_col, problems) -> pd.DataFrame:
    """Target and non-target lesions of TU dated by their baseline visit."""
    tu_l = tu.loc[tu["TUSTRESC"].isin(["TARGET", "NON-TARGET"])]
    tu_l = tu_l.drop_duplicates(["USUBJID", "TULNKID"])
    loc = tu_l["TULOC"] if "TULOC" in tu_l else pd.Series(None, index=tu_l.index)
    base_key = pd.MultiIndex.from_frame(tu_l[["USUBJID", "VISITNUM"]])
    bdate = visit_date.reindex(base_key).to_numpy()
    roles = np.where(tu_l["TUSTRESC"] == "TARGET", "target", "non_target")
    other = "mrecist_role" if criterion == "RECIST_1_1" else "recist_role"
    lesions = pd.DataFrame({
        "lesion_id": (tu_l["USUBJID"] + "/" + tu_l["TULNKID"]).to_numpy(),
        "patient_id": tu_l["USUBJID"].to_numpy(),
        "baseline_date": bdate,
        "organ": _map_contains(loc, ORGAN_MAP, "other").to_numpy(),
        "is_nodal": (loc.fillna("").str.upper() == "LYMPH NODE").to_numpy(),
        role_col: roles, other: "none",
        "is_arterially_enhancing": None,
        "in_treated_territory": False,
    })
    no_base = lesions["baseline_date"].isna()
    for sid in lesions.loc[no_base, "patient_id"].unique():
        problems.append({"patient_id": sid, "domain": "TU", "visitnum": np.nan,
                         "problem": "lesion identified at a visit without a dated TR record"})
    return lesions.loc[~no_base]


def _sdtm_measurements(tr, lesions, visit_date, criterion, role_col, problems) -> pd.DataFrame:
    """Target diameters and non-target states of the lesions, the worst kept per date."""
    tr["lesion_id"] = tr["USUBJID"] + "/" + tr["TRLNKID"]
    tr = tr.loc[tr["lesion_id"].isin(lesions["lesion_id"])]
    tr = tr.drop_duplicates(["lesion_id", "VISITNUM", "TRTESTCD", "TRSTRESC", "TRSTRESN"])
    tr["vdate"] = visit_date.reindex(pd.MultiIndex.from_frame(tr[["USUBJID", "VISITNUM"]])
                                     ).to_numpy()
    role = tr["lesion_id"].map(lesions.set_index("lesion_id")[role_col])
    not_done = (tr["TRSTAT"].fillna("").str.upper() == "NOT DONE") if "TRSTAT" in tr else (
        pd.Series(False, index=tr.index))
    tmeas = _target_measurements(tr, lesions, role, not_done, criterion)
    ntr = tr.loc[(role == "non_target") & (tr["TRTESTCD"] == "TUMSTATE")]
    status = ntr["TRSTRESC"].fillna("").str.upper().map(NONTARGET_STATE_MAP)
    status = status.where(~not_done[ntr.index], "NE")
    unknown = status.isna()
    for r in ntr.loc[unknown].itertuples():
        problems.append({"patient_id": r.USUBJID, "domain": "TR", "visitnum": r.VISITNUM,
                         "problem": f"non-target state {r.TRSTRESC!r} not recognised; NE used"})
    nmeas = pd.DataFrame({"lesion_id": ntr["lesion_id"].to_numpy(),
                          "assessment_date": ntr["vdate"].to_numpy(), "criterion": criterion,
                          "fragment": 1, "state": None, "diameter_mm": np.nan,
                          "is_enhancing": None,
                          "nontarget_status": status.fillna("NE").to_numpy()})
    meas = pd.concat([tmeas, nmeas], ignore_index=True)
    dup = meas.duplicated(["lesion_id", "assessment_date"], keep=False)
    if not dup.any():
        return meas
    for lid in meas.loc[dup, "lesion_id"].unique():
        problems.append({"patient_id": lid.split("/")[0], "domain": "TR",
                         "visitnum": np.nan,
                         "problem": f"lesion {lid}: conflicting records on one date; the "
                                    f"worst kept"})
    sev = meas["nontarget_status"].map({"CR": 0, "NON_CR_NON_PD": 1, "NE": 2, "PD": 3})
    return meas.assign(_s=sev.fillna(-1), _d=meas["diameter_mm"].fillna(-1)).sort_values(
        ["_s", "_d"]).drop_duplicates(["lesion_id", "assessment_date"], keep="last").drop(
        columns=["_s", "_d"]).sort_index()


def _target_measurements(tr, lesions, role, not_done, criterion) -> pd.DataFrame:
    """Target lesion rows: LPERP for nodes, LDIAM otherwise, DIAMETER when neither exists."""
    nodal = tr["lesion_id"].map(lesions.set_index("lesion_id")["is_nodal"]).astype(bool)
    tests = set(tr.loc[role == "target", "TRTESTCD"])
    has_ld = {"LDIAM", "LPERP"} <= tests or "LDIAM" in tests
    want = np.where(nodal, "LPERP", "LDIAM") if has_ld else np.full(len(tr), "DIAMETER")
    tgt = tr.loc[(role == "target") & (tr["TRTESTCD"].to_numpy() == want)]
    val = pd.to_numeric(tgt["TRSTRESN"], errors="coerce")
    nd_t = not_done[tgt.index]
    state = np.where(nd_t | val.isna(), "not_assessed", np.where(val == 0, "disappeared",
                                                                 "measured"))
    return pd.DataFrame({"lesion_id": tgt["lesion_id"].to_numpy(),
                         "assessment_date": tgt["vdate"].to_numpy(), "criterion": criterion,
                         "fragment": 1, "state": state,
                         "diameter_mm": np.where(state == "measured", val, np.where(
                             state == "disappeared", 0.0, np.nan)),
                         "is_enhancing": None, "nontarget_status": None})


def _sdtm_assessments(tu, tr_reader, rs, lesions, visit_date, criterion,
                      problems) -> pd.DataFrame:
    """One imaging assessment per dated visit: new lesions, modality, reported response."""
    visits = visit_date.reset_index().rename(columns={"min": "date", 0: "date"})
    visits.columns = ["USUBJID", "VISITNUM", "date"]
    visits = visits.loc[visits["USUBJID"].isin(lesions["patient_id"]) | (
        visits["USUBJID"].isin(rs["USUBJID"]) if rs is not None else False)]
    grp = tr_reader["TRGRPID"] if "TRGRPID" in tr_reader else pd.Series(None,
                                                                          index=tr_reader.index)
    new = tr_reader.loc[(grp == "NEW") & (tr_reader["TRTESTCD"] == "TUMSTATE")].copy()
    new["VISITNUM"] = pd.to_numeric(new["VISITNUM"], errors="coerce")
    new["r"] = new["TRSTRESC"].fillna("").str.upper().map(NEW_STATE_MAP).map(
        {"NO": 0, "EQUIVOCAL": 1, "YES": 2})
    new_v = new.groupby(["USUBJID", "VISITNUM"])["r"].max()
    vkey = pd.MultiIndex.from_frame(visits[["USUBJID", "VISITNUM"]])
    new_code = new_v.reindex(vkey).map({0: "NO", 1: "EQUIVOCAL", 2: "YES"}).fillna("NO")
    modality = _visit_modality(tu, tr_reader, visits, vkey, problems)
    reported = pd.Series(None, index=range(len(visits)), dtype=object)
    if rs is not None:
        reported = _reported_responses(rs, vkey, problems)
    assessments = pd.DataFrame({
        "patient_id": visits["USUBJID"].to_numpy(), "assessment_date": visits["date"].to_numpy(),
        "criterion": criterion, "modality": modality.to_numpy(),
        "new_lesion": new_code.to_numpy(), "reported_overall_response": reported.to_numpy(),
    })
    dupa = assessments.duplicated(["patient_id", "assessment_date"], keep=False)
    if dupa.any():
        for sid in assessments.loc[dupa, "patient_id"].unique():
            problems.append({"patient_id": sid, "domain": "TR", "visitnum": np.nan,
                             "problem": "two visits share one date; merged (worst response)"})
        rank = assessments["reported_overall_response"].map(
            {"NE": 0, "CR": 1, "PR": 2, "SD": 3, "NON_CR_NON_PD": 4, "PD": 5}).fillna(-1)
        nrank = assessments["new_lesion"].map({"NO": 0, "EQUIVOCAL": 1, "YES": 2})
        assessments = assessments.assign(_r=rank, _n=nrank).sort_values(["_n", "_r"])
        assessments = assessments.drop_duplicates(["patient_id", "assessment_date"],
                                                  keep="last").drop(columns=["_r", "_n"])
    return assessments.dropna(subset=["assessment_date"]).sort_values(
        ["patient_id", "assessment_date"]).reset_index(drop=True)


def _visit_modality(tu, tr_reader, visits, vkey, problems) -> pd.Series:
    """The visit's TRMETHOD, else the subject's TUMETHOD, else CT (listed in problems)."""
    vis_m = pd.Series(None, index=vkey, dtype=object)
    if "TRMETHOD" in tr_reader:
        src = tr_reader.assign(VISITNUM=pd.to_numeric(tr_reader["VISITNUM"], errors="coerce"))
        vis_m = src.dropna(subset=["TRMETHOD"]).groupby(["USUBJID", "VISITNUM"])[
            "TRMETHOD"].first().reindex(vkey)
    if "TUMETHOD" in tu:
        subj_m = tu.dropna(subset=["TUMETHOD"]).groupby("USUBJID")["TUMETHOD"].agg(
            lambda x: x.mode().iloc[0])
        vis_m = pd.Series(vis_m.to_numpy(), index=vkey).fillna(
            pd.Series(visits["USUBJID"].map(subj_m).to_numpy(), index=vkey))
    vis_m = pd.Series(vis_m.to_numpy(), dtype=object)
    for sid in visits.loc[vis_m.isna().to_numpy(), "USUBJID"].unique():
        problems.append({"patient_id": sid, "domain": "TU", "visitnum": np.nan,
                         "problem": "imaging method not recorded; CT assumed"})
    return _map_contains(vis_m, MODALITY_MAP, "CT")


def _reported_responses(rs, vkey, problems) -> pd.Series:
    """Last recognised OVRLRESP per visit of ``vkey`` (unrecognised ones listed)."""
    code = rs["RSSTRESC"].fillna("").str.upper().map(SDTM_RESPONSE_MAP)
    for r in rs.loc[code.isna() & rs["RSSTRESC"].notna()].itertuples():
        problems.append({"patient_id": r.USUBJID, "domain": "RS", "visitnum": r.VISITNUM,
                         "problem": f"overall response {r.RSSTRESC!r} not recognised"})
    rsv = rs.assign(code=code).dropna(subset=["code"]).groupby(["USUBJID", "VISITNUM"])[
        "code"].last()
    return rsv.reindex(vkey).reset_index(drop=True)

def _require_sdtm(df, cols, domain):
    require_columns(df, cols, domain, _FN)
