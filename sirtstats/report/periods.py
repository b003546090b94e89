"""Report periods: calendar quarters written ``YYYYQn``.

A quarterly report covers everything up to the end of its quarter: the data cut-off defaults to
the quarter's last day (2026Q3 -> 2026-09-30). ``auto`` means the last *completed* quarter
relative to today (on 2026-11-27, ``auto`` is 2026Q3). The clock is an argument so that tests
never depend on the real date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["PERIOD_PATTERN", "Period", "parse_period"]

#: A period label: four-digit year, "Q", quarter 1-4 (case-insensitive on input).
PERIOD_PATTERN = re.compile(r"^(\d{4})[Qq]([1-4])$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter.

    Parameters
    ----------
    year : int
        Calendar year (1900-2999).
    quarter : int
        Quarter, 1 (Jan-Mar) to 4 (Oct-Dec).
    """

    year: int
    quarter: int

    def __post_init__(self):
        if not 1 <= self.quarter <= 4:
            raise ValueError("The 'quarter' argument of Period must be in 1..4. "
                             f"Got {self.quarter!r} instead.")

    @property
    def label(self) -> str:
        """The period as written in folder names, e.g. ``"2026Q3"``."""
        return f"{self.year}Q{self.quarter}"

    @property
    def start(self) -> dt.date:
        """First day of the quarter."""
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        """Last day of the quarter (the default data cut-off)."""
        nxt = self.next()
        return dt.date(nxt.year, 3 * nxt.quarter - 2, 1) - dt.timedelta(days=1)

    def previous(self) -> Period:
        """The quarter before this one."""
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)

    def next(self) -> Period:
        """The quarter after this one."""
        if self.quarter == 4:
            return Period(self.year + 1, 1)
        return Period(self.year, self.quarter + 1)

    @classmethod
    def containing(cls, day: dt.date) -> Period:
        """The quarter that contains ``day``."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return self.label


def parse_period(text, *, today: dt.date | None = None) -> Period:
    """Parse ``"YYYYQn"`` or ``"auto"`` into a :class:`Period`.

    Parameters
    ----------
    text : str or Period
        ``"2026Q3"`` (case-insensitive ``q``), or ``"auto"`` for the last completed quarter.
    today : datetime.date, optional
        The clock for ``"auto"``; defaults to the real date (tests inject one).

    Returns
    -------
    Period

    Raises
    ------
    ValueError
        If ``text`` is neither ``"auto"`` nor a ``YYYYQn`` label.

    Examples
    --------
    >>> import datetime as dt
    >>> parse_period("auto", today=dt.date(2026, 11, 27)).label
    '2026Q3'
    >>> parse_period("2026Q3").end
    datetime.date(2026, 9, 30)
    >>> parse_period("2025q1").previous().label
    '2024Q4'
    """
    if isinstance(text, Period):
        return text
    value = str(text).strip()
    if value.lower() == "auto":
        today = today or dt.date.today()
        return Period.containing(today).previous()
    match = PERIOD_PATTERN.match(value)
    if not match:
        raise ValueError(
            f"The 'period' argument of sirtstats report must be 'auto' or a quarter written "
            f"YYYYQn (e.g. '2026Q3'). Got {text!r} instead."
        )
    return Period(int(match.group(1)), int(match.group(2)))
