"""The console's imports: a portfolio (cases) or a payments file uploaded from the browser,
the good rows stored and every bad row listed by line, column and reason, in Spanish."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console_access import AdminUpload, StaffPage, StaffUpload
from api.console_pages import render
from api.console_session import VisitorDep
from geo.portfolio.imports import RowError, import_cases
from geo.portfolio.payments import import_payments

router = APIRouter(tags=["console"], default_response_class=HTMLResponse, include_in_schema=False)

REASONS: tuple[tuple[str, str], ...] = (
    (r"^is empty$", "está vacío"),
    (r"^already exists$", "ya existe: el caso se cargó antes"),
    (r"^appears earlier in this file$", "aparece antes en este mismo archivo"),
    (r"^is not a number$", "no es un número"),
    (r"^is not a whole number$", "no es un número entero"),
    (r"^must be a non-negative amount in COP$", "debe ser un valor en pesos no negativo"),
    (r"^must be a positive amount in COP$", "debe ser un valor en pesos positivo"),
    (r"^has more than 2 decimals or is too large$", "tiene más de 2 decimales o es muy grande"),
    (r"^must be between (\S+) and (\S+)$", r"debe estar entre \1 y \2"),
    (r"^lat and lon go together$", "latitud y longitud van juntas"),
    (r"^lat/lon are not numbers$", "latitud y longitud no son números"),
    (r"^is not an e-mail address$", "no es un correo electrónico"),
    (r"^must be one of (.+)$", r"debe ser uno de: \1"),
    (r"^is not a date \(YYYY-MM-DD\)$", "no es una fecha (AAAA-MM-DD)"),
    (r"^is in the future$", "es una fecha futura"),
    (r"^is before (\S+)$", r"es anterior al \1"),
    (r"^no case with this reference$", "no hay un caso con esta referencia"),
)
SHOWN = 500
"""Row errors listed on the page (all are counted)."""


def in_spanish(reason: str) -> str:
    """A row error's reason as the console shows it (the API keeps its English)."""
    for pattern, spanish in REASONS:
        if re.match(pattern, reason):
            return re.sub(pattern, spanish, reason)
    return reason


def _errors(errors: list[RowError]) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, in_spanish(e.reason)) for e in errors[:SHOWN]]


@router.get("/importar")
def imports_page(request: Request, visitor: VisitorDep, _allowed: StaffPage) -> Response:
    """Upload a portfolio or a payments file (CSV or XLSX)."""
    return render(request, "importar.html", visitor, active="importar")


@router.post("/importar/cartera")
def import_portfolio(request: Request, visitor: VisitorDep, posted: StaffUpload) -> Response:
    """Cases from a CSV or XLSX file: new references stored, each bad row listed."""
    file_name, data = posted.file("archivo")
    caller = posted.caller
    report = import_cases(caller.session, tenant_id=caller.tenant_id, source=data)
    return render(
        request,
        "importar.html",
        visitor,
        active="importar",
        kind="cartera",
        file_name=file_name,
        stored=report.stored,
        summary=[
            ("ubicados desde la dirección", report.geocoded),
            ("sin ubicación (revise la dirección)", report.without_location),
        ],
        error_count=len(report.errors),
        errors=_errors(report.errors),
    )


@router.post("/importar/pagos")
def import_payments_file(request: Request, visitor: VisitorDep, posted: AdminUpload) -> Response:
    """Payments from a CSV or XLSX file: stored once however often the file comes again."""
    file_name, data = posted.file("archivo")
    caller = posted.caller
    report = import_payments(caller.session, tenant_id=caller.tenant_id, source=data)
    return render(
        request,
        "importar.html",
        visitor,
        active="importar",
        kind="pagos",
        file_name=file_name,
        stored=report.stored,
        summary=[("ya cargados antes (no se duplican)", report.already_stored)],
        error_count=len(report.errors),
        errors=_errors(report.errors),
    )
