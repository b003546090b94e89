"""The CTCAE v5.0 term list (term, system organ class) and the coding of reported AE terms.

The list is package data, ``sirtstats/data/ctcae_v5_terms.csv`` (one row per term: ``term``,
``soc``), transcribed from NCI, *Common Terminology Criteria for Adverse Events (CTCAE) v5.0*
(27 November 2017); ``sirtstats/data/README.md`` says which part of the 837 terms it holds.
A reported term is *coded* when it equals a listed term after case folding and whitespace
normalisation (rule T4.5, ``docs/rules/toxicity.md``); anything else is shown as
:data:`UNCODED_LABEL` in tables and figures and listed for data review, so free text never
reaches a table.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

__all__ = [
    "CTCAE_TERMS_FILE",
    "UNCODED_LABEL",
    "code_adverse_events",
    "code_terms",
    "list_uncoded_terms",
    "load_ctcae_terms",
]

#: Package-data file of the term list (``sirtstats/data/``).
CTCAE_TERMS_FILE: str = "ctcae_v5_terms.csv"

#: What tables show instead of a term (or SOC) that is not in the CTCAE v5.0 list.
UNCODED_LABEL: str = "Other (uncoded)"


@cache
def _terms() -> pd.DataFrame:
    path = resources.files("sirtstats").joinpath("data", CTCAE_TERMS_FILE)
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def load_ctcae_terms() -> pd.DataFrame:
    """The CTCAE v5.0 terms shipped with sirtstats.

    Returns
    -------
    DataFrame
        ``term`` and ``soc`` (system organ class), one row per term, sorted by term.

    Examples
    --------
    >>> terms = load_ctcae_terms()
    >>> terms.loc[terms["term"] == "Ascites", "soc"].item()
    'Gastrointestinal disorders'
    """
    return _terms().copy()


def _key(values: pd.Series) -> pd.Series:
    return values.astype("string").str.split().str.join(" ").str.casefold()


@cache
def _lookup(kind: str) -> dict[str, str]:
    col = _terms()[kind].drop_duplicates()
    return dict(zip(_key(col), col, strict=True))


def code_terms(values: pd.Series, *, kind: str = "term") -> pd.Series:
    """Each value in the CTCAE v5.0 spelling, or :data:`UNCODED_LABEL` when it is not listed.

    Parameters
    ----------
    values : Series
        Reported AE terms (``kind="term"``) or system organ classes (``kind="soc"``).
    kind : {"term", "soc"}, default "term"
        Which list the values are coded against.

    Returns
    -------
    Series
        Same index; missing values stay missing (rule T4.5).

    Examples
    --------
    >>> code_terms(pd.Series(["nausea", "Nausea - see notes", None])).tolist()
    ['Nausea', 'Other (uncoded)', None]
    """
    if kind not in ("term", "soc"):
        raise ValueError(f"The 'kind' argument of code_terms must be one of {{'term', 'soc'}}. "
                         f"Got {kind!r} instead.")
    lookup = _lookup(kind)
    coded = _key(values).map(lambda k: lookup.get(k, UNCODED_LABEL) if isinstance(k, str)
                             else None)
    return pd.Series(coded.astype(object).where(values.notna(), None), index=values.index,
                     name=values.name)


def code_adverse_events(df_ae: pd.DataFrame, *, term_col: str = "ae_term",
                        soc_col: str = "soc") -> pd.DataFrame:
    """Adverse events with the term and SOC coded (:func:`code_terms`; rule T4.5).

    Parameters
    ----------
    df_ae : DataFrame
        Adverse events (``term_col``; ``soc_col`` when present).
    term_col, soc_col : str
        Term and system organ class columns.

    Returns
    -------
    DataFrame
        A copy in which a term (or SOC) outside the CTCAE v5.0 list reads
        :data:`UNCODED_LABEL`, so that AE tables and figures never show free text.
    """
    out = df_ae.copy()
    out[term_col] = code_terms(out[term_col], kind="term")
    if soc_col in out.columns:
        out[soc_col] = code_terms(out[soc_col], kind="soc")
    return out


def list_uncoded_terms(df_ae: pd.DataFrame, *, term_col: str = "ae_term",
                       soc_col: str = "soc") -> pd.DataFrame:
    """The reported terms (and SOCs) that are not in the CTCAE v5.0 list, for data review.

    Parameters
    ----------
    df_ae : DataFrame
        Adverse events.
    term_col, soc_col : str
        Term and system organ class columns.

    Returns
    -------
    DataFrame
        ``column``, ``reported`` (the text as reported) and ``n_events``, sorted.
    """
    parts = []
    for col, kind in ((term_col, "term"), (soc_col, "soc")):
        if col not in df_ae.columns:
            continue
        values = df_ae[col]
        bad = values[code_terms(values, kind=kind) == UNCODED_LABEL]
        counts = bad.value_counts().rename_axis("reported").reset_index(name="n_events")
        parts.append(counts.assign(column=col)[["column", "reported", "n_events"]])
    if not parts:
        return pd.DataFrame(columns=["column", "reported", "n_events"])
    return pd.concat(parts, ignore_index=True).sort_values(
        ["column", "reported"], kind="mergesort").reset_index(drop=True)
