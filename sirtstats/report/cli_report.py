"""The ``sirtstats report`` subcommand (also ``python -m sirtstats.report``).

``sirtstats.cli`` wires it with two calls::

    from sirtstats.report.cli_report import _add_report_parser, _run_report
    _add_report_parser(subparsers)      # adds "report" with its options; sets func=_run_report

Exit status: 0 report published; 1 the report failed (invalid registry, failing notebook,
missing kernel; the published report is unchanged); 2 invalid parameters (nothing ran).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

__all__ = ["_add_report_parser", "_run_report", "main"]

_EPILOG = """\
examples:
  sirtstats report --period auto --data demo
  sirtstats report --period 2026Q3 --data /srv/registry/export --diagnosis HCC --criterion mRECIST
  sirtstats report --period 2026Q3 --notebooks 01,04 --quiet

outputs: <output-root>/<period>/ with index.html, notebooks/*.html|.ipynb, tables/*.csv,
tables.xlsx, figures/*.png|.svg, metrics.json, manifest.json. The report is written to a
temporary folder and published by an atomic rename; a failed run keeps its attempt in
<output-root>/_failed/<period>-<time>/ and leaves the published report untouched.
exit status: 0 published, 1 report failed, 2 invalid parameters.
"""


def _spec_help(name: str) -> str:
    from sirtstats.report.params import PARAMETER_SPECS

    return next(s.help for s in PARAMETER_SPECS if s.name == name)


def _add_report_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to an argparse ``subparsers`` object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``report`` parser (its default ``func`` is :func:`_run_report`).
    """
    from sirtstats.report.params import allowed_values

    p = subparsers.add_parser(
        "report", help="run the quarterly report notebooks into reports/<period>/",
        description="Run every notebooks/NN_*.ipynb with papermill on the registry and publish "
                    "reports/<period>/ (HTML without code, tables, figures, key numbers, "
                    "provenance).",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--period", default="auto", help=_spec_help("period") + " (default: auto)")
    p.add_argument("--data", default="demo", metavar="demo|PATH", help=_spec_help("data_path"))
    p.add_argument("--cutoff", default=None, metavar="YYYY-MM-DD", help=_spec_help("cutoff_date"))
    p.add_argument("--output-root", default="reports", metavar="DIR",
                   help="folder holding one report folder per period (default: reports)")
    p.add_argument("--diagnosis", dest="diagnoses", action="extend", nargs="+", default=None,
                   metavar="DX", help=_spec_help("diagnoses") + "; one of "
                   + ", ".join(allowed_values("diagnoses")))
    p.add_argument("--device", dest="devices", action="extend", nargs="+", default=None,
                   metavar="DEVICE", help=_spec_help("devices") + "; one of "
                   + ", ".join(allowed_values("devices")))
    p.add_argument("--criterion", default=None, choices=None, metavar="|".join(
        allowed_values("criterion")), help=_spec_help("criterion"))
    p.add_argument("--notebooks", default=None, metavar="01,02",
                   help="run only these notebooks (prefixes or names, comma-separated)")
    p.add_argument("--notebooks-dir", default=None, metavar="DIR",
                   help="folder of notebook templates (default: the checkout's notebooks/)")
    p.add_argument("--jobs", type=int, default=2, metavar="N",
                   help="notebooks run at the same time (default: 2)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="per-cell time limit (default: none)")
    p.add_argument("--quiet", action="store_true",
                   help="print nothing but errors (for schedulers)")
    p.set_defaults(func=_run_report)
    return p


def _print_problems(exc, err) -> None:
    print(f"error: {exc}", file=err)
    rows = getattr(exc, "rows", None)
    if rows is None or not len(rows):
        return
    try:  # the same layout as `sirtstats validate`
        from sirtstats.cli import format_problems

        text = format_problems(rows, max_rows=60)
    except (ImportError, KeyError):
        import pandas as pd

        with pd.option_context("display.max_columns", 20, "display.width", 160,
                               "display.max_colwidth", 60):
            text = rows.to_string(index=False, max_rows=60)
    print(text, file=err)


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by the killed-run test
    raise KeyboardInterrupt(f"signal {signum}")


def _run_report(args, *, out=None, err=None) -> int:
    """Run ``sirtstats report`` for parsed ``args``; return the exit status."""
    from sirtstats.exceptions import SirtDataError
    from sirtstats.report.params import InvalidParameterError, validate_parameters
    from sirtstats.report.runner import ReportError, run_report

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        params = validate_parameters({
            "period": args.period, "data_path": args.data, "cutoff_date": args.cutoff,
            "diagnoses": args.diagnoses, "devices": args.devices, "criterion": args.criterion,
        })
        if args.jobs < 1:
            raise InvalidParameterError(
                f"The 'jobs' option of sirtstats report must be >= 1. Got {args.jobs} instead.")
    except InvalidParameterError as exc:
        print(f"error: {exc}", file=err)
        return 2
    notebooks = [s for s in (args.notebooks or "").split(",") if s.strip()] or None
    echo = None if args.quiet else (lambda msg: print(msg, file=out, flush=True))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)  # clean up the attempt on `kill`
    except ValueError:  # not in the main thread
        previous = None
    try:
        run_report(params, output_root=args.output_root, notebooks_dir=args.notebooks_dir,
                   notebooks=notebooks, jobs=args.jobs, timeout=args.timeout, echo=echo)
    except SirtDataError as exc:
        _print_problems(exc, err)
        return 1
    except ReportError as exc:
        print(f"error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the published report was not changed.", file=err)
        err.flush()
        # Worker threads may still wait on kernels: leave now; the kernels notice their parent
        # is gone and exit, and the next run removes the unfinished attempt folder.
        os._exit(130)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def main(argv=None) -> int:
    """``python -m sirtstats.report [options]``: the same as ``sirtstats report``."""
    parser = argparse.ArgumentParser(prog="python -m sirtstats.report")
    report = _add_report_parser(parser.add_subparsers())
    report.prog = "python -m sirtstats.report"
    argv = list(sys.argv[1:] if argv is None else argv)
    args = report.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
