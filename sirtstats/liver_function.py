"""Deprecated alias of :mod:`sirtstats.toxicity.liver` (and the lab trajectories of
:mod:`sirtstats.toxicity.labs`).

Moved in 0.1; removed in the next minor release. Import from :mod:`sirtstats.toxicity` (public
API) instead.
"""

import warnings

from sirtstats.toxicity import labs as _labs
from sirtstats.toxicity import liver as _liver
from sirtstats.toxicity.labs import LAB_TRAJECTORY_BINS, summarise_lab_trajectories  # noqa: F401
from sirtstats.toxicity.liver import *  # noqa: F403

warnings.warn(
    "sirtstats.liver_function is deprecated and will be removed in the next minor release; "
    "import sirtstats.toxicity (or sirtstats.toxicity.liver) instead.",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name):
    for module in (_liver, _labs):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'sirtstats.liver_function' has no attribute {name!r}")
