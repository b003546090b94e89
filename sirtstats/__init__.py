"""sirtstats: treatment-response analytics for hepatic radioembolization (SIRT / TARE).

Submodules are imported on demand (``sirtstats.response``, ``sirtstats.survival`` ...) so that
``import sirtstats`` stays light; heavy libraries (lifelines, scikit-learn, seaborn) load only
where they are used.
"""

from __future__ import annotations

from sirtstats.exceptions import SirtDataError, SirtStatsWarning

__version__ = "0.1.0"

__all__ = ["SirtDataError", "SirtStatsWarning", "__version__"]
