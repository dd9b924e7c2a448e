"""Field agents: where they start from, how they travel, when and how much they can work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.core.audit import record, record_update
from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.core.models import TRAVEL_MODES, Agent, User
from geo.core.tenant_settings import tenant_settings


@dataclass(frozen=True, slots=True)
class AgentView:
    id: int
    user_id: int
    code: str
    full_name: str
    email: str
    lon: float
    lat: float
    base_address: str | None
    travel_mode: str
    shift_start: time
    shift_end: time
    daily_capacity: int
    skills: list[str]
    active: bool


def _agents(tenant_id: int) -> Select[Any]:
    return (
        select(
            Agent.id,
            Agent.user_id,
            Agent.code,
            User.full_name,
            User.email,
            func.ST_X(Agent.base_point).label("lon"),
            func.ST_Y(Agent.base_point).label("lat"),
            Agent.base_address,
            Agent.travel_mode,
            Agent.shift_start,
            Agent.shift_end,
            Agent.daily_capacity,
            Agent.skills,
            Agent.active,
        )
        .join(User, (User.tenant_id == Agent.tenant_id) & (User.id == Agent.user_id))
        .where(Agent.tenant_id == tenant_id)
    )


def create_agent(
    session: Session,
    *,
    tenant_id: int,
    user_id: int,
    code: str,
    lon: float,
    lat: float,
    travel_mode: str,
    base_address: str | None = None,
    shift_start: time | None = None,
    shift_end: time | None = None,
    daily_capacity: int | None = None,
    skills: list[str] | None = None,
    actor_id: int | None = None,
) -> AgentView:
    """Make a user with role ``agent`` a field agent based at (lon, lat); shift and capacity
    not given are the tenant's defaults."""
    defaults = tenant_settings(session, tenant_id)
    shift_start = defaults.agent_shift_start if shift_start is None else shift_start
    shift_end = defaults.agent_shift_end if shift_end is None else shift_end
    if daily_capacity is None:
        daily_capacity = defaults.agent_daily_capacity
    if travel_mode not in TRAVEL_MODES:
        raise InvalidInput(f"travel_mode must be one of {', '.join(TRAVEL_MODES)}", "travel_mode")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("base point out of range", field="lon" if abs(lon) > 180 else "lat")
    if shift_end <= shift_start:
        raise InvalidInput("shift_end must be after shift_start", field="shift_end")
    if daily_capacity <= 0:
        raise InvalidInput("daily_capacity must be positive", field="daily_capacity")
    role = session.scalar(select(User.role).where(User.tenant_id == tenant_id, User.id == user_id))
    if role is None:
        raise InvalidInput("user not found", field="user_id")
    if role != "agent":
        raise InvalidInput("only users with role 'agent' can be field agents", field="user_id")
    agent = Agent(
        tenant_id=tenant_id,
        user_id=user_id,
        code=code,
        base_point=WKTElement(f"POINT({lon} {lat})", srid=4326),
        base_address=base_address,
        travel_mode=travel_mode,
        shift_start=shift_start,
        shift_end=shift_end,
        daily_capacity=daily_capacity,
        skills=sorted(set(skills or [])),
    )
    session.add(agent)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("this user is already an agent, or the code is taken", "code") from exc
    if actor_id is not None:
        record(
            session,
            tenant_id=tenant_id,
            user_id=actor_id,
            action="create",
            subject=f"agent:{agent.id}",
            before=None,
            after={"user_id": user_id, "code": code, "travel_mode": travel_mode},
        )
    return get_agent(session, tenant_id=tenant_id, agent_id=agent.id)


def list_agents(session: Session, *, tenant_id: int, active_only: bool = False) -> list[AgentView]:
    query = _agents(tenant_id).order_by(Agent.code)
    if active_only:
        query = query.where(Agent.active)
    return [AgentView(**row._mapping) for row in session.execute(query)]


def get_agent(session: Session, *, tenant_id: int, agent_id: int) -> AgentView:
    row = session.execute(_agents(tenant_id).where(Agent.id == agent_id)).one_or_none()
    if row is None:
        raise NotFound("agent not found")
    return AgentView(**row._mapping)


def update_agent(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    actor_id: int,
    travel_mode: str | None = None,
    shift: tuple[time, time] | None = None,
    daily_capacity: int | None = None,
    active: bool | None = None,
) -> AgentView:
    """Change how and when an agent works, or take it off the field (a deactivated agent is
    not planned and may not sync or check in); audited."""
    agent = session.scalar(select(Agent).where(Agent.tenant_id == tenant_id, Agent.id == agent_id))
    if agent is None:
        raise NotFound("agent not found", "agent_id")
    fields = ("travel_mode", "shift_start", "shift_end", "daily_capacity", "active")
    before = {k: getattr(agent, k) for k in fields}
    if travel_mode is not None:
        if travel_mode not in TRAVEL_MODES:
            raise InvalidInput(
                f"travel_mode must be one of {', '.join(TRAVEL_MODES)}", "travel_mode"
            )
        agent.travel_mode = travel_mode
    if shift is not None:
        if not shift[0] < shift[1]:
            raise InvalidInput("shift_end must be after shift_start", field="shift_end")
        agent.shift_start, agent.shift_end = shift
    if daily_capacity is not None:
        if not 0 < daily_capacity <= 500:
            raise InvalidInput("daily_capacity must be between 1 and 500", "daily_capacity")
        agent.daily_capacity = daily_capacity
    if active is not None:
        agent.active = active
    session.flush()
    record_update(
        session,
        tenant_id=tenant_id,
        user_id=actor_id,
        subject=f"agent:{agent_id}",
        before=before,
        after={k: getattr(agent, k) for k in fields},
    )
    return get_agent(session, tenant_id=tenant_id, agent_id=agent_id)
