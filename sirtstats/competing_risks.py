"""Deprecated alias of :mod:`sirtstats.survival.competing_risks`.

Moved in 0.1; removed in the next minor release. Import from :mod:`sirtstats.survival`
(public API) or :mod:`sirtstats.survival.competing_risks` instead.
"""

import warnings

from sirtstats.survival import competing_risks as _target
from sirtstats.survival.competing_risks import *  # noqa: F403

warnings.warn(
    "sirtstats.competing_risks is deprecated and will be removed in the next minor release; "
    "import sirtstats.survival (or sirtstats.survival.competing_risks) instead.",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    return getattr(_target, name)
