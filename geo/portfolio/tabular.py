"""Reading the creditor's files: CSV as Excel writes it anywhere, or an ``.xlsx`` workbook.

Files come from banks' systems and from Spanish-language Excel, so: UTF-8 with or without a
byte-order mark, else Windows-1252 (what Excel calls "CSV" in Spanish); comma, semicolon or
tab as the separator, taken from the header line; an ``.xlsx`` read from its first sheet.
What cannot be read safely is refused with the line at fault: a NUL byte, a header naming a
column twice (a shifted column would put amounts under the wrong case), a field longer than
any real value. Every row carries its line (the record's first line in the file) so errors
point at what a person sees in a text editor or a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geo.core.errors import InvalidInput
from geo.core.workbooks import open_workbook

MAX_FIELD = 4000
MAX_COLUMNS = 200
"""Columns of a sheet that are read; a real portfolio has a few dozen."""
"""Characters in one field: far above any name or address, far below csv's own limit."""
_SEPARATORS = (",", ";", "\t", "|")
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class Table:
    """A header (stripped, lower-case) and the rows as (line, {column: text})."""

    columns: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]

    def require(self, required: tuple[str, ...]) -> None:
        missing = [c for c in required if c not in self.columns]
        if missing:
            raise InvalidInput(f"missing columns: {', '.join(missing)}", field=missing[0])


def read_table(data: bytes) -> Table:
    """The file's table, whatever of the accepted forms it comes in."""
    if data.startswith(_ZIP_MAGIC):
        return _workbook(data)
    return _csv(_decode(data))


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InvalidInput(f"line {line}: the file has a NUL byte (is it really CSV?)", "file")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"line {line}: the file is neither UTF-8 nor Windows-1252 text", "file"
        ) from None


def _header(names: list[Any]) -> list[str]:
    columns = [str(n or "").strip().lower() for n in names]
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            raise InvalidInput(f"line 1: the column {name!r} appears twice", name)
        seen.add(name)
    return columns


def _csv(text: str) -> Table:
    first = text.split("\n", 1)[0]
    separator = max(_SEPARATORS, key=first.count)
    csv.field_size_limit(max(csv.field_size_limit(), 10 * MAX_FIELD))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        columns = _header(next(reader, []))
    except csv.Error as exc:
        raise InvalidInput(f"line 1: {exc}", "file") from None

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInput(f"line {start}: {exc}", "file") from None
            if not any(v.strip() for v in values):
                continue
            for column, value in zip(columns, values, strict=False):
                if len(value) > MAX_FIELD:
                    raise InvalidInput(
                        f"line {start}: {column or 'a field'} is longer than {MAX_FIELD} "
                        "characters",
                        column or "file",
                    )
            yield start, dict(zip(columns, values, strict=False))

    return Table(columns, rows())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _workbook(data: bytes) -> Table:
    book = open_workbook(data)
    sheet = book.worksheets[0]
    cells = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    columns = _header(list(next(cells, ())))

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for line, values in enumerate(cells, start=2):
            texts = [_cell(v) for v in values]
            if any(t.strip() for t in texts):
                yield line, dict(zip(columns, texts, strict=False))
        book.close()

    return Table(columns, rows())


def parse_cop(text: str) -> Decimal:
    """An amount of pesos as people write it: ``3500000``, ``$ 3.500.000``, ``1.500,50``,
    ``1500.50``. With both marks the last is the decimal one; a lone mark followed by exactly
    three digits groups thousands (no one pays 1.5 pesos), otherwise it is the decimal mark.
    Raises :class:`decimal.InvalidOperation` when it is not an amount."""
    cleaned = text.strip().replace("$", "").replace(" ", "").replace("_", "")
    dots, commas = cleaned.count("."), cleaned.count(",")
    if dots and commas:
        decimal_mark = "." if cleaned.rfind(".") > cleaned.rfind(",") else ","
    elif dots + commas == 1:
        mark = "." if dots else ","
        decimal_mark = "" if len(cleaned) - cleaned.index(mark) - 1 == 3 else mark
    else:
        decimal_mark = ""  # none, or one mark repeated: thousands
    thousands = {".", ","} - {decimal_mark}
    for mark in thousands:
        cleaned = cleaned.replace(mark, "")
    return Decimal(cleaned.replace(",", ".") if decimal_mark == "," else cleaned)
