"""A notebook parameter's value: read from command-line text, checked against its type.

Part of :mod:`sirtstats.report.params` (import from there): what does not fit raises
``_BadValue``, which the callers turn into an :class:`InvalidParameterError` naming the
parameter.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping

from sirtstats.report._params_specs import _SPECS, PARAMETER_CHOICES, allowed_values
from sirtstats.report._params_types import _SCALARS, NotebookParameterType, _BadValue, _kind

__all__: list[str] = []


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


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
