"""Endpoints shaped as existing tracker apps expect them: ``/osmand`` and ``/owntracks``.

These apps carry no bearer token: the device identifier (OsmAnd) or HTTP Basic credentials
(OwnTracks) say whose position it is. Bodies are read raw because one URL takes query
parameters, form parameters or JSON, as the apps send them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from geo.core.errors import AuthenticationFailed, Refused
from geo.tracking.trackers import receive_osmand, receive_owntracks, receive_traccar_json

router = APIRouter(tags=["tracker apps"])
_basic = HTTPBasic(auto_error=False, realm="campo")
MAX_BODY = 2_000_000


async def _json(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Refused("the body is too large", "body")
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refused("the body is not valid JSON", "body") from None


@router.get("/osmand")
async def osmand_get(request: Request) -> dict[str, Any]:
    """One position as query parameters (OsmAnd, Traccar Client before 9)."""
    result = await run_in_threadpool(receive_osmand, dict(request.query_params))
    return {"id": result.id, "status": result.status}


@router.post("/osmand")
async def osmand_post(request: Request) -> dict[str, Any]:
    """Query parameters if any; otherwise the JSON of Traccar Client 9+, or form parameters."""
    if request.query_params:
        result = await run_in_threadpool(receive_osmand, dict(request.query_params))
        return {"id": result.id, "status": result.status}
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await _json(request)
        results = await run_in_threadpool(receive_traccar_json, body)
        return {"positions": [{"id": r.id, "status": r.status} for r in results]}
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    result = await run_in_threadpool(receive_osmand, values)
    return {"id": result.id, "status": result.status}


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Basic realm="campo"'})


@router.post("/owntracks")
async def owntracks(
    request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)]
) -> list[Any]:
    """OwnTracks HTTP mode. The answer is a JSON array, as the app expects (empty: no cards,
    no commands)."""
    if credentials is None:
        raise _unauthorized("HTTP Basic credentials are required")
    user = request.headers.get("x-limit-u") or request.query_params.get("u") or credentials.username
    device = request.headers.get("x-limit-d") or request.query_params.get("d")
    if user != credentials.username:
        raise _unauthorized("the user in X-Limit-U does not match the credentials")
    if not device:
        raise Refused("the device name is required (X-Limit-D header or ?d=)", "d")
    body = await _json(request)
    try:
        await run_in_threadpool(
            receive_owntracks, body, user=user, device=device, password=credentials.password
        )
    except AuthenticationFailed as exc:
        raise _unauthorized(exc.message) from None
    return []
