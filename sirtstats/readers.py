"""Reading registry files (CSV, XLSX, Parquet) as text, with locale and encoding sniffing.

Every cell is read as a string (nothing is converted yet): :mod:`sirtstats.validation` parses
each column according to its schema type and records every cell that fails. Files are opened
read-only; nothing here writes.

CSV conventions handled
-----------------------
- Encoding: UTF-8 with or without byte-order mark; UTF-16 LE or BE with its byte-order mark
  (Excel's "Unicode text"); otherwise Windows-1252 (the superset of Latin-1 that French Excel
  writes), falling back to Latin-1. A file with NUL bytes and no UTF-16 mark is not a text file.
- Separator: ``,``, ``;`` or tab, detected from the header line. With ``;`` or tab a decimal
  comma (``12,5``) is accepted in numeric columns (French-locale exports).
- Row numbers: ``row`` is the 1-based record number in the file with the header as row 1, so the
  first data row is row 2 (equal to the line number unless a quoted field spans lines). For XLSX
  it is the spreadsheet row (header in row 1); for Parquet the record index + 2.
- Blank lines are kept for numbering and ignored.
- A registry cell holds one line of text: a quoted cell that spans lines (an unclosed quote
  swallows the rows after it), holds a whole row's worth of separators or runs past
  :data:`MAX_CELL_CHARS` is reported with the line where it opens and the lines it swallowed.

Reading never raises for bad content: a file that cannot be opened, decoded or parsed is
reported as a file-level problem (row ``<NA>``) in :attr:`TableFile.problems`; the rules are
listed in :data:`READER_RULES`.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "MAX_CELL_CHARS",
    "READER_RULES",
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

#: Longest cell accepted, in characters (free-text fields of a registry are far shorter).
MAX_CELL_CHARS: int = 2_000

#: File-level and reading rules (id -> what the problem says), listed in the data dictionary.
READER_RULES: dict[str, str] = {
    "cannot_read": "cannot read the file (permission denied, a folder, or a symbolic link "
                   "loop)",
    "not_text": "not a text file (binary content, or UTF-16 without its byte-order mark)",
    "not_csv": "cannot be parsed as delimited text",
    "empty_file": "empty file: expected a header line",
    "ragged_row": "wrong number of fields",
    "multiline_cell": "a quoted cell spans several lines (unclosed quote?)",
    "row_in_cell": "a cell holds a whole row's worth of separators (unclosed quote?)",
    "cell_too_long": f"cell longer than {MAX_CELL_CHARS} characters",
}


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
        One file per table stem (a symbolic link counts, even a broken one: reading it reports
        the problem) (lower-cased), preferring suffixes in :data:`SUFFIXES` order.
    duplicates : list of Path
        Further files with the same stem (not read; reported by the caller).
    """
    files: dict[str, Path] = {}
    duplicates: list[Path] = []
    candidates = sorted(
        (p for p in Path(folder).iterdir()
         if (p.is_file() or p.is_symlink()) and p.suffix.lower() in SUFFIXES
         and not p.name.startswith((".", "~$"))),
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
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            return raw[2:].decode(codec, errors="replace"), codec
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


@contextlib.contextmanager
def _csv_field_limit(limit: int):
    """Let the csv module read long fields (they are reported, not fatal)."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, limit))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _read_csv_text(text: str, sep: str, problems: list,
                   utf8: bytes | None = None) -> pd.DataFrame | None:
    """Cells of ``text`` (``utf8``: the same text as UTF-8 bytes, read without a text copy)."""
    kw = {"sep": sep, "dtype": str, "keep_default_na": False, "na_filter": False,
          "skip_blank_lines": False, "quotechar": '"', "header": None}
    # The C parser tokenises UTF-8 bytes: given the file's bytes it skips encoding a text
    # buffer (io.StringIO holds 4 bytes a character: 400 MB more for a 100 MB labs.csv).
    source = io.StringIO(text) if utf8 is None else io.BytesIO(utf8)
    if utf8 is not None:
        kw["encoding"] = "utf-8"
    try:
        df = pd.read_csv(source, engine="c", **kw)
    except (pd.errors.ParserError, ValueError, OverflowError):
        df = None
    if df is not None and len(df):
        header = df.iloc[0].tolist()
        df = df.iloc[1:]
        df.index = df.index + 1
        df.columns = unique_headers(header)
        return df
    # Ragged rows: find them with the csv module (error path only), report, read the rest.
    try:
        with _csv_field_limit(len(text) + 1):
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep,
                                   quotechar='"'))
    except csv.Error as exc:
        problems.append(_problem(pd.NA, "", "", f"{READER_RULES['not_csv']} ({exc})"))
        return None
    header, body = rows[0], rows[1:]
    n = len(header)
    good = []
    index = []
    for i, fields in enumerate(body, start=2):
        if len(fields) > n:
            problems.append(_problem(
                i, "", "", f"{READER_RULES['ragged_row']}: expected {n}, got {len(fields)} "
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
    if " " not in text and "\u00a0" not in text:  # two scans instead of ten
        return False
    if text[:1] in (" ", "\u00a0"):
        return True
    for space in (" ", "\u00a0"):
        for probe in (space + sep, sep + space, space + "\n", "\n" + space, space + "\r"):
            if probe in text:
                return True
    return text.endswith((" ", "\u00a0"))


def _line_starts(df: pd.DataFrame) -> pd.Series:
    """Line of the file where each record starts (the header is line 1).

    A record with line breaks inside quoted cells shifts the lines of the records after it.
    """
    breaks = np.zeros(len(df), dtype=np.int64)
    for col in df.columns:
        breaks += df[col].str.count("\n").to_numpy()
    starts = 2 + np.arange(len(df)) + np.concatenate([[0], np.cumsum(breaks[:-1])])
    return pd.Series(starts, index=df.index)


def _may_hold_bad_cells(text: str) -> bool:
    """Whether any cell can span lines, hold separators or be too long (cheap scans)."""
    return '"' in text or max(map(len, text.splitlines()), default=0) > MAX_CELL_CHARS


def _check_cells(df: pd.DataFrame, sep: str, problems: list) -> pd.DataFrame:
    """Report quoted cells that span lines, hold a row of fields, or are implausibly long.

    Returns the data without the rows such a quote broke (they are reported, and checking
    their other cells would only repeat the problem) and with over-long cells emptied.
    """
    n = df.shape[1]
    suspects = []
    for col in df.columns:
        cells = df[col]
        long = cells.str.len() > MAX_CELL_CHARS
        quote_broke = cells.str.contains("[\r\n]", regex=True)
        if n >= 4:  # a whole row's worth of separators inside one cell
            quote_broke |= cells.str.count(re.escape(sep)) >= n - 1
        if (long | quote_broke).any():
            suspects.append((col, long, quote_broke))
    if not suspects:
        return df
    starts = _line_starts(df)
    broken = pd.Series(False, index=df.index)
    df = df.copy()
    for col, long, quote_broke in suspects:
        for row in df.index[long | quote_broke]:
            cell = df.at[row, col]
            if "\n" in cell or "\r" in cell:
                first = int(starts[row])
                k = max(cell.rstrip("\r\n").count("\n"), 1)
                rule = (f"{READER_RULES['multiline_cell']}: it opens on line {first} and "
                        f"swallows lines {first + 1}–{first + k}; a registry cell holds one line")
            elif quote_broke[row]:
                rule = f"{READER_RULES['row_in_cell']}: check the quoting of this row"
            else:
                rule = f"{READER_RULES['cell_too_long']} ({len(cell):,})"
            problems.append(_problem(row, str(col).split("\x00")[0], "", rule))
        broken |= quote_broke
        df.loc[long, col] = ""
    return df[~broken]


def _read_bytes(path: Path, problems: list, *, probe: bool = False) -> bytes | None:
    """The file's bytes (``b""`` when only probing), or None with a "cannot read" problem."""
    try:
        if probe:
            with open(path, "rb"):
                return b""
        return path.read_bytes()
    except OSError as exc:
        reason = {errno.EACCES: "permission denied", errno.EISDIR: "a folder",
                  errno.ELOOP: "a symbolic link loop"}.get(exc.errno, exc.strerror or "")
        problems.append(_problem(pd.NA, "", "", f"cannot read the file ({reason})"))
        return None


def _read_csv(path: Path) -> TableFile:
    problems: list = []
    raw = _read_bytes(path, problems)
    if raw is None:
        return TableFile(path, pd.DataFrame(dtype=object), problems=problems)
    if not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        problems.append(_problem(pd.NA, "", "", READER_RULES["empty_file"]))
        return TableFile(path, pd.DataFrame(dtype=object), problems=problems)
    text, encoding = _decode(raw)
    if "\x00" in text:
        problems.append(_problem(pd.NA, "", "", READER_RULES["not_text"]))
        return TableFile(path, pd.DataFrame(dtype=object), encoding=encoding,
                         problems=problems)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    if path.suffix.lower() == ".tsv":
        sep = "\t"
    else:
        sep = _sniff_separator(first_line)
    df = _read_csv_text(text, sep, problems, utf8=raw if encoding == "utf-8" else None)
    if df is None:
        return TableFile(path, pd.DataFrame(dtype=object), encoding=encoding, separator=sep,
                         problems=problems)
    df.columns = [str(c) for c in df.columns]
    df = df.astype(object).fillna("") if df.isna().any().any() else df
    if _may_hold_bad_cells(text):
        df = _check_cells(df, sep, problems)
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
    if _read_bytes(path, problems, probe=True) is None:
        return TableFile(path, pd.DataFrame(dtype=object), problems=problems)
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
    if _read_bytes(path, problems, probe=True) is None:
        return TableFile(path, pd.DataFrame(dtype=object), problems=problems)
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
