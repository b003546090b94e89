"""Plotting: one module per topic; only these modules import matplotlib/seaborn."""
