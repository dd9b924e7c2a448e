"""The contact ledger: every contact with a debtor, campo's visits and other systems' contacts.

Visits are in the ledger as they are stored (the ``contact_ledger`` view reads those not
rejected); calls, SMS, e-mails, WhatsApp messages, letters and other companies' visits come
from the tenant's systems, as a CSV/XLSX file or as JSON, row by row with the errors of the
bad rows named as the other imports name them. A contact is its source and ``external_id``
(derived from the row when the file has none), so importing the same file twice stores it once.
The debtor's authorised channels and agreed schedule are kept on the debtor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.audit import record_update
from geo.core.bounds import FIRST_DAY
from geo.core.contact_law import (
    CHANNEL_NAMES,
    CHANNELS,
    WEEKDAYS,
    WeeklyHours,
    day_hours,
    parse_agreed_hours,
)
from geo.core.errors import InvalidInput, NotFound
from geo.core.tenant_settings import tenant_settings
from geo.portfolio.imports import RepeatableReport, RowError, as_bytes
from geo.portfolio.tabular import read_table

STANDING = """
    (SELECT count(*) FROM contact_ledger l
     WHERE l.tenant_id = :t AND l.debtor_id = {debtor}
       AND l.contacted_at >= {day_from} AND l.contacted_at < {until}) AS contacts_today,
    (SELECT coalesce(array_agg(DISTINCT l.channel), '{{}}') FROM contact_ledger l
     WHERE l.tenant_id = :t AND l.debtor_id = {debtor}
       AND l.contacted_at >= {week_from} AND l.contacted_at < {until}) AS week_channels"""
"""Columns of a statement giving a debtor's :class:`~geo.contacts.rules.Standing`: contacts
in ``[day_from, until)`` and channels in ``[week_from, until)``; fill in with ``format``."""
FUTURE_TOLERANCE = timedelta(minutes=5)


def local_day(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A local day as the instants [start, end) it spans (23 or 25 hours where clocks move)."""
    start = datetime.combine(day, time(), zone)
    return start, datetime.combine(day + timedelta(days=1), time(), zone)


def week_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant the ISO week of ``day`` starts: Monday 00:00 local."""
    return local_day(day - timedelta(days=day.weekday()), zone)[0]


ContactReport = RepeatableReport


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    channel: str
    contacted_at: datetime
    source: str
    document: tuple[str, str] | None
    case_ref: str | None
    agent_code: str | None
    result: str | None
    external_id: str


class _Bad(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


def _text(raw: Mapping[str, Any], column: str) -> str | None:
    value = raw.get(column)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(column, "must be text")
    return value.strip() or None


def _moment(raw: str, zone: ZoneInfo, now: datetime) -> datetime:
    """ISO 8601 with an offset, or a local ``YYYY-MM-DD HH:MM`` in the tenant's zone."""
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise _Bad("contacted_at", "is not a date and time (YYYY-MM-DD HH:MM)") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    if at > now + FUTURE_TOLERANCE:
        raise _Bad("contacted_at", "is in the future")
    if at.date() < FIRST_DAY:
        raise _Bad("contacted_at", f"is before {FIRST_DAY}")
    return at


def _parse(line: int, raw: Mapping[str, Any], zone: ZoneInfo, now: datetime) -> _Row:
    name = (_text(raw, "channel") or "").lower()
    if not name:
        raise _Bad("channel", "is empty")
    if name not in CHANNEL_NAMES:
        raise _Bad("channel", f"must be one of {', '.join(CHANNELS)}")
    stamp = _text(raw, "contacted_at")
    if stamp is None:
        raise _Bad("contacted_at", "is empty")
    at = _moment(stamp, zone, now)
    source = _text(raw, "source")
    if source is None:
        raise _Bad("source", "is empty (the system the contact comes from)")
    if source == "campo":
        raise _Bad("source", "'campo' is campo's own visits")
    doc_type, doc_number = _text(raw, "document_type"), _text(raw, "document_number")
    case_ref = _text(raw, "case_ref")
    if (doc_type is None) != (doc_number is None):
        raise _Bad("document_number" if doc_number is None else "document_type", "go together")
    if doc_type is None and case_ref is None:
        raise _Bad("document_number", "the debtor's document or a case_ref is needed")
    document = (doc_type.upper(), doc_number) if doc_type and doc_number else None
    channel, result = CHANNEL_NAMES[name], _text(raw, "result")
    external = (
        _text(raw, "external_id")
        or hashlib.sha256(
            "|".join(
                [channel, at.astimezone(UTC).isoformat(), str(document), str(case_ref), str(result)]
            ).encode()
        ).hexdigest()[:32]
    )
    return _Row(
        line, channel, at, source, document, case_ref, _text(raw, "agent_code"), result, external
    )


def import_contacts(session: Session, *, tenant_id: int, source: bytes | str) -> ContactReport:
    """A file of contacts (``channel, contacted_at, source`` and the debtor's
    ``document_type, document_number`` or a ``case_ref``; ``agent_code, result, external_id``
    optional): good rows stored, bad ones reported, in the caller's transaction."""
    table = read_table(as_bytes(source))
    table.require(("channel", "contacted_at", "source"))
    return record_contacts(session, tenant_id=tenant_id, rows=table.rows)


def record_contacts(
    session: Session, *, tenant_id: int, rows: Iterable[tuple[int, Mapping[str, Any]]]
) -> ContactReport:
    """Contacts as (line, fields) pairs, as the import reads them or the API receives them."""
    zone = tenant_settings(session, tenant_id).zone
    now = datetime.now(UTC)
    report, parsed = ContactReport(), []
    for line, raw in rows:
        try:
            parsed.append(_parse(line, raw, zone, now))
        except _Bad as exc:
            report.errors.append(RowError(line, exc.column, exc.reason))
    debtors, cases, agents = _lookups(session, tenant_id, parsed)
    values = []
    for r in parsed:
        case = cases.get(r.case_ref) if r.case_ref else None
        debtor = debtors.get(r.document) if r.document else None
        if r.case_ref and case is None:
            report.errors.append(RowError(r.line, "case_ref", "no case with this reference"))
        elif r.document and debtor is None:
            report.errors.append(
                RowError(r.line, "document_number", "no debtor with this document")
            )
        elif case is not None and debtor is not None and case[1] != debtor:
            report.errors.append(RowError(r.line, "case_ref", "is not a case of this debtor"))
        elif r.agent_code and r.agent_code not in agents:
            report.errors.append(RowError(r.line, "agent_code", "no agent with this code"))
        else:
            values.append(
                {
                    "t": tenant_id,
                    "debtor": debtor if debtor is not None else case[1],  # type: ignore[index]
                    "case": case[0] if case else None,
                    "channel": r.channel,
                    "at": r.contacted_at,
                    "agent": agents.get(r.agent_code) if r.agent_code else None,
                    "source": r.source,
                    "result": r.result,
                    "external": r.external_id,
                }
            )
    if values:
        report.stored = session.execute(
            text(
                "INSERT INTO contacts (tenant_id, debtor_id, case_id, channel, contacted_at, "
                "agent_id, source, result, external_id) SELECT :t, :debtor, :case, :channel, "
                ":at, :agent, :source, :result, :external ON CONFLICT DO NOTHING"
            ),
            values,
        ).rowcount  # type: ignore[attr-defined]
    report.already_stored = len(values) - report.stored
    report.errors.sort(key=lambda e: e.line)
    return report


def _lookups(
    session: Session, tenant_id: int, rows: Sequence[_Row]
) -> tuple[dict[tuple[str, str], int], dict[str, tuple[int, int]], dict[str, int]]:
    """The debtors, cases and agents the rows name, each kind in one statement."""
    docs = sorted({r.document for r in rows if r.document})
    refs = sorted({r.case_ref for r in rows if r.case_ref})
    codes = sorted({r.agent_code for r in rows if r.agent_code})
    debtors = {
        (row.document_type, row.document_number): row.id
        for row in session.execute(
            text(
                "SELECT d.id, d.document_type, d.document_number FROM debtors d "
                "JOIN unnest(CAST(:types AS text[]), CAST(:numbers AS text[])) AS q(ty, nu) "
                "ON d.document_type = q.ty AND d.document_number = q.nu WHERE d.tenant_id = :t"
            ),
            {"t": tenant_id, "types": [d[0] for d in docs], "numbers": [d[1] for d in docs]},
        )
    }
    cases = {
        row.external_ref: (row.id, row.debtor_id)
        for row in session.execute(
            text(
                "SELECT id, debtor_id, external_ref FROM cases "
                "WHERE tenant_id = :t AND external_ref = ANY(CAST(:refs AS text[]))"
            ),
            {"t": tenant_id, "refs": refs},
        )
    }
    agents = {
        row.code: row.id
        for row in session.execute(
            text(
                "SELECT id, code FROM agents WHERE tenant_id = :t "
                "AND code = ANY(CAST(:codes AS text[]))"
            ),
            {"t": tenant_id, "codes": codes},
        )
    }
    return debtors, cases, agents


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    debtor_id: int
    case_id: int | None
    channel: str
    contacted_at: datetime
    agent_id: int | None
    source: str
    result: str | None
    visit_id: int | None


def list_contacts(
    session: Session,
    *,
    tenant_id: int,
    start: datetime,
    end: datetime,
    debtor_id: int | None = None,
) -> list[LedgerEntry]:
    """The ledger between two instants, oldest first, for one debtor or all."""
    rows = session.execute(
        text(
            "SELECT debtor_id, case_id, channel, contacted_at, agent_id, source, result, visit_id "
            "FROM contact_ledger WHERE tenant_id = :t AND contacted_at >= :start "
            "AND contacted_at < :end AND (CAST(:d AS bigint) IS NULL OR debtor_id = :d) "
            "ORDER BY debtor_id, contacted_at, source, channel"
        ),
        {"t": tenant_id, "start": start, "end": end, "d": debtor_id},
    )
    return [LedgerEntry(**row._mapping) for row in rows]


@dataclass(frozen=True, slots=True)
class ContactPreferences:
    debtor_id: int
    authorised_channels: list[str] | None
    agreed_hours: WeeklyHours | None


def agreed_from(value: Any, field_name: str = "agreed_hours") -> WeeklyHours | None:
    """An agreed schedule as given: None, the text of an import file, or a JSON object."""
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return parse_agreed_hours(value)
        return WeeklyHours.model_validate(value)
    except (ValueError, ValidationError) as exc:
        message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise InvalidInput(f"{field_name}: {message}", field_name) from None


def set_preferences(
    session: Session,
    *,
    tenant_id: int,
    debtor_id: int,
    authorised_channels: Sequence[str] | None,
    agreed_hours: WeeklyHours | None,
    user_id: int | None = None,
) -> ContactPreferences:
    """Record what the debtor authorised (None: nothing on record) and the hours agreed;
    audited, as the law asks that consent be provable."""
    unknown = [c for c in authorised_channels or () if c not in CHANNELS]
    if unknown:
        raise InvalidInput(
            f"authorised_channels: {unknown[0]!r} is not one of {', '.join(CHANNELS)}",
            "authorised_channels",
        )
    channels = (
        None if authorised_channels is None else [c for c in CHANNELS if c in authorised_channels]
    )
    before = get_preferences(session, tenant_id=tenant_id, debtor_id=debtor_id)
    found = session.execute(
        text(
            "UPDATE debtors SET authorised_channels = :c, agreed_hours = CAST(:h AS jsonb) "
            "WHERE tenant_id = :t AND id = :d RETURNING id"
        ),
        {
            "t": tenant_id,
            "d": debtor_id,
            "c": channels,
            "h": None if agreed_hours is None else agreed_hours.model_dump_json(),
        },
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("debtor not found", "debtor_id")
    after = ContactPreferences(debtor_id, channels, agreed_hours)
    record_update(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        subject=f"debtor:{debtor_id}",
        before=_consent(before),
        after=_consent(after),
    )
    return after


def _consent(preferences: ContactPreferences) -> dict[str, Any]:
    hours = preferences.agreed_hours
    return {
        "authorised_channels": preferences.authorised_channels,
        "agreed_hours": None if hours is None else hours.model_dump(mode="json"),
    }


def get_preferences(session: Session, *, tenant_id: int, debtor_id: int) -> ContactPreferences:
    row = session.execute(
        text(
            "SELECT authorised_channels, agreed_hours FROM debtors WHERE tenant_id = :t AND id = :d"
        ),
        {"t": tenant_id, "d": debtor_id},
    ).one_or_none()
    if row is None:
        raise NotFound("debtor not found", "debtor_id")
    agreed = None if row.agreed_hours is None else WeeklyHours.model_validate(row.agreed_hours)
    return ContactPreferences(debtor_id, row.authorised_channels, agreed)


def closed_day(session: Session, *, tenant_id: int, day: date) -> str | None:
    """Why no visit may be planned on ``day`` (a Sunday or a public holiday under the
    tenant's policy, with no debtor whose agreed schedule includes that weekday), in Spanish;
    None when the day has contact hours."""
    settings = tenant_settings(session, tenant_id)
    today = day_hours(day, weekly=settings.contact_hours, country=settings.contact_holidays)
    if today.hours is not None:
        return None
    agreed = session.scalar(
        text(
            "SELECT EXISTS (SELECT FROM debtors WHERE tenant_id = :t "
            "AND agreed_hours ->> :weekday IS NOT NULL)"
        ),
        {"t": tenant_id, "weekday": WEEKDAYS[day.weekday()]},
    )
    return None if agreed else today.closed
