"""The one table from domain errors to HTTP, and the one JSON error shape.

Every error answer is ``{"error": {"code", "message", "fields": [{"field", "message"}]}}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route

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


async def _campo_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CampoError)
    status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)
    fields = [{"field": field, "message": message} for field, message in exc.problems]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return JSONResponse(error_body(exc.code, exc.message, fields), status, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [{"field": _field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return JSONResponse(error_body("invalid", message, fields), 422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
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


def install(app: FastAPI) -> None:
    app.add_exception_handler(CampoError, _campo_error)
    app.add_exception_handler(IntegrityError, _database_refusal)
    app.add_exception_handler(DataError, _database_refusal)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
