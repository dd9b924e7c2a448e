"""The one table from domain errors to HTTP, and the one JSON error shape.

Every error answer is ``{"error": {"code", "message", "fields": [{"field", "message"}]}}``,
except on the form server ODK Collect talks to, whose errors are OpenRosa XML in Spanish
(Collect shows their message to the agent), and on the console's pages (a page to read).
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route

from api.console_access import ConsoleRedirect
from api.guard import OPENROSA
from geo.core.errors import (
    AuthenticationFailed,
    CampoError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Refused,
    TooManyAttempts,
)
from geo.fieldkit.openrosa import response

STATUS: dict[type[CampoError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    Refused: 400,
    TooManyAttempts: 429,
}


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> Any:
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "form"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def _from_console(request: Request) -> bool:
    """A form of the console posted by a browser: the error is a page to read, not JSON."""
    route = request.scope.get("route")
    return (
        isinstance(route, APIRoute)
        and "console" in (route.tags or [])
        and "text/html" in request.headers.get("accept", "")
    )


def _error_page(status: int, message: str, fields: list[dict[str, str]]) -> Any:
    """The error as a short page in Spanish with the way back to the form (the browser's own
    back, which keeps what was typed; campo sends no referrer to know the page by)."""
    items = "".join(
        f"<li><strong>{escape(f['field'])}</strong>: {escape(f['message'])}</li>" for f in fields
    )
    body = (
        '<!doctype html><html lang="es-CO"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>No se pudo completar · campo</title><link rel="icon" href="data:,"></head>'
        '<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto;">'
        f'<h1>No se pudo completar</h1><p role="alert">{escape(message)}</p><ul>{items}</ul>'
        '<p><a href="/" onclick="history.back(); return false;">Volver</a></p></body></html>'
    )
    return HTMLResponse(body, status)


_OPENROSA_MESSAGES = {
    401: "Este teléfono no está registrado en campo o fue desactivado: pida al administrador "
    "un código nuevo",
    404: "Este teléfono no está registrado en campo o fue desactivado: pida al administrador "
    "un código nuevo",
    409: "El envío choca con lo ya guardado: avise a su supervisor",
    429: "Demasiados intentos: espere un momento y vuelva a enviar",
}


def _openrosa_error(status: int, fields: list[dict[str, str]]) -> Response:
    """An error as Collect shows it: OpenRosa's response document, in Spanish."""
    named = ", ".join(sorted({f["field"] for f in fields if f["field"]}))
    message = _OPENROSA_MESSAGES.get(
        status,
        "El servidor no aceptó el envío" + (f" (revise: {named})" if named else ""),
    )
    return Response(
        response(message, nature="submit_error"),
        status,
        media_type="text/xml; charset=utf-8",
    )


def _from_openrosa(request: Request) -> bool:
    return request.url.path.startswith(OPENROSA)


async def _campo_error(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, CampoError)
    status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)
    fields = [{"field": field, "message": message} for field, message in exc.problems]
    if _from_openrosa(request):
        return _openrosa_error(status, fields)
    if _from_console(request):
        return _error_page(status, exc.message, fields)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return JSONResponse(error_body(exc.code, exc.message, fields), status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, RequestValidationError)
    fields = [{"field": _field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    if _from_openrosa(request):
        return _openrosa_error(422, fields)
    if _from_console(request):
        return _error_page(422, "Revise los datos del formulario.", fields)
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return JSONResponse(error_body("invalid", message, fields), 422)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _from_openrosa(request) and exc.status_code != 405:
        return _openrosa_error(exc.status_code, [])
    code = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    headers = exc.headers
    if exc.status_code == 405:
        # Starlette names only the first matching route's methods; a path served by several
        # routes (GET and PATCH apart) allows all of theirs.
        headers = {"Allow": ", ".join(_allowed(request))}
    return JSONResponse(
        error_body(code.get(exc.status_code, "error"), str(exc.detail)),
        exc.status_code,
        headers=headers,
    )


def _allowed(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route | APIRoute) and route.methods:
            match, _ = route.matches(request.scope)
            if match != Match.NONE:
                methods |= route.methods
    return sorted(methods - {"HEAD"})


async def _database_refusal(_request: Request, exc: Exception) -> JSONResponse:
    """Last line of defence: input the domain checks missed but the schema refused.

    The transaction is rolled back by the session, so nothing stored is lost; the client gets
    a 4xx rather than a 500, without the SQL text.
    """
    if isinstance(exc, IntegrityError):
        return JSONResponse(error_body("conflict", "the change conflicts with stored data"), 409)
    return JSONResponse(error_body("invalid", "a value is out of range for its field"), 422)


async def _console_redirect(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRedirect)
    return RedirectResponse(exc.location, status_code=303)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ConsoleRedirect, _console_redirect)
    app.add_exception_handler(CampoError, _campo_error)
    app.add_exception_handler(IntegrityError, _database_refusal)
    app.add_exception_handler(DataError, _database_refusal)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
