"""Submissions as phones sent them: the ones that need a look, each with its answers and
problems, the raw XML, and deriving one again after a fix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.deps import Staff
from api.schemas import MAX_ID
from geo.fieldkit.inbox import (
    NEEDING_REVIEW,
    SUBMISSION_STATES,
    SubmissionView,
    list_submissions,
    submission_photo,
    submission_view,
    submission_xml,
)
from geo.fieldkit.receipts import rederive

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
States = Annotated[
    list[str] | None,
    Query(description=f"Any of {', '.join(SUBMISSION_STATES)}; by default those needing a look."),
]


@router.get("", response_model=list[SubmissionView])
def submissions(caller: Staff, state: States = None) -> list[SubmissionView]:
    """Submissions in the given states, oldest first (at most 200)."""
    return list_submissions(
        caller.session, tenant_id=caller.tenant_id, states=tuple(state or NEEDING_REVIEW)
    )


@router.get("/{submission_id}", response_model=SubmissionView)
def submission(caller: Staff, submission_id: RowId) -> SubmissionView:
    """One submission: its answers as sent, its attachments, what became of it."""
    return submission_view(caller.session, tenant_id=caller.tenant_id, submission_id=submission_id)


@router.get("/{submission_id}/xml", response_class=Response)
def raw_xml(caller: Staff, submission_id: RowId) -> Response:
    """The instance XML exactly as the phone sent it."""
    xml = submission_xml(caller.session, tenant_id=caller.tenant_id, submission_id=submission_id)
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="envio-{submission_id}.xml"'},
    )


@router.get("/{submission_id}/photos/{name}", response_class=Response)
def photo(
    caller: Staff, submission_id: RowId, name: Annotated[str, Path(max_length=200)]
) -> Response:
    """A photo the phone sent with the submission, as sent (served only if its bytes are an
    image: a rejected check-in's photo stays here for its supervisor to see)."""
    kind, data = submission_photo(
        caller.session, tenant_id=caller.tenant_id, submission_id=submission_id, name=name
    )
    return Response(
        data,
        media_type=kind,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/{submission_id}/derive", response_model=SubmissionView)
def derive_again(caller: Staff, submission_id: RowId) -> SubmissionView:
    """Derive the submission again after a fix; what it made before stays."""
    rederive(
        caller.session,
        tenant_id=caller.tenant_id,
        submission_id=submission_id,
        actor_id=caller.principal.user_id,
    )
    return submission_view(caller.session, tenant_id=caller.tenant_id, submission_id=submission_id)
