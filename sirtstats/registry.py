"""Loading a registry folder into typed, validated tables.

PLACEHOLDER INTERFACE: the loading/validation work of issue #2 fills this module in; the
signature below is the contract the rest of the package and the notebooks use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Registry", "load_registry"]


@dataclass(frozen=True)
class Registry:
    """A loaded registry: typed tables keyed by table name, plus the validation problems."""

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = "demo"
    cutoff_date: pd.Timestamp | None = None
    file_hashes: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]


def load_registry(source="demo", *, cutoff_date=None) -> Registry:
    """Load the registry at ``source`` (a folder), or the bundled demo registry for "demo"."""
    if str(source) == "demo":
        from sirtstats.demo import make_demo_registry

        return Registry(tables=make_demo_registry(), source="demo")
    raise NotImplementedError("folder loading is being built (issue #2)")
