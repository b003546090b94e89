"""Size mechanisms for large registries (issue #13 item 9): listings past
:data:`sirtstats.formatting.XLSX_MAX_ROWS` rows are CSV only, with no sheet in tables.xlsx."""

from __future__ import annotations

import pandas as pd

from sirtstats.formatting import save_listing
from sirtstats.report.export import write_tables_workbook


def test_a_listing_over_the_row_limit_is_csv_only(tmp_path, monkeypatch):
    import openpyxl

    import sirtstats.formatting as fmt
    import sirtstats.report.export as export

    monkeypatch.setattr(fmt, "XLSX_MAX_ROWS", 3)
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 3)
    small = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "x": [1.5, 2.0, 3.25]})
    large = pd.DataFrame({"patient_id": [f"P{i}" for i in range(4)], "x": [0.5] * 4})
    note_small = save_listing(small, "02_small", title="Small", output_dir=tmp_path)
    note_large = save_listing(large, "02_large", title="Large", output_dir=tmp_path)
    assert str(note_small) == ("Small: 3 rows, in tables.xlsx and tables/02_small.csv "
                               "(a listing, not shown on this page).")
    assert str(note_large) == ("Large: 4 rows, in tables/02_large.csv only (over 3 rows: no "
                               "sheet in tables.xlsx) (a listing, not shown on this page).")
    xlsx = write_tables_workbook(tmp_path / "tables", tmp_path / "tables.xlsx")
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["contents", "02_small"]
    contents = [[c.value for c in row] for row in wb["contents"].iter_rows()]
    assert contents[1:] == [["(CSV only)", "Large", "listing", "tables/02_large.csv", 4],
                            ["02_small", "Small", "listing", "tables/02_small.csv", 3]]
    assert (tmp_path / "tables" / "02_large.csv").read_text().count("\n") == 5

