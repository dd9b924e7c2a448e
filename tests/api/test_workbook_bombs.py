"""Workbooks that unpack into bombs are refused before they are parsed, on every upload that
takes a workbook; blank rows of a real form count for nothing."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from fastapi.testclient import TestClient

from geo.core.errors import InvalidInput
from geo.core.workbooks import MAX_UNPACKED, open_workbook
from tests.api.test_xlsform import CHOICES, SURVEY, XLSX, _xlsx
from tests.conftest import World


def _bomb(member_bytes: int, *, members: int = 1) -> bytes:
    """A zip shaped like an .xlsx whose sheets are megabytes of the same byte."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        for n in range(members):
            bomb.writestr(f"xl/worksheets/sheet{n + 1}.xml", b"<worksheet>" + b" " * member_bytes)
    return out.getvalue()


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/v1/cases/import", {}),
        ("/v1/payments/import", {}),
        ("/v1/questionnaires/xlsform", {"key": "bomba"}),
    ],
)
def test_a_workbook_bomb_is_refused_from_its_directory(
    client: TestClient, world: World, path: str, form: dict[str, str]
) -> None:
    data = _bomb(64 * 1024 * 1024)  # 64 MiB of one byte: some 64 KiB on the wire
    assert len(data) < 1024 * 1024
    refused = client.post(
        path, data=form, files={"file": ("x.xlsx", data, XLSX)}, headers=world.auth("admin")
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"][0]["field"] == "file"
    assert "unpacks" in refused.json()["error"]["message"]  # measured, never parsed


def _claiming(data: bytes, size: int) -> bytes:
    """A zip whose central directory says its first member unpacks to ``size`` bytes, as a
    crafted file's may (a deflate stream that long is only slower to build, not different)."""
    at = data.index(b"PK\x01\x02") + 24  # the central header's uncompressed size
    return data[:at] + struct.pack("<I", size) + data[at + 4 :]


def test_a_workbook_too_large_in_all_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unpacks to"):
        open_workbook(_claiming(_bomb(1024), MAX_UNPACKED + 1))


def test_blank_rows_of_a_form_count_for_nothing(client: TestClient, world: World) -> None:
    survey = [*SURVEY, *[[None, None, None]] * 600, ["text", "fin", "Fin"]]
    uploaded = client.post(
        "/v1/questionnaires/xlsform",
        data={"key": "con-blancos"},
        files={"file": ("visita.xlsx", _xlsx(survey, CHOICES), XLSX)},
        headers=world.auth("admin"),
    )
    assert uploaded.status_code == 201, uploaded.text
