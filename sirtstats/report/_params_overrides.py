"""The user's notebook parameters: read from ``-p`` and ``--config``, checked against the notebooks.

Part of :mod:`sirtstats.report.params` (import from there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sirtstats.report._params_specs import RUNNER_PARAMETERS, InvalidParameterError
from sirtstats.report._params_types import NotebookParameterType, _BadValue, parameter_type
from sirtstats.report._params_values import _canonical, _check, _from_text

__all__ = [
    "ParameterOverride",
    "describe_notebook_parameters",
    "overrides_from_mapping",
    "parse_assignment",
    "report_level_overrides",
    "resolve_notebook_parameters",
]


_ASSIGNMENT = re.compile(r"^\s*(?:(?P<notebook>[\w-]+)\s*:)?\s*(?P<name>[A-Za-z_]\w*)\s*="
                         r"(?P<value>.*)$", re.DOTALL)


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
