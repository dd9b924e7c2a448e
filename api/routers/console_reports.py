"""The console's reports: the KPIs of a period by group, contactability by hour and weekday
as a heat table, the suggested windows and the law's breaches, with the downloads the API
serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console_access import WatcherPage
from api.console_pages import render
from api.console_session import VisitorDep
from geo.analytics.contact_hours import HourCell, contact_hours, suggested_windows
from geo.analytics.kpis import GROUPINGS, GroupBy, KpiRow, kpi_report
from geo.contacts.report import compliance_report
from geo.core.errors import CampoError
from geo.core.spanish import number
from geo.core.tenant_settings import tenant_settings

router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)
DAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
GROUP_LABELS = {
    "none": "nada",
    "agent": "gestor",
    "zone": "zona",
    "bucket": "tramo de mora",
    "week": "semana",
}


@dataclass(frozen=True, slots=True)
class Shown:
    label: str
    group: str | None
    shown: str
    numerator: float
    denominator: float


def _shown(row: KpiRow) -> Shown:
    value = row.value
    text = (
        "—"
        if value is None
        else f"{number(value * 100, 1)} %"
        if row.unit == "ratio"
        else f"{number(value, 1)} h"
        if row.unit == "hours"
        else f"{number(value, 1)} días"
    )
    return Shown(row.label, row.group, text, row.numerator, row.denominator)


@dataclass(frozen=True, slots=True)
class Cell:
    alpha: float
    text: str
    title: str


def _day(raw: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else fallback
    except ValueError:
        return fallback


@router.get("/informes")
def reports(request: Request, visitor: VisitorDep, caller: WatcherPage) -> Response:
    """A period's KPIs (grouped), contact hours, suggested windows and breaches of the law."""
    zone = tenant_settings(caller.session, caller.tenant_id).zone
    today = datetime.now(zone).date()
    params = request.query_params
    until = _day(params.get("hasta"), today)
    since = _day(params.get("desde"), until - timedelta(days=27))
    grouping: GroupBy = next((g for g in GROUPINGS if g == params.get("agrupar")), "none")
    error, kpis, hours, windows = None, [], [], []
    compliance = {"contacts": 0, "breaches": 0}
    try:
        kpis = [
            _shown(r)
            for r in kpi_report(
                caller.session,
                date_from=since,
                date_to=until,
                group_by=grouping,
                kpis=_KPI_KEYS,
            )
        ]
        cells = {
            (c.dow, c.hour): c
            for c in contact_hours(caller.session, date_from=since, date_to=until)
        }
        hours = [
            (hour, [_cell(cells.get((dow, hour))) for dow in range(1, 8)]) for hour in range(6, 21)
        ]
        windows = [
            s
            for s in suggested_windows(
                caller.session, tenant_id=caller.tenant_id, date_from=since, date_to=until
            )
            if s.zone_id is None
        ]
        found = compliance_report(
            caller.session, tenant_id=caller.tenant_id, date_from=since, date_to=until
        )
        compliance = {"contacts": found.contacts, "breaches": len(found.breaches)}
    except CampoError as exc:
        error = exc.message
    return render(
        request,
        "informes.html",
        visitor,
        active="informes",
        desde=since.isoformat(),
        hasta=until.isoformat(),
        agrupar=grouping,
        groupings=list(GROUP_LABELS.items()),
        kpis=kpis,
        hours=hours,
        days=DAYS,
        windows=windows,
        compliance=compliance,
        error=error,
    )


_KPI_KEYS = (
    "recovery_rate",
    "promises_kept",
    "response_time",
    "contactability",
    "agreement_rate",
    "retention",
    "resolution_time",
    "review_rejected",
    "compliance_breaches",
)


def _cell(cell: HourCell | None) -> Cell:
    """A heat-table cell: darker for a higher contact rate; the counts on hover."""
    if cell is None or cell.rate is None:
        return Cell(0.0, "", "sin visitas")
    return Cell(
        round(0.1 + 0.8 * cell.rate, 2),
        f"{cell.rate * 100:.0f}",
        f"{cell.contacts} de {cell.attempts} visitas con contacto",
    )
