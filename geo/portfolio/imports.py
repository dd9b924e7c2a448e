"""Import a portfolio (cases with their debtors and addresses) from CSV or ``.xlsx``.

The file is read by :mod:`geo.portfolio.tabular` (encodings, separators, workbooks). Every
row is validated first and bad rows are reported with their line number, the column at
fault and why; the good rows are then written in the caller's transaction, so an import that
fails midway (a crash, Ctrl-C, a lost connection) leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from geoalchemy2 import WKTElement
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.core.contact_law import parse_agreed_hours, parse_channels
from geo.core.models import Address, Case, Debtor
from geo.portfolio.nomenclature import geocode
from geo.portfolio.priority import initial_priority
from geo.portfolio.tabular import parse_cop, read_table

REQUIRED_COLUMNS = (
    "external_ref",
    "document_type",
    "document_number",
    "full_name",
    "product",
    "outstanding_cop",
    "days_past_due",
    "address",
    "city",
)
DOCUMENT_TYPES = ("CC", "CE", "NIT", "PP", "TI")
MAX_AMOUNT = Decimal("1e14")
"""Amounts are numeric(16, 2) in the database."""
CHUNK = 1000


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason: str


@dataclass(slots=True)
class RepeatableReport:
    """An import whose rows may come again (payments, contacts): a repeat is not stored twice."""

    stored: int = 0
    already_stored: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(slots=True)
class ImportReport:
    stored: int = 0
    errors: list[RowError] = field(default_factory=list)
    geocoded: int = 0
    without_location: int = 0


@dataclass(frozen=True, slots=True)
class CaseRow:
    line: int
    external_ref: str
    document_type: str
    document_number: str
    full_name: str
    phone: str | None
    email: str | None
    product: str
    outstanding_cop: Decimal
    days_past_due: int
    address: str
    city: str
    lonlat: tuple[float, float] | None
    quality: str
    authorised_channels: list[str] | None = None
    """Channels the debtor authorised (``authorised_channels``: ``visita, llamada``)."""
    agreed_hours: dict[str, Any] | None = None
    """Hours agreed with the debtor (``agreed_hours``: ``lun-vie 18:00-20:00``)."""


class _RowInvalid(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


def _text(raw: dict[str, str], column: str, *, required: bool = True) -> str | None:
    value = (raw.get(column) or "").strip()
    if not value and required:
        raise _RowInvalid(column, "is empty")
    return value or None


def _parse_row(line: int, raw: dict[str, str]) -> CaseRow:
    doc_type = (_text(raw, "document_type") or "").upper()
    if doc_type not in DOCUMENT_TYPES:
        raise _RowInvalid("document_type", f"must be one of {', '.join(DOCUMENT_TYPES)}")
    try:
        amount = parse_cop(_text(raw, "outstanding_cop") or "")
    except InvalidOperation:
        raise _RowInvalid("outstanding_cop", "is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise _RowInvalid("outstanding_cop", "must be a non-negative amount in COP")
    if amount >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise _RowInvalid("outstanding_cop", "has more than 2 decimals or is too large")
    try:
        dpd = int(_text(raw, "days_past_due") or "")
    except ValueError:
        raise _RowInvalid("days_past_due", "is not a whole number") from None
    if not 0 <= dpd <= 36_500:
        raise _RowInvalid("days_past_due", "must be between 0 and 36500")
    address, city = _text(raw, "address") or "", _text(raw, "city") or ""
    lat, lon = _text(raw, "lat", required=False), _text(raw, "lon", required=False)
    lonlat: tuple[float, float] | None
    if (lat is None) != (lon is None):
        raise _RowInvalid("lat" if lat is None else "lon", "lat and lon go together")
    if lat is not None and lon is not None:
        try:
            lonlat = (float(lon), float(lat))
        except ValueError:
            raise _RowInvalid("lat", "lat/lon are not numbers") from None
        if not -90 <= lonlat[1] <= 90:
            raise _RowInvalid("lat", "must be between -90 and 90")
        if not -180 <= lonlat[0] <= 180:
            raise _RowInvalid("lon", "must be between -180 and 180")
        quality = "provided"
    else:
        lonlat = geocode(address, city)
        quality = "grid" if lonlat else "none"
    email = _text(raw, "email", required=False)
    if email is not None and "@" not in email:
        raise _RowInvalid("email", "is not an e-mail address")
    channels, agreed = _text(raw, "authorised_channels", required=False), None
    try:
        authorised = None if channels is None else parse_channels(channels)
    except ValueError as exc:
        raise _RowInvalid("authorised_channels", str(exc)) from None
    hours = _text(raw, "agreed_hours", required=False)
    try:
        agreed = None if hours is None else parse_agreed_hours(hours).model_dump(mode="json")
    except ValueError as exc:
        raise _RowInvalid("agreed_hours", str(exc)) from None
    return CaseRow(
        line=line,
        external_ref=_text(raw, "external_ref") or "",
        document_type=doc_type,
        document_number=_text(raw, "document_number") or "",
        full_name=_text(raw, "full_name") or "",
        phone=_text(raw, "phone", required=False),
        email=email,
        product=(_text(raw, "product") or "").lower(),
        outstanding_cop=amount,
        days_past_due=dpd,
        address=address,
        city=city,
        lonlat=lonlat,
        quality=quality,
        authorised_channels=authorised,
        agreed_hours=agreed,
    )


def as_bytes(source: bytes | str) -> bytes:
    """A file's bytes (text already decoded is taken as UTF-8)."""
    return source.encode("utf-8") if isinstance(source, str) else source


def read_rows(source: bytes | str) -> tuple[list[CaseRow], list[RowError]]:
    """Parse and validate a file; the header must name every required column."""
    table = read_table(as_bytes(source))
    table.require(REQUIRED_COLUMNS)
    rows: list[CaseRow] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for line, raw in table.rows:
        try:
            row = _parse_row(line, raw)
        except _RowInvalid as exc:
            errors.append(RowError(line, exc.column, exc.reason))
            continue
        if row.external_ref in seen:
            errors.append(RowError(line, "external_ref", "appears earlier in this file"))
            continue
        seen.add(row.external_ref)
        rows.append(row)
    return rows, errors


def _chunks(rows: list[CaseRow]) -> Iterator[list[CaseRow]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def import_cases(
    session: Session,
    *,
    tenant_id: int,
    source: bytes | str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import cases into ``tenant_id``; the caller's transaction makes it all-or-nothing.

    ``progress(done, total)`` is called after each chunk of rows is written.
    """
    rows, errors = read_rows(source)
    existing = _existing_refs(session, tenant_id, [r.external_ref for r in rows])
    report = ImportReport(errors=errors)
    fresh = []
    for row in rows:
        if row.external_ref in existing:
            report.errors.append(RowError(row.line, "external_ref", "already exists"))
        else:
            fresh.append(row)
    report.errors.sort(key=lambda e: e.line)
    for chunk in _chunks(fresh):
        _write(session, tenant_id, chunk)
        report.stored += len(chunk)
        if progress is not None:
            progress(report.stored, len(fresh))
    report.geocoded = sum(r.quality == "grid" for r in fresh)
    report.without_location = sum(r.quality == "none" for r in fresh)
    return report


def _existing_refs(session: Session, tenant_id: int, refs: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(refs), 10_000):
        found.update(
            session.scalars(
                select(Case.external_ref).where(
                    Case.tenant_id == tenant_id, Case.external_ref.in_(refs[start : start + 10_000])
                )
            )
        )
    return found


def _write(session: Session, tenant_id: int, rows: list[CaseRow]) -> None:
    """Upsert debtors by document, then add one address and one case per row."""
    debtors: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        debtors[(r.document_type, r.document_number)] = {
            "tenant_id": tenant_id,
            "document_type": r.document_type,
            "document_number": r.document_number,
            "full_name": r.full_name,
            "phone": r.phone,
            "email": r.email,
            "authorised_channels": r.authorised_channels,
            "agreed_hours": r.agreed_hours,
        }
    values = insert(Debtor).values(list(debtors.values()))
    upsert = values.on_conflict_do_update(
        constraint="uq_debtors_tenant_id_document_type_document_number",
        set_={  # what a file leaves empty stays as it was
            "full_name": values.excluded.full_name,
            "phone": values.excluded.phone,
            "authorised_channels": func.coalesce(
                values.excluded.authorised_channels, Debtor.authorised_channels
            ),
            "agreed_hours": func.coalesce(values.excluded.agreed_hours, Debtor.agreed_hours),
        },
    ).returning(Debtor.id, Debtor.document_type, Debtor.document_number)
    debtor_ids = {(t, n): i for i, t, n in session.execute(upsert)}
    address_ids = session.scalars(
        insert(Address).returning(Address.id, sort_by_parameter_order=True),
        [
            {
                "tenant_id": tenant_id,
                "debtor_id": debtor_ids[(r.document_type, r.document_number)],
                "raw_text": r.address,
                "city": r.city,
                "point": WKTElement(f"POINT({r.lonlat[0]} {r.lonlat[1]})", srid=4326)
                if r.lonlat
                else None,
                "geocode_quality": r.quality,
            }
            for r in rows
        ],
    ).all()
    session.execute(
        insert(Case),
        [
            {
                "tenant_id": tenant_id,
                "external_ref": r.external_ref,
                "debtor_id": debtor_ids[(r.document_type, r.document_number)],
                "address_id": address_id,
                "product": r.product,
                "outstanding_cop": r.outstanding_cop,
                "days_past_due": r.days_past_due,
                "priority": initial_priority(r.days_past_due, r.outstanding_cop),
            }
            for r, address_id in zip(rows, address_ids, strict=True)
        ],
    )
