"""Typed report parameters, validated before any notebook runs.

papermill injects whatever it is given: ``-p cutoff_date 2026`` arrives in the notebook as the
integer 2026 and fails (or, worse, runs) three cells later. The runner therefore checks every
parameter here first, against a typed specification (:data:`PARAMETER_SPECS`: name, type,
default, help, allowed values), and passes the notebooks only clean, JSON-able values. Allowed
values for ``diagnoses``, ``devices`` and ``criterion`` are read from ``data_schema/`` so the
registry data model stays the single source of truth.

The second half of this module types the notebooks' *own* parameters (``-p NAME=VALUE``,
``-p 03:strata=primary_tumour``, the ``parameters:`` block of ``--config report.yaml``): each
value is checked against the name, annotation and default the notebook's ``parameters`` cell
declares (:func:`resolve_notebook_parameters`), before any notebook runs.

Everything is importable from here; :func:`validate_parameters` lives here, the rest in
private modules beside it: ``_params_specs`` (the report parameters' specification and
:class:`ReportParameters`), ``_params_types`` (a notebook parameter's type),
``_params_values`` (reading text, checking values) and ``_params_overrides`` (the user's
``-p``/``--config`` values, resolved against the notebooks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from sirtstats.report._params_overrides import (
    ParameterOverride,
    describe_notebook_parameters,
    overrides_from_mapping,
    parse_assignment,
    report_level_overrides,
    resolve_notebook_parameters,
)
from sirtstats.report._params_specs import (
    _SPECS,
    COMMON_NOTEBOOK_PARAMETERS,
    PARAMETER_CHOICES,
    PARAMETER_SPECS,
    RUNNER_PARAMETERS,
    InvalidParameterError,
    ParameterSpec,
    ReportParameters,
    allowed_values,
)
from sirtstats.report._params_types import _NO_DEFAULT as _NO_DEFAULT
from sirtstats.report._params_types import NotebookParameterType, parameter_type
from sirtstats.report._params_types import _default_value as _default_value
from sirtstats.report.periods import Period, parse_period

__all__ = [
    "COMMON_NOTEBOOK_PARAMETERS",
    "PARAMETER_CHOICES",
    "PARAMETER_SPECS",
    "RUNNER_PARAMETERS",
    "InvalidParameterError",
    "NotebookParameterType",
    "ParameterOverride",
    "ParameterSpec",
    "ReportParameters",
    "allowed_values",
    "describe_notebook_parameters",
    "overrides_from_mapping",
    "parameter_type",
    "parse_assignment",
    "report_level_overrides",
    "resolve_notebook_parameters",
    "validate_parameters",
]


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
        return None
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

    threshold = values["small_cell_threshold"]
    if isinstance(threshold, str) and threshold.strip().isdigit():
        threshold = int(threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        _fail("small_cell_threshold", "an int >= 1", threshold)
    return ReportParameters(
        disclosure=_as_choice("disclosure", _as_str("disclosure", values["disclosure"]),
                              ("internal", "shareable")),
        small_cell_threshold=threshold,
        period=period,
        data_path=data_path,
        cutoff_date=cutoff,
        diagnoses=_as_list("diagnoses", values["diagnoses"], allowed_values("diagnoses")),
        devices=_as_list("devices", values["devices"], allowed_values("devices")),
        criterion=criterion,
        centres=_as_list("centres", values["centres"], None),
    )
