"""The FastAPI application: routers, the error table and ``/health``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from api import contract, errors, request_log
from api.guard import Guard
from api.routers import (
    agents,
    alerts,
    analytics,
    auth,
    cases,
    console,
    console_cases,
    console_forms,
    console_imports,
    console_people,
    console_plans,
    console_reports,
    console_settings,
    contacts,
    devices,
    fieldapp,
    maps,
    me,
    openrosa,
    plans,
    submissions,
    tenant,
    trackers,
    users,
    visits,
)
from api.schemas import Health
from geo.accounts.throttle import LoginThrottle
from geo.core.db import tenant_session
from geo.core.health import DatabaseUnavailable, HealthProbe
from geo.core.logs import configure_logging
from geo.core.settings import get_settings
from geo.tracking.partitions import ensure_gps_partitions


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # A long-running server crosses month boundaries: make sure the next months exist.
    with tenant_session(None) as session:
        ensure_gps_partitions(session)
    # Few request threads: with many, busy ones starve the event loop and /health with it.
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().server_threads
    yield
    await _app.state.health.close()


def create_app() -> FastAPI:
    configure_logging(get_settings())
    app = FastAPI(
        title="campo",
        lifespan=_lifespan,
        version="0.1.0",
        description="Field collections on PostGIS: portfolios, agents, verified visits, trails.",
        docs_url=None,
        redoc_url=None,
    )
    contract.install(app)
    app.state.logins = LoginThrottle()  # one per server process: see geo.accounts.throttle
    errors.install(app)
    app.add_middleware(Guard)
    request_log.install(app)  # added last, so outermost: its line covers the guard's refusals
    for module in (
        auth,
        me,
        visits,
        cases,
        agents,
        plans,
        devices,
        users,
        trackers,
        maps,
        analytics,
        tenant,
        alerts,
        contacts,
        console,
        console_cases,
        console_forms,
        console_imports,
        console_plans,
        console_reports,
        console_settings,
        console_people,
        openrosa,
        submissions,
        fieldapp,
    ):
        app.include_router(module.router)
    app.include_router(contacts.debtors_router)
    app.include_router(plans.territories_router)
    app.include_router(analytics.payments_router)
    app.mount("/static", StaticFiles(directory=maps.STATIC), name="static")

    probe = app.state.health = HealthProbe(get_settings().app_url)

    @app.get("/health", response_model=Health, tags=["health"])
    async def health() -> Health | JSONResponse:
        """Liveness and the database's versions, answered on the event loop over a connection
        of its own: busy request threads cannot make it wait."""
        try:
            versions = await probe.versions()
        except DatabaseUnavailable:
            return JSONResponse(Health(status="unavailable").model_dump(), status_code=503)
        return Health(status="ok", postgresql=versions.postgresql, postgis=versions.postgis)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """Browsers ask for it on every document without an icon of its own (JSON answers,
        GeoJSON): nothing, said once a day, rather than a 404 in every console."""
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    return app


app = create_app()
