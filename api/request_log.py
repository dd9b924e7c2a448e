"""One log line per request, and the answer for errors nobody expected.

Each request gets an id (the client's ``X-Request-ID`` when it is a sane token, else a new
one), echoed in the response header. The line carries the id, tenant, user, route template,
status and duration. An unexpected exception is logged with its traceback and answered with a
500 that names only the request id, never the exception.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from api.errors import error_body

log = logging.getLogger("campo.requests")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = "X-Request-ID"


def _request_id(request: Request) -> str:
    given = request.headers.get(HEADER, "")
    return given if _CLIENT_ID.match(given) else uuid.uuid4().hex


def _line(request: Request, status: int, started: float) -> dict[str, object]:
    principal = getattr(request.state, "principal", None)
    route = request.scope.get("route")
    return {
        "request_id": request.state.request_id,
        "tenant": getattr(principal, "tenant_id", None),
        "user": getattr(principal, "user_id", None),
        "method": request.method,
        "route": getattr(route, "path_format", request.url.path),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }


async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "-")
    log.exception("unexpected error", extra={"request_id": request_id})
    message = f"error interno; referencia {request_id}"
    return JSONResponse(error_body("internal", message), 500, headers={HEADER: request_id})


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)

    @app.middleware("http")
    async def request_line(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request.state.request_id = _request_id(request)
        try:
            response = await call_next(request)
        except Exception:
            log.info("request", extra=_line(request, 500, started))
            raise
        response.headers[HEADER] = request.state.request_id
        log.info("request", extra=_line(request, response.status_code, started))
        return response
