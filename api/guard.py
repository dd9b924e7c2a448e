"""The door every request passes: body size capped per route before anything parses it, a
write to an authenticated route refused before its body is read when it carries no valid
token, and the security headers on every answer (and OpenRosa's on every answer of the form
server, errors included, as ODK Collect expects).

It is plain ASGI, outside FastAPI's routing, because FastAPI reads and parses a body before
it runs the dependencies that authenticate: a 20 MB JSON from nobody would otherwise be
parsed before its 401. The body is buffered only up to the route's cap.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from api.security import read_token
from geo.core.errors import AuthenticationFailed
from geo.core.settings import get_settings
from geo.fieldkit.openrosa import OPENROSA_VERSION, response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB, MIB = 1024, 1024 * 1024
DEFAULT_CAP = 256 * KIB
CAPS = {
    "/v1/me/sync": 8 * MIB,
    "/v1/payments/import": 50 * MIB,
    "/v1/cases/import": 50 * MIB,
    "/v1/questionnaires/xlsform": 5 * MIB,
    "/cuestionarios": 5 * MIB,
    "/importar/cartera": 50 * MIB,
    "/importar/pagos": 50 * MIB,
    "/osmand": 2 * MIB,
    "/owntracks": 2 * MIB,
    "/v1/auth/token": 16 * KIB,
}
"""Largest body per path; any other path takes :data:`DEFAULT_CAP`."""
PUBLIC_WRITES = {"/v1/auth/token", "/osmand", "/owntracks"}
"""Writes that authenticate on their own terms (a password, a device identifier)."""
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https://tile.openstreetmap.org https://*.tile.openstreetmap.org; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'self'; "
    "form-action 'self'"
)
"""Folium writes its map scripts inline; everything else, data included, comes from campo.
Pages may be framed by campo's own (the console shows its maps in frames), by no one else."""
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
]


OPENROSA = "/openrosa/"
"""ODK Collect's form server: its answers carry OpenRosa's headers, its errors its XML."""


def _error(status: int, code: str, message: str, path: str = "") -> tuple[Message, Message]:
    if path.startswith(OPENROSA):
        kind = b"text/xml; charset=utf-8"
        body = response(_SPANISH.get(code, message), nature="submit_error").encode()
    else:
        kind = b"application/json"
        body = json.dumps({"error": {"code": code, "message": message, "fields": []}}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", kind), (b"content-length", b"%d" % len(body))],
    }
    return start, {"type": "http.response.body", "body": body}


_SPANISH = {"too_large": "El envío es más grande de lo que el servidor acepta"}


SUBMISSION_CAP = 30 * MIB
"""An ODK Collect submission: the instance, its audit log and its photos."""


def _cap(path: str) -> int:
    if path.startswith("/openrosa/key/") and path.endswith("/submission"):
        return SUBMISSION_CAP
    if path.startswith("/v1/visits/") and path.endswith("/media"):
        return 12 * MIB  # a photo (campo keeps at most CAMPO_MEDIA_MAX_MIB) and its form
    return CAPS.get(path, DEFAULT_CAP)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _authenticated(scope: Scope) -> bool:
    given = _header(scope, b"authorization") or ""
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        read_token(token.strip(), get_settings())
    except AuthenticationFailed:
        return False
    return True


class Guard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += _HEADERS
                kind = next((v for k, v in headers if k == b"content-type"), b"")
                if kind.startswith(b"text/html"):
                    headers.append((b"content-security-policy", CSP.encode()))
                if path.startswith(OPENROSA):
                    headers += _openrosa(headers)
                message["headers"] = headers
            await send(message)

        path, method = scope["path"], scope["method"]
        if method in {"POST", "PUT", "PATCH"}:
            refusal = await self._refusal(scope, path)
            if refusal is not None:
                for message in refusal:
                    await secured(message)
                return
            cap = _cap(path)
            body = await _read_capped(receive, cap)
            if body is None:
                too_large = _error(413, "too_large", f"the body is larger than {cap} bytes", path)
                for message in too_large:
                    await secured(message)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, secured)

    async def _refusal(self, scope: Scope, path: str) -> tuple[Message, Message] | None:
        length = _header(scope, b"content-length")
        cap = _cap(path)
        if length is not None and length.isdigit() and int(length) > cap:
            return _error(413, "too_large", f"the body is larger than {cap} bytes", path)
        if path.startswith("/v1/") and path not in PUBLIC_WRITES and not _authenticated(scope):
            start, body = _error(401, "not_authenticated", "sign in: a bearer token is needed")
            start["headers"].append((b"www-authenticate", b"Bearer"))
            return start, body
        return None


def _openrosa(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """OpenRosa's version header when an answer lacks it (``Date``, which OpenRosa also asks
    for, is the web server's: uvicorn puts it on every answer)."""
    if any(k.lower() == b"x-openrosa-version" for k, _ in headers):
        return []
    return [(b"x-openrosa-version", OPENROSA_VERSION.encode())]


async def _read_capped(receive: Receive, cap: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it passes ``cap`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
