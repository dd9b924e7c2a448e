"""Field agents of the tenant."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import Admin, Staff
from api.schemas import MAX_ID, AgentIn, AgentOut
from geo.agents import create_agent, get_agent, list_agents

router = APIRouter(prefix="/v1/agents", tags=["agents"])


@router.get("", response_model=list[AgentOut])
def agents(caller: Staff, active_only: bool = False) -> list[AgentOut]:
    rows = list_agents(caller.session, tenant_id=caller.tenant_id, active_only=active_only)
    return [AgentOut.of(a) for a in rows]


@router.get("/{agent_id}", response_model=AgentOut)
def agent(caller: Staff, agent_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> AgentOut:
    return AgentOut.of(get_agent(caller.session, tenant_id=caller.tenant_id, agent_id=agent_id))


@router.post("", response_model=AgentOut, status_code=status.HTTP_201_CREATED)
def new_agent(caller: Admin, body: AgentIn) -> AgentOut:
    fields = body.model_dump(exclude={"base"})
    view = create_agent(
        caller.session, tenant_id=caller.tenant_id, lon=body.base[0], lat=body.base[1], **fields
    )
    return AgentOut.of(view)
