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
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

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
    ParameterSpec("diagnoses", "list[str]", None,
                  "cohort filter on primary tumour; default = each notebook's own, [] = all",
                  ("patients", "primary_tumour")),
    ParameterSpec("devices", "list[str]", None,
                  "cohort filter on first-SIRT device; default = each notebook's own, [] = all",
                  ("treatments", "device")),
    ParameterSpec("criterion", "str", None, "response criterion; default = each notebook's own",
                  ("imaging_assessments", "criterion")),
    ParameterSpec("disclosure", "str", "internal",
                  "'internal' (listings, ids, every count) or 'shareable' (no listing, no id, "
                  "counts below small_cell_threshold suppressed)"),
    ParameterSpec("small_cell_threshold", "int", 5,
                  "shareable report: counts 0 < n < this are suppressed"),
    ParameterSpec("centres", "list[str]", None,
                  "cohort filter on centre (patients.centre_id); default = all centres"),
)

_SPECS = {spec.name: spec for spec in PARAMETER_SPECS}

#: Parameters every report notebook must declare in its ``parameters`` cell.
COMMON_NOTEBOOK_PARAMETERS: tuple[str, ...] = ("data_path", "cutoff_date", "output_dir")

#: Notebook parameters the runner always sets itself (so every notebook reads the registry the
#: runner validated, at the report's cut-off, into the report folder), with the option that
#: sets each; ``-p`` refuses them.
RUNNER_PARAMETERS: dict[str, str] = {
    "period": "--period", "data_path": "--data", "cutoff_date": "--cutoff",
    "output_dir": "--output-root", "disclosure": "--disclosure",
    "small_cell_threshold": "--small-cell-threshold",
    "snapshot_path": "--data",  # the registry snapshot the runner writes (D46)
}

#: Parameters whose values are codes of the data model: ``(table, column)`` in ``data_schema/``
#: whose enum lists them. Values are matched case-insensitively and written in the schema's
#: spelling, for report parameters and notebook parameters alike.
PARAMETER_CHOICES: dict[str, tuple[str, str]] = {
    "diagnoses": ("patients", "primary_tumour"),
    "devices": ("treatments", "device"),
    "criterion": ("imaging_assessments", "criterion"),
    "criteria": ("imaging_assessments", "criterion"),
    "swimmer_criterion": ("imaging_assessments", "criterion"),
}


@cache
def allowed_values(name: str) -> tuple[str, ...] | None:
    """Allowed values of parameter ``name`` (from ``data_schema/``), or None if unrestricted.

    Examples
    --------
    >>> allowed_values("criterion")
    ('RECIST_1_1', 'mRECIST')
    >>> allowed_values("strata") is None
    True
    """
    spec = _SPECS.get(name)
    source = spec.choices_from if spec is not None else PARAMETER_CHOICES.get(name)
    if source is None:
        return None
    from sirtstats.schema import load_schema

    table, column = source
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
    diagnoses, devices : tuple of str or None
        Cohort filters in the schema's spelling; ``()`` = all; None = not set, so each
        notebook keeps the default of its own parameters cell (05: HCC).
    criterion : str or None
        Response criterion, or None for each notebook's own default.
    disclosure : {"internal", "shareable"}
        Report mode (decision D40, :mod:`sirtstats.disclosure`).
    small_cell_threshold : int
        Shareable report: counts ``0 < n <`` this are suppressed (D41).
    centres : tuple of str or None
        Cohort filter on ``patients.centre_id``; None or ``()`` = all centres.
    """

    period: Period
    data_path: str = "demo"
    cutoff_date: dt.date | None = None
    diagnoses: tuple[str, ...] | None = None
    devices: tuple[str, ...] | None = None
    criterion: str | None = None
    disclosure: str = "internal"
    small_cell_threshold: int = 5
    centres: tuple[str, ...] | None = None

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
            Only the declared names: the ones the runner always sets
            (:data:`RUNNER_PARAMETERS`: ``period``, ``data_path``, ``cutoff_date``,
            ``output_dir``), and ``diagnoses``, ``devices``, ``criterion`` only when set, so a
            notebook's own default stands otherwise.
        """
        values = {
            "period": self.period.label,
            "data_path": self.data_path,
            "cutoff_date": self.cutoff_date.isoformat(),
            "output_dir": str(output_dir),
            "disclosure": self.disclosure,
            "small_cell_threshold": self.small_cell_threshold,
        }
        if self.diagnoses is not None:
            values["diagnoses"] = list(self.diagnoses)
        if self.devices is not None:
            values["devices"] = list(self.devices)
        if self.criterion is not None:
            values["criterion"] = self.criterion
        if self.centres is not None:
            values["centres"] = list(self.centres)
        return {k: v for k, v in values.items() if k in set(declared)}

    def to_dict(self) -> dict:
        """JSON-able view for manifest.json."""
        out = asdict(self)
        out["period"] = self.period.label
        out["cutoff_date"] = self.cutoff_date.isoformat()
        out["diagnoses"] = None if self.diagnoses is None else list(self.diagnoses)
        out["devices"] = None if self.devices is None else list(self.devices)
        out["centres"] = None if self.centres is None else list(self.centres)
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


# --- notebook parameters (-p NAME=VALUE, -p NOTEBOOK:NAME=VALUE, --config) --------------------

_NO_DEFAULT = object()
_TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "list": "list",
               "tuple": "list", "List": "list", "Tuple": "list", "Sequence": "list",
               "dict": "dict", "Dict": "dict", "Mapping": "dict"}
_SCALARS = ("str", "int", "float", "bool")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_ASSIGNMENT = re.compile(r"^\s*(?:(?P<notebook>[\w-]+)\s*:)?\s*(?P<name>[A-Za-z_]\w*)\s*="
                         r"(?P<value>.*)$", re.DOTALL)


@dataclass(frozen=True)
class NotebookParameterType:
    """Type of a notebook parameter, read from its annotation, else from its default.

    Parameters
    ----------
    base : {"str", "int", "float", "bool", "list", "dict", "any"}
        Value type.
    item : {"str", "int", "float", "bool", "any"} or None
        Element type of a list.
    nullable : bool, default False
        None is allowed (``x: str | None = None``).
    """

    base: str
    item: str | None = None
    nullable: bool = False

    def describe(self) -> str:
        """The type as an error message says it, e.g. ``"a list of int"``."""
        names = {"str": "a str", "int": "an int", "float": "a number", "bool": "true or false",
                 "dict": "a mapping", "any": "a value"}
        text = (f"a list of {self.item or 'str'}" if self.base == "list" else names[self.base])
        return text + (" or None" if self.nullable else "")

    def __str__(self) -> str:
        text = f"list of {self.item or 'str'}" if self.base == "list" else self.base
        return text + (" | None" if self.nullable else "")


class _BadValue(Exception):
    """A value that does not fit a parameter's type (turned into InvalidParameterError)."""


def _default_value(info):
    import ast

    text = info.get("default")
    if text is None:
        return _NO_DEFAULT
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NO_DEFAULT


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    for kind, types in (("int", int), ("float", float), ("str", str), ("list", list | tuple),
                        ("dict", Mapping)):
        if isinstance(value, types):
            return kind
    return "any"


def _item_kind(values) -> str:
    kinds = {_kind(v) for v in values}
    if not kinds:
        return "str"
    if len(kinds) == 1 and next(iter(kinds)) in _SCALARS:
        return next(iter(kinds))
    return "float" if kinds <= {"int", "float"} else "any"


def parameter_type(info: Mapping) -> NotebookParameterType:
    """Type of a notebook parameter from what its ``parameters`` cell declares.

    Parameters
    ----------
    info : mapping
        ``inferred_type_name`` (the annotation as written, ``"None"`` without one, as
        ``papermill.inspect_notebook`` gives it) and ``default`` (the default's source text).

    Returns
    -------
    NotebookParameterType
        From the annotation (``str``, ``int``, ``float``, ``bool``, ``list``, ``list[int]``,
        ``str | None``...); without one, from the type of the default. A list's element type is
        the annotation's (``list[float]``), else that of the default's elements (``[3, 6]``:
        int; ``[120.0, 205]``: float), else str.

    Examples
    --------
    >>> str(parameter_type({"inferred_type_name": "list", "default": "[3, 6]"}))
    'list of int'
    >>> str(parameter_type({"inferred_type_name": "None", "default": "205.0"}))
    'float'
    >>> str(parameter_type({"inferred_type_name": "str | None", "default": "None"}))
    'str | None'
    """
    annotation = str(info.get("inferred_type_name") or "None").replace(" ", "")
    nullable = False
    optional = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", annotation)
    if optional:
        annotation, nullable = optional.group(1), True
    parts = annotation.split("|")
    if len(parts) > 1 and "None" in parts:
        nullable = True
        parts = [p for p in parts if p != "None"]
    match = re.fullmatch(r"(?:typing\.)?(\w+)(?:\[(\w+)(?:,\.\.\.)?\])?",
                         parts[0] if len(parts) == 1 else "")
    base = _TYPE_NAMES.get(match.group(1)) if match else None
    item = None
    if base == "list" and match.group(2):
        item = match.group(2) if match.group(2) in _SCALARS else "any"
    default = _default_value(info)
    if default is None:
        nullable = True
    if base is None:  # no annotation, or one this reader does not know
        base = "any" if default is _NO_DEFAULT or default is None else _kind(default)
    if base == "list" and item is None:
        item = _item_kind(default) if isinstance(default, list | tuple) else "str"
    return NotebookParameterType(base, item, nullable)


def _str_from_text(text: str):
    """Text as is, without one pair of enclosing quotes."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _bool_from_text(text: str):
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise _BadValue


def _int_from_text(text: str):
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise _BadValue


def _float_from_text(text: str):
    try:
        return float(text)
    except ValueError:
        raise _BadValue from None


def _yaml_from_text(text: str):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise _BadValue from None


#: Readers of command-line text for the scalar parameter types (_from_text).
_SCALAR_FROM_TEXT = {"str": _str_from_text, "bool": _bool_from_text, "int": _int_from_text,
                     "float": _float_from_text}


def _from_text(text: str, t: NotebookParameterType):
    """Command-line text -> Python value of type ``t`` (checked afterwards by _check)."""
    text = text.strip()
    if t.nullable and text.lower() in ("none", "null"):
        return None
    if t.base in _SCALAR_FROM_TEXT:
        return _SCALAR_FROM_TEXT[t.base](text)
    if t.base == "list" and not text.startswith("["):
        item = NotebookParameterType(t.item or "str")
        return [_from_text(part, item) for part in text.split(",") if part.strip()]
    return _yaml_from_text(text)


def _check(value, t: NotebookParameterType):
    """A typed value (YAML, Python, or parsed text) -> JSON-able value of type ``t``."""
    if value is None:
        if t.nullable or t.base == "any":
            return None
        raise _BadValue
    if isinstance(value, dt.date) and t.base in ("str", "any"):
        return value.isoformat()  # YAML reads 2024-01-01 as a date
    if t.base == "list":
        return _check_list(value, t)
    if t.base == "dict" or (t.base == "any" and isinstance(value, Mapping)):
        return _check_dict(value)
    if t.base == "any" and isinstance(value, list | tuple):
        return [_check(v, t) for v in value]
    return _check_scalar(value, t)


def _check_list(value, t: NotebookParameterType):
    """_check of a ``list`` parameter: text is read first (_from_text), each element checked."""
    if isinstance(value, str):
        value = _from_text(value, t)
    if not isinstance(value, list | tuple):
        raise _BadValue
    return [_check(v, NotebookParameterType(t.item or "str")) for v in value]


def _check_dict(value):
    """_check of a mapping: string keys, each value checked as ``any``."""
    if not isinstance(value, Mapping):
        raise _BadValue
    return {str(k): _check(v, NotebookParameterType("any")) for k, v in value.items()}


def _check_scalar(value, t: NotebookParameterType):
    """_check of a scalar: an int is a float where a float is declared; no NaN or inf."""
    kind = _kind(value)
    if t.base == "float" and kind in ("int", "float"):
        if not math.isfinite(value):
            raise _BadValue
        return float(value)
    if kind == t.base or (t.base == "any" and kind in _SCALARS):
        return value
    raise _BadValue


def _canonical(name: str, value):
    """Codes of the data model in the schema's spelling (PARAMETER_CHOICES)."""
    choices = allowed_values(name) if name in PARAMETER_CHOICES or name in _SPECS else None
    if choices is None or value is None:
        return value
    lookup = {c.lower(): c for c in choices}

    def one(v):
        if not isinstance(v, str) or v.strip().lower() not in lookup:
            raise _BadValue("{" + ", ".join(repr(c) for c in choices) + "}")
        return lookup[v.strip().lower()]

    if isinstance(value, list):
        return list(dict.fromkeys(one(v) for v in value))
    return one(value)


@dataclass(frozen=True)
class ParameterOverride:
    """A value for a notebook parameter, as the user gave it.

    Parameters
    ----------
    name : str
        Parameter name in the notebooks' ``parameters`` cells.
    value : object
        The value: command-line text (``is_text``), or a typed value (YAML, Python).
    notebook : str, optional
        Prefix (``"03"``) or stem (``"03_survival"``) of the one notebook it is for; None =
        every notebook that declares ``name``.
    is_text : bool, default False
        ``value`` is text to read by the parameter's declared type (``-p``).
    origin : str, default "-p"
        Where it came from, for messages (``"-p"``, ``"config report.yaml"``).
    """

    name: str
    value: object
    notebook: str | None = None
    is_text: bool = False
    origin: str = "-p"

    def __str__(self) -> str:
        where = f"{self.notebook}:" if self.notebook else ""
        if self.is_text:
            return f"{self.origin} {where}{self.name}={self.value}"
        return f"{self.origin}: {where}{self.name} = {self.value!r}"


def parse_assignment(text: str, *, origin: str = "-p") -> ParameterOverride:
    """Read ``NAME=VALUE`` or ``NOTEBOOK:NAME=VALUE`` (the ``-p`` option).

    Parameters
    ----------
    text : str
        The option's argument; VALUE is read later by the parameter's declared type.
    origin : str, default "-p"
        For messages.

    Returns
    -------
    ParameterOverride

    Raises
    ------
    InvalidParameterError
        No ``=``, or a NAME that is not a Python identifier.

    Examples
    --------
    >>> o = parse_assignment("03:strata=primary_tumour")
    >>> o.notebook, o.name, o.value
    ('03', 'strata', 'primary_tumour')
    >>> parse_assignment("landmark_months=3,6,12").notebook is None
    True
    """
    match = _ASSIGNMENT.match(str(text))
    if not match:
        raise InvalidParameterError(
            f"The {origin} option of sirtstats report takes NAME=VALUE or NOTEBOOK:NAME=VALUE "
            f"(e.g. {origin} 03:strata=primary_tumour). Got {text!r} instead.")
    return ParameterOverride(match["name"], match["value"], match["notebook"], is_text=True,
                             origin=origin)


def _selector(key) -> str:
    # YAML reads an unquoted 03 as the integer 3
    return f"{key:02d}" if isinstance(key, int) and not isinstance(key, bool) else str(key).strip()


def overrides_from_mapping(mapping, *, origin: str = "config") -> list[ParameterOverride]:
    """Overrides from a mapping (the ``parameters:`` block of ``--config``, or Python).

    Parameters
    ----------
    mapping : mapping
        ``NAME: VALUE`` for every notebook that declares NAME; ``"NOTEBOOK:NAME": VALUE`` or
        ``NOTEBOOK: {NAME: VALUE, ...}`` (keys starting with a digit) for one notebook.
    origin : str, default "config"
        For messages.

    Returns
    -------
    list of ParameterOverride
        In the mapping's order.

    Raises
    ------
    InvalidParameterError
        Not a mapping, or a notebook block that is not a mapping.

    Examples
    --------
    >>> [str(o) for o in overrides_from_mapping({"strata": "ecog", "03": {"origin": "workup"}})]
    ["config: strata = 'ecog'", "config: 03:origin = 'workup'"]
    """
    if not isinstance(mapping, Mapping):
        raise InvalidParameterError(
            f"The 'parameters' block of {origin} must be a mapping NAME: VALUE (or NOTEBOOK: "
            f"{{NAME: VALUE}}). Got {mapping!r} instead.")
    out = []
    for key, value in mapping.items():
        key = _selector(key)
        if ":" in key:
            notebook, _, name = key.partition(":")
            out.append(ParameterOverride(name.strip(), value, notebook.strip(), origin=origin))
        elif key[:1].isdigit():
            if not isinstance(value, Mapping):
                raise InvalidParameterError(
                    f"The '{key}' block of the parameters in {origin} must be a mapping NAME: "
                    f"VALUE for notebook {key}. Got {value!r} instead.")
            out += [ParameterOverride(str(name).strip(), v, key, origin=origin)
                    for name, v in value.items()]
        else:
            out.append(ParameterOverride(key, value, origin=origin))
    return out


def report_level_overrides(overrides) -> tuple[dict, list[ParameterOverride]]:
    """Split off the global overrides of the report parameters ``diagnoses``, ``devices``,
    ``criterion`` (``-p diagnoses=HCC`` = ``--diagnosis HCC``).

    Parameters
    ----------
    overrides : sequence of ParameterOverride

    Returns
    -------
    dict
        Name -> value for :func:`validate_parameters` (the last one given wins).
    list of ParameterOverride
        The others, in order.
    """
    report, rest = {}, []
    for o in overrides:
        if o.notebook is None and o.name in ("diagnoses", "devices", "criterion", "centres"):
            value = o.value
            if o.is_text:
                value = value.strip() if o.name == "criterion" else _text_list(o)
            report[o.name] = value
        else:
            rest.append(o)
    return report, rest


def _text_list(o: ParameterOverride) -> list:
    try:
        return _check(_from_text(o.value, NotebookParameterType("list", "str")),
                      NotebookParameterType("list", "str"))
    except _BadValue:
        raise InvalidParameterError(f"The '{o.name}' parameter of sirtstats report must be a "
                                    f"list of str. Got {o.value!r} instead ({o}).") from None


def describe_notebook_parameters(declared: Mapping[str, Mapping[str, dict]], *,
                                 verbose: bool = False) -> str:
    """The notebooks' parameters, for error messages and ``--list-parameters``.

    Parameters
    ----------
    declared : mapping
        Notebook stem -> parameter name -> ``{"default", "inferred_type_name", "help"}``.
    verbose : bool, default False
        One line per parameter with type, default and help (else one line per notebook).

    Returns
    -------
    str
    """
    lines = ["Notebook parameters (-p NAME=VALUE sets NAME in every notebook that declares it; "
             "-p NOTEBOOK:NAME=VALUE in one):"]
    for stem, params in declared.items():
        names = [n for n in params if n not in RUNNER_PARAMETERS]
        if not verbose:
            lines.append(f"  {stem}: " + (", ".join(names) or "(none)"))
            continue
        lines.append(f"  {stem}")
        for name in names:
            info = params[name]
            text = f"    {name}: {parameter_type(info)} = {info.get('default')}"
            if info.get("help"):
                text += f"  # {info['help']}"
            lines.append(text)
    lines.append("Set by the runner: " + ", ".join(f"{n} ({opt})"
                                                  for n, opt in RUNNER_PARAMETERS.items()) + ".")
    return "\n".join(lines)


def _typed_value(o: ParameterOverride, stem: str, info: Mapping, declared) -> object:
    t = parameter_type(info)
    try:
        value = _from_text(o.value, t) if o.is_text else o.value
        return _canonical(o.name, _check(value, t))
    except _BadValue as exc:
        expected = t.describe()
        if exc.args:
            expected = (f"a list of values from {exc.args[0]}" if t.base == "list"
                        else f"one of {exc.args[0]}")
        raise InvalidParameterError(
            f"The '{o.name}' parameter of notebook {stem} must be {expected} (declared "
            f"{o.name}: {info.get('inferred_type_name')} = {info.get('default')}). Got "
            f"{o.value!r} instead ({o}).\n"
            + describe_notebook_parameters({stem: declared[stem]}, verbose=True)) from None


def _matches(stem: str, selector: str) -> bool:
    return stem == selector or stem.split("_", 1)[0] == selector


def resolve_notebook_parameters(declared: Mapping[str, Mapping[str, dict]],
                                overrides) -> dict[str, dict[str, object]]:
    """Check the user's notebook parameters against the notebooks and type them.

    Parameters
    ----------
    declared : mapping
        Every report notebook's parameters (stem -> name -> ``{"default",
        "inferred_type_name", "help"}``), selected for this run or not, so a config file that
        sets ``03:strata`` also serves a run of ``--notebooks 01``.
    overrides : sequence of ParameterOverride
        In increasing precedence (the last one given wins); one for a single notebook wins over
        one for every notebook, whatever their order.

    Returns
    -------
    dict
        Notebook stem -> name -> typed, JSON-able value: only the names the user set.

    Raises
    ------
    InvalidParameterError
        A name no notebook declares (or that the named notebook does not declare), an unknown
        notebook, a name the runner sets (:data:`RUNNER_PARAMETERS`), or a value that does not
        fit the declared type or the data model's codes. The message lists the valid names.

    Examples
    --------
    >>> declared = {"03_survival": {
    ...     "strata": {"default": '"albi_grade"', "inferred_type_name": "str", "help": ""},
    ...     "landmark_months": {"default": "[3, 6]", "inferred_type_name": "list", "help": ""}}}
    >>> resolve_notebook_parameters(declared, [parse_assignment("landmark_months=3,6,12"),
    ...                                        parse_assignment("03:strata=ecog")])
    {'03_survival': {'landmark_months': [3, 6, 12], 'strata': 'ecog'}}
    """
    result = {stem: {} for stem in declared}
    for o in sorted(overrides, key=lambda o: o.notebook is not None):  # stable: order kept
        if o.name in RUNNER_PARAMETERS:
            raise InvalidParameterError(
                f"The '{o.name}' parameter is set by the runner for every notebook ({o}); use "
                f"{RUNNER_PARAMETERS[o.name]} instead.")
        if o.notebook is None:
            stems = [s for s, names in declared.items() if o.name in names]
            if not stems:
                raise InvalidParameterError(
                    f"Unknown parameter '{o.name}' ({o}): no report notebook declares it.\n"
                    + describe_notebook_parameters(declared))
        else:
            stems = [s for s in declared if _matches(s, o.notebook)]
            if not stems:
                raise InvalidParameterError(
                    f"Unknown notebook '{o.notebook}' ({o}); the report notebooks are "
                    f"{list(declared)}.")
            for stem in stems:
                if o.name not in declared[stem]:
                    raise InvalidParameterError(
                        f"Unknown parameter '{o.name}' for notebook {stem} ({o}).\n"
                        + describe_notebook_parameters({stem: declared[stem]}, verbose=True))
        for stem in stems:
            result[stem][o.name] = _typed_value(o, stem, declared[stem][o.name], declared)
    return result
