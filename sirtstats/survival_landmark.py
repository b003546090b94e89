"""Deprecated alias of :mod:`sirtstats.survival.landmark`.

Moved in 0.1; removed in the next minor release. Import from :mod:`sirtstats.survival`
(public API) or :mod:`sirtstats.survival.landmark` instead.
"""

import warnings

from sirtstats.survival import landmark as _target
from sirtstats.survival.landmark import *  # noqa: F403

warnings.warn(
    "sirtstats.survival_landmark is deprecated and will be removed in the next minor release; "
    "import sirtstats.survival (or sirtstats.survival.landmark) instead.",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    return getattr(_target, name)
