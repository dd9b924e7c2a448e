"""The field app's own endpoints: an agent acting as itself."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AgentCaller, agent_id_of
from api.schemas import (
    AgentOut,
    CaseOut,
    CheckinItem,
    Day,
    DayCaseOut,
    DayOut,
    FixItem,
    OutcomeItem,
    StopOut,
    TrackingOut,
    documented,
)
from geo.fieldkit.phones import register_web_app
from geo.tracking.telemetry import MAX_BATCH, ItemResult
from geo.visits.bundle import day_bundle
from geo.visits.sync import sync_batch

MAX_ITEMS = 500

router = APIRouter(prefix="/v1/me", tags=["field app"])


class SyncIn(BaseModel):
    """A batch recorded offline. Items are validated one by one, so one bad item is reported
    in the answer instead of refusing the batch."""

    model_config = ConfigDict(extra="forbid")

    fixes: Annotated[list[Annotated[Any, documented(FixItem)]], Field(max_length=MAX_BATCH)] = []
    checkins: Annotated[
        list[Annotated[Any, documented(CheckinItem)]],
        Field(
            max_length=MAX_ITEMS,
            description="As POST /v1/visits/check-in, with "
            "checked_in_at: verified against the fixes of this batch and earlier ones.",
        ),
    ] = []
    outcomes: Annotated[
        list[Annotated[Any, documented(OutcomeItem)]],
        Field(
            max_length=MAX_ITEMS,
            description="As POST /v1/visits/{id}/outcome, naming the "
            "visit by its check-in: checkin_id.",
        ),
    ] = []


class ItemOut(BaseModel):
    id: str | None
    status: str = Field(description="stored, duplicate or rejected")
    code: str | None = None
    field: str | None = None
    message: str | None = None


class SyncOut(BaseModel):
    fixes: list[ItemOut]
    checkins: list[dict[str, Any]] = Field(
        description="The check-in answer (verdict, reasons...) with status done, or rejected"
    )
    outcomes: list[dict[str, Any]]


@router.get("/day", response_model=DayOut)
def day(
    caller: AgentCaller,
    on: Annotated[Day | None, Query(alias="date", description="Default: today")] = None,
) -> DayOut:
    """The day bundle: open cases and the tracking settings the app must apply."""
    bundle = day_bundle(
        caller.session, tenant_id=caller.tenant_id, agent_id=agent_id_of(caller), day=on
    )
    return DayOut(
        date=bundle.date,
        agent=AgentOut.of(bundle.agent),
        tracking=TrackingOut.model_validate(bundle.tracking, from_attributes=True),
        cases=[
            DayCaseOut(
                **CaseOut.of(c).model_dump(),
                stop=StopOut.model_validate(bundle.stops[c.id], from_attributes=True)
                if c.id in bundle.stops
                else None,
            )
            for c in bundle.cases
        ],
    )


class WebAppOut(BaseModel):
    key: str = Field(description="This browser's credential in the form server's URL")
    form_server: str = Field(description="The OpenRosa server of the agent's visit forms")


@router.post("/web-app", response_model=WebAppOut, status_code=201)
def web_app(caller: AgentCaller, request: Request) -> WebAppOut:
    """Registers the browser the agent signed in on: campo's web app sends its visits to the
    OpenRosa server with this key, as ODK Collect does, so a day's work still reaches campo
    after the sign-in's token has expired."""
    device = register_web_app(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id_of(caller),
        actor_id=caller.principal.user_id,
    )
    base = str(request.base_url).rstrip("/")
    return WebAppOut(key=device.identifier, form_server=f"{base}/openrosa/key/{device.identifier}")


@router.post("/sync", response_model=SyncOut, response_model_exclude_none=True)
def sync(caller: AgentCaller, batch: SyncIn) -> Response:
    result = sync_batch(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id_of(caller),
        fixes=batch.fixes,
        checkins=batch.checkins,
        outcomes=batch.outcomes,
    )
    # Up to 5,000 items: written directly (same shape as SyncOut) instead of validating a
    # model per item, which cost as much as storing them.
    body = {
        "fixes": [_item(r) for r in result.fixes],
        "checkins": result.checkins,
        "outcomes": result.outcomes,
    }
    return Response(json.dumps(body), media_type="application/json")


def _item(result: ItemResult) -> dict[str, str | None]:
    if result.status != "rejected":
        return {"id": result.id, "status": result.status}
    return {
        "id": result.id,
        "status": result.status,
        "code": result.code,
        "field": result.field,
        "message": result.message,
    }
