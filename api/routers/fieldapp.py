"""The agent's web app at ``/app/``: one page, its files and its service worker. The page is
the same for everyone and holds no data (the app signs in and reads the day through the API),
so the service worker can keep it for offline use; its files are built from ``api/fieldapp``,
each named for its content, so a browser keeps them for a year and a new build is new names."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api.console_pages import templates
from api.routers.maps import STATIC
from geo.core.errors import NotFound

router = APIRouter(tags=["agent web app"], include_in_schema=False)
BUILD = STATIC / "fieldapp"
IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=1)
def build() -> dict[str, Any]:
    """What ``scripts/build-fieldapp`` made: the script, the styles and every file's name."""
    found: dict[str, Any] = json.loads((BUILD / "build.json").read_text())
    return found


@router.get("/app")
def app_root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=308)


@router.get("/app/", response_class=HTMLResponse)
def app_page(request: Request) -> HTMLResponse:
    """Checked again on each load (no-cache), so a new build reaches phones that are online."""
    return templates.TemplateResponse(
        request, "app.html", {"build": build()}, headers={"Cache-Control": "no-cache"}
    )


@router.get("/static/fieldapp/{name}")
def app_file(name: str) -> FileResponse:
    """A file of the build, by its content-named name: cached for a year."""
    if name not in build()["files"] and name not in build()["legal"]:
        raise NotFound("no such file in the web app", "name")
    kind = "application/manifest+json" if name.endswith(".webmanifest") else None
    return FileResponse(BUILD / name, media_type=kind, headers={"Cache-Control": IMMUTABLE})


@router.get("/app/sw.js")
def service_worker() -> FileResponse:
    """Served under /app/ so its scope is the app; never cached by HTTP, so a new build is seen."""
    return FileResponse(
        BUILD / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/app/"},
    )
