"""The layer table of sirtstats: the one place that says which module may import which (D53).

Imports only point down (or sideways within a layer, without a circle): a module may import
modules of its own layer and of the layers listed before it, never of a later one.
``tests/test_architecture.py`` computes the import graph of ``sirtstats/`` (with :mod:`ast`,
module-level and function-level imports alike) and fails on an import circle or an upward
import; it also checks that the tables of ``CONTRIBUTING.md`` and ``docs/architecture.md``
list the same modules per layer as :data:`LAYERS`.

A name ending in ``/`` is a package (with all its submodules); other names are modules of
``sirtstats`` (``"__init__"`` is the package ``sirtstats`` itself, which imports only
:mod:`sirtstats.exceptions`). Pure data: this module imports nothing.
"""

from __future__ import annotations

__all__ = ["ALLOWED_LAZY_IMPORTS", "LAYERS", "SHIMS"]

#: Layers from the bottom up: (layer name, modules and packages of the layer).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Helpers without registry knowledge: errors, argument checks, units, labels, table layout.
    ("foundation", ("__init__", "exceptions", "_checks", "_layers", "_memory", "_resources",
                    "units", "labels", "formatting", "disclosure")),
    ("schema", ("schema", "ctcae_terms")),
    # Reading, validating and cross-checking the registry tables; anatomy of the territories.
    ("registry", ("readers", "validation", "crosschecks", "registry", "problems", "datadict",
                  "territory", "snapshot")),
    # Per-patient / per-lesion derived tables.
    ("derivations", ("cohort/", "scores", "ctcae", "response/", "endpoints/", "toxicity/",
                     "dosimetry/", "metabolic/")),
    # Statistics on derived tables, and the exchange formats (REDCap, SDTM, ADaM) built from them.
    ("analyses", ("survival/", "tables/", "dose_response/", "comparative/", "local_control",
                  "interop/")),
    ("plotting", ("plotting/",)),
    # The top: the report, the command line and the demo generator beside them (the demo sits
    # on top of the registry and resolves "demo" as a data path).
    ("report / CLI", ("report/", "cli", "cli_kernel", "demo/", "outputs", "cohort_snapshot")),
)

#: Old flat module names kept one minor release as FutureWarning shims -> the package they
#: re-export (they sit in its layer; the documented tables leave them out).
SHIMS: dict[str, str] = {
    "competing_risks": "survival/",
    "liver_function": "toxicity/",
    "rmst": "survival/",
    "survival_concordance": "survival/",
    "survival_cox": "survival/",
    "survival_km": "survival/",
    "survival_landmark": "survival/",
    "survival_logrank": "survival/",
}

#: Function-level imports left out of the checks: (importer, imported) -> the reason, both as
#: dotted names under ``sirtstats`` (e.g. ``("cohort._restrict", "registry")``). Every other import,
#: inside a function or not, counts. Empty today: keep it so.
ALLOWED_LAZY_IMPORTS: dict[tuple[str, str], str] = {}
