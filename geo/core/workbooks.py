"""Opening an uploaded ``.xlsx`` workbook without letting it unpack into a bomb.

An ``.xlsx`` is a zip of XML: a few megabytes can unpack to gigabytes that openpyxl would
parse for minutes (holding the memory) before a single row is read. The zip's own directory
says how large each member unpacks, so the workbook is measured before it is opened: too
large in all, or one member compressed far beyond what real spreadsheets reach, is refused at
once. openpyxl has no such limit of its own, so this small check is written here.
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook, load_workbook

from geo.core.errors import InvalidInput

MAX_UNPACKED = 256 * 1024 * 1024
"""Bytes a workbook may unpack to in all (a portfolio of a million rows fits)."""
MAX_RATIO = 100
"""Real sheets compress 5-20 times, very repetitive ones ~50; past this a member is a bomb."""
RATIO_FROM = 4 * 1024 * 1024
"""Members smaller than this unpacked are never bombs, whatever their ratio."""


def open_workbook(data: bytes) -> Workbook:
    """The workbook, read-only with cell values; InvalidInput (field ``file``) for what is not
    a workbook, or unpacks too large."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput("the file is not an .xlsx workbook", "file") from None
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED:
        raise InvalidInput(
            f"the workbook unpacks to {unpacked / 2**20:,.0f} MiB, more than the "
            f"{MAX_UNPACKED / 2**20:,.0f} MiB a workbook may take",
            "file",
        )
    for member in members:
        if member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise InvalidInput(
                f"{member.filename} unpacks {member.file_size // max(member.compress_size, 1)} "
                "times its size: not a spreadsheet a program wrote",
                "file",
            )
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for what is not a workbook
        raise InvalidInput("the file is not a readable .xlsx workbook", "file") from None
