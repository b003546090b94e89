"""Reading registry files (CSV, XLSX, Parquet) as text, with locale and encoding sniffing.

Every cell is read as a string (nothing is converted yet): :mod:`sirtstats.validation` parses
each column according to its schema type and records every cell that fails. Files are opened
read-only; nothing here writes.

CSV conventions handled
-----------------------
- Encoding: UTF-8 with or without byte-order mark; otherwise Windows-1252 (the superset of
  Latin-1 that French Excel writes), falling back to Latin-1.
- Separator: ``,``, ``;`` or tab, detected from the header line. With ``;`` or tab a decimal
  comma (``12,5``) is accepted in numeric columns (French-locale exports).
- Row numbers: ``row`` is the 1-based record number in the file with the header as row 1, so the
  first data row is row 2 (equal to the line number unless a quoted field spans lines). For XLSX
  it is the spreadsheet row (header in row 1); for Parquet the record index + 2.
- Blank lines are kept for numbering and ignored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = [
    "SUFFIXES",
    "unique_headers",
    "TableFile",
    "find_table_files",
    "hash_file",
    "read_table_file",
]

#: Accepted file suffixes, in order of preference when a table has several files.
SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")

_SEPARATORS = (",", ";", "\t")


@dataclass
class TableFile:
    """A registry file read as text.

    Attributes
    ----------
    path : Path
        The file.
    data : DataFrame
        All cells as ``str`` (missing = ``""``), original header names, index = row number in
        the file (header = row 1). Blank rows are dropped.
    encoding, separator : str
        Detected encoding and separator (CSV only; ``""`` otherwise).
    decimal_comma : bool
        Whether ``12,5`` means 12.5 in this file.
    needs_strip : bool
        False when no cell can have leading or trailing spaces (CSV scan), so parsing may
        skip stripping.
    problems : list of dict
        File-level problems found while reading (``row``, ``column``, ``value``, ``rule``,
        ``severity``).
    """

    path: Path
    data: pd.DataFrame
    encoding: str = ""
    separator: str = ""
    decimal_comma: bool = False
    problems: list = field(default_factory=list)
    needs_strip: bool = True


def hash_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_table_files(folder: str | Path) -> tuple[dict[str, Path], list[Path]]:
    """Map table names to files in ``folder``.

    Parameters
    ----------
    folder : str or Path
        Registry folder holding ``<table>.csv|.tsv|.txt|.xlsx|.parquet`` files.

    Returns
    -------
    files : dict of str to Path
        One file per table stem (lower-cased), preferring suffixes in :data:`SUFFIXES` order.
    duplicates : list of Path
        Further files with the same stem (not read; reported by the caller).
    """
    files: dict[str, Path] = {}
    duplicates: list[Path] = []
    candidates = sorted(
        (p for p in Path(folder).iterdir()
         if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "~$"))),
        key=lambda p: (p.stem.lower(), SUFFIXES.index(p.suffix.lower()), p.name),
    )
    for p in candidates:
        stem = p.stem.lower()
        if stem in files:
            duplicates.append(p)
        else:
            files[stem] = p
    return files, duplicates


def _decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _sniff_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _problem(row, column, value, rule, severity="error") -> dict:
    return {"row": row, "column": column, "value": value, "rule": rule, "severity": severity}


def _read_csv_text(text: str, sep: str, problems: list) -> pd.DataFrame:
    kw = {"sep": sep, "dtype": str, "keep_default_na": False, "na_filter": False,
          "skip_blank_lines": False, "quotechar": '"', "header": None}
    try:
        df = pd.read_csv(io.StringIO(text), engine="c", **kw)
    except pd.errors.ParserError:
        df = None
    if df is not None and len(df):
        header = df.iloc[0].tolist()
        df = df.iloc[1:]
        df.index = df.index + 1
        df.columns = unique_headers(header)
        return df
    # Ragged rows: find them with the csv module (error path only), report, read the rest.
    rows = list(csv.reader(io.StringIO(text), delimiter=sep, quotechar='"'))
    header, body = rows[0], rows[1:]
    n = len(header)
    good = []
    index = []
    for i, fields in enumerate(body, start=2):
        if len(fields) > n:
            problems.append(_problem(
                i, "", "", f"wrong number of fields: expected {n}, got {len(fields)} "
                "(check the separator and quoting)"))
            continue
        good.append(fields + [""] * (n - len(fields)))
        index.append(i)
    return pd.DataFrame(good, columns=unique_headers(header), index=index, dtype=object)


def unique_headers(header) -> list[str]:
    """Header names made unique: a repeated name gets ``"\\x00<k>"`` appended (k = 2, 3...).

    :func:`sirtstats.validation.check_header` reports such repeats as duplicate columns and
    shows the name before ``"\\x00"``.
    """
    seen: dict[str, int] = {}
    out = []
    for name in header:
        name = "" if name is None else str(name)
        k = seen.get(name, 0) + 1
        seen[name] = k
        out.append(name if k == 1 else f"{name}\x00{k}")
    return out


def _drop_blank_rows(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty or df.shape[1] == 0:
        return df
    blank = (df.to_numpy(dtype=object) == "").all(axis=1)
    return df[~blank] if blank.any() else df


def _has_padding(text: str, sep: str) -> bool:
    """Whether a space may start or end a cell (substring scans: fast on large files)."""
    if text[:1] in (" ", "\u00a0"):
        return True
    for space in (" ", "\u00a0"):
        for probe in (space + sep, sep + space, space + "\n", "\n" + space, space + "\r"):
            if probe in text:
                return True
    return text.endswith((" ", "\u00a0"))


def _read_csv(path: Path) -> TableFile:
    raw = path.read_bytes()
    problems: list = []
    if not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        problems.append(_problem(pd.NA, "", "", "empty file: expected a header line"))
        return TableFile(path, pd.DataFrame(dtype=object), problems=problems)
    text, encoding = _decode(raw)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    if path.suffix.lower() == ".tsv":
        sep = "\t"
    else:
        sep = _sniff_separator(first_line)
    df = _read_csv_text(text, sep, problems)
    df.columns = [str(c) for c in df.columns]
    df = df.astype(object).fillna("") if df.isna().any().any() else df
    return TableFile(path, _drop_blank_rows(df), encoding=encoding, separator=sep,
                     decimal_comma=sep != ",", problems=problems,
                     needs_strip=_has_padding(text, sep))


def _stringify(col: pd.Series) -> pd.Series:
    """Text of a typed column (Excel cells, Parquet columns); missing -> ""."""
    if pd.api.types.is_datetime64_any_dtype(col):
        is_midnight = (col.dropna() == col.dropna().dt.normalize()).all()
        fmt = "%Y-%m-%d" if is_midnight else "%Y-%m-%d %H:%M:%S"
        return col.dt.strftime(fmt).fillna("")
    if pd.api.types.is_bool_dtype(col) and not isinstance(col.dtype, pd.BooleanDtype):
        return col.map({True: "true", False: "false"})
    if pd.api.types.is_float_dtype(col):
        out = col.map(lambda v: "" if pd.isna(v) else repr(float(v)))
        return out.str.replace(r"\.0$", "", regex=True)
    mask = col.isna()
    out = col.astype(str)
    return out.where(~mask, "")


def _read_xlsx(path: Path) -> TableFile:
    problems: list = []
    try:
        df = pd.read_excel(path, sheet_name=0, dtype=object, header=None, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is a data problem
        problems.append(_problem(pd.NA, "", "", f"unreadable XLSX file ({type(exc).__name__})"))
        return TableFile(path, pd.DataFrame(dtype=object), problems=problems)
    if df.empty:
        problems.append(_problem(pd.NA, "", "", "empty file: expected a header line"))
        return TableFile(path, pd.DataFrame(dtype=object), problems=problems)
    header = unique_headers([_cell_text(v) for v in df.iloc[0].tolist()])
    body = df.iloc[1:]
    out = pd.DataFrame({h: body[c].map(_cell_text) for h, c in zip(header, df.columns,
                                                                   strict=True)})
    out.index = body.index + 1
    return TableFile(path, _drop_blank_rows(out), problems=problems)


_INT_FLOAT = re.compile(r"^-?\d+\.0$")


def _cell_text(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, pd.Timestamp) or hasattr(v, "strftime"):
        ts = pd.Timestamp(v)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime(
            "%Y-%m-%d %H:%M:%S")
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        text = repr(v)
        return text[:-2] if _INT_FLOAT.match(text) else text
    return str(v)


def _read_parquet(path: Path) -> TableFile:
    problems: list = []
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001
        problems.append(_problem(pd.NA, "", "", f"unreadable Parquet file ({type(exc).__name__})"))
        return TableFile(path, pd.DataFrame(dtype=object), problems=problems)
    df = df.reset_index(drop=True)
    out = pd.DataFrame({str(c): _stringify(df[c]) for c in df.columns}, index=df.index)
    out.index = out.index + 2
    return TableFile(path, out, problems=problems)


def read_table_file(path: str | Path) -> TableFile:
    """Read one registry file with every cell as text.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.tsv``, ``.txt``, ``.xlsx`` (first sheet) or ``.parquet`` file.

    Returns
    -------
    TableFile
        Cells as ``str`` (missing = ``""``), index = row number in the file (header = row 1).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_bytes("a;b\\n1,5;é\\n".encode("latin-1"))
    >>> tf = read_table_file(p)
    >>> tf.separator, tf.encoding, tf.decimal_comma
    (';', 'cp1252', True)
    >>> tf.data
         a  b
    2  1,5  é
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".parquet":
        return _read_parquet(path)
    return _read_csv(path)
