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

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class RequestLog:
    """The request's line, as plain ASGI: Starlette's ``BaseHTTPMiddleware`` would run every
    request through an extra task and memory stream, a millisecond on the check-in path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        request_id = _request_id(request)
        request.state.request_id = request_id
        status = 500  # what the client gets if nothing answers before an exception escapes

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("request", extra=_line(request, status, started))


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(RequestLog)
