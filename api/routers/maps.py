"""Map pages (HTML) for dispatchers and admins: the folium maps of ``geo.maps``, drawn with the
Leaflet copy served at ``/static/vendor`` so their data shows with no internet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from api.deps import Staff
from api.schemas import MAX_ID
from geo.maps import live_map, plan_map

router = APIRouter(prefix="/maps", tags=["maps"], default_response_class=HTMLResponse)
STATIC = Path(__file__).resolve().parents[1] / "static"
ASSETS = {"leaflet": "/static/vendor/leaflet-1.9.4", "jquery": "/static/vendor/jquery-3.7.1"}


@router.get("/live")
def live(caller: Staff) -> HTMLResponse:
    """Every agent at its last position, battery at a glance; reloads itself."""
    return HTMLResponse(live_map(caller.session, tenant_id=caller.tenant_id, assets=ASSETS)
                        .get_root().render())  # fmt: skip


@router.get("/plans/{plan_id}")
def plan(caller: Staff, plan_id: Annotated[int, PathParam(ge=1, le=MAX_ID)]) -> HTMLResponse:
    """A plan's territories, routes, numbered stops, bases and unplanned cases."""
    page = plan_map(caller.session, tenant_id=caller.tenant_id, plan_id=plan_id, assets=ASSETS)
    return HTMLResponse(page.get_root().render())
