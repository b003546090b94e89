"""Deprecated alias of :mod:`sirtstats.survival.rmst`.

Moved in 0.1; removed in the next minor release. Import from :mod:`sirtstats.survival`
(public API) or :mod:`sirtstats.survival.rmst` instead.
"""

import warnings

from sirtstats.survival import rmst as _target
from sirtstats.survival.rmst import *  # noqa: F403

warnings.warn(
    "sirtstats.rmst is deprecated and will be removed in the next minor release; "
    "import sirtstats.survival (or sirtstats.survival.rmst) instead.",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    return getattr(_target, name)
