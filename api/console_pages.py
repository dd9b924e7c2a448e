"""What every console page shares: the Jinja2 templates with their es-CO filters, rendering
with the visitor and the tenant's zone (who may see a page is ``api.console_access``)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.console_session import Visitor
from api.schemas import MAX_ID
from geo.core.errors import InvalidInput
from geo.core.spanish import money, number
from geo.core.tenant_settings import tenant_settings
from geo.visits.mail import OUTCOME_LABELS, VERDICT_LABELS

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
ROLE_LABELS = {
    "admin": "Administración",
    "dispatcher": "Despacho",
    "analyst": "Analítica",
    "agent": "Gestor",
}
DECISION_LABELS = {"approved": "aprobada", "rejected": "rechazada en revisión"}
SUBMISSION_STATE_LABELS = {
    "stored": "sin procesar",
    "derived": "registrado",
    "problems": "con problemas",
    "refused": "sin visita",
    "replaced": "reemplazado",
}
VisitId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


def _hora(value: datetime, zone: ZoneInfo | None = None) -> str:
    return (value.astimezone(zone) if zone else value).strftime("%H:%M")


def _cuando(value: datetime) -> str:
    """A local moment: its time if it is today, else its date and time."""
    today = datetime.now(value.tzinfo).date()
    return value.strftime("%H:%M" if value.date() == today else "%Y-%m-%d %H:%M")


templates.env.filters.update(
    cifra=lambda value: number(float(value)),
    hora=_hora,
    cuando=_cuando,
    fecha_hora=lambda value: value.strftime("%Y-%m-%d %H:%M"),
    pesos=money,
)


def render(
    request: Request, name: str, visitor: Visitor, status: int = 200, **context: Any
) -> HTMLResponse:
    zone = ZoneInfo("America/Bogota")
    if visitor.caller is not None:
        zone = tenant_settings(visitor.caller.session, visitor.caller.tenant_id).zone
    return templates.TemplateResponse(
        request,
        name,
        {
            "visitor": visitor,
            "role_label": ROLE_LABELS.get(visitor.role or "", ""),
            "today": datetime.now(zone).date().isoformat(),
            "zone": zone,
            "verdicts": VERDICT_LABELS,
            "decisions": DECISION_LABELS,
            "outcomes": OUTCOME_LABELS,
            **context,
        },
        status_code=status,
    )


def clock(text: str, field: str) -> time:
    """A time typed in a form (HH:MM), or the field named as wrong."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput("escriba la hora como HH:MM", field) from None
