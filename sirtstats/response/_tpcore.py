"""Array kernels of the timepoint engine (:mod:`sirtstats.response.timepoint`), issue #17.

Every step works on whole-cohort numpy arrays sorted by integer keys: no per-patient Python
loop, no pandas groupby on the hot path. The rules are those of R1.3-R1.8 and R2.2
(docs/rules/response.md; RECIST 1.1, Eisenhauer et al., Eur J Cancer 2009;45:228-247, sections
4.3-4.4; mRECIST, Lencioni & Llovet, Semin Liver Dis 2010;30:52-60) exactly as the engine
states them; this module only computes them faster. Inputs that need the slow checks of
``timepoint._prepare`` (non-datetime or non-midnight dates, invalid codes, duplicated keys)
make :func:`measurement_arrays` return None so that the caller takes the validating path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.response._common import (
    NODE_NORMAL_BELOW_MM,
    NONTARGET_SEVERITY,
    RESPONSE_CODES,
    STATES,
    TOO_SMALL_MM,
    as_bool,
    code_of,
    exact_scale,
    to_exact,
)
from sirtstats.response.classify import compute_overall_response

DAY_KEY = 100_000  # key = code * DAY_KEY + day number (same as timepoint._DAY_KEY)
DAY0 = int(np.datetime64("1900-01-01", "D").astype(np.int64))
_DAY_NS = 86_400_000_000_000
NT_ORDER = tuple(sorted(NONTARGET_SEVERITY, key=NONTARGET_SEVERITY.get))
NE_SEV = NONTARGET_SEVERITY["NE"]
#: Target response codes: position in this table (0 = no target disease).
TR_NAMES = np.array([None, "CR", "PR", "SD", "PD", "NE"], dtype=object)
NT_NAMES = np.array([*NT_ORDER, None], dtype=object)  # index -1 = no non-target disease
_MEASURED, _TOO_SMALL, _DISAPPEARED, _MERGED, _NOT_ASSESSED = (
    STATES.index(s) for s in ("measured", "too_small", "disappeared", "merged",
                              "not_assessed"))
_BOOL_LIKE = (True, False, None)


def frame(columns: dict) -> pd.DataFrame:
    """DataFrame over freshly computed arrays without copying them (no block consolidation)."""
    return pd.DataFrame(columns, copy=False)


def _fast_bool(values: np.ndarray) -> np.ndarray:
    """``as_bool`` for an object column of True/False/None/NaN (else the pandas path)."""
    if values.dtype == bool:
        return values
    uniq = pd.unique(values)
    if all(u is None or isinstance(u, bool | np.bool_) or (isinstance(u, float) and u != u)
           for u in uniq):
        return np.asarray(values == True, dtype=bool)  # noqa: E712 (element-wise)
    return as_bool(pd.Series(values))


def option_codes(values: np.ndarray, options: list) -> np.ndarray:
    """``code_of`` with a fast first pass for the value of the first row (usually the
    commonest: ``measured``, or None in a column that only non-targets fill)."""
    if len(values) < 1000 or not (values[0] is None or isinstance(values[0], str)):
        return code_of(values, options)
    v0 = values[0]
    if v0 is not None and v0 not in options:
        return code_of(values, options)
    hit = np.equal(values, None) if v0 is None else np.asarray(values == v0, dtype=bool)
    out = np.full(len(values), -1 if v0 is None else options.index(v0), dtype=np.int64)
    rest = np.flatnonzero(~hit)
    if len(rest):
        out[rest] = code_of(values[rest], options)
    return out


def index_codes(index: pd.Index, ids: pd.Series) -> np.ndarray:
    """Position of each row's id in the Index ``index`` (-1 absent), looking up each run
    of equal consecutive ids once (measurement rows come grouped by lesion, timepoint rows by
    patient)."""
    arr = ids.to_numpy(dtype=object)
    if len(arr) < 1000:
        return index.get_indexer(arr)
    start = np.empty(len(arr), dtype=bool)
    start[0] = True
    start[1:] = arr[1:] != arr[:-1]
    first = np.flatnonzero(start)
    if len(first) * 2 > len(arr):  # not grouped: one lookup per row
        return index.get_indexer(arr)
    return np.repeat(index.get_indexer(arr[first]), np.diff(np.append(first, len(arr))))


def patient_codes(les_pid: np.ndarray, ass_pid: np.ndarray):
    """Patient codes in order of first appearance (lesions, then assessments), as
    ``pd.factorize`` of both; each run of equal consecutive assessment ids is hashed once."""
    first = np.arange(len(ass_pid))
    if len(ass_pid) >= 1000:
        start = np.empty(len(ass_pid), dtype=bool)
        start[0] = True
        start[1:] = ass_pid[1:] != ass_pid[:-1]
        if start.sum() * 2 <= len(ass_pid):
            first = np.flatnonzero(start)
    codes, uniq = pd.factorize(pd.Series(np.concatenate([les_pid, ass_pid[first]]),
                                         dtype=object))
    n = len(les_pid)
    ass_codes = np.repeat(codes[n:], np.diff(np.append(first, len(ass_pid))))
    return codes[:n], ass_codes, uniq


def _selected(df: pd.DataFrame, sel: np.ndarray, every: bool):
    def col(name, dtype=None):
        a = df[name].to_numpy(dtype=dtype)
        return a if every else a[sel]
    return col


def _whole_days(dates: np.ndarray) -> np.ndarray | None:
    """Day numbers from 1900-01-01 of datetime64[ns] midnights in range, else None."""
    ints = dates.view(np.int64)
    if np.isnat(dates).any() or (ints % _DAY_NS).any():
        return None
    day = ints // _DAY_NS - DAY0
    if len(day) and (day.min() < 0 or day.max() >= DAY_KEY):
        return None
    return day


def measurement_arrays(df_m: pd.DataFrame, lesion_ids: pd.Index, criterion: str):
    """The criterion's measurement rows as arrays sorted by (lesion, day, fragment), or None.

    None means "use the validating path" (``timepoint._prepare``): dates that are not
    datetime64[ns] midnights, unknown codes, negative diameters or duplicated keys.
    """
    code = index_codes(lesion_ids, df_m["lesion_id"])
    sel = (df_m["criterion"].to_numpy(dtype=object) == criterion) & (code >= 0)
    every = bool(sel.all())
    col = _selected(df_m, sel, every)
    if df_m["assessment_date"].dtype != "datetime64[ns]":
        return None
    day = _whole_days(col("assessment_date"))
    if day is None:
        return None
    code = code if every else code[sel]
    state = option_codes(col("state", object), list(STATES))
    nt = option_codes(col("nontarget_status", object), list(NT_ORDER))
    diam = col("diameter_mm", float)
    if (state == -2).any() or (nt == -2).any() or (~np.isnan(diam) & ~(diam >= 0)).any():
        return None
    if pd.api.types.is_integer_dtype(df_m["fragment"].dtype):
        frag = col("fragment").astype(np.int64)
    else:
        frag = pd.to_numeric(pd.Series(col("fragment", object)), errors="coerce").fillna(
            0).to_numpy(np.int64)
    key = code.astype(np.int64) * DAY_KEY + day
    fkey = key * 64 + frag % 64
    order = None
    if len(fkey) > 1 and not (fkey[1:] > fkey[:-1]).all():
        order = np.argsort(fkey, kind="stable")
        s = fkey[order]
        if (s[1:] == s[:-1]).any():
            return None  # duplicated keys: the validating path raises
    enh = (_fast_bool(col("is_enhancing", object)) if "is_enhancing" in df_m.columns
           else np.zeros(len(key), dtype=bool))
    return {"key": key, "state": state, "nt": nt, "diam": diam, "enh": enh, "order": order}


def measurement_arrays_from_frame(meas: pd.DataFrame) -> dict:
    """Same arrays from the validated frame of ``timepoint._prepare`` (slow path)."""
    key = meas["code"].to_numpy(np.int64) * DAY_KEY + meas["day"].to_numpy(np.int64)
    enh = (as_bool(meas["is_enhancing"]) if "is_enhancing" in meas.columns
           else np.zeros(len(meas), dtype=bool))
    return {"key": key, "state": meas["state_code"].to_numpy(),
            "nt": meas["nt_code"].to_numpy(), "diam": meas["diameter_mm"].to_numpy(float),
            "enh": enh, "order": np.argsort(key, kind="stable")}


def lesion_date_arrays(m: dict):
    """One entry per (lesion, day): exact value (fragments summed, R1.3), flags, severity.

    Returns a dict of arrays sorted by ``key`` (``vint`` exact integer value, ``na`` not
    assessed, ``enh`` enhancing, ``merged``, ``nt_sev`` worst non-target severity, ``code``,
    ``day``) and the exact scale (integer units per mm, R0).
    """
    st, diam = m["state"], m["diam"]
    measured = (st == _MEASURED) | ((st == -1) & ~np.isnan(diam))
    zero = (st == _DISAPPEARED) | (st == _MERGED)
    vals = np.select([measured, st == _TOO_SMALL, zero], [diam, float(TOO_SMALL_MM), 0.0],
                     default=np.nan)
    scale = exact_scale(np.concatenate([vals, [float(TOO_SMALL_MM),
                                               float(NODE_NORMAL_BELOW_MM)]]))
    na = np.isnan(vals)
    ints, _ = to_exact(np.where(na, 0.0, vals), scale)
    nt_sev = m["nt"].copy()
    nt_sev[(nt_sev < 0) | (st == _NOT_ASSESSED)] = NE_SEV
    cols = {"key": m["key"], "vint": ints, "na": na, "enh": m["enh"], "merged": st == _MERGED,
            "nt_sev": nt_sev}
    if m["order"] is not None:
        cols = {k: v[m["order"]] for k, v in cols.items()}
    key = cols["key"]
    if len(key) > 1 and (key[1:] == key[:-1]).any():  # split lesions: reduce the fragments
        start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        cols = {"key": key[start], "vint": np.add.reduceat(cols["vint"], start),
                "na": np.logical_or.reduceat(cols["na"], start),
                "enh": np.logical_or.reduceat(cols["enh"], start),
                "merged": np.logical_or.reduceat(cols["merged"], start),
                "nt_sev": np.maximum.reduceat(cols["nt_sev"], start)}
    cols["code"] = cols["key"] // DAY_KEY
    cols["day"] = cols["key"] % DAY_KEY
    return cols, scale


def build_timepoints(les_pcode, les_bday, ld, ass_pcode, ass_day, n_p: int) -> dict:
    """Patients x dates from baseline on (sorted by patient and day), with the baseline flag."""
    base = np.full(n_p, -1, dtype=np.int64)
    np.maximum.at(base, les_pcode, les_bday)
    no_les = base < 0
    if no_les.any() and len(ass_pcode):  # patients with assessments only: first assessment
        first = np.full(n_p, np.iinfo(np.int64).max)
        np.minimum.at(first, ass_pcode, ass_day)
        base = np.where(no_les, first, base)
    has = base >= 0
    n_ld, n_ass = len(ld["code"]), len(ass_pcode)
    every = np.concatenate([les_pcode[ld["code"]] * DAY_KEY + ld["day"],
                            ass_pcode.astype(np.int64) * DAY_KEY + ass_day,
                            np.flatnonzero(has) * DAY_KEY + base[has]])
    # stable argsort (runs of sorted days: fast) gives the keys and each entry's timepoint
    order = np.argsort(every, kind="stable")
    s = every[order]
    first = np.ones(len(s), dtype=bool)
    if len(s) > 1:
        np.not_equal(s[1:], s[:-1], out=first[1:])
    keys = s[first]
    pcode = keys // DAY_KEY
    day = keys % DAY_KEY
    keep = day >= base[pcode]
    new_pos = np.where(keep, np.cumsum(keep) - 1, -1)
    of_entry = np.empty(len(s), dtype=np.int64)
    of_entry[order] = new_pos[np.cumsum(first) - 1]
    pcode, day, keys = pcode[keep], day[keep], keys[keep]
    return {"pcode": pcode, "day": day, "key": keys, "is_baseline": day == base[pcode],
            "ld_tp": of_entry[:n_ld], "ass_tp": of_entry[n_ld:n_ld + n_ass]}


def take(column: pd.Series, rows: np.ndarray):
    """Rows of a column with its dtype (numpy-backed columns as plain arrays)."""
    arr = column.array.take(rows)
    return arr.to_numpy() if isinstance(arr, pd.arrays.NumpyExtensionArray) else arr


def lookup(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each query in the sorted ``keys``, -1 when absent."""
    if not len(keys):
        return np.full(len(query), -1, dtype=np.int64)
    pos = np.searchsorted(keys, query)
    pos_c = np.minimum(pos, len(keys) - 1)
    return np.where((pos < len(keys)) & (keys[pos_c] == query), pos_c, -1)


def _rows_at_timepoints(tp, ld, lesion_mask):
    """ld rows of the lesions in ``lesion_mask`` that fall on a timepoint: (rows, timepoint)."""
    rows = np.flatnonzero(lesion_mask[ld["code"]])
    tpi = tp["ld_tp"][rows]
    hit = tpi >= 0
    return rows[hit], tpi[hit]


def _group_sum(values, groups, n):
    if values.dtype == object:
        return pd.Series(values).groupby(groups).sum().reindex(range(n), fill_value=0).to_numpy()
    # sums of int64 below 2**53 are exact in float64
    return np.round(np.bincount(groups, weights=values, minlength=n)).astype(np.int64)


def target_block(tp, tgt, ld, scale, criterion, les_pcode, n_les, n_p):
    """Per timepoint: n targets, n assessed, exact sum, all-CR flag, baseline (R1.3-R1.5).

    ``tgt``: dict of the in-scope targets' ``code``, ``pcode``, ``bday``, ``is_nodal``.
    """
    n_tp = len(tp["key"])
    vint = ld["vint"]
    if len(tgt["code"]) == 0:
        z = np.zeros(n_tp, dtype=np.int64)
        return {"n_t": z, "n_a": z, "c": z.copy(), "all_cr": np.zeros(n_tp, bool),
                "b": z.copy(), "base_ok": np.zeros(n_tp, bool), "has_t": np.zeros(n_tp, bool)}
    is_t = np.zeros(n_les, dtype=bool)
    is_t[tgt["code"]] = True
    nodal_of = np.zeros(n_les, dtype=bool)
    nodal_of[tgt["code"]] = tgt["is_nodal"]
    rows, tpi = _rows_at_timepoints(tp, ld, is_t)
    assessed = ~ld["na"][rows]
    ints = np.where(assessed, vint[rows], 0) if vint.dtype != object else np.where(
        assessed, vint[rows], 0).astype(object)
    nodal = nodal_of[ld["code"][rows]]
    # R1.4.2 lesion-by-lesion CR; mRECIST R2.2 also needs no enhancement
    cr = np.asarray(np.where(nodal, ints < NODE_NORMAL_BELOW_MM * scale, ints == 0), bool)
    if criterion == "mRECIST":
        cr &= nodal | ~ld["enh"][rows]
    cr &= assessed
    tp_pcode = tp["pcode"]
    n_t = np.bincount(tgt["pcode"], minlength=n_p)[tp_pcode]
    n_a = np.bincount(tpi, weights=assessed, minlength=n_tp).astype(np.int64)
    n_cr = np.bincount(tpi, weights=cr, minlength=n_tp).astype(np.int64)
    c = _group_sum(ints, tpi, n_tp)
    # baseline: each target's value on its own baseline date
    bpos = lookup(ld["key"], tgt["code"].astype(np.int64) * DAY_KEY + tgt["bday"])
    bok = np.zeros(len(bpos), dtype=bool)
    bok[bpos >= 0] = ~ld["na"][bpos[bpos >= 0]]
    bints = np.zeros(len(bpos), dtype=vint.dtype)
    bints[bok] = vint[bpos[bok]]
    b_pat = _group_sum(bints, tgt["pcode"], n_p)
    ok_pat = np.bincount(tgt["pcode"], weights=~bok, minlength=n_p) == 0
    has_t = n_t > 0
    b = np.where(has_t, b_pat[tp_pcode], 0)
    base_ok = has_t & ok_pat[tp_pcode] & np.asarray(b > 0, dtype=bool)
    return {"n_t": n_t, "n_a": n_a, "c": c, "all_cr": (n_cr == n_t) & has_t, "b": b,
            "base_ok": base_ok, "has_t": has_t}


def nontarget_severity(tp, nt_code, nt_pcode, ld, les_pcode, n_les, n_p) -> np.ndarray:
    """Worst non-target severity per timepoint (R1.6; no row = NE), -1 without non-targets."""
    n_tp = len(tp["key"])
    if len(nt_code) == 0:
        return np.full(n_tp, -1, dtype=np.int64)
    is_nt = np.zeros(n_les, dtype=bool)
    is_nt[nt_code] = True
    rows, tpi = _rows_at_timepoints(tp, ld, is_nt)
    worst = np.full(n_tp, -1, dtype=np.int64)
    np.maximum.at(worst, tpi, ld["nt_sev"][rows])
    n_nt = np.bincount(nt_pcode, minlength=n_p)[tp["pcode"]]
    missing = np.bincount(tpi, minlength=n_tp) < n_nt
    worst[missing] = np.maximum(worst[missing], NE_SEV)
    worst[n_nt == 0] = -1
    return worst


def overall_response(tr_code: np.ndarray, nt_sev: np.ndarray, new: np.ndarray) -> np.ndarray:
    """R1.8 overall response: the table of ``compute_overall_response`` on each distinct
    (target, non-target, new lesion YES) combination, mapped back to the rows."""
    combo = (tr_code.astype(np.int64) * 5 + (nt_sev + 1)) * 2 + (new == "YES")
    every = np.arange(len(TR_NAMES) * 5 * 2)  # all 60 combinations, decoded
    table = compute_overall_response(TR_NAMES[every // 10], NT_NAMES[(every // 2) % 5 - 1],
                                     np.where(every % 2 == 1, "YES", "NO").astype(object))
    assert set(table) <= set(RESPONSE_CODES)
    return np.asarray(table, dtype=object)[combo]


def group_first(groups: np.ndarray) -> np.ndarray:
    """Index of the first row of each row's group (rows sorted by group)."""
    n = len(groups)
    start = np.zeros(n, dtype=bool)
    if n:
        start[0] = True
        start[1:] = groups[1:] != groups[:-1]
    return np.maximum.accumulate(np.where(start, np.arange(n), 0)) if n else np.zeros(0, int)


def seen_so_far(mask: np.ndarray, first: np.ndarray) -> np.ndarray:
    """True where ``mask`` holds at this row or an earlier row of the same group."""
    last = np.maximum.accumulate(np.where(mask, np.arange(len(mask)), -1)) if len(mask) \
        else np.zeros(0, int)
    return last >= first


def next_index(mask: np.ndarray) -> np.ndarray:
    """Index of the first row at or after each row where ``mask`` holds (len when none)."""
    n = len(mask)
    idx = np.where(mask, np.arange(n), n)
    return np.minimum.accumulate(idx[::-1])[::-1] if n else idx


def continuing(tr_code, pcode, day, confirm_min_days):
    """R1.4.6 display column: strict SD after a confirmed target PR is shown as PR.

    ``tr_code``: target responses as positions in :data:`TR_NAMES`.
    """
    cr, pr, sd, pd_, ne = 1, 2, 3, 4, 5
    resp = (tr_code == pr) | (tr_code == cr)
    brk = ~(resp | (tr_code == ne))
    first = group_first(pcode)
    n = len(tr_code)
    seg_start = brk | (first == np.arange(n))
    seg_first = np.maximum.accumulate(np.where(seg_start, np.arange(n), 0)) if n else first
    f = next_index(resp)[seg_first] if n else first
    valid = f <= np.arange(n)
    start_day = day[np.minimum(f, max(n - 1, 0))]
    conf = resp & valid & (day - start_day >= confirm_min_days)
    conf_so_far = seen_so_far(conf, first)
    pd_seen = seen_so_far(tr_code == pd_, first)
    return TR_NAMES[np.where((tr_code == sd) & conf_so_far & ~pd_seen, pr, tr_code)]


def backdate_equivocal(status, pcode, dates):
    """R1.7.2: an EQUIVOCAL run directly followed by YES (same patient) becomes YES.

    Returns the back-dated mask and the date of the confirming visit for those rows.
    """
    n = len(status)
    is_eq = status == "EQUIVOCAL"
    nxt = next_index(~is_eq)
    ok = nxt < n
    j = np.minimum(nxt, max(n - 1, 0))
    bd = is_eq & ok & (pcode[j] == pcode) & (status[j] == "YES")
    confirm_date = np.full(n, None, dtype=object)
    confirm_date[bd] = dates[j[bd]]
    return bd, confirm_date
