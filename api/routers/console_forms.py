"""The console's questionnaires (admins): every version with its questions and its XForm, and
an XLSForm uploaded as the next version, refused with its sheet row when campo cannot check
it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console_pages import acting, render
from api.console_session import CSRF_FIELD, VisitorDep
from geo.fieldkit.forms import import_form
from geo.visits.questionnaires import list_questionnaires

router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)
ADMIN = ("admin",)


@router.get("/cuestionarios")
def forms_page(request: Request, visitor: VisitorDep) -> Response:
    caller = acting(visitor, ADMIN)
    if isinstance(caller, Response):
        return caller
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
def forms_upload(
    visitor: VisitorDep,
    archivo: UploadFile,
    clave: Annotated[str, Form(pattern="^[a-z0-9_-]{2,40}$")],
    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    """An XLSForm as the next version of a questionnaire (the visit form picks it up)."""
    caller = acting(visitor, ADMIN, csrf)
    if isinstance(caller, Response):
        return caller
    view = import_form(
        caller.session, tenant_id=caller.tenant_id, key=clave, data=archivo.file.read()
    )
    return RedirectResponse(f"/cuestionarios?hecho={view.key}-v{view.version}", status_code=303)
