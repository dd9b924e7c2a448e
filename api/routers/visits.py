"""Visits: verified check-ins, outcomes, geofences and questionnaires."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Response, UploadFile, status
from fastapi.responses import FileResponse

from api.deps import Admin, AgentCaller, Reader, Staff, agent_id_of
from api.schemas import (
    MAX_ID,
    CheckinIn,
    CheckinOut,
    GeofenceIn,
    GeofenceOut,
    Instant,
    OutcomeIn,
    OutcomeOut,
    QuestionnaireIn,
    QuestionnaireOut,
    QuestionnairePatch,
    VisitOut,
)
from geo.fieldkit.forms import add_questionnaire, import_form
from geo.visits.checkin import check_in
from geo.visits.geofences import get_geofence, set_geofence
from geo.visits.media import attach_media, media_file
from geo.visits.outcomes import get_visit, list_visits, record_outcome
from geo.visits.questionnaires import list_questionnaires, set_retired
from geo.visits.xlsform import questionnaire_xform

router = APIRouter(tags=["visits"])
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/v1/visits/check-in", response_model=CheckinOut, status_code=status.HTTP_201_CREATED)
def checkin(caller: AgentCaller, body: CheckinIn) -> CheckinOut:
    """Verify that the agent is at the case's address; the same ``id`` again returns the first
    answer."""
    result = check_in(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id_of(caller),
        client_id=body.id,
        case_id=body.case_id,
        raw_fix=body.fix,
        checked_in_at=body.checked_in_at,
    )
    return CheckinOut.model_validate(result, from_attributes=True)


@router.post("/v1/visits/{visit_id}/outcome", response_model=OutcomeOut)
def outcome(caller: AgentCaller, visit_id: RowId, body: OutcomeIn) -> OutcomeOut:
    """Close an open visit: outcome code, answers to the questionnaire version used, checkout."""
    result = record_outcome(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id_of(caller),
        visit_id=visit_id,
        body=body.model_dump(mode="json"),
    )
    return OutcomeOut.model_validate(result, from_attributes=True)


def _own(caller: Reader) -> int | None:
    return agent_id_of(caller) if caller.principal.role == "agent" else None


@router.get("/v1/visits", response_model=list[VisitOut])
def visits(
    caller: Reader,
    agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[VisitOut]:
    """Visits, newest first; agents see their own."""
    rows = list_visits(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=_own(caller) or agent_id,
        case_id=case_id,
        since=since,
        until=until,
        limit=limit,
    )
    return [VisitOut.of(v) for v in rows]


# ":int" keeps GET /v1/visits/check-in from reading "check-in" as an id (it is a 405).
@router.get("/v1/visits/{visit_id:int}", response_model=VisitOut)
def visit(caller: Reader, visit_id: RowId) -> VisitOut:
    found = get_visit(
        caller.session, tenant_id=caller.tenant_id, visit_id=visit_id, agent_id=_own(caller)
    )
    return VisitOut.of(found)


@router.get("/v1/cases/{case_id}/geofence", response_model=GeofenceOut)
def geofence(caller: Staff, case_id: RowId) -> GeofenceOut:
    view = get_geofence(caller.session, tenant_id=caller.tenant_id, case_id=case_id)
    return GeofenceOut.model_validate(view, from_attributes=True)


@router.put("/v1/cases/{case_id}/geofence", response_model=GeofenceOut)
def change_geofence(caller: Staff, case_id: RowId, body: GeofenceIn) -> GeofenceOut:
    """A circle (``radius_m``) or a polygon (GeoJSON, [lon, lat]); neither: tenant default."""
    polygon = None if body.polygon is None else body.polygon.model_dump()
    view = set_geofence(
        caller.session,
        tenant_id=caller.tenant_id,
        case_id=case_id,
        radius_m=body.radius_m,
        polygon=polygon,
        user_id=caller.principal.user_id,
    )
    return GeofenceOut.model_validate(view, from_attributes=True)


@router.post(
    "/v1/questionnaires/xlsform",
    response_model=QuestionnaireOut,
    status_code=status.HTTP_201_CREATED,
)
def new_questionnaire_from_xlsform(
    caller: Admin,
    file: UploadFile,
    key: Annotated[str, Form(pattern="^[a-z0-9_-]{2,40}$")],
) -> QuestionnaireOut:
    """An XLSForm workbook (``survey``, ``choices``, ``settings`` sheets) as the next version of
    ``key``. Only what campo can check is accepted: another row type, or an expression with a
    function campo does not evaluate, is refused with its sheet row."""
    view = import_form(caller.session, tenant_id=caller.tenant_id, key=key, data=file.file.read())
    return QuestionnaireOut.model_validate(view, from_attributes=True)


@router.get("/v1/questionnaires/{questionnaire_id}/xform", response_class=Response)
def questionnaire_as_xform(caller: Reader, questionnaire_id: RowId) -> Response:
    """The version as an XForm (what ODK Collect and Enketo run), written by pyxform."""
    xml = questionnaire_xform(
        caller.session, tenant_id=caller.tenant_id, questionnaire_id=questionnaire_id
    )
    return Response(xml, media_type="application/xml")


@router.post("/v1/visits/{visit_id}/media", status_code=status.HTTP_201_CREATED)
def visit_file_upload(caller: AgentCaller, visit_id: RowId, file: UploadFile) -> dict[str, Any]:
    """A photo for one of the agent's own visits, named as its answer names it (JPEG, PNG or
    WebP, read from the bytes; at most ``CAMPO_MEDIA_MAX_MIB``); the same name again is kept
    once."""
    stored = attach_media(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id_of(caller),
        visit_id=visit_id,
        filename=file.filename or "",
        data=file.file.read(),
    )
    return {
        "visit_id": stored.visit_id,
        "filename": stored.filename,
        "content_type": stored.content_type,
        "size_bytes": stored.size_bytes,
        "sha256": stored.sha256,
    }


@router.get("/v1/visits/{visit_id}/media/{filename}", response_class=FileResponse)
def visit_file(
    caller: Staff, visit_id: RowId, filename: Annotated[str, Path(max_length=200)]
) -> FileResponse:
    """A file sent with a visit (a photo), for staff of the visit's tenant only."""
    path, kind = media_file(
        caller.session, tenant_id=caller.tenant_id, visit_id=visit_id, filename=filename
    )
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/v1/questionnaires", response_model=list[QuestionnaireOut])
def questionnaires(caller: Reader) -> list[QuestionnaireOut]:
    rows = list_questionnaires(caller.session, tenant_id=caller.tenant_id)
    return [QuestionnaireOut.model_validate(q, from_attributes=True) for q in rows]


@router.patch("/v1/questionnaires/{questionnaire_id:int}", response_model=QuestionnaireOut)
def questionnaire_use(
    caller: Admin, questionnaire_id: RowId, body: QuestionnairePatch
) -> QuestionnaireOut:
    """Retire a version (phones stop getting it; visits sent with it are still read with it),
    or bring it back. The default questionnaire keeps one version in use (409)."""
    view = set_retired(
        caller.session,
        tenant_id=caller.tenant_id,
        questionnaire_id=questionnaire_id,
        retired=body.retired,
        actor_id=caller.principal.user_id,
        now=datetime.now(UTC),
    )
    return QuestionnaireOut.model_validate(view, from_attributes=True)


@router.post(
    "/v1/questionnaires", response_model=QuestionnaireOut, status_code=status.HTTP_201_CREATED
)
def new_questionnaire(caller: Admin, body: QuestionnaireIn) -> QuestionnaireOut:
    """A new version of ``key`` (the first, or the next); earlier versions stay valid."""
    view = add_questionnaire(
        caller.session, tenant_id=caller.tenant_id, key=body.key, definition=body.definition
    )
    return QuestionnaireOut.model_validate(view, from_attributes=True)
