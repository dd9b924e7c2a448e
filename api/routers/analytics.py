"""KPIs, contact hours and suggested visiting windows, as JSON, CSV or XLSX; payments import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import Response

from api.deps import Admin, Watcher
from api.schemas import Day
from geo.analytics.contact_hours import (
    HOUR_COLUMNS,
    HourCell,
    Suggestion,
    contact_hours,
    suggested_windows,
)
from geo.analytics.kpis import GroupBy, KpiRow, kpi_report
from geo.core.exports import Cell, to_csv, to_xlsx
from geo.portfolio.payments import import_payments

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
payments_router = APIRouter(prefix="/v1/payments", tags=["analytics"])

Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")]
DateFrom = Annotated[Day, Query(description="first local day, YYYY-MM-DD")]
DateTo = Annotated[Day, Query(description="last local day, included")]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON rows, or the same table as a CSV or XLSX file (``format``)",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
            _XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
"""What a report route answers, by ``format``."""


def answer(
    name: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    fmt: str,
    meta: dict[str, Any],
) -> Response | dict[str, Any]:
    if fmt == "json":
        return {**meta, "rows": [dict(zip(columns, row, strict=True)) for row in rows]}
    filename = f"{name}_{meta['date_from']}_{meta['date_to']}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(
            to_csv(columns, rows), media_type="text/csv; charset=utf-8", headers=disposition
        )
    return Response(to_xlsx(columns, rows, sheet=name), media_type=_XLSX, headers=disposition)


KPI_COLUMNS = ("kpi", "label", "unit", "group", "numerator", "denominator", "value")


def _kpi_cells(row: KpiRow) -> list[Cell]:
    return [row.kpi, row.label, row.unit, row.group, row.numerator, row.denominator, row.value]


@router.get(
    "/kpis",
    response_model=None,
    responses=REPORT,
    summary="The seven collection KPIs for a period, grouped",
)
def kpis(
    caller: Watcher,
    date_from: DateFrom,
    date_to: DateTo,
    group_by: GroupBy = "none",
    kpi: Annotated[list[str] | None, Query(description="only these KPIs")] = None,
    format: Format = "json",
) -> Response | dict[str, Any]:
    """Each KPI is ``numerator / denominator`` over local days; definitions in
    ``docs/analytics.md``. ``group_by``: none, agent, zone, bucket or week (ISO, Monday)."""
    rows = kpi_report(
        caller.session,
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        **({"kpis": tuple(kpi)} if kpi else {}),
    )
    meta = {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "group_by": group_by,
    }
    return answer("kpis", KPI_COLUMNS, [_kpi_cells(r) for r in rows], format, meta)


def _hour_cells(cell: HourCell) -> list[Cell]:
    row = cell.row()
    return [round(v, 4) if k in {"ci_low", "ci_high"} else v for k, v in row.items()]


@router.get(
    "/contact-hours",
    response_model=None,
    responses=REPORT,
    summary="Contact rate by local hour × weekday, with Wilson 95 %",
)
def hours(
    caller: Watcher,
    date_from: DateFrom,
    date_to: DateTo,
    by_zone: bool = False,
    format: Format = "json",
) -> Response | dict[str, Any]:
    """Completed visits per ISO weekday (1 = Monday) and local hour: attempts, contacts,
    rate and its 95 % Wilson interval; per area zone with ``by_zone``."""
    cells = contact_hours(caller.session, date_from=date_from, date_to=date_to, by_zone=by_zone)
    meta = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "by_zone": by_zone}
    return answer("contact_hours", HOUR_COLUMNS, [_hour_cells(c) for c in cells], format, meta)


WINDOW_COLUMNS = (
    "zone_id",
    "zone",
    "dow",
    "start_hour",
    "end_hour",
    "attempts",
    "contacts",
    "ci_low",
    "day_rate",
    "basis",
)


def _window_cells(s: Suggestion) -> list[Cell]:
    return [
        s.zone_id,
        s.zone_name,
        s.dow,
        s.start_hour,
        s.end_hour,
        s.attempts,
        s.contacts,
        round(s.ci_low, 4),
        round(s.day_rate, 4),
        s.basis,
    ]


@router.get(
    "/suggested-windows",
    response_model=None,
    responses=REPORT,
    summary="Visiting windows suggested by contact history",
)
def windows(
    caller: Watcher,
    date_from: DateFrom,
    date_to: DateTo,
    format: Format = "json",
) -> Response | dict[str, Any]:
    """Per zone and weekday, the hours whose contact rate is surely above the day's
    (Wilson lower bound); the planner applies them to cases without visiting hours."""
    found = suggested_windows(
        caller.session, tenant_id=caller.tenant_id, date_from=date_from, date_to=date_to
    )
    meta = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    return answer(
        "suggested_windows", WINDOW_COLUMNS, [_window_cells(s) for s in found], format, meta
    )


@payments_router.post("/import", summary="Import payments from CSV")
def payments_import(caller: Admin, file: UploadFile) -> dict[str, Any]:
    """CSV with ``case_ref, paid_on, amount_cop`` and optionally ``reference``. Good rows are
    stored, bad rows listed with line, column and reason; a repeated row is stored once."""
    report = import_payments(caller.session, tenant_id=caller.tenant_id, source=file.file.read())
    return {
        "stored": report.stored,
        "already_stored": report.already_stored,
        "errors": [{"line": e.line, "column": e.column, "reason": e.reason} for e in report.errors],
    }
