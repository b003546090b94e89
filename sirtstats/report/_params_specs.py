"""The report parameters: their specification, the allowed values, the typed result.

Part of :mod:`sirtstats.report.params` (import from there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from functools import cache

from sirtstats.report.periods import Period

__all__ = [
    "COMMON_NOTEBOOK_PARAMETERS",
    "PARAMETER_CHOICES",
    "PARAMETER_SPECS",
    "RUNNER_PARAMETERS",
    "InvalidParameterError",
    "ParameterSpec",
    "ReportParameters",
    "allowed_values",
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
