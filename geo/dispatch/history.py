"""A case's history as a supervisor reads it, and the audit log of who changed what: visits
with their verdicts, reasons, decisions and answers, promises, payments, other channels'
contacts, and the audited changes; local times in the tenant's zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.tenant_settings import tenant_settings


@dataclass(frozen=True, slots=True)
class HistoryVisit:
    id: int
    at: datetime
    agent: str
    verdict: str
    reasons: list[dict[str, str]]
    review_decision: str | None
    outcome: str | None
    answers: dict[str, Any]
    files: list[str] = field(default_factory=list)
    """Names of the files (photos) kept with the visit."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    user: str
    action: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CaseHistory:
    visits: list[HistoryVisit]
    promises: list[tuple[date, float, datetime]]
    """(due date, amount, made at)."""
    payments: list[tuple[date, float, str]]
    """(paid on, amount, reference)."""
    contacts: list[tuple[datetime, str, str, str | None]]
    """Other channels: (when, channel, source, result)."""
    audit: list[AuditEntry]


def audit_entries(
    session: Session,
    *,
    tenant_id: int,
    subject: str | None = None,
    user_id: int | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """The newest audited changes, of one subject (``case:12``) or by one user, or all."""
    zone = tenant_settings(session, tenant_id).zone
    rows = session.execute(
        text(
            "SELECT l.at, u.full_name, l.action, l.subject, l.before, l.after FROM audit_log l "
            "JOIN users u ON u.tenant_id = l.tenant_id AND u.id = l.user_id "
            "WHERE l.tenant_id = :t AND (CAST(:s AS text) IS NULL OR l.subject = :s) "
            "AND (CAST(:u AS bigint) IS NULL OR l.user_id = :u) "
            "ORDER BY l.at DESC, l.id DESC LIMIT :n"
        ),
        {"t": tenant_id, "s": subject, "u": user_id, "n": limit},
    )
    return [
        AuditEntry(r.at.astimezone(zone), r.full_name, r.action, r.subject, r.before, r.after)
        for r in rows
    ]


def case_history(session: Session, *, tenant_id: int, case_id: int) -> CaseHistory:
    """Everything that happened to a case, newest first."""
    zone = tenant_settings(session, tenant_id).zone
    params = {"t": tenant_id, "c": case_id}
    visits = [
        HistoryVisit(
            r.id,
            r.checkin_at.astimezone(zone),
            r.code,
            r.verdict,
            list(r.reasons or []),
            r.review_decision,
            r.outcome,
            dict(r.answers or {}),
            list(r.files or []),
        )
        for r in session.execute(
            text(
                "SELECT v.id, v.checkin_at, g.code, v.verdict, v.reasons, v.review_decision, "
                "v.outcome, v.answers, (SELECT array_agg(m.filename ORDER BY m.filename) "
                "FROM visit_media m WHERE m.tenant_id = v.tenant_id AND m.visit_id = v.id) "
                "AS files FROM visits v JOIN agents g ON g.tenant_id = v.tenant_id "
                "AND g.id = v.agent_id WHERE v.tenant_id = :t AND v.case_id = :c "
                "ORDER BY v.checkin_at DESC"
            ),
            params,
        )
    ]
    promises = [
        (r.due_date, float(r.amount_cop), r.created_at.astimezone(zone))
        for r in session.execute(
            text(
                "SELECT due_date, amount_cop, created_at FROM promises "
                "WHERE tenant_id = :t AND case_id = :c ORDER BY created_at DESC"
            ),
            params,
        )
    ]
    payments = [
        (r.paid_on, float(r.amount_cop), r.reference)
        for r in session.execute(
            text(
                "SELECT paid_on, amount_cop, reference FROM payments "
                "WHERE tenant_id = :t AND case_id = :c ORDER BY paid_on DESC"
            ),
            params,
        )
    ]
    contacts = [
        (r.contacted_at.astimezone(zone), r.channel, r.source, r.result)
        for r in session.execute(
            text(
                "SELECT k.contacted_at, k.channel, k.source, k.result FROM contacts k "
                "JOIN cases c ON c.tenant_id = k.tenant_id AND c.debtor_id = k.debtor_id "
                "WHERE k.tenant_id = :t AND c.id = :c ORDER BY k.contacted_at DESC LIMIT 200"
            ),
            params,
        )
    ]
    audit = audit_entries(session, tenant_id=tenant_id, subject=f"case:{case_id}")
    return CaseHistory(visits, promises, payments, contacts, audit)
