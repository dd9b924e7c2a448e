"""Daily plans: create one (computed by a job worker), poll it, fetch it as GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from api.contract import GeoJSONResponse
from api.deps import Staff
from api.schemas import MAX_ID, Day, PinIn, PlanAudit, PlanIn, PlanProblem
from geo.routing.audit import audit_plan
from geo.routing.jobs import (
    PlanView,
    cancel_plan,
    create_plan,
    get_plan,
    list_plans,
    plan_geojson,
)
from geo.routing.publishing import publish_plan, replan_with_pin
from geo.routing.territories import case_territories, territories_geojson

router = APIRouter(prefix="/v1/plans", tags=["plans"])
PlanId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", response_model=PlanView, status_code=status.HTTP_202_ACCEPTED)
def new_plan(caller: Staff, body: PlanIn, response: Response) -> PlanView:
    """Queue a plan for a day (a worker, ``campo worker``, computes it); poll
    ``GET /v1/plans/{id}`` for its progress."""
    plan = create_plan(
        caller.session,
        tenant_id=caller.tenant_id,
        day=body.date,
        budget_s=body.budget_s,
        replan=body.replan,
        absent=body.absent_agent_ids,
        pins={pin.case_id: pin.agent_id for pin in body.pins},
    )
    response.headers["Location"] = f"/v1/plans/{plan.id}"
    return plan


@router.post("/{plan_id}/pins", response_model=PlanView, status_code=status.HTTP_202_ACCEPTED)
def pin_stop(caller: Staff, plan_id: PlanId, body: PinIn, response: Response) -> PlanView:
    """Fix a case to an agent (moving a stop, or keeping it) and queue a new plan of the same
    day in which every case pinned in this plan so far stays put; audited. Publish the new
    plan when it is done to put it in force."""
    plan = replan_with_pin(
        caller.session,
        tenant_id=caller.tenant_id,
        plan_id=plan_id,
        case_id=body.case_id,
        agent_id=body.agent_id,
        user_id=caller.principal.user_id,
    )
    response.headers["Location"] = f"/v1/plans/{plan.id}"
    return plan


@router.post("/{plan_id}/cancel", response_model=PlanView)
def cancel(caller: Staff, plan_id: PlanId) -> PlanView:
    """Cancel a queued or running plan (it ends ``failed``, "cancelado por el despacho"): a
    queued one is never computed; a running one stops at its next step and stores nothing.
    A finished plan is a 409."""
    return cancel_plan(caller.session, tenant_id=caller.tenant_id, plan_id=plan_id)


@router.post("/{plan_id}/publish", response_model=PlanView)
def publish(caller: Staff, plan_id: PlanId) -> PlanView:
    """Make a finished plan the day's plan in force; the one published before is withdrawn
    and kept. A plan not finished is a 409."""
    return publish_plan(
        caller.session,
        tenant_id=caller.tenant_id,
        plan_id=plan_id,
        user_id=caller.principal.user_id,
    )


@router.get("", response_model=list[PlanView])
def plans(caller: Staff, day: Annotated[Day | None, Query(alias="date")] = None) -> list[PlanView]:
    return list_plans(caller.session, tenant_id=caller.tenant_id, day=day)


@router.get("/{plan_id}", response_model=PlanView)
def plan(caller: Staff, plan_id: PlanId) -> PlanView:
    return get_plan(caller.session, tenant_id=caller.tenant_id, plan_id=plan_id)


@router.get("/{plan_id}/check", response_model=PlanAudit, summary="Audit a stored plan")
def check(caller: Staff, plan_id: PlanId) -> PlanAudit:
    """Re-checked from what is stored: each case once, order, shift, capacity, the case's own
    hours, skills, and no leg faster than the straight line at the mode's top speed."""
    audit = audit_plan(caller.session, tenant_id=caller.tenant_id, plan_id=plan_id)
    return PlanAudit(
        plan_id=audit.plan_id,
        ok=audit.ok,
        planned=audit.planned,
        unplanned_by_reason=audit.unplanned_by_reason,
        route_overlap=round(audit.route_overlap, 4),
        problems=[PlanProblem.model_validate(p, from_attributes=True) for p in audit.problems],
    )


@router.get("/{plan_id}/geojson", response_class=GeoJSONResponse)
def plan_map(caller: Staff, plan_id: PlanId) -> dict[str, Any]:
    """Routes along the streets, numbered stops with ETA, unplanned cases with the reason."""
    return plan_geojson(caller.session, tenant_id=caller.tenant_id, plan_id=plan_id)


territories_router = APIRouter(prefix="/v1/territories", tags=["plans"])


@territories_router.get(
    "",
    summary="Open cases in balanced territories, one per agent",
    response_class=GeoJSONResponse,
)
def territories(caller: Staff) -> dict[str, Any]:
    """Convex hulls with each territory's agent, case count and estimated hours of work."""
    return territories_geojson(case_territories(caller.session, tenant_id=caller.tenant_id))
