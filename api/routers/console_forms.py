"""The console's questionnaires (admins): every version with its questions and its XForm, and
an XLSForm uploaded as the next version, refused with its sheet row when campo cannot check
it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console_access import AdminPage, AdminUpload
from api.console_pages import render
from api.console_session import VisitorDep
from geo.fieldkit.forms import import_form
from geo.visits.questionnaires import list_questionnaires

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
