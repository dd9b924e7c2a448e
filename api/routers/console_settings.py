"""The console's settings: the tenant's typed settings as a form, grouped, in Spanish, each
value validated by the same model as the API (one bad value changes nothing and is named)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console_access import AdminForm, AdminPage
from api.console_pages import render
from api.console_session import Visitor, VisitorDep
from api.deps import Caller
from geo.core.errors import InvalidInput
from geo.core.tenant_settings import TenantSettings, tenant_settings
from geo.provisioning.tenants import tenant_name, update_tenant_settings

router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)

GROUPS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "Avisos",
        {
            "notify_emails": "Correos que reciben cada visita terminada",
            "alert_emails": "Supervisores que reciben las alertas",
        },
    ),
    (
        "Lugar y horarios",
        {
            "timezone": "Zona horaria",
            "agent_shift_start": "Inicio del turno de un gestor nuevo",
            "agent_shift_end": "Fin del turno de un gestor nuevo",
            "visit_hours": "Horas en que se planean visitas [desde, hasta)",
            "contact_hours": "Horario de contacto por día (Ley 2300)",
            "contact_holidays": "País de los festivos sin contacto",
        },
    ),
    (
        "Geocerca y marcación",
        {
            "geofence_radius_m": "Radio de la geocerca (m)",
            "checkin_max_accuracy_m": "Precisión máxima del GPS (m)",
            "checkin_max_fix_age_s": "Antigüedad máxima de la posición (s)",
            "checkin_require_trail": "Exigir recorrido previo",
            "checkin_approach_m": "Distancia de aproximación exigida (m)",
            "checkin_dwell_min": "Permanencia mínima (min)",
            "contact_breach": "Veredicto ante una infracción de la ley",
            "checkin_mock_unknown": (
                "Marcación desde el navegador, que no informa ubicación simulada "
                "(corroborate: con el recorrido del teléfono; accept, review, reject)"
            ),
        },
    ),
    (
        "Planeación",
        {
            "visit_service_min": "Duración de una visita (min)",
            "compact_routes": "Un territorio por gestor",
            "plan_tomorrow_hour": "Hora de planear mañana automáticamente",
            "max_snap_m": "Distancia máxima a una vía (m)",
        },
    ),
)
LABELS = {key: label for _, fields in GROUPS for key, label in fields.items()}


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    kind: str
    """``bool``, ``number``, ``text`` or ``json`` (lists and objects)."""
    value: str
    help: str


def _fields(settings: TenantSettings, typed: dict[str, str] | None = None) -> list[Field]:
    """Every setting as a form field, the ones named in :data:`GROUPS` first."""
    current = settings.model_dump(mode="json")
    ordered = list(LABELS) + [k for k in TenantSettings.model_fields if k not in LABELS]
    out = []
    for key in ordered:
        value = current[key]
        kind = (
            "bool"
            if isinstance(value, bool)
            else "number"
            if isinstance(value, int | float)
            else "json"
            if isinstance(value, list | dict)
            else "text"
        )
        shown = (
            json.dumps(value, ensure_ascii=False)
            if kind in ("json", "bool")
            else ""
            if value is None
            else str(value)
        )
        if typed is not None and key in typed:
            shown = typed[key]
        # Named settings read in Spanish; the others keep the model's (English) description.
        description = "" if key in LABELS else TenantSettings.model_fields[key].description or ""
        out.append(Field(key, LABELS.get(key, key.replace("_", " ")), kind, shown, description))
    return out


def _changes(
    settings: TenantSettings, form: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The keys the form changed, as JSON values; and the fields that are not even JSON."""
    current = settings.model_dump(mode="json")
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in _fields(settings):
        if field.key not in form:
            continue
        raw = form[field.key].strip()
        if raw == field.value.strip():
            continue
        if raw == "":
            changes[field.key] = None  # back to the default
            continue
        if field.kind == "text":
            changes[field.key] = raw
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            errors[field.key] = "no es un valor válido (número, sí/no o JSON)"
            continue
        if value != current[field.key]:
            changes[field.key] = value
    return changes, errors


def _page(
    request: Request,
    visitor: Any,
    settings: TenantSettings,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: int | None = None,
    status: int = 200,
) -> HTMLResponse:
    caller = visitor.caller
    fields = {f.key: f for f in _fields(settings, typed)}
    named = [(group, [fields[k] for k in keys]) for group, keys in GROUPS]
    others = [f for k, f in fields.items() if k not in LABELS]
    return render(
        request,
        "ajustes.html",
        visitor,
        status,
        active="ajustes",
        tenant_name=tenant_name(caller.session, tenant_id=caller.tenant_id),
        groups=[*named, ("Otros ajustes", others)],
        errors=errors or {},
        saved=saved,
    )


@router.get("/ajustes")
def settings_page(request: Request, visitor: VisitorDep, caller: AdminPage) -> Response:
    """The tenant's settings as a form (admins)."""
    saved = request.query_params.get("guardados", "")
    settings = tenant_settings(caller.session, caller.tenant_id)
    count = int(saved) if saved.isdigit() and len(saved) < 4 else None
    return _page(request, visitor, settings, saved=count)


@router.post("/ajustes")
async def settings_save(request: Request, visitor: VisitorDep, caller: AdminForm) -> Response:
    """Validate the changed keys as one document; store them all, or none with each error.
    The form's keys are the settings' own, so it is read whole; the work runs on a thread, as
    a plain handler's would."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return await anyio.to_thread.run_sync(_save, request, visitor, caller, form)


def _save(request: Request, visitor: Visitor, caller: Caller, form: dict[str, str]) -> Response:
    settings = tenant_settings(caller.session, caller.tenant_id)
    changes, errors = _changes(settings, form)
    if not errors and changes:
        try:
            update_tenant_settings(
                caller.session,
                tenant_id=caller.tenant_id,
                changes=changes,
                user_id=caller.principal.user_id,
            )
        except InvalidInput as exc:
            errors = {
                field.split(".")[0]: f"no válido: {message}" for field, message in exc.problems
            } or {exc.field or "": exc.message}
    if errors:
        typed = {k: v for k, v in form.items() if k != "csrf"}
        return _page(request, visitor, settings, typed=typed, errors=errors, status=422)
    return RedirectResponse(f"/ajustes?guardados={len(changes)}", status_code=303)
