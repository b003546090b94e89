"""The type of a notebook parameter, read from its ``parameters`` cell (annotation, default).

Part of :mod:`sirtstats.report.params` (import from there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["NotebookParameterType", "parameter_type"]


_NO_DEFAULT = object()
_TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "list": "list",
               "tuple": "list", "List": "list", "Tuple": "list", "Sequence": "list",
               "dict": "dict", "Dict": "dict", "Mapping": "dict"}
_SCALARS = ("str", "int", "float", "bool")


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
