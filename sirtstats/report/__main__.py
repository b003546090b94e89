"""``python -m sirtstats.report``: the quarterly report (options as ``sirtstats report``)."""

from sirtstats.report.cli_report import main

raise SystemExit(main())
