"""The ``sirtstats`` command line.

Each subcommand is a parser block (``_add_<name>_parser(subparsers)``, which sets
``func=_run_<name>``) plus a small ``_run_<name>(args) -> int`` function; :data:`SUBCOMMANDS`
lists the parser blocks, so adding a subcommand is one function pair and one line.

Exit status: 0 success; 1 the data are invalid (problem table printed, no traceback) or the
command failed; 2 invalid command-line arguments.
"""

from __future__ import annotations

import argparse
import sys

from sirtstats.cli_kernel import add_kernel_parser
from sirtstats.problems import format_problems

__all__ = ["SUBCOMMANDS", "build_parser", "format_problems", "main"]


# --------------------------------------------------------------------------- validate


def _add_validate_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "validate",
        help="check a registry folder against data_schema/ and list every problem",
        description="Check a registry folder (one CSV/XLSX/Parquet file per table) against "
                    "the data model and print every problem at once. Row numbers count the "
                    "header as row 1, so the first data row is row 2. Files are never "
                    "modified.",
        epilog="exit status: 0 no error (warnings allowed), 1 at least one error.")
    p.add_argument("path", help='registry folder, or "demo" for the bundled demo registry')
    p.add_argument("--cutoff", metavar="DATE", default=None,
                   help="data cut-off (yyyy-mm-dd): later dates are reported as warnings")
    p.add_argument("--output", "-o", metavar="CSV", default=None,
                   help="also write the problems table to this CSV file")
    p.add_argument("--max-rows", type=int, default=200, metavar="N",
                   help="print at most N problem rows (default 200; the CSV has all)")
    p.set_defaults(func=_run_validate)
    return p


def _run_validate(args) -> int:
    from sirtstats.demo import validate_registry  # a folder, or "demo"

    try:
        problems = validate_registry(args.path, cutoff_date=args.cutoff)
    except ValueError as exc:  # invalid --cutoff
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        problems.to_csv(args.output, index=False)
    print(format_problems(problems, source=args.path, max_rows=args.max_rows))
    if args.output:
        print(f"\nProblems table written to {args.output}")
    return 1 if (problems["severity"] == "error").any() else 0


# --------------------------------------------------------------------------- demo


def _add_demo_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="write the demo registry (one CSV per table) to a folder",
        description="Write a synthetic demo registry, one CSV per table, to OUT_DIR, so you "
                    "can see the expected format and try `sirtstats validate OUT_DIR`.")
    p.add_argument("out_dir", help="folder to write (created if needed)")
    p.add_argument("--patients", type=int, default=300, metavar="N",
                   help="number of patients (default 300)")
    p.add_argument("--seed", type=int, default=20261127, help="random seed (default 20261127)")
    p.set_defaults(func=_run_demo)
    return p


def _run_demo(args) -> int:
    if args.patients < 1:
        print(f"error: --patients must be at least 1, got {args.patients}", file=sys.stderr)
        return 2
    from sirtstats.demo import write_demo_registry

    paths = write_demo_registry(args.out_dir, n_patients=args.patients, seed=args.seed)
    print(f"Demo registry ({args.patients} patients, seed {args.seed}) written to "
          f"{args.out_dir}:")
    for path in paths:
        print(f"  {path}")
    return 0


# --------------------------------------------------------------------------- import-redcap


def _missing_inputs(*paths) -> int:
    from pathlib import Path

    missing = [str(p) for p in paths if not Path(p).exists()]
    for p in missing:
        print(f"error: file or folder not found: {p}", file=sys.stderr)
    return 2 if missing else 0


def _write_validated(tables, out_dir, *, max_rows: int = 200) -> int:
    """Validate imported tables as a registry folder; write them to OUT only if valid."""
    import shutil
    import tempfile
    from pathlib import Path

    from sirtstats.registry import validate_registry, write_registry

    with tempfile.TemporaryDirectory(prefix="sirtstats-import-") as tmp:
        paths = write_registry(tables, tmp)
        problems = validate_registry(tmp)
        print("\n" + format_problems(problems, source=str(out_dir), max_rows=max_rows))
        if (problems["severity"] == "error").any():
            print(f"\nNothing written to {out_dir}: the imported registry is invalid.")
            return 1
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copyfile(path, out / path.name)
    print(f"\nRegistry written to {out_dir}: " + ", ".join(p.name for p in paths))
    return 0


def _add_import_redcap_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "import-redcap",
        help="convert a REDCap export (records + data dictionary) into a registry folder",
        description="Read a REDCap records export (raw or label values, repeating instruments "
                    "and events, checkbox fields) and its data dictionary, map them to the "
                    "registry tables with a YAML mapping file, print every problem (naming the "
                    "REDCap field and record id) and write one CSV per table to OUT. Nothing "
                    "is written when there is an error. See examples/redcap/.",
        epilog="exit status: 0 imported (warnings allowed), 1 errors (nothing written), "
               "2 bad arguments.")
    p.add_argument("records", help="REDCap records export (CSV)")
    p.add_argument("dictionary", help="REDCap data dictionary (CSV)")
    p.add_argument("--mapping", required=True, metavar="YAML", help="mapping file")
    p.add_argument("--out", required=True, metavar="DIR", help="registry folder to write")
    p.add_argument("--max-rows", type=int, default=200, metavar="N",
                   help="print at most N problem rows (default 200)")
    p.set_defaults(func=_run_import_redcap)
    return p


def _run_import_redcap(args) -> int:
    if _missing_inputs(args.records, args.dictionary, args.mapping):
        return 2
    from sirtstats.interop.redcap import import_redcap

    result = import_redcap(args.records, args.dictionary, args.mapping)
    print(format_problems(result.problems, source=f"REDCap export {args.records}",
                          max_rows=args.max_rows).replace("Registry REDCap", "REDCap", 1))
    if result.has_errors:
        print(f"\nNothing written to {args.out}: fix the errors above (mapping or export).")
        return 1
    return _write_validated(result.tables, args.out, max_rows=args.max_rows)


# --------------------------------------------------------------------------- import-sdtm


def _add_import_sdtm_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "import-sdtm",
        help="convert a CDISC SDTM study (DM, DS, EX, AE, TU, TR, RS) into a registry folder",
        description="Read an SDTM folder (one .csv or .xpt file per domain; DM required) into "
                    "the registry: patients (DM, DS), treatments (EX), adverse events (AE), "
                    "lesions, measurements and reader responses (TU, TR, RS). Partial dates "
                    "are imputed and listed. Facts SDTM does not carry (primary tumour, "
                    "device, territory, activity in GBq) come from the options below and are "
                    "reported as imputed. Nothing is written when there is an error.",
        epilog="exit status: 0 imported (warnings allowed), 1 errors (nothing written), "
               "2 bad arguments.")
    p.add_argument("folder", help="SDTM folder")
    p.add_argument("--out", required=True, metavar="DIR", help="registry folder to write")
    p.add_argument("--date-imputation", choices=("first", "last"), default="first",
                   help="partial start/event dates to the first (default) or last day")
    p.add_argument("--end-date-imputation", choices=("first", "last"), default="last",
                   help="partial end dates (AEENDTC, EXENDTC); default last")
    p.add_argument("--domain", action="append", default=[], metavar="DOMAIN=FILE",
                   help="file of a domain when not <domain>.csv/.xpt, e.g. "
                        "TU=tu_onco_recist.csv (repeatable)")
    p.add_argument("--primary-tumour", default=None, help="primary tumour of every subject")
    p.add_argument("--device", default=None, help="device when EXTRT names none")
    p.add_argument("--territory", default=None, help="territory when EXLOC gives none")
    p.add_argument("--activity-gbq", type=float, default=None,
                   help="activity (GBq) when the EX dose is not an activity")
    p.add_argument("--exposure-end", action="store_true",
                   help="add the end of continuous exposure as the last treatment date")
    p.add_argument("--evaluator", default="INVESTIGATOR", help="TU/TR/RS evaluator (--EVAL)")
    p.add_argument("--evaluator-id", default=None, help="TU/TR/RS reader (--EVALID)")
    p.add_argument("--max-rows", type=int, default=200, metavar="N",
                   help="print at most N problem rows (default 200)")
    p.set_defaults(func=_run_import_sdtm)
    return p


def _run_import_sdtm(args) -> int:
    import warnings

    if _missing_inputs(args.folder):
        return 2
    files = {}
    for item in args.domain:
        domain, sep, name = item.partition("=")
        if not sep or not name:
            print(f"error: --domain must be DOMAIN=FILE, got {item!r}", file=sys.stderr)
            return 2
        files[domain.strip().upper()] = name.strip()
    from sirtstats.interop.sdtm_subjects import import_sdtm

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # every imputation is listed below
            result = import_sdtm(
                args.folder, files=files, date_imputation=args.date_imputation,
                end_date_imputation=args.end_date_imputation,
                primary_tumour=args.primary_tumour, device=args.device,
                territory=args.territory, activity_gbq=args.activity_gbq,
                include_exposure_end=args.exposure_end, evaluator=args.evaluator,
                evaluator_id=args.evaluator_id)
    except ValueError as exc:
        if type(exc) is not ValueError:  # SirtDataError: handled by main()
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = result.problems.rename(columns={"domain": "table", "problem": "rule"})
    print(format_problems(problems, source=f"SDTM {args.folder}", max_rows=args.max_rows)
          .replace("Registry SDTM", "SDTM", 1))
    if len(result.imputed):
        counts = result.imputed.groupby(["table", "column", "rule"], sort=False).size()
        print("\nImputed values (not in the SDTM data as such):")
        for (table, column, rule), n in counts.items():
            print(f"  {table + '.' + column:<40} {n:>6} x {rule}")
    if result.has_errors:
        print(f"\nNothing written to {args.out}: fix the errors above (data or options).")
        return 1
    return _write_validated(result.tables, args.out, max_rows=args.max_rows)


# --------------------------------------------------------------------------- export-adam


def _add_export_adam_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export-adam",
        help="write ADaM-style ADSL, ADRS, ADTTE, ADAE (CSV and SAS .xpt) from a registry",
        description="Load and validate a registry, derive ADSL, ADRS (per-visit and best "
                    "response), ADTTE (OS, PFS, hepatic PFS, TTP, duration of response) and "
                    "ADAE with the sirtstats derivations, and write them to OUT as CSV and "
                    "SAS transport v5 files with variable labels (plus variables.csv).",
        epilog="exit status: 0 written, 1 invalid registry, 2 bad arguments.")
    p.add_argument("--data", required=True, metavar="PATH",
                   help='registry folder, or "demo" for the bundled demo registry')
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    p.add_argument("--cutoff", metavar="DATE", default=None, help="data cut-off (yyyy-mm-dd)")
    p.add_argument("--criterion", choices=("RECIST_1_1", "mRECIST"), default="RECIST_1_1")
    p.add_argument("--source", choices=("derived", "reported"), default="derived",
                   help="responses derived from lesion measurements (default) or reported")
    p.add_argument("--convention", choices=("fda", "admiral"), default="fda",
                   help="endpoint censoring rules (default fda)")
    p.add_argument("--te-window-days", type=int, default=None, metavar="N",
                   help="treatment-emergent window after the last session (default 90)")
    p.add_argument("--studyid", default="SIRTSTATS", help="STUDYID value")
    p.add_argument("--format", action="append", choices=("csv", "xpt"), default=None,
                   dest="formats", help="csv and/or xpt (default both)")
    p.set_defaults(func=_run_export_adam)
    return p


def _run_export_adam(args) -> int:
    if args.data != "demo" and _missing_inputs(args.data):
        return 2
    from sirtstats.demo import load_registry  # a folder, or "demo"
    from sirtstats.interop.adam import derive_adam, write_adam

    try:
        registry = load_registry(args.data, cutoff_date=args.cutoff)
    except ValueError as exc:
        if type(exc) is not ValueError:  # SirtDataError: handled by main()
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    adam = derive_adam(registry, criterion=args.criterion, source=args.source,
                       convention=args.convention, te_window_days=args.te_window_days,
                       studyid=args.studyid)
    paths = write_adam(adam, args.out, formats=args.formats or ("csv", "xpt"))
    print(f"ADaM datasets from {args.data} ({args.criterion}, {args.source} responses, "
          f"{args.convention} conventions) written to {args.out}:")
    for name, df in adam.items():
        print(f"  {name:<6} {len(df):>7} rows")
    print("  files: " + ", ".join(p.name for p in paths))
    return 0


# --------------------------------------------------------------------------- wiring


def _add_report_parser(subparsers):
    from sirtstats.report.cli_report import _add_report_parser as add

    return add(subparsers)


#: Parser blocks, in help order. Each adds one subcommand and sets ``func``.
SUBCOMMANDS = (_add_validate_parser, _add_demo_parser, _add_report_parser,
               _add_import_redcap_parser, _add_import_sdtm_parser, _add_export_adam_parser,
               add_kernel_parser)


def build_parser() -> argparse.ArgumentParser:
    """The ``sirtstats`` argument parser with every subcommand."""
    from sirtstats import __version__

    parser = argparse.ArgumentParser(
        prog="sirtstats",
        description="Treatment-response analytics for hepatic radioembolization (SIRT/TARE) "
                    "registries.")
    parser.add_argument("--version", action="version", version=f"sirtstats {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv=None) -> int:
    """Run the ``sirtstats`` command line; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 invalid data or failure, 2 invalid arguments.
    """
    from sirtstats.exceptions import SirtDataError

    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # argparse: --help/--version (0) or usage errors (2)
        return int(exc.code or 0)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except SirtDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.rows is not None and {"severity", "rule"} <= set(exc.rows.columns):
            print(format_problems(exc.rows), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
