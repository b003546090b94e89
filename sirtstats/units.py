"""Laboratory unit normalisation: accepted units per analyte, as a table of conversion factors.

Every ``labs`` row carries its value, unit and reference limits (LLN/ULN) as received from the
laboratory. :data:`ACCEPTED_UNITS` lists, for each analyte of ``data_schema/labs.yaml``, the units
sirtstats accepts and the factor that converts a value in that unit to the analyte's canonical
(SI) unit in :data:`CANONICAL_UNITS`. :func:`normalise_lab_units` applies it to a labs table and
refuses unknown units with an error naming the offending rows.

Unit spellings are matched leniently (case, spaces, micro sign ``µ``/``μ``/``u``/``mc``, ``³``,
``10^9``/``10*9``/``10e9``/``x10^9``, ``IU`` for enzymes) but always per analyte, so that "G/L"
(giga per litre, French cell counts) and "g/L" (grams per litre, albumin) never meet.

Conversion factors (sources): bilirubin 1 mg/dL = 17.1 µmol/L and creatinine 1 mg/dL = 88.4
µmol/L (S3.1, docs/rules/toxicity.md; baseline.yaml); albumin and haemoglobin 1 g/dL =
10 g/L; cell counts 1/mm³ = 1/µL = 10³/mL = 10⁶/L = 10⁻³ × 10⁹/L (CTCAE v5.0 gives both forms,
e.g. platelets < 75,000/mm³ = < 75.0 × 10⁹/L; admiral's legacy USCV 10^3/mL is 1000 × SI);
enzymes 1 µkat/L = 60 U/L (1 U = 1 µmol/min = 16.67 nkat);
haemoglobin 1 mmol/L (monomer, 16,114.5 g/mol) = 16.1145 g/L; AFP 1 IU/mL = 1.21 ng/mL (WHO
standard 72/225).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sirtstats.exceptions import SirtDataError

__all__ = [
    "ACCEPTED_UNITS",
    "CANONICAL_UNITS",
    "compute_unit_factor",
    "is_accepted_unit",
    "normalise_lab_units",
    "normalise_unit_label",
]

_ENZYME = {"U/L": 1.0, "IU/L": 1.0, "µkat/L": 60.0, "ukat/L": 60.0}
#: Cell-count units. Counts per litre (10^9/L, G/L, /nL), per microlitre (10^3/µL, K/µL,
#: thou/µL) and per mm³ are exported by laboratories (UCUM ``10*9/L``, ``10*3/uL``; LabCorp
#: ``x10E3/uL``; French ``G/L``). ``10^3/mL`` and ``10^6/L`` (= 1/µL) are the "legacy USCV" units
#: of admiral's ``atoxgr_criteria_ctcv5_uscv`` (test-derive_var_atoxgr.R: "Legacy CV unit is
#: 10^3/mL (= 1000 * SI unit)"). A bare multiplier without a volume ("10^3", "K"), kilo-cells
#: per mL ("K/mL": kilo-count or a mistyped K/µL?) and per-litre powers other than 10^9 and 10^6
#: are refused as ambiguous.
_CELLS = {
    "10^9/L": 1.0,
    "x10^9/L": 1.0,
    "G/L": 1.0,
    "Giga/L": 1.0,
    "/nL": 1.0,
    "10^3/µL": 1.0,
    "10^3/mm3": 1.0,
    "K/µL": 1.0,
    "thou/µL": 1.0,
    "/mm3": 1e-3,
    "1/mm3": 1e-3,
    "/µL": 1e-3,
    "1/µL": 1e-3,
    "cells/µL": 1e-3,
    "10^3/mL": 1e-3,
    "10^6/L": 1e-3,
}

#: Canonical (SI) unit of each analyte; grading thresholds and derived columns use these.
CANONICAL_UNITS: dict[str, str] = {
    "bilirubin_total": "µmol/L",
    "albumin": "g/L",
    "alt": "U/L",
    "ast": "U/L",
    "alp": "U/L",
    "ggt": "U/L",
    "inr": "ratio",
    "prothrombin_pct": "%",
    "platelets": "10^9/L",
    "lymphocytes": "10^9/L",
    "neutrophils": "10^9/L",
    "wbc": "10^9/L",
    "haemoglobin": "g/L",
    "creatinine": "µmol/L",
    "sodium": "mmol/L",
    "afp": "ng/mL",
    "cea": "ng/mL",
    "ca19_9": "U/mL",
}

#: Accepted units per analyte: ``{analyte: {unit: factor}}``, where ``value_in_unit × factor``
#: is the value in ``CANONICAL_UNITS[analyte]``. Keys are display spellings; use
#: :func:`is_accepted_unit` / :func:`compute_unit_factor` for lenient matching.
ACCEPTED_UNITS: dict[str, dict[str, float]] = {
    "bilirubin_total": {"µmol/L": 1.0, "umol/L": 1.0, "mg/dL": 17.1, "mg/L": 1.71},
    "albumin": {"g/L": 1.0, "g/dL": 10.0},
    "alt": dict(_ENZYME),
    "ast": dict(_ENZYME),
    "alp": dict(_ENZYME),
    "ggt": dict(_ENZYME),
    "inr": {"ratio": 1.0, "INR": 1.0, "1": 1.0},
    "prothrombin_pct": {"%": 1.0},
    "platelets": dict(_CELLS),
    "lymphocytes": dict(_CELLS),
    "neutrophils": dict(_CELLS),
    "wbc": dict(_CELLS),
    "haemoglobin": {"g/L": 1.0, "g/dL": 10.0, "mmol/L": 16.1145},
    "creatinine": {"µmol/L": 1.0, "umol/L": 1.0, "mg/dL": 88.4, "mg/L": 8.84},
    "sodium": {"mmol/L": 1.0, "mEq/L": 1.0},
    "afp": {"ng/mL": 1.0, "µg/L": 1.0, "IU/mL": 1.21, "kIU/L": 1.21},
    "cea": {"ng/mL": 1.0, "µg/L": 1.0},
    "ca19_9": {"U/mL": 1.0, "kU/L": 1.0},
}

_MICRO = re.compile(r"[µμ]|(?<![a-z])mc(?=[a-z])")
_POWER = re.compile(r"^(?:x|\*)?10(?:\^|\*\*|\*|e|E)?\(?(\d)\)?")


def normalise_unit_label(unit) -> str:
    """Canonical spelling key of a unit label, for lenient matching.

    Parameters
    ----------
    unit : str or None
        Unit as received, e.g. ``"µmol/L"``, ``"umol/l"``, ``"x10*9/L"``, ``"/mm³"``.

    Returns
    -------
    str
        Lower-case key without spaces: micro sign spelled ``u``, ``³`` spelled ``3``, powers of
        ten spelled ``10^n``, ``cells/`` dropped, ``iu/`` spelled ``u/``. Missing -> ``""``.

    Examples
    --------
    >>> normalise_unit_label(" µmol/L ")
    'umol/l'
    >>> normalise_unit_label("x10*9/L")
    '10^9/l'
    """
    if unit is None or (isinstance(unit, float) and np.isnan(unit)) or unit is pd.NA:
        return ""
    text = str(unit).strip().replace(" ", "").replace("³", "3").replace("×", "x")
    text = _MICRO.sub("u", text.replace("Μ", "µ"))
    text = text.lower()
    text = _POWER.sub(lambda m: f"10^{m.group(1)}", text)
    text = text.replace("cells/", "/")
    if text.startswith("iu/"):
        text = text[1:]
    if text.startswith("kiu/"):
        text = "k" + text[2:]
    return text


def _build_lookup(table: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    lookup: dict[str, dict[str, float]] = {}
    for analyte, units in table.items():
        keyed: dict[str, float] = {}
        for label, factor in units.items():
            key = normalise_unit_label(label)
            if key in keyed and keyed[key] != factor:  # pragma: no cover - table consistency
                raise ValueError(
                    f"ACCEPTED_UNITS[{analyte!r}]: {label!r} clashes with another unit"
                )
            keyed[key] = float(factor)
        lookup[analyte] = keyed
    return lookup


_LOOKUP = _build_lookup(ACCEPTED_UNITS)


def compute_unit_factor(analyte: str, unit) -> float:
    """Factor converting a value in ``unit`` to the canonical unit of ``analyte``.

    Parameters
    ----------
    analyte : str
        Analyte code of ``labs.analyte`` (e.g. ``"bilirubin_total"``).
    unit : str
        Unit as received (matched leniently, see :func:`normalise_unit_label`).

    Returns
    -------
    float
        Multiplicative factor to :data:`CANONICAL_UNITS` ``[analyte]``; NaN if the analyte or
        the unit is unknown.

    Examples
    --------
    >>> compute_unit_factor("bilirubin_total", "mg/dl")
    17.1
    >>> compute_unit_factor("platelets", "/mm³")
    0.001
    """
    return _LOOKUP.get(analyte, {}).get(normalise_unit_label(unit), float("nan"))


def is_accepted_unit(analyte: str, unit) -> bool:
    """Whether ``unit`` is an accepted unit for ``analyte``.

    Parameters
    ----------
    analyte : str
        Analyte code of ``labs.analyte``.
    unit : str
        Unit as received.

    Returns
    -------
    bool
        True if :func:`compute_unit_factor` knows the pair.

    Examples
    --------
    >>> is_accepted_unit("albumin", "g/dL"), is_accepted_unit("albumin", "mg/dL")
    (True, False)
    """
    return not np.isnan(compute_unit_factor(analyte, unit))


def _keys_text(rows: pd.DataFrame, columns: list[str], n: int = 3) -> str:
    parts = []
    for values in rows[columns].head(n).itertuples(index=False):
        shown = []
        for col, v in zip(columns, values, strict=True):
            if col == "sample_date" and pd.notna(v):
                shown.append(str(pd.Timestamp(v).date()))
            elif col == "unit":
                shown.append(repr(v))
            else:
                shown.append(str(v))
        parts.append("(" + ", ".join(shown) + ")")
    return ", ".join(parts)


def _unit_factors(analyte: pd.Series, unit: pd.Series) -> np.ndarray:
    """:func:`compute_unit_factor` of each row, computed once per distinct (analyte, unit)
    pair (a registry of millions of lab rows holds a few dozen pairs); missing values form
    one pair each, as :func:`compute_unit_factor` treats them alike."""
    a_codes, a_values = pd.factorize(analyte, use_na_sentinel=False)
    u_codes, u_values = pd.factorize(unit, use_na_sentinel=False)
    pair, inverse = np.unique(
        a_codes.astype(np.int64) * (len(u_values) + 1) + u_codes, return_inverse=True
    )
    per_pair = np.array(
        [
            compute_unit_factor(
                a_values[k // (len(u_values) + 1)], u_values[k % (len(u_values) + 1)]
            )
            for k in pair
        ],
        dtype=float,
    )
    return per_pair[inverse.reshape(-1)] if len(pair) else np.zeros(0, dtype=float)


def normalise_lab_units(df_labs: pd.DataFrame) -> pd.DataFrame:
    """Add SI values and reference limits to a labs table.

    Parameters
    ----------
    df_labs : DataFrame
        The ``labs`` table: ``patient_id`` (str), ``sample_date`` (datetime64), ``analyte``
        (str, labs.yaml codes), ``value`` (float, unit of the row), ``unit`` (str); optional
        ``lln`` and ``uln`` (float, unit of the row).

    Returns
    -------
    DataFrame
        A copy with the same rows, order and index, plus ``value_si``, ``lln_si``, ``uln_si``
        (float, in ``unit_si``), ``unit_si`` (str, :data:`CANONICAL_UNITS`) and
        ``unit_factor`` (float, the factor applied).

    Raises
    ------
    SirtDataError
        If a required column is missing, or if any row has an analyte or a unit that is not in
        :data:`ACCEPTED_UNITS`; the error names the first rows (patient_id, sample_date,
        analyte, unit) and keeps them all in ``.rows``.

    Notes
    -----
    ``value_si = value × factor``; the same factor converts LLN and ULN, so a row's value and
    its limits stay comparable. Missing values and limits stay missing.

    Examples
    --------
    >>> import pandas as pd
    >>> labs = pd.DataFrame({
    ...     "patient_id": ["P1", "P1"],
    ...     "sample_date": pd.to_datetime(["2024-01-02", "2024-01-02"]),
    ...     "analyte": ["bilirubin_total", "platelets"],
    ...     "value": [2.0, 150000.0], "unit": ["mg/dL", "/mm3"],
    ...     "lln": [None, 150000.0], "uln": [1.2, 400000.0],
    ... })
    >>> normalise_lab_units(labs)[["analyte", "value_si", "unit_si", "uln_si"]]
               analyte  value_si unit_si  uln_si
    0  bilirubin_total      34.2  µmol/L   20.52
    1        platelets     150.0  10^9/L  400.00
    """
    required = ["patient_id", "sample_date", "analyte", "value", "unit"]
    missing = [c for c in required if c not in df_labs.columns]
    if missing:
        raise SirtDataError(
            f"labs: missing required column(s) {missing}.",
            table="labs",
            column=missing[0],
            rule="required column",
        )
    out = df_labs.copy()
    factors = _unit_factors(out["analyte"], out["unit"])
    bad = np.isnan(factors)
    if bad.any():
        rows = df_labs[bad]
        accepted = "; ".join(
            f"{a}: {', '.join(ACCEPTED_UNITS[a])}"
            for a in sorted({a for a in rows["analyte"] if a in ACCEPTED_UNITS})
        )
        unknown_analytes = sorted({str(a) for a in rows["analyte"] if a not in ACCEPTED_UNITS})
        detail = f" Unknown analyte(s): {unknown_analytes}." if unknown_analytes else ""
        raise SirtDataError(
            f"labs.unit: {int(bad.sum())} rows have a unit that is not accepted for their "
            f"analyte; first keys (patient_id, sample_date, analyte, unit): "
            f"{_keys_text(rows, ['patient_id', 'sample_date', 'analyte', 'unit'])}.{detail} "
            f"Accepted units: {accepted or 'see sirtstats.units.ACCEPTED_UNITS'}. Fix the unit "
            "in the source table (sirtstats.units.ACCEPTED_UNITS lists every accepted unit).",
            table="labs",
            column="unit",
            rule="unit accepted for analyte",
            rows=rows,
        )
    out["unit_factor"] = factors
    out["unit_si"] = out["analyte"].map(CANONICAL_UNITS)
    out["value_si"] = pd.to_numeric(out["value"], errors="coerce").astype(float) * factors
    for limit in ("lln", "uln"):
        raw = out[limit] if limit in out.columns else pd.Series(np.nan, index=out.index)
        out[f"{limit}_si"] = pd.to_numeric(raw, errors="coerce").astype(float) * factors
    return out
