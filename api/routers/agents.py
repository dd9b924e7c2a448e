"""Field agents of the tenant."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from api.contract import GeoJSONResponse
from api.deps import Admin, Reader, Staff, Watcher
from api.schemas import MAX_ID, AgentIn, AgentOut, AgentPatch, Day, Instant
from geo.accounts.agents import create_agent, get_agent, list_agents, update_agent
from geo.core.errors import InvalidInput, PermissionDenied
from geo.tracking.live import live_positions
from geo.tracking.trails import TrailOptions, agent_trail, day_range, trail_geojson

router = APIRouter(prefix="/v1/agents", tags=["agents"])
AgentId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response_model=list[AgentOut])
def agents(caller: Staff, active_only: bool = False) -> list[AgentOut]:
    rows = list_agents(caller.session, tenant_id=caller.tenant_id, active_only=active_only)
    return [AgentOut.of(a) for a in rows]


@router.get(
    "/live", summary="Every agent's latest position as GeoJSON", response_class=GeoJSONResponse
)
def live(caller: Watcher) -> dict[str, Any]:
    """Position, accuracy, battery, charging, speed and last seen of each active agent;
    ``stale`` after the tenant's ``live_stale_min`` minutes without a fix."""
    return live_positions(caller.session, tenant_id=caller.tenant_id)


@router.get(
    "/{agent_id}/trail",
    summary="An agent's trail: path, distance, stops, battery",
    response_class=GeoJSONResponse,
)
def trail(
    caller: Reader,
    agent_id: AgentId,
    date: Annotated[Day | None, Query(description="A local day of the tenant")] = None,
    start: Annotated[Instant | None, Query()] = None,
    end: Annotated[Instant | None, Query()] = None,
    tolerance_m: Annotated[float, Query(ge=0, le=1000)] = 5.0,
    stop_radius_m: Annotated[float, Query(gt=0, le=2000)] = 50.0,
    stop_min_minutes: Annotated[float, Query(gt=0, le=24 * 60)] = 5.0,
    gap_minutes: Annotated[float, Query(gt=0, le=24 * 60)] = 10.0,
    max_accuracy_m: Annotated[float, Query(gt=0, le=10_000)] = 50.0,
    jitter_m: Annotated[float, Query(ge=0, le=1000)] = 10.0,
) -> dict[str, Any]:
    """Agents may read their own trail; staff and analysts any agent's of the tenant."""
    if caller.principal.role == "agent" and caller.principal.agent_id != agent_id:
        raise PermissionDenied("agents may only read their own trail")
    if date is not None:
        start, end = day_range(caller.session, tenant_id=caller.tenant_id, day=date)
    if start is None or end is None:
        raise InvalidInput("give a date, or both start and end", "date")
    options = TrailOptions(
        tolerance_m=tolerance_m,
        stop_radius_m=stop_radius_m,
        stop_min_s=stop_min_minutes * 60,
        gap_s=gap_minutes * 60,
        max_accuracy_m=max_accuracy_m,
        jitter_m=jitter_m,
    )
    found = agent_trail(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id,
        start=start,
        end=end,
        options=options,
    )
    return trail_geojson(found)


@router.get("/{agent_id:int}", response_model=AgentOut)
def agent(caller: Staff, agent_id: AgentId) -> AgentOut:
    return AgentOut.of(get_agent(caller.session, tenant_id=caller.tenant_id, agent_id=agent_id))


@router.patch("/{agent_id:int}", response_model=AgentOut)
def change_agent(caller: Admin, agent_id: AgentId, body: AgentPatch) -> AgentOut:
    """Shift, capacity, travel mode, or off the field (not planned, may not sync); audited.
    A shift is changed whole: both ends."""
    if (body.shift_start is None) != (body.shift_end is None):
        raise InvalidInput("give shift_start and shift_end together", "shift_end")
    shift = None
    if body.shift_start is not None and body.shift_end is not None:
        shift = (body.shift_start, body.shift_end)
    view = update_agent(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id,
        actor_id=caller.principal.user_id,
        travel_mode=body.travel_mode,
        shift=shift,
        daily_capacity=body.daily_capacity,
        active=body.active,
    )
    return AgentOut.of(view)


@router.post("", response_model=AgentOut, status_code=status.HTTP_201_CREATED)
def new_agent(caller: Admin, body: AgentIn) -> AgentOut:
    fields = body.model_dump(exclude={"base"})
    view = create_agent(
        caller.session,
        tenant_id=caller.tenant_id,
        lon=body.base[0],
        lat=body.base[1],
        actor_id=caller.principal.user_id,
        **fields,
    )
    return AgentOut.of(view)
