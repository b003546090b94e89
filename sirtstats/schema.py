"""Registry data model: the table schemas in ``data_schema/`` and the dtypes they imply.

The YAML files in ``data_schema/`` (Frictionless Table Schema form, plus a ``unit`` and an
optional ``warning`` range per field) are the single source of truth for the registry. This
module reads them and maps their field types to pandas dtypes; :mod:`sirtstats.registry` uses it
to parse and validate files, :mod:`sirtstats.demo` to type what it generates, and
:mod:`sirtstats.datadict` to write the human data dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from sirtstats._checks import _braced
from sirtstats._resources import resource_dir

__all__ = [
    "SCHEMA_DIR",
    "TABLE_ORDER",
    "PET_TABLES",
    "FieldSpec",
    "TableSchema",
    "apply_dtypes",
    "empty_table",
    "load_schema",
    "load_schemas",
]

#: Folder holding one ``<table>.yaml`` per registry table: the checkout's top-level
#: ``data_schema/``, or its copy shipped in the wheel (see :mod:`sirtstats._resources`).
SCHEMA_DIR: Path = resource_dir("data_schema")

#: Tables in dependency order (a table's foreign keys point only to tables before it).
TABLE_ORDER: tuple[str, ...] = (
    "patients",
    "baseline",
    "workups",
    "treatments",
    "post_dosimetry",
    "lesions",
    "lesion_measurements",
    "imaging_assessments",
    "labs",
    "adverse_events",
    "other_therapies",
    "pet_assessments",
    "pet_lesions",
)

#: Optional tables added for FDG-PET/CT metabolic response (PERCIST 1.0, EORTC 1999; see
#: :mod:`sirtstats.metabolic`). Like every table but ``patients`` they may be absent from a
#: registry folder, which then loads them as empty typed tables.
PET_TABLES: tuple[str, ...] = ("pet_assessments", "pet_lesions")

#: pandas dtype for each Frictionless field type.
PANDAS_DTYPES: dict[str, str] = {
    "string": "object",
    "integer": "Int64",
    "number": "float64",
    "boolean": "boolean",
    "date": "datetime64[ns]",
    "datetime": "datetime64[ns]",
}


@dataclass(frozen=True)
class FieldSpec:
    """One column of a registry table, as declared in its schema."""

    name: str
    type: str
    description: str = ""
    unit: str | None = None
    required: bool = False
    unique: bool = False
    enum: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    warn_minimum: float | None = None
    warn_maximum: float | None = None
    vocabulary: str | None = None

    @property
    def dtype(self) -> str:
        """pandas dtype of the column."""
        return PANDAS_DTYPES[self.type]


@dataclass(frozen=True)
class TableSchema:
    """A registry table: its fields, primary key and foreign keys."""

    name: str
    title: str
    description: str
    fields: tuple[FieldSpec, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[dict, ...] = field(default=())

    @property
    def field_names(self) -> list[str]:
        """Column names in schema order."""
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")


def _parse_field(raw: dict) -> FieldSpec:
    cons = raw.get("constraints", {}) or {}
    warn = raw.get("warning", {}) or {}
    if raw["type"] not in PANDAS_DTYPES:
        raise ValueError(f"field {raw['name']!r} has unknown type {raw['type']!r}")
    enum = cons.get("enum")
    return FieldSpec(
        name=raw["name"],
        type=raw["type"],
        description=" ".join(str(raw.get("description", "")).split()),
        unit=raw.get("unit"),
        required=bool(cons.get("required", False)),
        unique=bool(cons.get("unique", False)),
        enum=tuple(str(v) for v in enum) if enum is not None else None,
        minimum=cons.get("minimum"),
        maximum=cons.get("maximum"),
        pattern=cons.get("pattern"),
        warn_minimum=warn.get("minimum"),
        warn_maximum=warn.get("maximum"),
        vocabulary=cons.get("vocabulary"),
    )


@cache
def load_schema(table: str) -> TableSchema:
    """Read the schema of one registry table from ``data_schema/<table>.yaml``.

    Parameters
    ----------
    table : str
        Table name, one of :data:`TABLE_ORDER`.

    Returns
    -------
    TableSchema
    """
    if table not in TABLE_ORDER:
        raise ValueError(
            f"The 'table' argument of load_schema must be one of {_braced(TABLE_ORDER)}. "
            f"Got {table!r} instead."
        )
    raw = yaml.safe_load((SCHEMA_DIR / f"{table}.yaml").read_text(encoding="utf-8"))
    return TableSchema(
        name=raw["name"],
        title=raw.get("title", raw["name"]),
        description=" ".join(str(raw.get("description", "")).split()),
        fields=tuple(_parse_field(f) for f in raw["fields"]),
        primary_key=tuple(raw.get("primaryKey", [])),
        foreign_keys=tuple(raw.get("foreignKeys", [])),
    )


def load_schemas() -> dict[str, TableSchema]:
    """Return every table schema, in :data:`TABLE_ORDER`."""
    return {t: load_schema(t) for t in TABLE_ORDER}


def apply_dtypes(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return a copy of ``df`` with the schema's columns in schema order and dtypes.

    Missing optional columns are added empty. Values must already be parseable (this is a
    cast, not a validation: :func:`sirtstats.registry.load_registry` validates first).

    Parameters
    ----------
    df : DataFrame
        Table with (a subset of) the schema's columns; extra columns are dropped.
    table : str
        Registry table name.

    Returns
    -------
    DataFrame
    """
    schema = load_schema(table)
    out = pd.DataFrame(index=df.index)
    for f in schema.fields:
        col = df[f.name] if f.name in df.columns else pd.Series(pd.NA, index=df.index)
        if f.type in ("date", "datetime"):
            col = pd.to_datetime(col)
            if f.type == "date":
                col = col.dt.normalize()
            out[f.name] = col.astype("datetime64[ns]")
        elif f.type == "string":
            out[f.name] = col.astype("object").where(col.notna(), None)
        elif f.type in ("integer", "number"):
            out[f.name] = pd.to_numeric(col.astype("object").where(col.notna(), None)).astype(
                f.dtype)
        else:
            out[f.name] = col.astype("object").where(col.notna(), None).astype(f.dtype)
    return out


def empty_table(table: str) -> pd.DataFrame:
    """Return an empty, typed table with the schema's columns."""
    return apply_dtypes(pd.DataFrame(), table)
