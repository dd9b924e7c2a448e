"""The compliance report: every contact of a period checked against Ley 2300 de 2023.

Each contact in the ledger is checked with the same rules the planner and the check-in use
(:mod:`geo.contacts.rules`), given what the ledger held before it: contacts earlier that local
day, channels earlier that ISO week (read from the Monday before the period, so the first
days of a period are judged like the others), the debtor's authorisations and agreed hours.
The rules are Python, so the report walks the period's contacts in order rather than asking
SQL; a month of a large portfolio is a few hundred thousand rows, a second's work.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.contacts.ledger import local_day, week_start
from geo.contacts.rules import RULE_LABELS, Standing, breaches
from geo.core.contact_law import WeeklyHours, iso_week
from geo.core.errors import InvalidInput
from geo.core.tenant_settings import tenant_settings

MAX_DAYS = 3 * 366

_LEDGER = text(
    """
    SELECT l.debtor_id, l.case_id, l.channel, l.contacted_at, l.source, l.result, l.visit_id,
           g.code AS agent_code, d.document_type, d.document_number, d.full_name,
           d.authorised_channels, d.agreed_hours, c.external_ref, c.bucket, zn.zone_name
    FROM contact_ledger l
    JOIN debtors d ON d.tenant_id = l.tenant_id AND d.id = l.debtor_id
    LEFT JOIN agents g ON g.tenant_id = l.tenant_id AND g.id = l.agent_id
    LEFT JOIN cases c ON c.tenant_id = l.tenant_id AND c.id = l.case_id
    LEFT JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    LEFT JOIN LATERAL (  -- the area zone the address lies in, as analytics.address_zones
        SELECT z.name AS zone_name FROM zones z
        WHERE z.tenant_id = a.tenant_id AND z.kind = 'area' AND ST_Covers(z.geom, a.point)
        ORDER BY z.id LIMIT 1
    ) zn ON true
    WHERE l.tenant_id = :t AND l.contacted_at >= :start AND l.contacted_at < :end
    ORDER BY l.debtor_id, l.contacted_at, l.source, l.channel
    """
)


@dataclass(frozen=True, slots=True)
class ReportedBreach:
    rule: str
    message: str
    contacted_at: datetime
    """Local time in the tenant's zone."""
    channel: str
    source: str
    agent_code: str | None
    debtor_id: int
    document: str
    debtor: str
    case_ref: str | None
    bucket: str | None
    zone_name: str | None
    visit_id: int | None


@dataclass(frozen=True, slots=True)
class ContactCount:
    """Contacts of one debtor on one local day through one channel."""

    debtor_id: int
    document: str
    day: date
    week: str
    channel: str
    contacts: int


@dataclass(slots=True)
class ComplianceReport:
    date_from: date
    date_to: date
    contacts: int = 0
    breaches: list[ReportedBreach] = field(default_factory=list)
    counts: list[ContactCount] = field(default_factory=list)
    contacts_by: dict[str, Counter[str | None]] = field(default_factory=dict)
    """Contacts per agent code, zone, bucket and week (its Monday), the KPI's denominators."""

    def by(self, attribute: str) -> dict[str, int]:
        """Breaches counted by ``rule``, ``agent_code``, ``source`` or ``channel``."""
        counted = Counter(str(getattr(b, attribute) or "") for b in self.breaches)
        return dict(sorted(counted.items()))

    def summary(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "contacts": self.contacts,
            "breaches": len(self.breaches),
            "by_rule": {RULE_LABELS[k]: v for k, v in self.by("rule").items()},
            "by_agent": self.by("agent_code"),
            "by_source": self.by("source"),
            "by_channel": self.by("channel"),
        }


def _week_label(day: date) -> str:
    year, week = iso_week(day)
    return f"{year}-W{week:02d}"


def compliance_report(
    session: Session, *, tenant_id: int, date_from: date, date_to: date
) -> ComplianceReport:
    """Every contact of local days ``date_from``..``date_to`` (both included), each breach
    with its rule, and the contacts per debtor, day and channel."""
    if date_to < date_from:
        raise InvalidInput("date_to is before date_from", "date_to")
    if (date_to - date_from).days >= MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days", "date_to")
    settings = tenant_settings(session, tenant_id)
    zone = settings.zone
    rows = session.execute(
        _LEDGER,
        {"t": tenant_id, "start": week_start(date_from, zone), "end": local_day(date_to, zone)[1]},
    )
    report = ComplianceReport(date_from, date_to)
    per_day: Counter[tuple[int, date]] = Counter()
    week_channels: dict[tuple[int, tuple[int, int]], set[str]] = {}
    counts: Counter[tuple[int, str, date, str]] = Counter()
    agreed: dict[int, WeeklyHours | None] = {}
    for row in rows:
        at = row.contacted_at.astimezone(zone)
        day, week = at.date(), iso_week(at.date())
        if row.debtor_id not in agreed:
            raw = row.agreed_hours
            agreed[row.debtor_id] = None if raw is None else WeeklyHours.model_validate(raw)
        channels = week_channels.setdefault((row.debtor_id, week), set())
        standing = Standing(
            authorised=row.authorised_channels,
            agreed=agreed[row.debtor_id],
            contacts_today=per_day[(row.debtor_id, day)],
            week_channels=frozenset(channels),
        )
        per_day[(row.debtor_id, day)] += 1
        channels.add(row.channel)
        if day < date_from:
            continue  # earlier in the first week: counted, not reported
        report.contacts += 1
        for key, value in (
            ("agent", row.agent_code),
            ("zone", row.zone_name),
            ("bucket", row.bucket),
            ("week", (day - timedelta(days=day.weekday())).isoformat()),
        ):
            report.contacts_by.setdefault(key, Counter())[value] += 1
        document = f"{row.document_type} {row.document_number}"
        counts[(row.debtor_id, document, day, row.channel)] += 1
        for found in breaches(at=at, channel=row.channel, standing=standing, settings=settings):
            report.breaches.append(
                ReportedBreach(
                    rule=found.code,
                    message=found.message,
                    contacted_at=at,
                    channel=row.channel,
                    source=row.source,
                    agent_code=row.agent_code,
                    debtor_id=row.debtor_id,
                    document=document,
                    debtor=row.full_name,
                    case_ref=row.external_ref,
                    bucket=row.bucket,
                    zone_name=row.zone_name,
                    visit_id=row.visit_id,
                )
            )
    report.counts = [
        ContactCount(debtor, document, day, _week_label(day), channel, n)
        for (debtor, document, day, channel), n in sorted(counts.items())
    ]
    report.breaches.sort(key=lambda b: (b.contacted_at, b.debtor_id, b.rule))
    return report
