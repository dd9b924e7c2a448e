"""The console's cases: the table with filters and keyset pages, the filtered cases on a map,
and assigning a selection to an agent (audited; published routes kept true)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console_access import AdminPage, StaffForm, StaffPage
from api.console_pages import ROLE_LABELS, VisitId, clock, render
from api.console_session import VisitorDep
from api.deps import Caller
from api.routers.maps import ASSETS
from api.schemas import MAX_ID, PolygonIn
from geo.accounts.agents import list_agents
from geo.accounts.users import list_users
from geo.core.errors import CampoError, InvalidInput, NotFound
from geo.core.tenant_settings import Bucket
from geo.dispatch.history import audit_entries, case_history
from geo.maps.cases import case_map, cases_map
from geo.portfolio.cases import (
    MAX_TILE_ZOOM,
    CaseFilter,
    assign_cases,
    cases_tile,
    count_cases,
    filtered_case_ids,
    get_case,
    list_cases,
    update_case,
)
from geo.portfolio.zones import area_zones
from geo.routing.publishing import (
    release_reassigned,
)
from geo.visits.geofences import MAX_RADIUS_M, get_geofence, set_geofence

router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)


CASE_STATUS_LABELS = (
    ("open", "abiertos"),
    ("", "todos"),
    ("paid", "pagados"),
    ("agreement", "con acuerdo"),
    ("written_off", "castigados"),
    ("withdrawn", "retirados"),
)
CASE_STATUS = {
    "open": "abierto",
    "paid": "pagado",
    "agreement": "con acuerdo",
    "written_off": "castigado",
    "withdrawn": "retirado",
}
PAGE = 50
FILTER_FIELDS = ("q", "estado", "tramo", "gestor", "producto", "sector", "zona")
BULK_LIMIT = 5000
"""The most cases one bulk action from the console changes."""


def _case_filter(params: Mapping[str, str]) -> tuple[CaseFilter, dict[str, str]]:
    """The console's filter fields (Spanish names) as a case filter, and as typed, to show
    them again and to keep them across pages."""
    typed = {key: (params.get(key) or "").strip() for key in FILTER_FIELDS}
    if "estado" not in params:
        typed["estado"] = "open"
    gestor, sector = typed["gestor"], typed["sector"]
    where = CaseFilter(
        status=typed["estado"] or None,
        bucket=typed["tramo"] or None,
        assigned_agent_id=int(gestor) if gestor.isdigit() and len(gestor) < 19 else None,
        unassigned=gestor == "ninguno",
        product=typed["producto"].lower() or None,
        text=typed["q"][:100] or None,
        zone_id=int(sector) if sector.isdigit() and len(sector) < 19 else None,
        area=_area(typed["zona"]),
    )
    return where, typed


def _area(drawn: str) -> dict[str, Any] | None:
    """The area drawn on the map (a GeoJSON polygon), checked as the API checks a geofence."""
    return _drawn(drawn, "zona", "dibújela de nuevo") if drawn else None


def _drawn(drawn: str, field: str, hint: str) -> dict[str, Any]:
    try:
        return PolygonIn.model_validate_json(drawn).model_dump()
    except ValidationError:
        raise InvalidInput(f"el área dibujada no es un polígono válido: {hint}", field) from None


@router.get("/casos")
def cases_page(request: Request, visitor: VisitorDep, caller: StaffPage) -> Response:
    """The cases table, filtered, a page of 50 at a time, with their map; select and assign."""
    params = request.query_params
    try:
        where, typed = _case_filter(params)
        after = params.get("despues", "")
        rows = list_cases(
            caller.session,
            tenant_id=caller.tenant_id,
            where=where,
            after_id=int(after) if after.isdigit() and len(after) < 19 else None,
            limit=PAGE,
        )
        total = count_cases(caller.session, tenant_id=caller.tenant_id, where=where)
        error = None
    except CampoError as exc:
        rows, total, error = [], 0, exc.message
        typed = {k: "" for k in FILTER_FIELDS} | {"estado": "open"}
    agents = list_agents(caller.session, tenant_id=caller.tenant_id, active_only=True)
    query = urlencode({k: v for k, v in typed.items()})
    next_after = rows[-1].id if len(rows) == PAGE else None
    done = params.get("hecho")
    return render(
        request,
        "casos.html",
        visitor,
        active="casos",
        cases=rows,
        total=total,
        bulk_limit=BULK_LIMIT,
        f=typed,
        statuses=CASE_STATUS_LABELS,
        buckets=[b.value for b in Bucket],
        agents=agents,
        zones=area_zones(caller.session, tenant_id=caller.tenant_id),
        agent_codes={a.id: a.code for a in agents},
        query=query,
        query_without_area=urlencode({k: v for k, v in typed.items() if k != "zona"}),
        back=f"/casos?{query}",
        next_after=next_after,
        next_url=f"/casos?{query}&despues={next_after}",
        done=int(done) if done and done.isdigit() and len(done) < 9 else None,
        error=error,
    )


@router.get("/casos/mapa")
def cases_page_map(request: Request, caller: StaffPage) -> Response:
    where, typed = _case_filter(request.query_params)
    m = cases_map(
        caller.session,
        tenant_id=caller.tenant_id,
        where=where,
        assets=ASSETS,
        tiles_url=f"/casos/teselas/{{z}}/{{x}}/{{y}}.pbf?{urlencode(typed)}",
        draw=True,
    )
    return HTMLResponse(m.get_root().render())


@router.get("/casos/teselas/{z}/{x}/{y}.pbf")
def cases_page_tile(
    request: Request,
    caller: StaffPage,
    z: Annotated[int, PathParam(ge=0, le=MAX_TILE_ZOOM)],
    x: Annotated[int, PathParam(ge=0)],
    y: Annotated[int, PathParam(ge=0)],
) -> Response:
    """One vector tile of the filtered cases (the map uses tiles when they are many)."""
    where, _typed = _case_filter(request.query_params)
    tile = cases_tile(caller.session, tenant_id=caller.tenant_id, where=where, z=z, x=x, y=y)
    return Response(
        tile,
        media_type="application/vnd.mapbox-vector-tile",
        headers={"Cache-Control": "private, max-age=60"},
    )


def _assign(caller: Caller, ids: list[int], action: str, agent: int | None, field: str) -> int:
    """Assign the cases to ``agent`` (or unassign them), audited, and take them out of the
    published plan's routes of anyone else; how many changed."""
    if action != "quitar" and agent is None:
        # Assigning with no agent chosen must not read as unassigning.
        raise InvalidInput("elija el gestor al que asignar los casos", field)
    changed = assign_cases(
        caller.session,
        tenant_id=caller.tenant_id,
        case_ids=ids,
        agent_id=None if action == "quitar" else agent,
        user_id=caller.principal.user_id,
    )
    release_reassigned(caller.session, tenant_id=caller.tenant_id, case_ids=ids)
    return changed


@router.post("/casos/asignar")
def cases_assign(
    caller: StaffForm,
    caso: Annotated[list[int], Form(max_length=5000)] = [],  # noqa: B006 - FastAPI's form default
    gestor: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    accion: Annotated[str, Form(max_length=20)] = "asignar",
    volver: Annotated[str, Form(max_length=2000)] = "/casos",
) -> Response:
    """Assign the selected cases to an agent, or unassign them; each change is audited."""
    ids = [c for c in caso if 0 < c <= MAX_ID]
    changed = _assign(caller, ids, accion, gestor, "gestor")
    back = volver if volver.startswith("/casos?") or volver == "/casos" else "/casos"
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}hecho={changed}", status_code=303)


Text = Annotated[str, Form(max_length=100)]


@router.post("/casos/asignar-filtrados")
def cases_assign_filtered(
    caller: StaffForm,
    q: Text = "",
    estado: Text = "",
    tramo: Text = "",
    gestor: Text = "",
    producto: Text = "",
    sector: Text = "",
    zona: Annotated[str, Form(max_length=60_000)] = "",
    asignar_a: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    accion: Text = "asignar",
) -> Response:
    """Assign (or unassign) every case the filter matches, not only this page's: an area
    drawn on the map, a bucket, an agent's cases. Each change is audited."""
    fields = {
        "q": q,
        "estado": estado,
        "tramo": tramo,
        "gestor": gestor,
        "producto": producto,
        "sector": sector,
    }
    where, typed = _case_filter(fields | {"zona": zona})
    ids = filtered_case_ids(
        caller.session, tenant_id=caller.tenant_id, where=where, limit=BULK_LIMIT
    )
    changed = _assign(caller, ids, accion, asignar_a, "asignar_a")
    return RedirectResponse(f"/casos?{urlencode(typed)}&hecho={changed}", status_code=303)


ACTION_LABELS = {
    "assign": "asignación",
    "review": "revisión",
    "publish": "publicación",
    "update": "cambio",
    "pin": "visita fijada",
    "geofence": "geocerca",
}
CHANNEL_NAMES = {
    "call": "llamada",
    "sms": "SMS",
    "email": "correo",
    "whatsapp": "WhatsApp",
    "letter": "carta",
    "visit": "visita",
}


@router.get("/casos/{case_id}")
def case_page(
    request: Request, visitor: VisitorDep, caller: StaffPage, case_id: VisitId
) -> Response:
    """A case and its history: visits with verdicts and answers, promises, payments, other
    channels, and every audited change."""
    try:
        case = get_case(caller.session, tenant_id=caller.tenant_id, case_id=case_id)
    except NotFound:
        return RedirectResponse("/casos", status_code=303)
    agents = {
        a.id: f"{a.code} · {a.full_name}"
        for a in list_agents(caller.session, tenant_id=caller.tenant_id)
    }
    return render(
        request,
        "caso.html",
        visitor,
        active="casos",
        case=case,
        agent=agents.get(case.assigned_agent_id or 0),
        history=case_history(caller.session, tenant_id=caller.tenant_id, case_id=case_id),
        case_status=CASE_STATUS.get(case.status, case.status),
        fence=None
        if case.address_id is None
        else get_geofence(caller.session, tenant_id=caller.tenant_id, case_id=case_id),
        done={"geocerca": "Geocerca guardada.", "horario": "Horario de visita guardado."}.get(
            request.query_params.get("hecho", "")
        ),
        actions=ACTION_LABELS,
        channels=CHANNEL_NAMES,
    )


@router.get("/casos/{case_id}/mapa")
def case_page_map(caller: StaffPage, case_id: VisitId) -> Response:
    m = case_map(caller.session, tenant_id=caller.tenant_id, case_id=case_id, assets=ASSETS)
    return HTMLResponse(m.get_root().render())


@router.post("/casos/{case_id}/geocerca")
def case_geofence(
    caller: StaffForm,
    case_id: VisitId,
    accion: Annotated[str, Form(max_length=20)] = "circulo",
    radio: Annotated[float | None, Form(gt=0, le=MAX_RADIUS_M)] = None,
    poligono: Annotated[str, Form(max_length=60_000)] = "",
) -> Response:
    """The case's geofence: a circle of a radius, the polygon drawn on the map, or back to
    the tenant's default; audited."""
    polygon = None
    if accion == "poligono":
        polygon = _drawn(poligono, "poligono", "dibuje la geocerca en el mapa")
    elif accion == "circulo" and radio is None:
        raise InvalidInput("escriba el radio de la geocerca en metros", "radio")
    set_geofence(
        caller.session,
        tenant_id=caller.tenant_id,
        case_id=case_id,
        radius_m=radio if accion == "circulo" else None,
        polygon=polygon,
        user_id=caller.principal.user_id,
    )
    return RedirectResponse(f"/casos/{case_id}?hecho=geocerca", status_code=303)


@router.post("/casos/{case_id}/horario")
def case_hours(
    caller: StaffForm,
    case_id: VisitId,
    desde: Annotated[str, Form(max_length=8)] = "",
    hasta: Annotated[str, Form(max_length=8)] = "",
    accion: Annotated[str, Form(max_length=20)] = "guardar",
) -> Response:
    """The hours the debtor may be visited (the planner's window), or none; audited."""
    window = None
    if accion != "quitar":
        window = (clock(desde, "desde"), clock(hasta, "hasta"))
    update_case(
        caller.session,
        tenant_id=caller.tenant_id,
        case_id=case_id,
        visit_window=window,
        user_id=caller.principal.user_id,
    )
    return RedirectResponse(f"/casos/{case_id}?hecho=horario", status_code=303)


@router.get("/auditoria")
def audit_page(
    request: Request, visitor: VisitorDep, caller: AdminPage, usuario: str | None = None
) -> Response:
    """Every audited change, newest first, of everyone or of one person (admins)."""
    users = list_users(caller.session, tenant_id=caller.tenant_id)
    selected = int(usuario) if usuario and usuario.isdigit() and len(usuario) < 19 else None
    person = next((u.full_name for u in users if u.id == selected), None)
    return render(
        request,
        "auditoria.html",
        visitor,
        active="auditoria",
        users=users,
        selected=selected,
        person=person,
        entries=audit_entries(caller.session, tenant_id=caller.tenant_id, user_id=selected),
        actions=ACTION_LABELS,
        roles=ROLE_LABELS,
    )
