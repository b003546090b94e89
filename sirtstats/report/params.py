"""Typed report parameters, validated before any notebook runs.

papermill injects whatever it is given: ``-p cutoff_date 2026`` arrives in the notebook as the
integer 2026 and fails (or, worse, runs) three cells later. The runner therefore checks every
parameter here first, against a typed specification (:data:`PARAMETER_SPECS`: name, type,
default, help, allowed values), and passes the notebooks only clean, JSON-able values. Allowed
values for ``diagnoses``, ``devices`` and ``criterion`` are read from ``data_schema/`` so the
registry data model stays the single source of truth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from sirtstats.report.periods import Period, parse_period

__all__ = [
    "COMMON_NOTEBOOK_PARAMETERS",
    "PARAMETER_SPECS",
    "InvalidParameterError",
    "ParameterSpec",
    "ReportParameters",
    "allowed_values",
    "validate_parameters",
]


class InvalidParameterError(ValueError, TypeError):
    """A report parameter has the wrong type or value (like sklearn's InvalidParameterError)."""


@dataclass(frozen=True)
class ParameterSpec:
    """One report parameter.

    Parameters
    ----------
    name : str
        Parameter name, as in the notebooks' ``parameters`` cell.
    type : {"str", "date", "list[str]"}
        Expected type after validation.
    default : object
        Default value (``None`` = derived: the period end for ``cutoff_date``, the notebook's own
        default for ``criterion``).
    help : str
        One-line help, shown by ``sirtstats report --help``.
    choices_from : tuple of str, optional
        ``(table, column)`` in ``data_schema/`` whose enum gives the allowed values.
    """

    name: str
    type: str
    default: object
    help: str
    choices_from: tuple[str, str] | None = None


#: The parameters the runner knows, in display order.
PARAMETER_SPECS: tuple[ParameterSpec, ...] = (
    ParameterSpec("period", "str", "auto",
                  "quarter YYYYQn, or 'auto' = last completed quarter"),
    ParameterSpec("data_path", "str", "demo",
                  "registry folder, or 'demo' for the bundled demo registry"),
    ParameterSpec("cutoff_date", "date", None,
                  "data cut-off (ISO date); default = end of the period"),
    ParameterSpec("output_dir", "str", "",
                  "report folder (set by the runner); empty = nothing written"),
    ParameterSpec("diagnoses", "list[str]", [], "cohort filter on primary tumour; [] = all",
                  ("patients", "primary_tumour")),
    ParameterSpec("devices", "list[str]", [], "cohort filter on microsphere device; [] = all",
                  ("treatments", "device")),
    ParameterSpec("criterion", "str", None, "response criterion; default = each notebook's own",
                  ("imaging_assessments", "criterion")),
)

_SPECS = {spec.name: spec for spec in PARAMETER_SPECS}

#: Parameters every report notebook must declare in its ``parameters`` cell.
COMMON_NOTEBOOK_PARAMETERS: tuple[str, ...] = ("data_path", "cutoff_date", "output_dir")


@cache
def allowed_values(name: str) -> tuple[str, ...] | None:
    """Allowed values of parameter ``name`` (from ``data_schema/``), or None if unrestricted.

    Examples
    --------
    >>> allowed_values("criterion")
    ('RECIST_1_1', 'mRECIST')
    """
    spec = _SPECS[name]
    if spec.choices_from is None:
        return None
    from sirtstats.schema import load_schema

    table, column = spec.choices_from
    return tuple(load_schema(table).field(column).enum)


@dataclass(frozen=True)
class ReportParameters:
    """Validated, typed report parameters.

    Attributes
    ----------
    period : Period
        The reported quarter.
    data_path : str
        ``"demo"`` or an absolute registry folder path.
    cutoff_date : datetime.date
        Data cut-off (nothing after it counts).
    diagnoses, devices : tuple of str
        Cohort filters in the schema's spelling; empty = all.
    criterion : str or None
        Response criterion, or None for each notebook's own default.
    """

    period: Period
    data_path: str = "demo"
    cutoff_date: dt.date | None = None
    diagnoses: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    criterion: str | None = None

    def for_notebook(self, declared, *, output_dir) -> dict:
        """JSON-able parameters to inject into a notebook that declares the names ``declared``.

        Parameters
        ----------
        declared : collection of str
            Parameter names found in the notebook's ``parameters`` cell.
        output_dir : str or Path
            The report (attempt) folder the notebook writes into.

        Returns
        -------
        dict
            Only the declared names; ``criterion`` only when set.
        """
        values = {
            "period": self.period.label,
            "data_path": self.data_path,
            "cutoff_date": self.cutoff_date.isoformat(),
            "output_dir": str(output_dir),
            "diagnoses": list(self.diagnoses),
            "devices": list(self.devices),
        }
        if self.criterion is not None:
            values["criterion"] = self.criterion
        return {k: v for k, v in values.items() if k in set(declared)}

    def to_dict(self) -> dict:
        """JSON-able view for manifest.json."""
        out = asdict(self)
        out["period"] = self.period.label
        out["cutoff_date"] = self.cutoff_date.isoformat()
        out["diagnoses"] = list(self.diagnoses)
        out["devices"] = list(self.devices)
        return out


def _fail(name, expected, value):
    raise InvalidParameterError(
        f"The '{name}' parameter of sirtstats report must be {expected}. Got {value!r} instead."
    )


def _as_str(name, value):
    if not isinstance(value, str):
        _fail(name, "a str", value)
    return value.strip()


def _as_date(name, value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    return _fail(name, "an ISO date 'YYYY-MM-DD'", value)


def _as_choice(name, value, choices):
    if choices is None:
        return value
    lookup = {c.lower(): c for c in choices}
    key = value.lower()
    if key not in lookup:
        _fail(name, f"one of {{{', '.join(repr(c) for c in choices)}}}", value)
    return lookup[key]


def _as_list(name, value, choices):
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in (part.strip() for part in value.split(",")) if v]
    if not isinstance(value, list | tuple):
        _fail(name, "a list of str", value)
    out = []
    for item in value:
        if not isinstance(item, str):
            _fail(name, "a list of str", value)
        canon = _as_choice(name, item.strip(), choices)
        if canon not in out:
            out.append(canon)
    return tuple(out)


def validate_parameters(raw: Mapping | None = None, *, today: dt.date | None = None,
                        check_paths: bool = True) -> ReportParameters:
    """Check types and values of report parameters and return them typed.

    Parameters
    ----------
    raw : mapping, optional
        Parameter name -> value as given (CLI strings, YAML, or papermill-style typed values).
        Missing names take the defaults of :data:`PARAMETER_SPECS`. ``None`` values mean
        "default". Lists may be given as comma-separated strings (``"HCC,ICC"``).
    today : datetime.date, optional
        Clock for ``period="auto"``.
    check_paths : bool, default True
        Check that a ``data_path`` other than ``"demo"`` is an existing folder (and make it
        absolute: notebooks run with ``cwd=notebooks/``).

    Returns
    -------
    ReportParameters

    Raises
    ------
    InvalidParameterError
        Unknown name, wrong type (e.g. the int 2026 for ``period``), bad period or date, a value
        outside the schema's enum, a cut-off after the period end... The message names the
        parameter and shows the value received.

    Examples
    --------
    >>> p = validate_parameters({"period": "2026Q3", "diagnoses": "hcc"})
    >>> p.cutoff_date.isoformat(), p.diagnoses
    ('2026-09-30', ('HCC',))
    """
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(_SPECS))
    if unknown:
        raise InvalidParameterError(
            f"Unknown parameter(s) {unknown} for sirtstats report; valid names are "
            f"{{{', '.join(repr(n) for n in _SPECS)}}}."
        )
    values = {name: (spec.default if raw.get(name) is None else raw[name])
              for name, spec in _SPECS.items()}

    period_value = values["period"]
    if not isinstance(period_value, str | Period):
        _fail("period", "'auto' or a quarter 'YYYYQn' (str)", period_value)
    try:
        period = parse_period(period_value, today=today)
    except ValueError as exc:
        raise InvalidParameterError(str(exc)) from None

    data_path = _as_str("data_path", values["data_path"]) or "demo"
    if data_path.lower() == "demo":
        data_path = "demo"
    elif check_paths:
        path = Path(data_path).expanduser()
        if not path.is_dir():
            _fail("data_path", "'demo' or an existing registry folder", data_path)
        data_path = str(path.resolve())

    cutoff = period.end if values["cutoff_date"] is None else _as_date(
        "cutoff_date", values["cutoff_date"])

    criterion = values["criterion"]
    if criterion is not None:
        criterion = _as_choice("criterion", _as_str("criterion", criterion),
                               allowed_values("criterion"))

    return ReportParameters(
        period=period,
        data_path=data_path,
        cutoff_date=cutoff,
        diagnoses=_as_list("diagnoses", values["diagnoses"], allowed_values("diagnoses")),
        devices=_as_list("devices", values["devices"], allowed_values("devices")),
        criterion=criterion,
    )
