"""Deprecated alias of :mod:`sirtstats.survival.concordance`.

Moved in 0.1; removed in the next minor release. Import from :mod:`sirtstats.survival`
(public API) or :mod:`sirtstats.survival.concordance` instead.
"""

import warnings

from sirtstats.survival import concordance as _target
from sirtstats.survival.concordance import *  # noqa: F403

warnings.warn(
    "sirtstats.survival_concordance is deprecated and will be removed in the next minor release; "
    "import sirtstats.survival (or sirtstats.survival.concordance) instead.",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    return getattr(_target, name)
