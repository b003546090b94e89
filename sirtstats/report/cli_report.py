"""The ``sirtstats report`` subcommand (also ``python -m sirtstats.report``).

``sirtstats.cli`` wires it with two calls::

    from sirtstats.report.cli_report import _add_report_parser, _run_report
    _add_report_parser(subparsers)      # adds "report" with its options; sets func=_run_report

Exit status: 0 report published; 1 the report failed (invalid registry, cohort filters that
select no patient, failing notebook, missing kernel; the published report is unchanged); 2
invalid parameters or options (nothing ran).

Where a setting comes from, highest first: the command line; ``--config report.yaml``
(:func:`load_report_config`); the notebook's own default. ``-p NAME=VALUE`` sets NAME in every
notebook that declares it, ``-p NOTEBOOK:NAME=VALUE`` in one (which wins over the former).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

__all__ = ["CONFIG_KEYS", "_add_report_parser", "_run_report", "load_report_config", "main"]

_EPILOG = """\
examples:
  sirtstats report --period auto --data demo
  sirtstats report --period 2026Q3 --data /srv/registry/export --diagnosis HCC --criterion mRECIST
  sirtstats report --period 2026Q3 -p 03:strata=primary_tumour -p window_days=30
  sirtstats report --period 2026Q3 -p diagnoses=[]      (every notebook on all diagnoses, 05 too)
  sirtstats report --config /srv/sirtstats/report.yaml --quiet
  sirtstats report --list-parameters
  sirtstats report --period 2026Q3 --notebooks 01,04 --quiet

parameters: the runner sets data_path, cutoff_date, output_dir (and period) in every notebook;
a notebook receives --diagnosis/--device/--criterion and -p values only when given, and keeps
its own defaults otherwise (05_dosimetry: HCC). -p values are typed by the notebook's
parameters cell (int, float, true/false, lists as a,b,c or [a, b]) before anything runs.

outputs: <output-root>/<period>/ with index.html, notebooks/*.html|.ipynb, tables/*.csv,
tables.xlsx, figures/*.png|.svg, metrics.json, manifest.json. The report is written to a
temporary folder and published by an atomic rename; a failed run keeps its attempt in
<output-root>/_failed/<period>-<time>/ and leaves the published report untouched. A run of
some notebooks only (--notebooks) is published to <output-root>/_partial/<period>/, never over
the full report, unless --replace is given.
exit status: 0 published, 1 report failed (nothing published), 2 invalid parameters or options.
"""

#: Keys of ``--config report.yaml`` (the command-line options, with ``_`` for ``-``).
CONFIG_KEYS: tuple[str, ...] = (
    "period", "data", "cutoff", "output_root", "diagnoses", "devices", "criterion",
    "notebooks", "notebooks_dir", "jobs", "timeout", "replace", "quiet", "parameters",
    "disclosure", "small_cell_threshold",
    "centres",
)
_CONFIG_PATHS = ("data", "output_root", "notebooks_dir")


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
    p.add_argument("--period", default=None, help=_spec_help("period") + " (default: auto)")
    p.add_argument("--data", default=None, metavar="demo|PATH",
                   help=_spec_help("data_path") + " (default: demo)")
    p.add_argument("--cutoff", default=None, metavar="YYYY-MM-DD", help=_spec_help("cutoff_date"))
    p.add_argument("--output-root", default=None, metavar="DIR",
                   help="folder holding one report folder per period (default: reports)")
    p.add_argument("--diagnosis", dest="diagnoses", action="extend", nargs="+", default=None,
                   metavar="DX", help=_spec_help("diagnoses") + "; one of "
                   + ", ".join(allowed_values("diagnoses")))
    p.add_argument("--device", dest="devices", action="extend", nargs="+", default=None,
                   metavar="DEVICE", help=_spec_help("devices") + "; one of "
                   + ", ".join(allowed_values("devices")))
    p.add_argument("--centre", dest="centres", action="extend", nargs="+", default=None,
                   metavar="CENTRE", help=_spec_help("centres"))
    p.add_argument("--criterion", default=None, choices=None, metavar="|".join(
        allowed_values("criterion")), help=_spec_help("criterion"))
    p.add_argument("--disclosure", default=None, choices=("internal", "shareable"),
                   help=_spec_help("disclosure") + " (default: internal)")
    p.add_argument("--small-cell-threshold", dest="small_cell_threshold", type=int,
                   default=None, metavar="N", help=_spec_help("small_cell_threshold") +
                   " (default: 5)")
    p.add_argument("-p", "--parameter", dest="parameters", action="append", default=[],
                   metavar="[NOTEBOOK:]NAME=VALUE",
                   help="set a notebook parameter, in every notebook that declares NAME or in "
                        "one (03:strata=primary_tumour); repeatable; see --list-parameters")
    p.add_argument("--config", default=None, metavar="YAML",
                   help="read these options from a YAML file (keys: "
                        + ", ".join(CONFIG_KEYS) + "); the command line wins")
    p.add_argument("--list-parameters", action="store_true",
                   help="list every notebook's parameters (type, default, help) and exit")
    p.add_argument("--notebooks", default=None, metavar="01,02",
                   help="run only these notebooks (prefixes or names, comma-separated); "
                        "published to <output-root>/_partial/<period>/")
    p.add_argument("--replace", action="store_true", default=None,
                   help="publish a --notebooks run as the period's report, replacing the "
                        "full one")
    p.add_argument("--notebooks-dir", default=None, metavar="DIR",
                   help="folder of notebook templates (default: the checkout's notebooks/)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="notebooks run at the same time (default: 2)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="per-cell time limit (default: none)")
    p.add_argument("--quiet", action="store_true", default=None,
                   help="print nothing but errors (for schedulers)")
    p.set_defaults(func=_run_report)
    return p


def _print_problems(exc, err) -> None:
    print(f"error: {exc}", file=err)
    rows = getattr(exc, "rows", None)
    if rows is None or not len(rows):
        return
    try:  # the same layout as `sirtstats validate`
        from sirtstats.problems import format_problems

        text = format_problems(rows, max_rows=60)
    except (ImportError, KeyError):
        import pandas as pd

        with pd.option_context("display.max_columns", 20, "display.width", 160,
                               "display.max_colwidth", 60):
            text = rows.to_string(index=False, max_rows=60)
    print(text, file=err)


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by the killed-run test
    raise KeyboardInterrupt(f"signal {signum}")


def load_report_config(path) -> dict:
    """Read ``--config report.yaml``: the command's options, checked.

    Parameters
    ----------
    path : str or Path
        YAML mapping with keys from :data:`CONFIG_KEYS`; ``parameters`` is a mapping
        ``NAME: VALUE`` (every notebook declaring NAME), ``"NOTEBOOK:NAME": VALUE`` or
        ``"NOTEBOOK": {NAME: VALUE}`` (one notebook).

    Returns
    -------
    dict
        The options; relative ``data``, ``output_root`` and ``notebooks_dir`` are made absolute
        from the config file's folder (so a scheduler's working directory does not matter).

    Raises
    ------
    InvalidParameterError
        Unreadable file, invalid YAML, not a mapping, or an unknown key.
    """
    from pathlib import Path

    import yaml

    from sirtstats.report.params import InvalidParameterError

    path = Path(path).expanduser()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidParameterError(f"cannot read the config file {path}: "
                                    f"{exc.strerror or exc}.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidParameterError(f"the config file {path} is not valid YAML{where}: "
                                    f"{getattr(exc, 'problem', None) or exc}.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidParameterError(f"the config file {path} must be a mapping of options "
                                    f"({', '.join(CONFIG_KEYS)}). Got {data!r} instead.")
    data = {str(k).replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise InvalidParameterError(
            f"Unknown key(s) {unknown} in the config file {path}; valid keys are "
            f"{{{', '.join(repr(k) for k in CONFIG_KEYS)}}}.")
    for key in _CONFIG_PATHS:
        value = data.get(key)
        if isinstance(value, str) and value.strip() and not (key == "data"
                                                             and value.strip().lower() == "demo"):
            data[key] = str((path.parent / Path(value).expanduser()).resolve())
    return data


def _as_selection(value):
    """--notebooks / config ``notebooks`` -> list of str or None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        value = [value]
    out = [f"{v:02d}" if isinstance(v, int) and not isinstance(v, bool) else str(v).strip()
           for v in value]
    return [v for v in out if v] or None


def _settings(args):
    """Options and parameters from the command line over the config file."""
    from sirtstats.report.params import (
        InvalidParameterError,
        overrides_from_mapping,
        parse_assignment,
        report_level_overrides,
    )

    config = load_report_config(args.config) if args.config else {}
    origin = f"config {args.config}"

    def pick(name, default=None):
        value = getattr(args, name, None)
        return value if value is not None else config.get(name, default)

    cfg_report, cfg_rest = report_level_overrides(
        overrides_from_mapping(config.get("parameters") or {}, origin=origin))
    cli_report, cli_rest = report_level_overrides(
        [parse_assignment(text) for text in args.parameters])
    report = {}
    for name, option in (("diagnoses", "--diagnosis"), ("devices", "--device"),
                         ("criterion", "--criterion"), ("centres", "--centre")):
        for given, other, where in ((getattr(args, name), cli_report, option),
                                    (config.get(name), cfg_report, origin)):
            if given is not None and name in other:
                raise InvalidParameterError(
                    f"The '{name}' parameter of sirtstats report is given twice ({where} and "
                    f"{name} in the parameters); give it once.")
        candidates = (getattr(args, name), cli_report.get(name), config.get(name),
                      cfg_report.get(name))
        report[name] = next((v for v in candidates if v is not None), None)
    settings = {
        "raw": {"period": pick("period", "auto"), "data_path": pick("data", "demo"),
                "cutoff_date": pick("cutoff"), **report, "disclosure": pick("disclosure"),
                "small_cell_threshold": pick("small_cell_threshold")},
        "output_root": pick("output_root", "reports"),
        "notebooks_dir": pick("notebooks_dir"),
        "notebooks": _as_selection(pick("notebooks")),
        "parameters": cfg_rest + cli_rest,
        "replace": bool(pick("replace", False)),
        "jobs": pick("jobs", 2),
        "timeout": pick("timeout"),
        "quiet": bool(pick("quiet", False)),
    }
    return settings


def _list_parameters(args, out) -> int:
    from sirtstats.report.params import describe_notebook_parameters
    from sirtstats.report.runner import read_notebook_parameters

    config = load_report_config(args.config) if args.config else {}
    declared = read_notebook_parameters(args.notebooks_dir or config.get("notebooks_dir"))
    print(describe_notebook_parameters(declared, verbose=True), file=out)
    return 0


def _run_report(args, *, out=None, err=None) -> int:
    """Run ``sirtstats report`` for parsed ``args``; return the exit status."""
    from sirtstats.exceptions import SirtDataError
    from sirtstats.report.params import InvalidParameterError, validate_parameters
    from sirtstats.report.runner import ReportError, run_report

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if getattr(args, "list_parameters", False):
            return _list_parameters(args, out)
        settings = _settings(args)
        params = validate_parameters(settings["raw"])
    except InvalidParameterError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except ReportError as exc:
        print(f"error: {exc}", file=err)
        return 1
    echo = None if settings["quiet"] else (lambda msg: print(msg, file=out, flush=True))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)  # clean up the attempt on `kill`
    except ValueError:  # not in the main thread
        previous = None
    try:
        run_report(params, output_root=settings["output_root"],
                   notebooks_dir=settings["notebooks_dir"], notebooks=settings["notebooks"],
                   parameters=settings["parameters"], replace=settings["replace"],
                   jobs=settings["jobs"], timeout=settings["timeout"], echo=echo)
    except InvalidParameterError as exc:
        print(f"error: {exc}", file=err)
        return 2
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
