"""Deprecated alias of :mod:`sirtstats.survival.logrank`.

Moved in 0.1; removed in the next minor release. Import from :mod:`sirtstats.survival`
(public API) or :mod:`sirtstats.survival.logrank` instead.
"""

import warnings

from sirtstats.survival import logrank as _target
from sirtstats.survival.logrank import *  # noqa: F403

warnings.warn(
    "sirtstats.survival_logrank is deprecated and will be removed in the next minor release; "
    "import sirtstats.survival (or sirtstats.survival.logrank) instead.",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    return getattr(_target, name)
