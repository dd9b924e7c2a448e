"""The agent's web app at ``/app/``: one page and its service worker. The page is the same for
everyone and holds no data (the app signs in and reads the day through the API), so the
service worker can keep it for offline use; its script is built from ``api/fieldapp``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api.console_pages import templates
from api.routers.maps import STATIC

router = APIRouter(tags=["agent web app"], include_in_schema=False)
BUILD = STATIC / "fieldapp"


@router.get("/app")
def app_root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=308)


@router.get("/app/", response_class=HTMLResponse)
def app_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "app.html", {})


@router.get("/app/sw.js")
def service_worker() -> FileResponse:
    """Served under /app/ so its scope is the app; never cached by HTTP, so a new build is seen."""
    return FileResponse(
        BUILD / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/app/"},
    )
