"""The console's plans: plan a day with progress, publish the plan in force, and each agent's
route sheet (printable, directions per leg) and GPX."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console_access import StaffForm, StaffPage
from api.console_pages import VisitId, render
from api.console_session import Visitor, VisitorDep
from api.schemas import MAX_ID
from geo.accounts.agents import list_agents
from geo.core.errors import CampoError
from geo.core.spanish import km
from geo.core.tenant_settings import tenant_settings
from geo.routing.jobs import create_plan, get_plan, list_plans
from geo.routing.publishing import (
    directions_url,
    plan_agents,
    publish_plan,
    replan_with_pin,
    route_sheet,
    sheet_gpx,
    waze_url,
)

router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)


PLAN_STATES = {
    "queued": "en cola",
    "running": "calculando",
    "done": "terminado",
    "failed": "falló",
}


def _plans_context(visitor: Visitor, day: date) -> dict[str, Any]:
    assert visitor.caller is not None
    caller = visitor.caller
    plans = list_plans(caller.session, tenant_id=caller.tenant_id, day=day)
    sheets = {
        p.id: plan_agents(caller.session, tenant_id=caller.tenant_id, plan_id=p.id)
        for p in plans
        if p.status == "done"
    }
    busy = any(p.status in ("queued", "running") for p in plans)
    return {"plans": plans, "sheets": sheets, "busy": busy, "plan_states": PLAN_STATES}


def _day_param(raw: str | None, zone: ZoneInfo) -> date:
    try:
        return date.fromisoformat(raw) if raw else datetime.now(zone).date()
    except ValueError:
        return datetime.now(zone).date()


@router.get("/planes")
def plans_page(
    request: Request, visitor: VisitorDep, caller: StaffPage, fecha: str | None = None
) -> Response:
    """A day's plans: plan it (with progress), publish one, open its map and route sheets."""
    zone = tenant_settings(caller.session, caller.tenant_id).zone
    day = _day_param(fecha, zone)
    error = request.query_params.get("error")
    return render(
        request,
        "planes.html",
        visitor,
        active="planes",
        day=day.isoformat(),
        error=PLAN_ERRORS.get(error or ""),
        **_plans_context(visitor, day),
    )


@router.get("/planes/lista")
def plans_list(
    request: Request, visitor: VisitorDep, caller: StaffPage, fecha: str | None = None
) -> Response:
    zone = tenant_settings(caller.session, caller.tenant_id).zone
    context = _plans_context(visitor, _day_param(fecha, zone))
    # 286: htmx stops polling once no plan of the day is still being computed.
    return render(request, "_planes.html", visitor, 200 if context["busy"] else 286, **context)


PLAN_ERRORS = {"cerrado": "Ese día la ley no permite visitas de cobranza (domingo o festivo)."}


@router.post("/planes")
def plan_day(
    request: Request,
    caller: StaffForm,
    fecha: Annotated[str, Form(max_length=10)] = "",
    presupuesto: Annotated[float, Form(ge=1, le=600)] = 30,
) -> Response:
    """Queue a plan of the day for the job workers; the page follows its progress."""
    day = _day_param(fecha, tenant_settings(caller.session, caller.tenant_id).zone)
    try:
        create_plan(caller.session, tenant_id=caller.tenant_id, day=day, budget_s=presupuesto)
    except CampoError as exc:
        if exc.field != "date":
            raise
        return RedirectResponse(f"/planes?fecha={day.isoformat()}&error=cerrado", 303)
    return RedirectResponse(f"/planes?fecha={day.isoformat()}", status_code=303)


@router.post("/planes/{plan_id}/publicar")
def plan_publish(
    caller: StaffForm,
    plan_id: VisitId,
) -> Response:
    plan = publish_plan(
        caller.session,
        tenant_id=caller.tenant_id,
        plan_id=plan_id,
        user_id=caller.principal.user_id,
    )
    return RedirectResponse(f"/planes?fecha={plan.day.isoformat()}", status_code=303)


@router.get("/planes/{plan_id}/hoja/{agent_id}")
def plan_sheet(
    request: Request, visitor: VisitorDep, caller: StaffPage, plan_id: VisitId, agent_id: VisitId
) -> Response:
    """An agent's route sheet: stops in order with local times, printable, a directions link
    per leg for the phone's map app, and the GPX."""
    sheet = route_sheet(
        caller.session, tenant_id=caller.tenant_id, plan_id=plan_id, agent_id=agent_id
    )
    points = [sheet.base] + [(s.lon, s.lat) for s in sheet.stops]
    plan = get_plan(caller.session, tenant_id=caller.tenant_id, plan_id=plan_id)
    return render(
        request,
        "hoja.html",
        visitor,
        active="planes",
        sheet=sheet,
        agent_id=agent_id,
        distance=km(sheet.distance_m),
        legs=[directions_url(a, b) for a, b in pairwise(points)],
        waze=[waze_url(b) for b in points[1:]],
        agents=list_agents(caller.session, tenant_id=caller.tenant_id, active_only=True),
        pinned=sum(1 for a in plan.options.get("pins", {}).values() if a == agent_id),
    )


@router.post("/planes/{plan_id}/fijar")
def plan_pin(
    caller: StaffForm,
    plan_id: VisitId,
    caso: Annotated[int, Form(ge=1, le=MAX_ID)],
    gestor: Annotated[int, Form(ge=1, le=MAX_ID)],
) -> Response:
    """Fix a stop to an agent (another, to move it; its own, to keep it) and plan the day
    again around every stop fixed so far; the page follows the new plan's progress."""
    plan = replan_with_pin(
        caller.session,
        tenant_id=caller.tenant_id,
        plan_id=plan_id,
        case_id=caso,
        agent_id=gestor,
        user_id=caller.principal.user_id,
    )
    return RedirectResponse(f"/planes?fecha={plan.day.isoformat()}", status_code=303)


@router.get("/planes/{plan_id}/gpx/{agent_id}")
def plan_gpx(caller: StaffPage, plan_id: VisitId, agent_id: VisitId) -> Response:
    sheet = route_sheet(
        caller.session, tenant_id=caller.tenant_id, plan_id=plan_id, agent_id=agent_id
    )
    name = f"ruta_{sheet.agent_code}_{sheet.day.isoformat()}.gpx"
    return Response(
        sheet_gpx(sheet),
        media_type="application/gpx+xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
