"""Deprecated alias of :mod:`sirtstats.survival.cox`.

Moved in 0.1; removed in the next minor release. Import from :mod:`sirtstats.survival`
(public API) or :mod:`sirtstats.survival.cox` instead.
"""

import warnings

from sirtstats.survival import cox as _target
from sirtstats.survival.cox import *  # noqa: F403

warnings.warn(
    "sirtstats.survival_cox is deprecated and will be removed in the next minor release; "
    "import sirtstats.survival (or sirtstats.survival.cox) instead.",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    return getattr(_target, name)
