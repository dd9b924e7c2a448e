"""Tables as CSV or XLSX files, for reports a supervisor opens in a spreadsheet.

Text from data (an agent code, a debtor name) that starts like a formula (``= + - @``, or a
tab or carriage return) would run as one when the file is opened, so it is written with a
leading apostrophe, which spreadsheets show as text (OWASP's advice for CSV injection).
Numbers are never touched: they stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font

Cell = str | int | float | date | datetime | None
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Cell) -> Cell:
    """The cell, with text that a spreadsheet would read as a formula made plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """RFC 4180 CSV with a header; empty cells for missing values, '.' as decimal mark."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([inert(c) for c in columns])
    writer.writerows(["" if v is None else inert(v) for v in row] for row in rows)
    return out.getvalue()


def to_xlsx(columns: Sequence[str], rows: Sequence[Sequence[Cell]], *, sheet: str) -> bytes:
    """One sheet with a bold, frozen header; numbers stay numbers."""
    book = Workbook()
    page = book.active
    assert page is not None
    page.title = sheet[:31]
    page.append(list(columns))
    for cell in page[1]:
        cell.font = Font(bold=True)
    page.freeze_panes = "A2"
    for row in rows:
        page.append([inert(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
