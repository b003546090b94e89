"""Deprecated alias of :mod:`sirtstats.survival.km`.

Moved in 0.1; removed in the next minor release. Import from :mod:`sirtstats.survival`
(public API) or :mod:`sirtstats.survival.km` instead.
"""

import warnings

from sirtstats.survival import km as _target
from sirtstats.survival.km import *  # noqa: F403

warnings.warn(
    "sirtstats.survival_km is deprecated and will be removed in the next minor release; "
    "import sirtstats.survival (or sirtstats.survival.km) instead.",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    return getattr(_target, name)
