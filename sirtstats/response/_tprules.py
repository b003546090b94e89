"""Rule texts of the timepoint engine: which rule decided each visit, with the numbers.

Display only (the responses themselves are decided in :mod:`sirtstats.response.timepoint`):
rule ids of docs/rules/response.md (R1.4-R1.8, R2.2; RECIST 1.1, Eisenhauer et al., Eur J
Cancer 2009; mRECIST, Lencioni & Llovet, Semin Liver Dis 2010). Numbers are formatted once per
distinct value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sirtstats.response._common import fmt_dmm, fmt_mm, fmt_pct


def _mm_texts(xs: list) -> list:
    """:func:`fmt_mm` of finite floats, without its per-value checks."""
    return [f"{round(x, 6):g}" for x in xs]


def _pct_texts(xs: list) -> list:
    """:func:`fmt_pct` of finite floats."""
    return [("+0.0" if s == "-0.0" else s) + " %" for s in (f"{x:+.1f}" for x in xs)]


def _dmm_texts(xs: list) -> list:
    """:func:`fmt_dmm` of finite floats."""
    return [("+" if x >= 0 else "") + t + " mm" for x, t in zip(xs, _mm_texts(xs), strict=True)]


#: List versions of the formatters for the finite values ``fmt_many`` passes them (the test
#: ``test_rule_numbers_formatted_alike_on_the_grid_and_hashed`` holds them to the originals).
_MANY = {fmt_mm: _mm_texts, fmt_pct: _pct_texts, fmt_dmm: _dmm_texts}


def _distinct(u: np.ndarray):
    """``pd.factorize(u)`` up to the order of the uniques: (codes, uniques).

    Values on a 0.1 grid (sums in mm, percentages rounded to 0.1) over a span not much larger
    than the number of rows are coded by table lookup (no hashing); others are hashed.
    """
    if len(u) > 1000:
        k = np.rint(u * 10.0)
        lo, hi = k.min(), k.max()
        if hi - lo < 4 * len(u) and bool((k / 10.0 == u).all()):
            ki = (k - lo).astype(np.int64)
            present = np.zeros(int(hi - lo) + 1, dtype=bool)
            present[ki] = True
            grid = np.flatnonzero(present)
            code_of = np.cumsum(present) - 1
            return code_of[ki], (grid + lo) / 10.0
    return pd.factorize(u)


def fmt_many(values: np.ndarray, fmt, decimals: int, cache: dict | None = None) -> np.ndarray:
    """Format floats through their unique rounded values (display only; fast for many rows).

    ``cache`` (rounded value -> text, one dict per ``fmt``) is shared between calls, so that a
    value is formatted once however many row subsets it appears in.
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    every = bool(ok.all())
    out = None if every else np.full(len(v), "?", dtype=object)
    if every or ok.any():
        # + 0.0 folds -0.0 into 0.0 (one text per value)
        inv, u = _distinct(np.round(v if every else v[ok], decimals) + 0.0)
        ul = u.tolist()
        many = _MANY.get(fmt, lambda xs: [fmt(x) for x in xs])
        if cache is None:
            uniq_texts = many(ul)
        else:
            miss = [x for x in ul if x not in cache]
            cache.update(zip(miss, many(miss), strict=True))
            uniq_texts = list(map(cache.__getitem__, ul))
        texts = np.array(uniq_texts, dtype=object)[inv]
        if every:
            return texts
        out[ok] = texts
    return out


def _ints(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)
    table = np.array([str(i) for i in range(int(v.max(initial=0)) + 1)], dtype=object)
    return table[np.maximum(v, 0)]


_CR, _PR, _PD, _NE = 1, 2, 4, 5  # target codes (positions in _tpcore.TR_NAMES)
_NT_NONE, _NT_CR, _NT_NCNP, _NT_PD = -1, 0, 1, 3  # non-target severities (-1: none)


def _partial_parts(p, nas, nts):
    """The "partial " prefix and the "(x/y targets measured)" suffix of PD texts."""
    part = np.where(p, "partial ", "").astype(object)
    extra = np.full(len(p), "", dtype=object)
    if p.any():
        extra[p] = [f" ({x}/{y} targets measured, R1.5.2)"
                    for x, y in zip(nas[p], nts[p], strict=True)]
    return part, extra


def _pd_texts(d, f, w, rule, nadir_zero):
    """Target PD texts (R1.4.1 / R1.4.5 / R2.2) for the rows of a mask."""
    def fill(m):
        part, extra = _partial_parts((d["n_a"] < d["n_t"])[m], f["nas", m], f["nts", m])
        if nadir_zero:
            return [f"PD: {p}{w} {x} mm after nadir 0 mm (R1.4.5){e}"
                    for p, x, e in _rows(part, f["cs", m], extra)]
        return [f"PD: {p}{w} {x} mm is {y} and {z} over nadir {t} mm ({rule}){e}"
                for p, x, y, z, t, e in _rows(part, f["cs", m], f["pns", m], f["dns", m],
                                              f["ns", m], extra)]
    return fill


class _Fields:
    """Formatted numbers of the rows of a mask: ``f[name, mask]`` (each distinct value
    formatted once per call; only the rows a rule needs are formatted)."""

    def __init__(self, d: dict):
        self.d = d
        self.cache = {fmt_mm: {}, fmt_dmm: {}, fmt_pct: {}}

    def __getitem__(self, key):
        name, m = key
        d = self.d
        if name in ("nts", "nas", "lack"):
            v = {"nts": d["n_t"], "nas": d["n_a"]}.get(name)
            return _ints(v[m] if v is not None else d["n_t"][m] - d["n_a"][m])
        if name == "dns":
            return fmt_many(d["c_mm"][m] - d["n_mm"][m], fmt_dmm, 6, self.cache[fmt_dmm])
        col, fmt, decimals = {"cs": ("c_mm", fmt_mm, 6), "bs": ("b_mm", fmt_mm, 6),
                              "ns": ("n_mm", fmt_mm, 6), "pbs": ("pct_b", fmt_pct, 1),
                              "pns": ("pct_n", fmt_pct, 1)}[name]
        return fmt_many(d[col][m], fmt, decimals, self.cache[fmt])


def _rows(*columns):
    """Rows of equal-length arrays, as tuples (iterating lists: faster than object arrays)."""
    return zip(*(c.tolist() for c in columns), strict=True)


def _non_target_names(sev_rows: np.ndarray) -> np.ndarray:
    names = np.array(["CR", "NON_CR_NON_PD", "NE", "PD", "none"], dtype=object)
    return names[np.where(sev_rows < 0, 4, sev_rows)]


def _rule_list(d, f, criterion, requires_abs):
    """(mask, text or filler) in the order of the classification: the first match wins."""
    w = "viable sum" if criterion == "mRECIST" else "sum"
    tr, sev, new = d["tr_code"], d["nt_sev"], d["new"]
    is_base, has_t = d["is_baseline"], d["has_t"]
    yes = new == "YES"
    pd_t = tr == _PD
    rule = "R1.4.1" if criterion == "RECIST_1_1" else (
        "R2.2, 5 mm rule on" if requires_abs else "R2.2, 5 mm rule off")
    crit = ("all targets non-enhancing (R2.2)" if criterion == "mRECIST"
            else "non-nodal targets 0 mm, nodal targets < 10 mm (R1.4.2)")
    no_t = ~has_t
    bd = d["backdated"]
    dates = d["confirm_date"]
    return [
        (is_base & has_t, lambda m: [f"baseline: {w} {x} mm over {y} target(s)"
                                     for x, y in _rows(f["cs", m], f["nts", m])]),
        (is_base, "baseline: no target lesion in scope"),
        (yes & bd, lambda m: [f"PD: new lesion first seen equivocal here, confirmed on "
                              f"{pd.Timestamp(x).date().isoformat()} (back-dated, R1.7.2)"
                              for x in dates[m]]),
        (yes, "PD: new lesion (R1.7.4)"),
        (pd_t & (d["n_mm"] == 0), _pd_texts(d, f, w, rule, nadir_zero=True)),
        (pd_t, _pd_texts(d, f, w, rule, nadir_zero=False)),
        (sev == _NT_PD, "PD: unequivocal non-target progression (R1.6)"),
        (no_t & (sev == _NT_NONE), "NE: no baseline disease in this scope"),
        (no_t & (sev == _NT_CR), "CR: non-target disease only, all disappeared (R1.8.2)"),
        (no_t & (sev == _NT_NCNP),
         "NON_CR_NON_PD: non-target disease only, persisting (R1.8.2)"),
        (no_t, "NE: non-target lesion(s) not assessed (R1.8.2)"),
        (~d["base_ok"], "NE: no valid baseline sum (a target lacks a baseline measurement)"),
        (tr == _NE, lambda m: [f"NE: {x} of {y} targets not assessed; partial {w} {z} mm "
                               f"does not meet PD (R1.5.2)"
                               for x, y, z in _rows(f["lack", m], f["nts", m], f["cs", m])]),
        ((tr == _CR) & (d["overall"] == "CR"),
         lambda m: [f"CR: {crit}; non-targets {x}; no new lesion (R1.8.1)"
                    for x in _non_target_names(sev[m])]),
        (tr == _CR, lambda m: [f"PR: targets CR ({crit}) but non-targets {x} (R1.8.1)"
                               for x in _non_target_names(sev[m])]),
        (tr == _PR, lambda m: [f"PR: {w} {x} mm is {y} from baseline {z} mm (>= 30 % decrease, "
                               f"R1.4.3)" for x, y, z in _rows(f["cs", m], f["pbs", m],
                                                              f["bs", m])]),
        (np.ones(len(tr), dtype=bool),
         lambda m: [f"SD: {w} {x} mm is {y} from baseline {z} mm and {u} ({v}) over nadir {t} "
                    f"mm (R1.4.4)" for x, y, z, u, v, t in _rows(
                        f["cs", m], f["pbs", m], f["bs", m], f["pns", m], f["dns", m],
                        f["ns", m])]),
    ]


def rule_texts(d: dict, criterion: str, requires_abs: bool) -> np.ndarray:
    """One explanation per row (which rule decided, with the numbers).

    Rows are assigned to the first matching rule (same order as the classification); each
    template is filled for its rows only, with numbers formatted once per distinct value.
    ``d`` holds per-row arrays: ``tr_code`` (target response code), ``nt_sev`` (non-target
    severity, -1 none), ``new``, ``overall``, flags and the sums in mm.
    """
    n_rows = len(d["tr_code"])
    f = _Fields(d)
    out = np.full(n_rows, "", dtype=object)
    done = np.zeros(n_rows, dtype=bool)
    for mask, fill in _rule_list(d, f, criterion, requires_abs):
        m = mask & ~done
        if m.any():
            out[m] = fill if isinstance(fill, str) else fill(m)
        done |= m
    eq = (d["new"] == "EQUIVOCAL") & ~d["is_baseline"]
    out[eq] = out[eq] + "; equivocal new lesion (PD only once confirmed, R1.7.2)"
    note = d["note"]
    has_note = note != ""
    out[has_note] = out[has_note] + "; " + note[has_note]
    return out
