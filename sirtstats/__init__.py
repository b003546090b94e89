"""sirtstats: treatment-response analytics for hepatic radioembolization (SIRT / TARE).

The public API lives in one module per concern, imported on first use so that
``import sirtstats`` stays light (lifelines, scikit-learn, statsmodels and matplotlib load only
where they are used)::

    import sirtstats
    registry = sirtstats.demo.load_registry("demo", cutoff_date="2026-09-30")
    cohort = sirtstats.cohort.select_cohort(registry, diagnoses=["HCC"])

Modules: ``schema``, ``registry`` (loading and validation), ``demo`` (bundled demo registry),
``cohort``, ``scores``, ``labels``, ``tables``, ``response`` (RECIST 1.1 / mRECIST), ``endpoints``,
``survival``, ``toxicity`` (adverse events, liver function, REILD), ``ctcae``, ``units``,
``dosimetry``, ``dose_response``, ``plotting``, ``outputs``, ``report``, ``interop`` (REDCap,
SDTM, ADaM).
"""

from __future__ import annotations

import importlib

from sirtstats.exceptions import SirtDataError, SirtStatsWarning

__version__ = "0.1.0"

#: Submodules reachable as attributes of the package (imported lazily, PEP 562).
SUBMODULES = (
    "cohort", "ctcae", "demo", "dose_response", "dosimetry", "endpoints", "interop", "labels",
    "outputs", "plotting", "registry", "report", "response", "schema", "scores", "survival",
    "tables", "toxicity", "units",
)
#: Old module names still reachable as attributes for one minor release (they warn on import).
_DEPRECATED_SUBMODULES = ("liver_function",)

__all__ = ["SirtDataError", "SirtStatsWarning", "__version__", *SUBMODULES]


def __getattr__(name: str):
    if name in SUBMODULES or name in _DEPRECATED_SUBMODULES:
        return importlib.import_module(f"sirtstats.{name}")
    raise AttributeError(f"module 'sirtstats' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
