"""CSV import: good rows stored, bad rows reported by line and column, all-or-nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from geo.cli.commands import app
from geo.core.db import owner_session, tenant_session
from geo.core.errors import InvalidInput
from geo.core.models import Address, Case, Debtor
from geo.portfolio.imports import import_cases
from geo.provisioning.tenants import create_tenant

HEADER = (
    "external_ref,document_type,document_number,full_name,phone,product,outstanding_cop,"
    "days_past_due,address,city,lat,lon\n"
)
GOOD_1 = (
    "R-1,CC,1,Ana Gómez,300,tarjeta_credito,3500000,45,Calle 72 # 10-34,Bogotá,4.6565,-74.0589\n"
)
GOOD_2 = "R-2,CC,2,Luis Pérez,,libranza,9000000,120,Carrera 15 # 100-20,Bogotá D.C.,,\n"
GOOD_3 = "R-3,CC,1,Ana Gómez,300,vehiculo,41000000,200,Finca La Esperanza,Chía,,\n"
BAD = [
    ("R-4,XX,3,Bad Doc,,libranza,100,1,Calle 1 # 2-3,Bogotá,,\n", "document_type"),
    ("R-5,CC,4,Bad Amount,,libranza,mucho,1,Calle 1 # 2-3,Bogotá,,\n", "outstanding_cop"),
    ("R-6,CC,5,Bad Lat,,libranza,100,1,Calle 1 # 2-3,Bogotá,94.1,-74\n", "lat"),
    ("R-7,CC,6,Half Coord,,libranza,100,1,Calle 1 # 2-3,Bogotá,4.6,\n", "lon"),
    ("R-1,CC,7,Twice,,libranza,100,1,Calle 1 # 2-3,Bogotá,,\n", "external_ref"),
    ("R-8,CC,8,Neg Days,,libranza,100,-3,Calle 1 # 2-3,Bogotá,,\n", "days_past_due"),
    (",CC,9,No Ref,,libranza,100,3,Calle 1 # 2-3,Bogotá,,\n", "external_ref"),
]


@pytest.fixture
def tenant_id() -> int:
    with owner_session() as session:
        return create_tenant(session, slug="importa", name="Importa").id


def _count(tenant_id: int) -> tuple[int, int, int]:
    with tenant_session(tenant_id) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Case, Debtor, Address)
        )


def test_good_rows_stored_and_bad_rows_reported(tenant_id: int) -> None:
    csv_text = HEADER + GOOD_1 + GOOD_2 + "".join(row for row, _ in BAD) + GOOD_3
    with tenant_session(tenant_id) as session:
        report = import_cases(session, tenant_id=tenant_id, source=csv_text)
    assert report.stored == 3
    assert [(e.line, e.column) for e in report.errors] == [
        (4 + i, column) for i, (_row, column) in enumerate(BAD)
    ]
    assert report.geocoded == 1  # a Bogotá grid address without coordinates
    assert report.without_location == 1  # a rural address outside any grid model
    assert _count(tenant_id) == (3, 2, 3)  # Ana's two cases share one debtor
    with tenant_session(tenant_id) as session:
        qualities = dict(
            session.execute(
                select(Case.external_ref, Address.geocode_quality).join(
                    Address, (Address.tenant_id == Case.tenant_id) & (Address.id == Case.address_id)
                )
            ).all()
        )
        buckets = dict(session.execute(select(Case.external_ref, Case.bucket)).all())
    assert qualities == {"R-1": "provided", "R-2": "grid", "R-3": "none"}
    assert buckets == {"R-1": "31-60", "R-2": "91-180", "R-3": "180+"}


def test_reimport_reports_existing_refs_and_stores_nothing_twice(tenant_id: int) -> None:
    for expected_stored in (2, 0):
        with tenant_session(tenant_id) as session:
            report = import_cases(session, tenant_id=tenant_id, source=HEADER + GOOD_1 + GOOD_2)
        assert report.stored == expected_stored
    assert [e.reason for e in report.errors] == ["already exists", "already exists"]
    assert _count(tenant_id)[0] == 2


def test_an_import_that_fails_midway_leaves_nothing(tenant_id: int) -> None:
    rows = "".join(
        f"M-{i},CC,{i},Deudor {i},,libranza,100000,{i % 400},Calle {i % 90 + 2} # 10-20,Bogotá,,\n"
        for i in range(2500)
    )

    def crash_after_first_chunk(done: int, total: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C, a killed process: whatever stops it midway

    with pytest.raises(KeyboardInterrupt), tenant_session(tenant_id) as session:
        import_cases(
            session,
            tenant_id=tenant_id,
            source=HEADER + rows,
            progress=crash_after_first_chunk,
        )
    assert _count(tenant_id) == (0, 0, 0)


def test_missing_column_is_refused_with_its_name(tenant_id: int) -> None:
    with pytest.raises(InvalidInput) as caught, tenant_session(tenant_id) as session:
        import_cases(session, tenant_id=tenant_id, source="external_ref,city\nX,Y\n")
    assert caught.value.field == "document_type"


def test_cli_import_reports_rows_and_exit_code(
    tenant_id: int, tmp_path: pytest.TempPathFactory
) -> None:
    path = tmp_path / "cartera.csv"  # type: ignore[operator]
    path.write_text(HEADER + GOOD_1 + BAD[0][0], encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "cases", "--tenant", "importa", str(path)])
    assert result.exit_code == 2, result.output
    assert "1 casos guardados" in result.output
    assert "document_type" in result.output


def test_cli_agent_create_refuses_a_bad_shift_time_clearly(tenant_id: int) -> None:
    result = CliRunner().invoke(
        app,
        [
            "agent",
            "create",
            "-t",
            "importa",
            "--email",
            "x@y.co",
            "--code",
            "G1",
            "--lon",
            "-74",
            "--lat",
            "4.6",
            "--shift-start",
            "8am",
        ],
    )
    assert result.exit_code == 2
    assert "not a time like 08:00" in result.output


def test_spanish_excel_files_are_read_as_they_are(tenant_id: int) -> None:
    """Windows-1252, semicolons and a byte-order mark, or an .xlsx workbook."""
    semicolons = (HEADER + GOOD_1 + GOOD_2).replace(",", ";")
    with tenant_session(tenant_id) as session:
        report = import_cases(session, tenant_id=tenant_id, source=semicolons.encode("cp1252"))
    assert report.stored == 2, report.errors
    book = Workbook()
    page = book.active
    assert page is not None
    for line in (HEADER + GOOD_3).splitlines():
        page.append(line.split(","))
    out = io.BytesIO()
    book.save(out)
    with tenant_session(tenant_id) as session:
        assert import_cases(session, tenant_id=tenant_id, source=out.getvalue()).stored == 1
        names = set(session.scalars(select(Debtor.full_name)))
    assert names == {"Ana Gómez", "Luis Pérez"}  # decoded, not mojibake
    bom = b"\xef\xbb\xbf" + (HEADER + GOOD_2.replace("R-2", "R-9")).encode()
    with tenant_session(tenant_id) as session:
        assert import_cases(session, tenant_id=tenant_id, source=bom).stored == 1


@pytest.mark.parametrize(
    ("data", "field", "line"),
    [
        ((HEADER.replace("city", "product") + GOOD_1).encode(), "product", 1),
        ((HEADER + GOOD_1).encode() + b"R-2,CC\x00,2\n", "file", 3),
        ((HEADER + GOOD_1).encode() + b"R-2,CC,2,\x81\x8d\n", "file", 3),
        ((HEADER + GOOD_1 + GOOD_2 + 'R-3,CC,3,"' + "x" * 5000 + '"\n').encode(), "full_name", 4),
    ],
    ids=["duplicated-column", "nul-byte", "not-text", "field-too-long"],
)
def test_files_that_cannot_be_read_safely_are_refused_with_their_line(
    tenant_id: int, data: bytes, field: str, line: int
) -> None:
    with pytest.raises(InvalidInput) as caught, tenant_session(tenant_id) as session:
        import_cases(session, tenant_id=tenant_id, source=data)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"line {line}:")
    assert _count(tenant_id) == (0, 0, 0)


def test_an_amount_past_the_column_is_a_row_error(tenant_id: int) -> None:
    huge = GOOD_2.replace("9000000", "1e20")
    with tenant_session(tenant_id) as session:
        report = import_cases(session, tenant_id=tenant_id, source=HEADER + GOOD_1 + huge)
    assert report.stored == 1
    assert [(e.line, e.column) for e in report.errors] == [(3, "outstanding_cop")]


@pytest.mark.parametrize(
    "data", [b"\x00\x01", "external_ref;city\nX;\xe9\n".encode("latin-1") + b"\x81"]
)
def test_the_cli_never_crashes_on_a_bad_file(
    tenant_id: int, tmp_path: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path / "malo.csv"  # type: ignore[operator]
    path.write_bytes(data)
    result = CliRunner().invoke(app, ["import", "cases", "--tenant", "importa", str(path)])
    assert result.exit_code == 1, result.output
    assert "error" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
