"""Private argument and input checks shared by every sirtstats module.

One place for the two checks every public function makes: an option takes one of a fixed set of
values (scikit-learn's message shape), and a table has the columns a function needs (a
:class:`~sirtstats.exceptions.SirtDataError` naming the table and the first missing column).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from sirtstats.exceptions import SirtDataError

__all__ = ["check_choice", "check_frame_argument", "match_choice", "require_columns"]


def _braced(values: Iterable) -> str:
    """``{'a', 'b'}`` in the values' own order (a ``set`` would print in hash order)."""
    return "{" + ", ".join(repr(v) for v in values) + "}"


def check_choice(value, allowed, argument: str, function: str) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``.

    Parameters
    ----------
    value : object
        Value given for the argument.
    allowed : iterable
        Accepted values.
    argument : str
        Argument name, for the message.
    function : str
        Name of the public function, for the message.

    Raises
    ------
    ValueError
        ``The 'criterion' argument of f must be one of {'mRECIST', 'RECIST_1_1'}. Got 'x'
        instead.``
    """
    allowed = tuple(allowed)
    if value not in allowed:
        allowed_txt = _braced(allowed)
        raise ValueError(
            f"The '{argument}' argument of {function} must be one of {allowed_txt}. "
            f"Got {value!r} instead."
        )


def match_choice(value, allowed, argument: str, function: str) -> str:
    """Return the allowed keyword that ``value`` matches case-insensitively.

    Parameters
    ----------
    value : object
        Value given for the argument (e.g. ``"sangro"`` for ``"Sangro"``).
    allowed : iterable of str
        Accepted keywords, in their canonical spelling.
    argument : str
        Argument name, for the message.
    function : str
        Name of the public function, for the message.

    Returns
    -------
    str
        The canonical spelling.

    Raises
    ------
    ValueError
        As :func:`check_choice` when nothing matches.
    """
    allowed = tuple(allowed)
    if isinstance(value, str):
        for keyword in allowed:
            if value.lower() == keyword.lower():
                return keyword
    check_choice(value, allowed, argument, function)
    return value  # pragma: no cover - check_choice raised


def require_columns(
    df: pd.DataFrame, columns: Iterable[str], table: str, function: str | None = None
) -> None:
    """Raise :class:`SirtDataError` when ``df`` lacks any of ``columns``.

    Parameters
    ----------
    df : DataFrame
        Input table.
    columns : iterable of str
        Columns the caller needs.
    table : str
        Table (or argument) name used in the message.
    function : str, optional
        Name of the public function that needs them.

    Raises
    ------
    SirtDataError
        With ``table``, ``column`` (the first missing one) and ``rule="required column"``.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        by = f" required by {function}" if function else ""
        raise SirtDataError(
            f"{table}: missing required column(s) {missing}{by}.",
            table=table,
            column=missing[0],
            rule="required column",
        )


def check_frame_argument(df, columns: Iterable[str], argument: str, function: str) -> None:
    """Raise ``ValueError`` unless ``df`` is a DataFrame holding ``columns``.

    For arguments that must be a frame computed by sirtstats (e.g. what a plot draws): a
    wrong frame is a programming error, not bad clinical data.

    Parameters
    ----------
    df : object
        Value given for the argument.
    columns : iterable of str
        Columns the function needs.
    argument : str
        Argument name, for the message.
    function : str
        Name of the public function, for the message.

    Raises
    ------
    ValueError
        ``The 'df_curve' argument of plot_roc lacks column(s) ['fpr']. Got columns [...]
        instead.``
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"The '{argument}' argument of {function} must be a DataFrame. "
                         f"Got {type(df).__name__} instead.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"The '{argument}' argument of {function} lacks column(s) {missing}. "
                         f"Got columns {list(df.columns)} instead.")
