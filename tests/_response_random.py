"""Random seeded cohorts and a plain per-patient reference of the response engine.

:func:`random_cohort` builds registry-shaped ``lesions`` / ``lesion_measurements`` /
``imaging_assessments`` / ``origin`` frames with the edge cases the vectorised engine must get
right: targets without a row or ``not_assessed`` at a visit (NE), too small (5 mm),
disappeared and merged (0 mm) lesions, split lesions (fragments), lymph nodes around the 10 mm
CR limit, sums exactly on the PR (-30 %) and PD (+20 %, +5 mm) thresholds and nadir ties,
non-enhancing mRECIST targets, non-target statuses, new lesions (YES, EQUIVOCAL runs, missing
values, visits without an assessment row), visits before the origin, visit gaps around the
28-day confirmation window and the 42-day SD minimum, targets without a baseline measurement,
patients without targets (non-target disease only) and patients without any post-baseline
visit.

:func:`reference_timepoints` and :func:`reference_bor` restate the rules one patient and one
visit at a time in exact rationals (:class:`fractions.Fraction`), straight from
docs/rules/response.md (R1.3-R1.9, R2.2; RECIST 1.1, Eisenhauer et al., Eur J Cancer 2009,
sections 4.3-4.4, Tables 1-3; mRECIST, Lencioni & Llovet, Semin Liver Dis 2010) with the
defaults D4-D6 (confirmation >= 28 days later, at most one NE between, no SD between, SD at
>= 42 days from the origin). They are slow on purpose: no shared code with the engine.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

ORIGIN0 = pd.Timestamp("2024-01-10")
#: Gaps (days) between visits: around the 28-day confirmation window and the 42-day SD limit.
GAPS = (7, 14, 21, 27, 28, 29, 35, 41, 42, 43, 56, 84)
#: Factors applied to a target's baseline value; 0.7 is the PR limit, 0.84 = 0.7 x 1.2 the PD
#: limit over a 0.7 nadir.
FACTORS = (0.0, 0.5, 0.69, 0.7, 0.71, 0.84, 0.85, 0.9, 1.0, 1.1, 1.2, 1.21, 1.5)
NODE_VALUES = (5.0, 9.9, 10.0, 10.1, 12.0, 15.0, 20.0)
_SEV = {"CR": 0, "NON_CR_NON_PD": 1, "NE": 2, "PD": 3}
_SEV_NAME = {v: k for k, v in _SEV.items()}


def _pick(rng, options, p=None):
    return options[int(rng.choice(len(options), p=p))]


def _visit_days(rng) -> list[int]:
    """Post-baseline visit days from the origin (sometimes one before the origin)."""
    n = int(rng.integers(0, 8))
    days, d = [], 0
    for _ in range(n):
        d += int(_pick(rng, GAPS))
        days.append(d)
    if days and rng.random() < 0.1:
        days.insert(0, -2)  # imaging after baseline but before the origin: not used for BOR
    return days


def _target_values(rng, base: float, nodal: bool, n_vis: int, shared: list[float | None]):
    """Follow-up values of one target; ``shared`` factors make sums hit thresholds exactly."""
    out = []
    for k in range(n_vis):
        if nodal and rng.random() < 0.5:
            out.append(float(_pick(rng, NODE_VALUES)))
            continue
        f = shared[k] if shared[k] is not None else float(_pick(rng, FACTORS))
        out.append(round(base * f, 1))
    return out


def _target_rows(rng, lid, dates, values, criterion):
    """Measurement rows of one target (baseline first), with states, fragments, gaps."""
    rows = []
    for k, (date, val) in enumerate(zip(dates, values, strict=True)):
        u = rng.random()
        if k == 0 and u < 0.02:
            continue  # no baseline measurement: baseline sum invalid (NE)
        if k > 0 and u < 0.05:
            continue  # no row at this visit: not assessed
        state, diam = "measured", val
        if k > 0:
            if u < 0.09:
                state, diam = "not_assessed", np.nan
            elif u < 0.12:
                state, diam = "too_small", np.nan
            elif u < 0.14:
                state, diam = "merged", np.nan
            elif val == 0 or u < 0.16:
                state, diam = "disappeared", np.nan
        enh = bool(rng.random() < 0.8) if diam == diam and diam > 0 else False
        if criterion == "mRECIST" and k > 0 and rng.random() < 0.05:
            enh = not enh
        if state == "measured" and k > 0 and rng.random() < 0.04 and diam >= 1:
            first = round(diam / 2, 1) if diam >= 0.2 else diam
            rows.append(_meas(lid, date, criterion, 1, "measured", first, enh, None))
            rows.append(_meas(lid, date, criterion, 2, "measured", round(diam - first, 1),
                              enh, None))
            continue
        rows.append(_meas(lid, date, criterion, 1, state, diam, enh, None))
    return rows


def _meas(lid, date, criterion, fragment, state, diam, enh, nt):
    return {"lesion_id": lid, "assessment_date": date, "criterion": criterion,
            "fragment": fragment, "state": state, "diameter_mm": diam, "is_enhancing": enh,
            "nontarget_status": nt}


def _nontarget_rows(rng, lid, dates, criterion):
    rows = []
    for k, date in enumerate(dates):
        u = rng.random()
        if k > 0 and u < 0.05:
            continue
        if k == 0:
            status = "NON_CR_NON_PD"
        else:
            status = _pick(rng, ("CR", "NON_CR_NON_PD", "NE", "PD"), p=(0.3, 0.55, 0.1, 0.05))
        state = "not_assessed" if k > 0 and u < 0.08 else None
        rows.append(_meas(lid, date, criterion, 1, state, np.nan, None, status))
    return rows


def _patient(rng, pid: str):
    """Lesions, measurements, assessments and origin of one random patient."""
    origin = ORIGIN0 + pd.Timedelta(days=int(rng.integers(0, 400)))
    baseline = origin - pd.Timedelta(days=int(rng.integers(0, 21)))
    days = [d for d in _visit_days(rng) if origin + pd.Timedelta(days=d) > baseline]
    dates = [baseline] + [origin + pd.Timedelta(days=d) for d in days]
    exact = rng.random() < 0.4
    n_t = int(_pick(rng, (0, 1, 2, 3, 4), p=(0.08, 0.3, 0.3, 0.2, 0.12)))
    n_nt = int(_pick(rng, (0, 1, 2), p=(0.4, 0.45, 0.15)))
    lesions, meas = [], []
    for crit in ("RECIST_1_1", "mRECIST"):
        shared = [float(_pick(rng, (0.5, 0.7, 0.84, 1.0, 1.2, 0.0))) if exact
                  and rng.random() < 0.8 else None for _ in days]
        for j in range(n_t):
            lid = f"{pid}-{crit[0]}T{j}"
            nodal = rng.random() < 0.25
            base = (float(rng.integers(3, 8) * 5) if nodal else
                    float(rng.integers(2, 12) * 5) if exact else
                    round(float(rng.integers(100, 600)) / 10, 1))
            vals = [base, *_target_values(rng, base, nodal, len(days), shared)]
            lesions.append(_lesion(lid, pid, baseline, nodal, crit, "target"))
            meas += _target_rows(rng, lid, dates, vals, crit)
        for j in range(n_nt):
            lid = f"{pid}-{crit[0]}N{j}"
            lesions.append(_lesion(lid, pid, baseline, False, crit, "non_target"))
            meas += _nontarget_rows(rng, lid, dates, crit)
    ass = []
    for crit in ("RECIST_1_1", "mRECIST"):
        new = ["NO"]
        for _ in days:
            u = rng.random()
            new.append("YES" if u < 0.05 else "EQUIVOCAL" if u < 0.15 else
                       None if u < 0.17 else "NO")
            if new[-2] == "EQUIVOCAL" and rng.random() < 0.4:  # equivocal, then confirmed
                new[-1] = "YES"
        for k, (date, status) in enumerate(zip(dates, new, strict=True)):
            if k > 0 and rng.random() < 0.05:
                continue  # no assessment row: new lesions assumed absent
            ass.append({"patient_id": pid, "assessment_date": date, "criterion": crit,
                        "new_lesion": status})
    return lesions, meas, ass, {"patient_id": pid, "origin_date": origin}


def _lesion(lid, pid, baseline, nodal, crit, role):
    recist, mrecist = (role, "none") if crit == "RECIST_1_1" else ("none", role)
    return {"lesion_id": lid, "patient_id": pid, "baseline_date": baseline,
            "organ": "lymph_node" if nodal else "liver", "is_nodal": nodal,
            "recist_role": recist, "mrecist_role": mrecist, "is_arterially_enhancing": True,
            "in_treated_territory": not nodal}


def random_cohort(seed: int, n_patients: int = 200) -> dict[str, pd.DataFrame]:
    """A seeded random registry (see the module docstring for the edge cases it holds)."""
    rng = np.random.default_rng(seed)
    les, meas, ass, org = [], [], [], []
    for i in range(n_patients):
        a, b, c, d = _patient(rng, f"R{seed:03d}-{i:04d}")
        les += a
        meas += b
        ass += c
        org.append(d)
    les_df = pd.DataFrame(les)
    meas_df = pd.DataFrame(meas)
    meas_df["fragment"] = meas_df["fragment"].astype("int64")
    meas_df["diameter_mm"] = meas_df["diameter_mm"].astype(float)
    return {"lesions": les_df, "lesion_measurements": meas_df,
            "imaging_assessments": pd.DataFrame(ass), "origin": pd.DataFrame(org)}


# --------------------------------------------------------------------------------------------
# Reference: one patient, one visit at a time, in Fractions
# --------------------------------------------------------------------------------------------

def _value(rows) -> tuple[Fraction | None, bool]:
    """Lesion value at a visit (fragments summed, R1.3) or None; and whether it enhances."""
    if not rows:
        return None, False
    total = Fraction(0)
    enh = any(r["is_enhancing"] is True for r in rows)
    for r in rows:
        state, diam = r["state"], r["diameter_mm"]
        if state == "too_small":
            total += 5
        elif state in ("disappeared", "merged"):
            total += 0
        elif state == "measured" or (state is None and diam == diam):
            total += Fraction(str(diam))
        else:
            return None, enh
    return total, enh


def _nt_status(rows) -> int:
    if not rows:
        return _SEV["NE"]
    sev = [_SEV["NE"] if r["state"] == "not_assessed" or r["nontarget_status"] is None
           else _SEV[r["nontarget_status"]] for r in rows]
    return max(sev)


def _is_pd(c: Fraction, n: Fraction, criterion: str) -> bool:
    """R1.4.1 / R2.2: +20 % over the nadir (any increase over a 0 nadir); RECIST: and +5 mm."""
    rel = c > 0 if n == 0 else (c - n) >= n / 5
    return rel and (criterion == "mRECIST" or c - n >= 5)


def _target_response(vals, nodal, enh, b, base_ok, nadir, criterion):
    if not base_ok:
        return "NE"
    assessed = [v for v in vals if v is not None]
    c = sum(assessed, Fraction(0))
    if assessed and _is_pd(c, nadir, criterion):
        return "PD"  # a partial sum that already meets PD is PD (R1.5.2)
    if len(assessed) < len(vals):
        return "NE"
    crs = [(v < 10 if nd else v == 0) and (nd or criterion == "RECIST_1_1" or not e)
           for v, nd, e in zip(vals, nodal, enh, strict=True)]
    if all(crs):
        return "CR"
    return "PR" if b - c >= Fraction(3, 10) * b else "SD"


def _overall(tr, ntr, new) -> str:
    """R1.8 Tables 1-2: new lesion or any PD first, then the tables."""
    if new == "YES" or tr == "PD" or ntr == "PD":
        return "PD"
    if tr is None:
        return {None: "NE", "CR": "CR", "NON_CR_NON_PD": "NON_CR_NON_PD"}.get(ntr, "NE")
    if tr == "CR":
        return "CR" if ntr in (None, "CR") else "PR"
    return tr


def _new_statuses(ass_rows: dict, dates) -> list:
    """New-lesion status per date (baseline first); an EQUIVOCAL run before a YES is YES."""
    st = []
    for d in dates:
        if d not in ass_rows:
            st.append("NO")
        else:
            v = ass_rows[d]
            st.append(None if v is None or v != v else v)
    out = list(st)
    for k, s in enumerate(st):
        if s == "EQUIVOCAL":
            j = k
            while j < len(st) and st[j] == "EQUIVOCAL":
                j += 1
            if j < len(st) and st[j] == "YES":
                out[k] = "YES"
    return out


def _patient_timepoints(pid, les, meas, ass_rows, criterion) -> list[dict]:
    role = "recist_role" if criterion == "RECIST_1_1" else "mrecist_role"
    les = [r for r in les if r[role] in ("target", "non_target")]
    ids = {r["lesion_id"] for r in les}
    by_date: dict = {}
    for r in meas:
        if r["lesion_id"] in ids:
            by_date.setdefault((r["lesion_id"], r["assessment_date"]), []).append(r)
    if les:
        base = max(r["baseline_date"] for r in les)
    elif ass_rows:
        base = min(ass_rows)
    else:
        return []
    dates = {d for (_, d) in by_date} | set(ass_rows) | {base}
    dates = sorted(d for d in dates if d >= base)
    tg = [r for r in les if r[role] == "target"]
    nts = [r for r in les if r[role] == "non_target"]
    nodal = [bool(r["is_nodal"]) for r in tg]
    bvals = [_value(by_date.get((r["lesion_id"], r["baseline_date"]), []))[0] for r in tg]
    base_ok = bool(tg) and all(v is not None for v in bvals)
    b = sum((v for v in bvals if v is not None), Fraction(0))
    base_ok = base_ok and b > 0
    new = _new_statuses(ass_rows, dates)
    nadirs = [b] if base_ok else []
    out = []
    for k, d in enumerate(dates):
        vals, enh = [], []
        for r in tg:
            v, e = _value(by_date.get((r["lesion_id"], d), []))
            vals.append(v)
            enh.append(e)
        n_a = sum(v is not None for v in vals)
        c = sum((v for v in vals if v is not None), Fraction(0))
        nadir = min(nadirs) if nadirs else b
        ntr = (_SEV_NAME[max(_nt_status(by_date.get((r["lesion_id"], d), [])) for r in nts)]
               if nts else None)
        if k == 0:
            continue
        tr = (_target_response(vals, nodal, enh, b, base_ok, nadir, criterion) if tg
              else None)
        has_sum = bool(tg) and base_ok
        out.append({
            "patient_id": pid, "assessment_date": d, "n_targets": len(tg),
            "n_targets_assessed": n_a,
            "target_sum_mm": float(c) if tg and n_a else np.nan,
            "baseline_sum_mm": float(b) if has_sum else np.nan,
            "nadir_sum_mm": float(nadir) if has_sum else np.nan,
            "target_response": tr, "nontarget_response": ntr, "new_lesion": new[k],
            "overall_response": _overall(tr, ntr, new[k])})
        if base_ok and n_a == len(tg):
            nadirs.append(c)
    return out


def reference_timepoints(reg: dict, criterion: str) -> pd.DataFrame:
    """Per-visit responses of every patient (one patient at a time), sorted by patient, date."""
    les = reg["lesions"].to_dict("records")
    meas = reg["lesion_measurements"]
    meas = meas.loc[meas["criterion"] == criterion].to_dict("records")
    ass = reg["imaging_assessments"]
    ass = ass.loc[ass["criterion"] == criterion]
    les_by, meas_by, ass_by = {}, {}, {}
    pid_of = {r["lesion_id"]: r["patient_id"] for r in les}
    for r in les:
        les_by.setdefault(r["patient_id"], []).append(r)
    for r in meas:
        meas_by.setdefault(pid_of[r["lesion_id"]], []).append(r)
    for r in ass.to_dict("records"):
        ass_by.setdefault(r["patient_id"], {})[r["assessment_date"]] = r["new_lesion"]
    rows = []
    for pid in sorted(set(les_by) | set(ass_by)):
        rows += _patient_timepoints(pid, les_by.get(pid, []), meas_by.get(pid, []),
                                    ass_by.get(pid, {}), criterion)
    return pd.DataFrame(rows)


def _confirmed(resp, days, i, criterion_codes, allowed) -> bool:
    """R1.9.4: a later response in ``criterion_codes`` >= 28 days after row i, only
    ``allowed`` between (at most one NE), and (for a PR) no PR after a CR up to it."""
    for j in range(i + 1, len(resp)):
        if resp[j] not in criterion_codes or days[j] - days[i] < 28:
            continue
        between = resp[i + 1:j]
        if any(r not in allowed for r in between) or between.count("NE") > 1:
            continue
        if resp[i] == "PR" and "CR" in between and "PR" in resp[between.index("CR") + i + 1:j + 1]:
            continue
        return True
    return False


def _patient_bor(rows: list[dict], origin: pd.Timestamp, confirm: bool) -> tuple[str, object]:
    used = []
    for r in rows:
        if r["overall_response"] is None or r["assessment_date"] < origin:
            continue
        used.append(r)
        if r["overall_response"] == "PD":
            break
    resp = [r["overall_response"] for r in used]
    days = [(r["assessment_date"] - origin).days for r in used]

    def first(pred):
        for k, x in enumerate(resp):
            if pred(k, x):
                return used[k]["assessment_date"]
        return None

    if confirm:
        cr = first(lambda k, x: x == "CR" and _confirmed(resp, days, k, ("CR",), ("CR", "NE")))
        pr = first(lambda k, x: x == "PR" and _confirmed(resp, days, k, ("CR", "PR"),
                                                         ("CR", "PR", "NE")))
    else:
        cr = first(lambda k, x: x == "CR")
        pr = first(lambda k, x: x == "PR")
    for code, date in (
            ("CR", cr), ("PR", pr),
            ("SD", first(lambda k, x: x in ("CR", "PR", "SD") and days[k] >= 42)),
            ("NON_CR_NON_PD", first(lambda k, x: x == "NON_CR_NON_PD" and days[k] >= 42)),
            ("PD", first(lambda k, x: x == "PD")),
            ("NE", first(lambda k, x: True))):
        if date is not None:
            return code, date
    return "MISSING", None


def reference_bor(tp: pd.DataFrame, origin: pd.DataFrame, *, confirm: bool) -> pd.DataFrame:
    """BOR per patient of ``origin`` from reference timepoints (R1.9, D4-D6)."""
    by = {}
    for r in tp.to_dict("records") if len(tp) else []:
        by.setdefault(r["patient_id"], []).append(r)
    out = []
    for r in origin.to_dict("records"):
        rows = sorted(by.get(r["patient_id"], []), key=lambda x: x["assessment_date"])
        bor, date = _patient_bor(rows, r["origin_date"], confirm)
        out.append({"patient_id": r["patient_id"], "bor": bor,
                    "bor_date": pd.NaT if date is None else date})
    return pd.DataFrame(out).sort_values("patient_id", ignore_index=True)
