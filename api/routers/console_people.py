"""The console's people and devices (admins): users created, edited, deactivated and given a
new password; field agents' shift, capacity and travel mode; tracker phones registered with a
QR code the app scans. A password or a tracker's secret is shown once, never stored in clear."""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from api.console_access import AdminForm, AdminPage
from api.console_pages import ROLE_LABELS, VisitId, clock, render
from api.console_session import CSRF_FIELD, Visitor, VisitorDep
from api.deps import SettingsDep
from geo.accounts.agents import create_agent, get_agent, list_agents, update_agent
from geo.accounts.passwords import new_password
from geo.accounts.users import create_user, list_users, reset_password, update_user
from geo.core.errors import InvalidInput
from geo.fieldkit.openrosa import collect_settings
from geo.tracking.devices import list_devices, register_device, set_device_active
from geo.tracking.setup import owntracks_link, traccar_client_link

router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)

MODE_LABELS = {"walk": "a pie", "motorbike": "moto", "car": "carro"}
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Short = Annotated[str, Form(max_length=200)]


@router.get("/personas")
def people_page(
    request: Request, visitor: VisitorDep, caller: AdminPage, settings: SettingsDep
) -> Response:
    """Every user, the field agents among them and their tracker phones."""
    agents = {a.user_id: a for a in list_agents(caller.session, tenant_id=caller.tenant_id)}
    devices: dict[int, list[object]] = {}
    for device in list_devices(caller.session, tenant_id=caller.tenant_id):
        devices.setdefault(device.agent_id, []).append(device)
    return render(
        request,
        "personas.html",
        visitor,
        active="personas",
        users=list_users(caller.session, tenant_id=caller.tenant_id),
        agents=agents,
        devices=devices,
        roles=ROLE_LABELS,
        modes=MODE_LABELS,
        done=request.query_params.get("hecho"),
        ca=_local_ca(settings.local_ca_url),
    )


def _local_ca(url: str) -> tuple[str, Markup] | None:
    """The local CA's download link and its QR code, for phones to trust campo's HTTPS."""
    if not url:
        return None
    svg = segno.make(url, error="m").svg_inline(scale=4, title="Certificado de campo")
    return url, Markup(svg)  # noqa: S704 - segno's own SVG: paths, and a title it escapes


@router.post("/personas")
def person_create(
    request: Request,
    visitor: VisitorDep,
    caller: AdminForm,
    correo: Short,
    nombre: Short,
    rol: Annotated[str, Form(max_length=20)],
    codigo: Annotated[str, Form(max_length=20)] = "",
    modo: Annotated[str, Form(max_length=20)] = "motorbike",
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
) -> Response:
    """A new user with a random first password (shown once); a field agent also gets its
    code, travel mode and base, with the organisation's shift and capacity."""
    if rol == "agent" and (not codigo.strip() or lat is None or lon is None):
        raise InvalidInput("un gestor necesita código y la ubicación de su base", "codigo")
    password = new_password()
    user = create_user(
        caller.session,
        tenant_id=caller.tenant_id,
        email=correo,
        full_name=nombre,
        role=rol,
        password=password,
        actor_id=caller.principal.user_id,
    )
    if rol == "agent" and lat is not None and lon is not None:
        create_agent(
            caller.session,
            tenant_id=caller.tenant_id,
            user_id=user.id,
            code=codigo.strip(),
            lon=lon,
            lat=lat,
            travel_mode=modo,
            actor_id=caller.principal.user_id,
        )
    return _once(
        request,
        visitor,
        title=f"Usuario creado: {user.full_name}",
        lines=[("Correo", user.email), ("Contraseña inicial", password)],
        note="Entréguela a la persona: no se volverá a mostrar.",
    )


@router.post("/personas/{user_id}")
def person_update(
    caller: AdminForm,
    user_id: VisitId,
    nombre: Short = "",
    rol: Annotated[str, Form(max_length=20)] = "",
    accion: Annotated[str, Form(max_length=20)] = "guardar",
) -> Response:
    """Rename or change the role of a user, or deactivate or reactivate them."""
    update_user(
        caller.session,
        tenant_id=caller.tenant_id,
        user_id=user_id,
        actor_id=caller.principal.user_id,
        full_name=nombre or None,
        role=rol or None,
        active=_switched(accion),
    )
    return RedirectResponse("/personas?hecho=usuario", status_code=303)


@router.post("/personas/{user_id}/clave")
def person_password(
    request: Request,
    visitor: VisitorDep,
    caller: AdminForm,
    user_id: VisitId,
) -> Response:
    """A new random password, shown once; the old one stops working."""
    password = reset_password(
        caller.session,
        tenant_id=caller.tenant_id,
        user_id=user_id,
        actor_id=caller.principal.user_id,
    )
    return _once(
        request,
        visitor,
        title="Contraseña restablecida",
        lines=[("Nueva contraseña", password)],
        note="Entréguela a la persona: no se volverá a mostrar.",
    )


@router.post("/gestores/{agent_id}")
def agent_update(
    caller: AdminForm,
    agent_id: VisitId,
    inicio: Annotated[str, Form(max_length=8)] = "",
    fin: Annotated[str, Form(max_length=8)] = "",
    capacidad: Annotated[int | None, Form(ge=1, le=500)] = None,
    modo: Annotated[str, Form(max_length=20)] = "",
    accion: Annotated[str, Form(max_length=20)] = "guardar",
) -> Response:
    """An agent's shift, daily capacity and travel mode, or taking it off the field."""
    shift = None
    if inicio or fin:
        shift = (clock(inicio, "inicio"), clock(fin, "fin"))
    update_agent(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id,
        actor_id=caller.principal.user_id,
        travel_mode=modo or None,
        shift=shift,
        daily_capacity=capacidad,
        active=_switched(accion),
    )
    return RedirectResponse("/personas?hecho=gestor", status_code=303)


@router.post("/gestores/{agent_id}/dispositivos")
def device_register(
    request: Request,
    visitor: VisitorDep,
    caller: AdminForm,
    settings: SettingsDep,
    agent_id: VisitId,
    app: Annotated[str, Form(max_length=20)] = "osmand",
) -> Response:
    """Register a phone's tracker app to an agent and show the QR code that sets it up."""
    agent = get_agent(caller.session, tenant_id=caller.tenant_id, agent_id=agent_id)
    device = register_device(
        caller.session,
        tenant_id=caller.tenant_id,
        agent_id=agent_id,
        protocol=app,
        actor_id=caller.principal.user_id,
    )
    base = settings.public_base_url
    if device.protocol == "odk":
        server = f"{base.rstrip('/')}/openrosa/key/{device.identifier}"
        link = collect_settings(server_url=server, project=f"campo · {agent.code}")
        lines = [("URL del servidor", server)]
        title = "ODK Collect"
        scan = (
            "En ODK Collect: Configurar con código QR. Descarga los formularios y el día del "
            "gestor, y envía cada visita terminada."
        )
    elif device.protocol == "owntracks":
        assert device.secret is not None
        link = owntracks_link(device, base_url=base, secret=device.secret, tid=agent.code)
        lines = [
            ("Modo", "HTTP"),
            ("URL", f"{base.rstrip('/')}/owntracks"),
            ("Usuario", device.identifier.partition("/")[0]),
            ("Dispositivo", device.identifier.partition("/")[2]),
            ("Contraseña", device.secret),
        ]
        title, scan = (
            "OwnTracks",
            "Escanee el código con la cámara del teléfono y ábralo en OwnTracks.",
        )
    else:
        link = traccar_client_link(
            device, base_url=base, shift=(agent.shift_start, agent.shift_end)
        )
        lines = [
            ("URL del servidor", f"{base.rstrip('/')}/osmand"),
            ("Identificador", device.identifier),
        ]
        title, scan = (
            "Traccar Client",
            "En Traccar Client, escanee el código (o abra el enlace en el teléfono).",
        )
    svg = segno.make(link, error="m").svg_inline(scale=4, title=f"Configuración de {title}")
    qr = Markup(svg)  # noqa: S704 - segno's own SVG: paths, and a title it escapes
    return _once(
        request,
        visitor,
        title=f"{title} para {agent.code} · {agent.full_name}",
        lines=lines,
        note=f"{scan} Solo se muestra esta vez.",
        qr=qr,
        link=link,
    )


@router.post("/dispositivos/{device_id}")
def device_switch(
    caller: AdminForm,
    device_id: VisitId,
    accion: Annotated[str, Form(max_length=20)] = "desactivar",
) -> Response:
    """Stop taking positions from a phone (lost, replaced), or again."""
    set_device_active(
        caller.session,
        tenant_id=caller.tenant_id,
        device_id=device_id,
        active=_switched(accion) is True,
        actor_id=caller.principal.user_id,
    )
    return RedirectResponse("/personas?hecho=dispositivo", status_code=303)


def _switched(action: str) -> bool | None:
    """What a form's switch button asks: on, off, or neither (another button)."""
    return {"activar": True, "desactivar": False}.get(action)


def _once(request: Request, visitor: Visitor, **context: Any) -> Response:
    """A page with a secret on it: shown once, kept by no cache."""
    page = render(request, "personas_una_vez.html", visitor, active="personas", **context)
    page.headers["Cache-Control"] = "no-store"
    return page
