"""Map pages (HTML) for dispatchers and admins: the folium maps of ``geo.maps``, drawn with
the Leaflet copy served at ``/static/vendor`` so their data shows with no internet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from api.deps import Staff
from api.schemas import MAX_ID, Day
from geo.maps.contacts import contact_heat_map
from geo.maps.dispatcher import dispatcher_page
from geo.maps.live import live_map
from geo.maps.plan import plan_map
from geo.maps.trail import trail_map
from geo.tracking.trails import day_range

router = APIRouter(prefix="/maps", tags=["maps"], default_response_class=HTMLResponse)
STATIC = Path(__file__).resolve().parents[1] / "static"
ASSETS = {
    "leaflet": "/static/vendor/leaflet-1.9.4",
    "jquery": "/static/vendor/jquery-3.7.1",
    "heat": "/static/vendor/leaflet.heat-0.2.0",
    "realtime": "/static/vendor/leaflet-realtime-2.2.0",
    "draw": "/static/vendor/leaflet-draw-1.0.4",
    "vectorgrid": "/static/vendor/leaflet.vectorgrid-1.3.0",
}


@router.get("/live")
def live(caller: Staff) -> HTMLResponse:
    """Every agent at its last position, battery at a glance; reloads itself."""
    return HTMLResponse(
        live_map(caller.session, tenant_id=caller.tenant_id, assets=ASSETS).get_root().render()
    )


@router.get("/plans/{plan_id}")
def plan(caller: Staff, plan_id: Annotated[int, PathParam(ge=1, le=MAX_ID)]) -> HTMLResponse:
    """A plan's territories, routes, numbered stops, bases and unplanned cases."""
    page = plan_map(caller.session, tenant_id=caller.tenant_id, plan_id=plan_id, assets=ASSETS)
    return HTMLResponse(page.get_root().render())


@router.get("/agents/{agent_id}/trail")
def trail(
    caller: Staff, agent_id: Annotated[int, PathParam(ge=1, le=MAX_ID)], date: Day
) -> HTMLResponse:
    """An agent's day: path by battery, stops, check-ins by verdict with geofences, replay."""
    start, end = day_range(caller.session, tenant_id=caller.tenant_id, day=date)
    page = trail_map(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id,
        start=start,
        end=end,
        assets=ASSETS,
    )
    return HTMLResponse(page.get_root().render())


@router.get("/contacts")
def contacts(caller: Staff) -> HTMLResponse:
    """Where visits reached someone (contact, promise, payment), as a heat map."""
    page = contact_heat_map(caller.session, tenant_id=caller.tenant_id, assets=ASSETS)
    return HTMLResponse(page.get_root().render())


@router.get("")
def dispatcher(caller: Staff, date: Day) -> HTMLResponse:
    """The dispatcher's page for a day: the live map, the day's plans, each agent's trail."""
    return HTMLResponse(dispatcher_page(caller.session, tenant_id=caller.tenant_id, day=date))
