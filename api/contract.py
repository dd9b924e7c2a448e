"""The published contract: the OpenAPI document as campo really answers, and the docs pages
served from vendored assets.

FastAPI documents its own 422 body and none of the statuses campo's error table produces;
this rewrites every operation's error answers to the one shape campo sends (``ErrorBody``),
so a client generated from ``/openapi.json`` parses what it gets. The form server ODK
Collect talks to answers in OpenRosa's XML (its day file in CSV), errors included.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

VENDOR = "/static/vendor"
ERRORS = {
    "400": "Refused: the message as a whole cannot be taken",
    "401": "Not signed in, or a bad token",
    "403": "Signed in, but the role may not do this",
    "404": "No such row in the caller's tenant",
    "409": "Contradicts what is stored",
    "413": "The body is larger than this route takes",
    "422": "A field is invalid; `fields` names each one",
    "429": "Too many attempts; see `Retry-After`",
}
GEOJSON = "application/geo+json"


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldError]


class ErrorBody(BaseModel):
    """Every error answer."""

    error: ErrorDetail


class GeoJSONResponse(JSONResponse):
    """RFC 7946's own media type."""

    media_type = GEOJSON


OPENROSA = "/openrosa/"


def _as_openrosa(path: str, responses: dict[str, Any]) -> None:
    """A form server operation's answers, as sent: XML, and the day's file as CSV."""
    for status, answer in responses.items():
        kind = "text/csv" if path.endswith(".csv") and status.startswith("2") else "text/xml"
        if "content" in answer or status.startswith("2"):
            answer["content"] = {kind: {"schema": {"type": "string"}}}


def _error_responses(document: dict[str, Any]) -> dict[str, Any]:
    reference = {"$ref": "#/components/schemas/ErrorBody"}
    for path, path_item in document.get("paths", {}).items():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in ERRORS.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": reference}},
                }
            if path.startswith(OPENROSA):
                _as_openrosa(path, responses)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for model in (FieldError, ErrorDetail, ErrorBody):
        schemas[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas[model.__name__].pop("$defs", None)
    return document


def install(app: FastAPI) -> None:
    """The rewritten OpenAPI document, and ``/docs`` and ``/redoc`` with no internet."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _error_responses(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} · API",
            swagger_js_url=f"{VENDOR}/swagger-ui-5.32.0/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui-5.32.0/swagger-ui.css",
            swagger_favicon_url="data:,",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} · API",
            redoc_js_url=f"{VENDOR}/redoc-2.5.1/redoc.standalone.js",
            redoc_favicon_url="data:,",
            with_google_fonts=False,
        )
