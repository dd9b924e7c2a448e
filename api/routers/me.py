"""The field app's own endpoints: an agent acting as itself."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Caller, require
from api.schemas import AgentOut, CaseOut, DayOut, TrackingOut
from geo.bundle import day_bundle
from geo.errors import PermissionDenied
from geo.telemetry import MAX_BATCH, ItemResult, sync_fixes

router = APIRouter(prefix="/v1/me", tags=["field app"])
AgentCaller = Annotated[Caller, Depends(require("agent"))]


class SyncIn(BaseModel):
    """A batch recorded offline. Items are validated one by one, so one bad item is reported
    in the answer instead of refusing the batch."""

    model_config = ConfigDict(extra="forbid")

    fixes: Annotated[list[Any], Field(max_length=MAX_BATCH)] = []


class ItemOut(BaseModel):
    id: str | None
    status: str = Field(description="stored, duplicate or rejected")
    code: str | None = None
    field: str | None = None
    message: str | None = None


class SyncOut(BaseModel):
    fixes: list[ItemOut]


def _agent_id(caller: Caller) -> int:
    if caller.principal.agent_id is None:
        raise PermissionDenied("this user is not set up as a field agent")
    return caller.principal.agent_id


@router.get("/day", response_model=DayOut)
def day(
    caller: AgentCaller,
    on: Annotated[date | None, Query(alias="date", description="Default: today")] = None,
) -> DayOut:
    """The day bundle: open cases and the tracking settings the app must apply."""
    bundle = day_bundle(
        caller.session, tenant_id=caller.tenant_id, agent_id=_agent_id(caller), day=on
    )
    return DayOut(
        date=bundle.date, agent=AgentOut.of(bundle.agent),
        tracking=TrackingOut.model_validate(bundle.tracking, from_attributes=True),
        cases=[CaseOut.of(c) for c in bundle.cases],
    )  # fmt: skip


@router.post("/sync", response_model=SyncOut, response_model_exclude_none=True)
def sync(caller: AgentCaller, batch: SyncIn) -> Response:
    results = sync_fixes(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=_agent_id(caller),
        items=batch.fixes,
    )
    # Up to 5,000 items: written directly (same shape as SyncOut) instead of validating a
    # model per item, which cost as much as storing them.
    items = [_item(r) for r in results]
    return Response(json.dumps({"fixes": items}), media_type="application/json")


def _item(result: ItemResult) -> dict[str, str | None]:
    if result.status != "rejected":
        return {"id": result.id, "status": result.status}
    return {"id": result.id, "status": result.status, "code": result.code,
            "field": result.field, "message": result.message}  # fmt: skip
