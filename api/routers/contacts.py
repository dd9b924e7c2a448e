"""The contact ledger, debtors' authorisations, and the compliance report (Ley 2300 de 2023)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import Staff, Watcher
from api.routers.analytics import REPORT, DateFrom, DateTo, Format, answer
from api.schemas import Id, Strict
from geo.contacts.ledger import (
    ContactReport,
    LedgerEntry,
    agreed_from,
    get_preferences,
    import_contacts,
    list_contacts,
    local_day,
    record_contacts,
    set_preferences,
)
from geo.contacts.report import compliance_report
from geo.core.contact_law import CHANNELS
from geo.core.exports import Cell
from geo.core.tenant_settings import tenant_settings

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])
debtors_router = APIRouter(prefix="/v1/debtors", tags=["contacts"])

MAX_CONTACTS = 10_000


class ContactIn(BaseModel):
    """A contact from another system, as a row of the import file."""

    channel: str = Field(description=f"One of {', '.join(CHANNELS)} (or its Spanish name)")
    contacted_at: str = Field(description="ISO 8601; without an offset, the tenant's local time")
    source: str = Field(description="The system it comes from (call centre, SMS gateway, ...)")
    document_type: str | None = None
    document_number: str | None = None
    case_ref: str | None = None
    agent_code: str | None = None
    result: str | None = None
    external_id: str | None = Field(None, description="Its id in the source; repeats are ignored")


def _report(report: ContactReport) -> dict[str, Any]:
    return {
        "stored": report.stored,
        "already_stored": report.already_stored,
        "errors": [{"line": e.line, "column": e.column, "reason": e.reason} for e in report.errors],
    }


@router.post("", summary="Record contacts made through other channels")
def record(
    caller: Staff,
    contacts: Annotated[list[dict[str, Any]], Body(embed=True, max_length=MAX_CONTACTS)],
) -> dict[str, Any]:
    """Each item as :class:`ContactIn`; good items stored, bad ones listed by position
    (``line`` 1 is the first) with the field and the reason. A repeat is stored once."""
    rows = ((i, item) for i, item in enumerate(contacts, start=1))
    return _report(record_contacts(caller.session, tenant_id=caller.tenant_id, rows=rows))


@router.post("/import", summary="Import contacts from a CSV or XLSX file")
def import_file(caller: Staff, file: UploadFile) -> dict[str, Any]:
    """Columns ``channel, contacted_at, source``, the debtor's ``document_type,
    document_number`` or a ``case_ref``, and optionally ``agent_code, result, external_id``."""
    source = file.file.read()
    return _report(import_contacts(caller.session, tenant_id=caller.tenant_id, source=source))


@router.get("", response_model=list[LedgerEntry])
def ledger(
    caller: Watcher,
    date_from: DateFrom,
    date_to: DateTo,
    debtor_id: Annotated[Id | None, Query()] = None,
) -> list[LedgerEntry]:
    """Every contact of the local days given (both included): campo's visits (not rejected)
    and what other systems reported, oldest first."""
    zone = tenant_settings(caller.session, caller.tenant_id).zone
    return list_contacts(
        caller.session,
        tenant_id=caller.tenant_id,
        start=local_day(date_from, zone)[0],
        end=local_day(date_to, zone)[1],
        debtor_id=debtor_id,
    )


class Preferences(Strict):
    authorised_channels: list[str] | None = Field(
        description="Channels the debtor authorised; null: no authorisation on record"
    )
    agreed_hours: dict[str, Any] | str | None = Field(
        None,
        description="Hours the debtor asked for, replacing the legal ones: "
        '{"mon": ["18:00", "20:00"], ...} or "lun-vie 18:00-20:00; sáb 09:00-12:00"',
    )


def _preferences(found: Any) -> dict[str, Any]:
    return {
        "debtor_id": found.debtor_id,
        "authorised_channels": found.authorised_channels,
        "agreed_hours": None
        if found.agreed_hours is None
        else found.agreed_hours.model_dump(mode="json"),
    }


@debtors_router.get("/{debtor_id}/contact-preferences")
def preferences(caller: Watcher, debtor_id: Id) -> dict[str, Any]:
    return _preferences(
        get_preferences(caller.session, tenant_id=caller.tenant_id, debtor_id=debtor_id)
    )


@debtors_router.put("/{debtor_id}/contact-preferences")
def put_preferences(caller: Staff, debtor_id: Id, body: Preferences) -> dict[str, Any]:
    """What the debtor authorised and the hours agreed with them, as the law asks to keep."""
    found = set_preferences(
        caller.session,
        tenant_id=caller.tenant_id,
        debtor_id=debtor_id,
        authorised_channels=body.authorised_channels,
        agreed_hours=agreed_from(body.agreed_hours),
        user_id=caller.principal.user_id,
    )
    return _preferences(found)


BREACH_COLUMNS = (
    "contacted_at",
    "rule",
    "message",
    "channel",
    "source",
    "agent_code",
    "document",
    "debtor",
    "case_ref",
    "visit_id",
)
COUNT_COLUMNS = ("debtor_id", "document", "day", "week", "channel", "contacts")


@router.get(
    "/compliance",
    response_model=None,
    responses=REPORT,
    summary="Contacts checked against Ley 2300 de 2023: breaches, and contacts per day",
)
def compliance(
    caller: Watcher,
    date_from: DateFrom,
    date_to: DateTo,
    table: Annotated[
        Literal["breaches", "contacts"],
        Query(description="breaches, or contacts per debtor, day and channel"),
    ] = "breaches",
    format: Format = "json",
) -> Response | dict[str, Any]:
    """Each contact of the period (visits and imported ones) against the tenant's policy:
    hours, one contact a day, one channel a week, authorised channels. The summary counts
    breaches by rule, agent, source and channel."""
    report = compliance_report(
        caller.session, tenant_id=caller.tenant_id, date_from=date_from, date_to=date_to
    )
    rows: list[list[Cell]]
    if table == "breaches":
        columns: tuple[str, ...] = BREACH_COLUMNS
        rows = [
            [
                b.contacted_at.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes"),
                b.rule,
                b.message,
                b.channel,
                b.source,
                b.agent_code,
                b.document,
                b.debtor,
                b.case_ref,
                b.visit_id,
            ]
            for b in report.breaches
        ]
    else:
        columns = COUNT_COLUMNS
        rows = [
            [c.debtor_id, c.document, c.day, c.week, c.channel, c.contacts] for c in report.counts
        ]
    return answer(f"compliance_{table}", columns, rows, format, report.summary())
