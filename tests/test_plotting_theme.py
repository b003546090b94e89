"""The figure theme's seaborn settings, written out in sirtstats.plotting.theme."""

import subprocess
import sys

import seaborn as sns

from sirtstats.plotting import theme


def test_theme_settings_equal_seaborns():
    assert theme._SEABORN_TICKS_STYLE == dict(sns.axes_style("ticks"))
    assert theme._seaborn_context(0.8, 1.15) == dict(sns.plotting_context("paper", font_scale=1.15))
    assert theme._seaborn_context(1.5, 1.0) == dict(sns.plotting_context("talk"))


def test_importing_the_plotting_modules_does_not_import_seaborn_or_scipy_stats():
    code = ("import sys, sirtstats.plotting.cohort, sirtstats.plotting.response, "
            "sirtstats.plotting.toxicity; "
            "print('seaborn' in sys.modules, 'scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]
