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


def fmt_many(values: np.ndarray, fmt, decimals: int) -> np.ndarray:
    """Format floats through their unique rounded values (display only; fast for many rows)."""
    v = np.asarray(values, dtype=float)
    out = np.full(len(v), "?", dtype=object)
    ok = np.isfinite(v)
    if ok.any():
        # hash factorisation (no sort); + 0.0 folds -0.0 into 0.0 (one text per value)
        inv, u = pd.factorize(np.round(v[ok], decimals) + 0.0)
        out[ok] = np.array([fmt(float(x)) for x in u], dtype=object)[inv]
    return out


def _ints(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)
    table = np.array([str(i) for i in range(int(v.max(initial=0)) + 1)], dtype=object)
    return table[np.maximum(v, 0)]


def rule_texts(d: dict, criterion: str, requires_abs: bool) -> np.ndarray:
    """One explanation per row (which rule decided, with the numbers).

    Rows are assigned to the first matching rule (same order as the classification); each
    template is filled for its rows only, with numbers formatted once per distinct value.
    """
    w = "viable sum" if criterion == "mRECIST" else "sum"
    n_rows = len(d["overall"])
    tr, ntr, new, ov = d["tr"], d["ntr"], d["new"], d["overall"]
    is_base, has_t, base_ok = d["is_baseline"], d["has_t"], d["base_ok"]
    n_t, n_a = d["n_t"], d["n_a"]
    c, b, n = d["c_mm"], d["b_mm"], d["n_mm"]
    cs, bs, ns = (fmt_many(x, fmt_mm, 6) for x in (c, b, n))
    pbs = fmt_many(d["pct_b"], fmt_pct, 1)
    pns = fmt_many(d["pct_n"], fmt_pct, 1)
    dns = fmt_many(c - n, fmt_dmm, 6)
    nts, nas = _ints(n_t), _ints(n_a)
    partial = n_a < n_t
    no_ntr = np.equal(ntr, None)
    ntr_s = np.where(no_ntr, "none", ntr).astype(object)
    out = np.full(n_rows, "", dtype=object)
    done = np.zeros(n_rows, dtype=bool)

    def put(mask, text, *cols):
        nonlocal done
        m = mask & ~done
        if m.any():
            if cols:
                out[m] = [text.format(*x) for x in zip(*(col[m] for col in cols),
                                                        strict=True)]
            else:
                out[m] = text
        done |= m

    put(is_base & has_t, "baseline: " + w + " {} mm over {} target(s)", cs, nts)
    put(is_base, "baseline: no target lesion in scope")
    bd = d["backdated"]
    if bd.any():
        dates = np.full(n_rows, "", dtype=object)
        dates[bd] = [pd.Timestamp(x).date().isoformat() for x in d["confirm_date"][bd]]
        put((new == "YES") & bd, "PD: new lesion first seen equivocal here, confirmed on {} "
            "(back-dated, R1.7.2)", dates)
    put(new == "YES", "PD: new lesion (R1.7.4)")
    pd_t = tr == "PD"
    part = np.where(partial, "partial ", "").astype(object)
    extra = np.full(n_rows, "", dtype=object)
    if partial.any():
        extra[partial] = [f" ({x}/{y} targets measured, R1.5.2)"
                          for x, y in zip(nas[partial], nts[partial], strict=True)]
    put(pd_t & (n == 0), "PD: {}" + w + " {} mm after nadir 0 mm (R1.4.5){}", part, cs, extra)
    rule = "R1.4.1" if criterion == "RECIST_1_1" else (
        "R2.2, 5 mm rule on" if requires_abs else "R2.2, 5 mm rule off")
    put(pd_t, "PD: {}" + w + " {} mm is {} and {} over nadir {} mm (" + rule + "){}",
        part, cs, pns, dns, ns, extra)
    put(ntr == "PD", "PD: unequivocal non-target progression (R1.6)")
    no_t = ~has_t
    put(no_t & no_ntr, "NE: no baseline disease in this scope")
    put(no_t & (ntr == "CR"), "CR: non-target disease only, all disappeared (R1.8.2)")
    put(no_t & (ntr == "NON_CR_NON_PD"),
        "NON_CR_NON_PD: non-target disease only, persisting (R1.8.2)")
    put(no_t, "NE: non-target lesion(s) not assessed (R1.8.2)")
    put(~base_ok, "NE: no valid baseline sum (a target lacks a baseline measurement)")
    put(tr == "NE", "NE: {} of {} targets not assessed; partial " + w
        + " {} mm does not meet PD (R1.5.2)", _ints(n_t - n_a), nts, cs)
    crit = ("all targets non-enhancing (R2.2)" if criterion == "mRECIST"
            else "non-nodal targets 0 mm, nodal targets < 10 mm (R1.4.2)")
    put((tr == "CR") & (ov == "CR"), "CR: " + crit + "; non-targets {}; no new lesion (R1.8.1)",
        ntr_s)
    put(tr == "CR", "PR: targets CR (" + crit + ") but non-targets {} (R1.8.1)", ntr_s)
    # the two commonest rules use f-strings (several times faster than str.format)
    m = (tr == "PR") & ~done
    out[m] = [f"PR: {w} {x} mm is {y} from baseline {z} mm (>= 30 % decrease, R1.4.3)"
              for x, y, z in zip(cs[m], pbs[m], bs[m], strict=True)]
    done |= m
    m = ~done
    out[m] = [f"SD: {w} {x} mm is {y} from baseline {z} mm and {u} ({v}) over nadir {t} mm "
              f"(R1.4.4)" for x, y, z, u, v, t in zip(cs[m], pbs[m], bs[m], pns[m], dns[m], ns[m],
                                                      strict=True)]
    eq = (new == "EQUIVOCAL") & ~is_base
    out[eq] = out[eq] + "; equivocal new lesion (PD only once confirmed, R1.7.2)"
    note = d["note"]
    has_note = note != ""
    out[has_note] = out[has_note] + "; " + note[has_note]
    return out
