"""The report folder assembled from the executed notebooks: metrics, tables, index, manifest.

Part of :mod:`sirtstats.report.runner` (import from there).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sirtstats.report._runner_cohort import _cohort_patient_ids
from sirtstats.report._runner_notebooks import KERNEL_NAME, _notebook_title
from sirtstats.report.params import ReportParameters

__all__: list[str] = []


def _previous_report(root: Path, params: ReportParameters) -> dict | None:
    import json

    prev = root / params.period.previous().label
    metrics_path, manifest_path = prev / "metrics.json", prev / "manifest.json"
    if not metrics_path.is_file():
        return None
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    cutoff = params.period.previous().end.isoformat()
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        cutoff = manifest.get("parameters", {}).get("cutoff_date", cutoff)
    return {"period": prev.name, "cutoff_date": cutoff, "metrics": metrics}


def _count_rows(csv_path: Path) -> int:
    import csv

    with csv_path.open(newline="", encoding="utf-8") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)


def _assemble(attempt, root, params, registry, nb_paths, nb_params, timings, now, skipped=None):
    import sirtstats
    from sirtstats.disclosure import DisclosurePolicy, protect_metrics
    from sirtstats.report import manifest as mf
    from sirtstats.report.activity import summarise_activity
    from sirtstats.report.export import (
        merge_metrics,
        write_json,
        write_tables_docx,
        write_tables_workbook,
    )
    from sirtstats.report.index_html import IndexContent, metric_deltas, write_index

    tables = dict(registry.tables)
    cohort_ids = _cohort_patient_ids(registry, params)
    activity = summarise_activity(tables, end=params.cutoff_date, patient_ids=cohort_ids)
    policy = DisclosurePolicy(params.disclosure, params.small_cell_threshold)
    activity = protect_metrics(activity, policy, all_counts=True)
    metrics = merge_metrics(attempt / "metrics", extra={"registry": activity})
    shutil.rmtree(attempt / "metrics", ignore_errors=True)
    write_json(metrics, attempt / "metrics.json")

    workbook = write_tables_workbook(attempt / "tables", attempt / "tables.xlsx")
    write_tables_docx(attempt / "tables", attempt / "tables.docx")
    table_stems = sorted(p.stem for p in (attempt / "tables").glob("*.csv"))
    figure_stems = sorted({p.stem for p in (attempt / "figures").glob("*.png")} |
                          {p.stem for p in (attempt / "figures").glob("*.svg")})

    previous = _previous_report(root, params)
    changes = None
    if previous is not None:  # an internal previous report: its small counts go too (D41)
        previous["metrics"] = protect_metrics(previous["metrics"], policy)
        since = dt.date.fromisoformat(previous["cutoff_date"])
        changes = {
            "period": previous["period"],
            "cutoff_date": previous["cutoff_date"],
            "new": protect_metrics(summarise_activity(tables, start=since,
                                                      end=params.cutoff_date,
                                                      patient_ids=cohort_ids),
                                   policy, all_counts=True),
            "deltas": metric_deltas(metrics, previous["metrics"]),
        }
    git = mf.git_commit()
    content = IndexContent(
        period=params.period.label,
        cutoff_date=params.cutoff_date.isoformat(),
        data_source="demo registry" if params.data_path == "demo" else Path(params.data_path).name,
        diagnoses=list(params.diagnoses or ()), devices=list(params.devices or ()),
        criterion=params.criterion, metrics=metrics, activity=activity,
        notebooks=[(p.stem, _notebook_title(p)) for p in nb_paths],
        tables=table_stems, figures=figure_stems, has_workbook=workbook is not None,
        has_docx=(attempt / "tables.docx").exists(),
        previous=changes, sirtstats_version=sirtstats.__version__, git_commit=git["commit"],
        skipped=list(skipped or []),
        disclosure=params.disclosure, small_cell_threshold=params.small_cell_threshold,
    )
    write_index(attempt, content)  # back links on the notebook pages, then index.html

    outputs = {p.relative_to(attempt).as_posix(): mf.file_sha256(p)
               for p in sorted(attempt.rglob("*")) if p.is_file()}
    manifest = {
        "report": {"period": params.period.label, "generated_at": now().isoformat(
            timespec="seconds"), "kernel": KERNEL_NAME,
            "skipped_notebooks": {stem: note for stem, _title, note in skipped or []},
            "disclosure": params.disclosure, "small_cell_threshold": params.small_cell_threshold},
        "parameters": params.to_dict(),
        "notebook_parameters": nb_params,
        "sirtstats_version": sirtstats.__version__,
        "git": git,
        "packages": mf.package_versions(),
        "inputs": {"source": params.data_path,
                   "sha256": mf.input_hashes(params.data_path, tables,
                                             getattr(registry, "file_hashes", None))},
        "row_counts": {
            "inputs": {name: int(len(df)) for name, df in sorted(tables.items())},
            "tables": {s: _count_rows(attempt / "tables" / f"{s}.csv") for s in table_stems},
        },
        "changes_since_previous": (None if changes is None else
                                   {"period": changes["period"],
                                    "cutoff_date": changes["cutoff_date"],
                                    "new": changes["new"]}),
        "outputs_sha256": outputs,
    }
    return metrics, manifest
