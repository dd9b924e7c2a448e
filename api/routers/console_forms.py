"""The console's questionnaires (admins): every version with its questions and its XForm, and
an XLSForm uploaded as the next version, refused with its sheet row when campo cannot check
it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console_access import AdminForm, AdminPage, AdminUpload
from api.console_pages import VisitId, render
from api.console_session import VisitorDep
from geo.fieldkit.forms import import_form, version_states
from geo.visits.questionnaires import list_questionnaires, set_retired

RetireField = Annotated[str, Form(pattern="^[01]$")]
STATE_LABELS = {
    "serving": "en uso",
    "broken": "no se puede servir: los teléfonos no la reciben; cargue una versión corregida",
    "superseded": "reemplazada por una más nueva",
    "retired": "retirada",
}
router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)


@router.get("/cuestionarios")
def forms_page(request: Request, visitor: VisitorDep, caller: AdminPage) -> Response:
    versions = list_questionnaires(caller.session, tenant_id=caller.tenant_id)
    return render(
        request,
        "cuestionarios.html",
        visitor,
        active="cuestionarios",
        versions=list(reversed(versions)),
        states=version_states(caller.session, tenant_id=caller.tenant_id),
        state_labels=STATE_LABELS,
        done=request.query_params.get("hecho"),
    )


@router.post("/cuestionarios")
def forms_upload(posted: AdminUpload) -> Response:
    """An XLSForm as the next version of a questionnaire (the visit form picks it up)."""
    key = posted.text(
        "clave",
        pattern="[a-z0-9_-]{2,40}",
        message="La clave lleva de 2 a 40 minúsculas, cifras, - o _.",
    )
    _, data = posted.file("archivo")
    caller = posted.caller
    view = import_form(caller.session, tenant_id=caller.tenant_id, key=key, data=data)
    return RedirectResponse(f"/cuestionarios?hecho={view.key}-v{view.version}", status_code=303)


@router.post("/cuestionarios/{questionnaire_id}/uso")
def forms_use(caller: AdminForm, questionnaire_id: VisitId, retirar: RetireField = "1") -> Response:
    """Retire a version, or bring it back (the default questionnaire keeps one in use)."""
    set_retired(
        caller.session,
        tenant_id=caller.tenant_id,
        questionnaire_id=questionnaire_id,
        retired=retirar == "1",
        actor_id=caller.principal.user_id,
        now=datetime.now(UTC),
    )
    return RedirectResponse("/cuestionarios", status_code=303)
