"""The portfolio: list, map, read and change cases. Agents see only their own."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, UploadFile

from api.contract import GeoJSONResponse
from api.deps import Reader, Staff
from api.schemas import MAX_ID, CaseOut, CasePage, CasePatch
from geo.core.errors import InvalidInput
from geo.portfolio.cases import CaseFilter, cases_geojson, get_case, list_cases, update_case
from geo.portfolio.imports import import_cases
from geo.routing.publishing import release_reassigned

router = APIRouter(prefix="/v1/cases", tags=["cases"])
CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    try:
        west, south, east, north = (float(v) for v in raw.split(","))
    except ValueError:
        raise InvalidInput("bbox must be four numbers: west,south,east,north", "bbox") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidInput("bbox values must be finite degrees", "bbox")
    return west, south, east, north


def _filter(caller: Reader, **kwargs: Any) -> CaseFilter:
    if caller.principal.role == "agent":
        # An agent acts only as itself, whatever the query string says.
        kwargs.update(assigned_agent_id=caller.principal.agent_id or -1, unassigned=False)
    kwargs["bbox"] = _bbox(kwargs.get("bbox"))
    return CaseFilter(**kwargs)


@router.get("", response_model=CasePage)
def cases(
    caller: Reader,
    status: str | None = None,
    bucket: str | None = None,
    agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    unassigned: bool = False,
    product: str | None = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north (degrees)")] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of the debtor's name, document or reference"),
    ] = None,
    zone_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="An area zone")] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Last id of the page before.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CasePage:
    where = _filter(
        caller,
        status=status,
        bucket=bucket,
        assigned_agent_id=agent_id,
        unassigned=unassigned,
        product=product,
        bbox=bbox,
        text=q,
        zone_id=zone_id,
    )
    rows = list_cases(
        caller.session, tenant_id=caller.tenant_id, where=where, after_id=after, limit=limit
    )
    next_after = rows[-1].id if len(rows) == limit else None
    return CasePage(items=[CaseOut.of(r) for r in rows], next_after=next_after)


@router.get(
    "/geojson",
    summary="Located cases as a GeoJSON FeatureCollection",
    response_class=GeoJSONResponse,
)
def cases_map(
    caller: Reader,
    status: str | None = None,
    bucket: str | None = None,
    agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    unassigned: bool = False,
    bbox: Annotated[str | None, Query(description="west,south,east,north (degrees)")] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of the debtor's name, document or reference"),
    ] = None,
    zone_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="An area zone")] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
) -> dict[str, Any]:
    where = _filter(
        caller,
        status=status,
        bucket=bucket,
        assigned_agent_id=agent_id,
        unassigned=unassigned,
        bbox=bbox,
        text=q,
        zone_id=zone_id,
    )
    return cases_geojson(caller.session, tenant_id=caller.tenant_id, where=where, limit=limit)


@router.get("/{case_id:int}", response_model=CaseOut)
def case(caller: Reader, case_id: CaseId) -> CaseOut:
    agent_only = (caller.principal.agent_id or -1) if caller.principal.role == "agent" else None
    view = get_case(
        caller.session, tenant_id=caller.tenant_id, case_id=case_id, agent_id=agent_only
    )
    return CaseOut.of(view)


@router.patch("/{case_id:int}", response_model=CaseOut)
def change_case(caller: Staff, case_id: CaseId, patch: CasePatch) -> CaseOut:
    """Change priority, status or assignment (``assigned_agent_id: null`` unassigns). A case
    given to another agent leaves the published plan's route of its former agent (listed
    unplanned as ``reassigned``)."""
    changes = patch.model_dump(include=patch.model_fields_set)
    view = update_case(
        caller.session,
        tenant_id=caller.tenant_id,
        case_id=case_id,
        user_id=caller.principal.user_id,
        **changes,
    )
    if "assigned_agent_id" in changes:
        release_reassigned(caller.session, tenant_id=caller.tenant_id, case_ids=[case_id])
    return CaseOut.of(view)


@router.post("/import", summary="Import a portfolio from CSV or XLSX")
def cases_import(caller: Staff, file: UploadFile) -> dict[str, Any]:
    """A portfolio file (the columns are in the README). New references are stored, bad rows
    listed with line, column and reason; a reference already stored is listed, not changed."""
    report = import_cases(caller.session, tenant_id=caller.tenant_id, source=file.file.read())
    return {
        "stored": report.stored,
        "geocoded": report.geocoded,
        "without_location": report.without_location,
        "errors": [{"line": e.line, "column": e.column, "reason": e.reason} for e in report.errors],
    }
