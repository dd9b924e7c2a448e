"""The dispatcher's console, in Spanish: sign-in, today's board with its live map and feed, and
the review of doubtful check-ins. Pages render ``geo`` results with Jinja2 templates; htmx
(vendored) refreshes parts of them, and the feed arrives by server-sent events fed by
PostgreSQL ``LISTEN``/``NOTIFY``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from api.console_access import AgentPage, StaffForm, StaffPage, WatcherPage
from api.console_pages import (
    DECISION_LABELS,
    SUBMISSION_STATE_LABELS,
    VisitId,
    render,
    templates,
)
from api.console_session import (
    CSRF_FIELD,
    SIGN_IN_COOKIE,
    Visitor,
    VisitorDep,
    new_sign_in_token,
    same,
)
from api.deps import (
    TOKEN_COOKIE,
    AnonymousSessionDep,
    SettingsDep,
    keep_session,
    secure_cookies,
)
from api.routers.maps import ASSETS
from api.security import issue_token
from geo.accounts.users import authenticate
from geo.alerts.rules import list_alerts
from geo.core.db import tenant_session
from geo.core.errors import CampoError, NotFound, TooManyAttempts
from geo.core.settings import get_settings
from geo.core.tenant_settings import tenant_settings
from geo.dispatch.board import agents_today, feed
from geo.dispatch.notices import TooManyStreams, visit_notices
from geo.dispatch.review import decide, review_queue, waiting
from geo.fieldkit.inbox import list_submissions
from geo.fieldkit.receipts import rederive
from geo.maps.live import realtime_map
from geo.maps.review import review_map
from geo.visits.mail import OUTCOME_LABELS, VERDICT_LABELS

router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)


@router.get("/")
def home(visitor: VisitorDep) -> Response:
    """Staff to today's board, agents to their own page, anyone else to sign in."""
    if visitor.caller is None:
        return RedirectResponse("/entrar", status_code=303)
    return RedirectResponse("/agente" if visitor.role == "agent" else "/tablero", status_code=303)


@router.get("/entrar")
def sign_in_page(request: Request, visitor: VisitorDep) -> Response:
    if visitor.caller is not None:
        return RedirectResponse("/", status_code=303)
    return _sign_in(request, visitor, new_sign_in_token())


def _sign_in(
    request: Request,
    visitor: Visitor,
    token: str,
    *,
    error: str | None = None,
    status: int = 200,
    organizacion: str = "",
    correo: str = "",
) -> HTMLResponse:
    page = render(
        request,
        "entrar.html",
        visitor,
        status,
        csrf=token,
        error=error,
        organizacion=organizacion,
        correo=correo,
    )
    page.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request, get_settings()),
    )
    return page


@router.post("/entrar")
def sign_in(
    request: Request,
    session: AnonymousSessionDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    organizacion: Annotated[str, Form(max_length=100)] = "",
    correo: Annotated[str, Form(max_length=320)] = "",
    clave: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    """Check the password as the API does (same throttle), then keep the token in the
    session cookie; a wrong one says so without telling which part was wrong."""
    if not same(request.cookies.get(SIGN_IN_COOKIE), csrf):
        return _sign_in(
            request,
            visitor,
            new_sign_in_token(),
            error="El formulario venció: vuelva a intentarlo.",
            status=403,
        )
    try:
        principal = authenticate(
            session,
            tenant_slug=organizacion.strip().lower(),
            email=correo.strip(),
            password=clave,
            client=request.client.host if request.client else "unknown",
            throttle=request.app.state.logins,
        )
    except TooManyAttempts:
        error, status = "Demasiados intentos: espere unos minutos.", 429
    except CampoError:
        error, status = "Organización, correo o contraseña incorrectos.", 401
    else:
        access, ttl = issue_token(principal, settings)
        answer = RedirectResponse("/", status_code=303)
        keep_session(request, answer, access, ttl, settings)
        answer.delete_cookie(SIGN_IN_COOKIE)
        return answer
    return _sign_in(
        request,
        visitor,
        new_sign_in_token(),
        error=error,
        status=status,
        organizacion=organizacion,
        correo=correo,
    )


@router.post("/salir")
def sign_out(
    visitor: VisitorDep, csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = ""
) -> Response:
    if visitor.caller is not None:
        visitor.check(csrf)
    answer = RedirectResponse("/entrar", status_code=303)
    answer.delete_cookie(TOKEN_COOKIE)
    return answer


@router.get("/agente")
def agent_home(request: Request, visitor: VisitorDep, _allowed: AgentPage) -> Response:
    return render(request, "agente.html", visitor)


@router.get("/tablero")
def board(request: Request, visitor: VisitorDep, caller: WatcherPage) -> Response:
    """Today: every agent, the live map, the open alerts and the feed of visits."""
    zone = tenant_settings(caller.session, caller.tenant_id).zone
    return render(
        request,
        "tablero.html",
        visitor,
        active="tablero",
        today_label=datetime.now(zone).strftime("%Y-%m-%d"),
        agents=agents_today(caller.session, tenant_id=caller.tenant_id),
        feed=feed(caller.session, tenant_id=caller.tenant_id),
        alerts=list_alerts(caller.session, tenant_id=caller.tenant_id, open_only=True),
    )


@router.get("/tablero/gestores")
def board_agents(request: Request, visitor: VisitorDep, caller: WatcherPage) -> Response:
    agents = agents_today(caller.session, tenant_id=caller.tenant_id)
    return render(request, "_gestores.html", visitor, agents=agents)


@router.get("/tablero/mapa")
def board_map(caller: WatcherPage) -> Response:
    m = realtime_map(
        caller.session,
        tenant_id=caller.tenant_id,
        source_url="/v1/agents/live",
        assets=ASSETS,
    )
    return HTMLResponse(m.get_root().render())


KEEPALIVE_S = 15.0


@router.get("/tablero/eventos")
async def board_events(request: Request, caller: WatcherPage, settings: SettingsDep) -> Response:
    """Server-sent events: each visit of this tenant written or decided, as a table row, the
    moment PostgreSQL announces it (``NOTIFY campo_feed``). As soon as the stream listens it
    first sends the whole day's feed again, so a check-in stored while the page loaded or the
    browser reconnected is not missed; a comment every 15 s keeps proxies from closing it."""
    tenant_id, user_id = caller.tenant_id, caller.principal.user_id

    def rows(visit_ids: list[int] | None) -> str:
        """The named visits' rows, newest first, or the day's feed."""
        with tenant_session(tenant_id) as session:
            zone = tenant_settings(session, tenant_id).zone
            items = feed(session, tenant_id=tenant_id, visit_ids=visit_ids)
        return templates.get_template("_feed.html").render(
            feed=items,
            zone=zone,
            verdicts=VERDICT_LABELS,
            decisions=DECISION_LABELS,
            outcomes=OUTCOME_LABELS,
        )

    def event(name: str, html: str) -> str:
        lines = html.splitlines() or [""]  # an event without data is never dispatched
        data = "\n".join(f"data: {line}" for line in lines)
        return f"event: {name}\n{data}\n\n"

    async def stream() -> AsyncIterator[str]:
        yield ": conectado\n\n"
        notices = visit_notices(
            settings.app_url, tenant_id=tenant_id, user_id=user_id, quiet_s=KEEPALIVE_S
        )
        listening = False
        try:
            async for ids in notices:
                if await request.is_disconnected():
                    return
                if not listening:  # the first item: from here on nothing written is missed
                    listening = True
                    yield event("feed", await anyio.to_thread.run_sync(rows, None))
                elif ids:
                    yield event("visita", await anyio.to_thread.run_sync(rows, ids))
                else:
                    yield ": sigue\n\n"
        except TooManyStreams:
            yield "retry: 30000\n\n"  # the browser comes back in 30 s
        finally:
            await notices.aclose()

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.get("/revision")
def reviews(request: Request, visitor: VisitorDep, caller: StaffPage) -> Response:
    """Check-ins waiting for a supervisor's decision, oldest first."""
    session, tenant_id = caller.session, caller.tenant_id
    return render(
        request,
        "revision.html",
        visitor,
        active="revision",
        items=review_queue(session, tenant_id=tenant_id),
        submissions=list_submissions(session, tenant_id=tenant_id),
        states=SUBMISSION_STATE_LABELS,
    )


@router.post("/revision/envios/{submission_id}")
def derive_submission_again(
    caller: StaffForm,
    submission_id: VisitId,
) -> Response:
    """Derive a kept submission again after a fix (a case assigned to its agent, ...)."""
    with suppress(NotFound):  # another tenant's: the list shows what there is
        rederive(
            caller.session,
            tenant_id=caller.tenant_id,
            submission_id=submission_id,
            actor_id=caller.principal.user_id,
        )
    return RedirectResponse("/revision", status_code=303)


@router.get("/revision/{visit_id}")
def review(
    request: Request, visitor: VisitorDep, _allowed: StaffPage, visit_id: VisitId
) -> Response:
    return _review_page(request, visitor, visit_id)


def _review_page(
    request: Request,
    visitor: Visitor,
    visit_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    assert visitor.caller is not None
    try:
        item = waiting(
            visitor.caller.session, tenant_id=visitor.caller.tenant_id, visit_id=visit_id
        )
    except NotFound:
        return RedirectResponse("/revision", status_code=303)
    return render(
        request, "revision_detalle.html", visitor, status, active="revision", item=item, error=error
    )


@router.get("/revision/{visit_id}/mapa")
def review_evidence(caller: StaffPage, visit_id: VisitId) -> Response:
    m = review_map(caller.session, tenant_id=caller.tenant_id, visit_id=visit_id, assets=ASSETS)
    return HTMLResponse(m.get_root().render())


@router.post("/revision/{visit_id}")
def review_decision(
    request: Request,
    visitor: VisitorDep,
    caller: StaffForm,
    visit_id: VisitId,
    decision: Annotated[str, Form(max_length=20)] = "",
    comentario: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve or reject, with a comment; the decision is kept on the visit and audited."""
    try:
        decide(
            caller.session,
            tenant_id=caller.tenant_id,
            user_id=caller.principal.user_id,
            visit_id=visit_id,
            decision=decision,
            comment=comentario,
            now=datetime.now(UTC),
        )
    except CampoError as exc:
        if isinstance(exc, NotFound):
            return RedirectResponse("/revision", status_code=303)
        message = {
            "comment": "Escriba un comentario que explique la decisión.",
            "decision": "Elija aprobar o rechazar.",
        }.get(exc.field or "", exc.message)
        return _review_page(request, visitor, visit_id, error=message, status=422)
    return RedirectResponse("/revision", status_code=303)
