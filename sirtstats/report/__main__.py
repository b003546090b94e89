"""``python -m sirtstats.report``: the quarterly report (options as ``sirtstats report``).

Guarded, so that importing this module (pytest's ``--doctest-modules`` collection, an IDE,
:mod:`pydoc`) does not run a report.
"""

from sirtstats.report.cli_report import main

if __name__ == "__main__":
    raise SystemExit(main())
