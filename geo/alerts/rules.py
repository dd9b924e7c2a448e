"""The alert rules and their evaluation: what holds now, raised once, resolved when it ends.

Each rule is one query over the tenant's data at a given instant (so tests and the minute job
give the same answer for the same clock), with its thresholds from the tenant's settings:

- ``silent_agent``: an active agent on shift whose newest fix is older than
  ``alert_silent_min`` (counting from the shift's start when there is none);
- ``low_battery``: an agent on shift whose newest fix, today, reports less than
  ``alert_battery_pct`` and is not charging;
- ``rejected_checkin``: a check-in rejected in the last day, until a later check-in by the
  same agent at the same case is accepted or sent to review;
- ``unpaid_promise``: a promise due tomorrow (the tenant's day) with no payment recorded for
  its case since the visit where it was made (not when it reached us: it may come offline).

An occurrence is named by its subject (``agent:7``, ``visit:12``, ``promise:3``). Evaluating
inserts the occurrences not yet open (a partial unique index makes a second insert a no-op)
and resolves the open ones that no longer hold: no alert repeats every minute, and one that
comes back after it ended is a new occurrence. A raised alert is e-mailed to the tenant's
``alert_emails`` through the outbox, in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.spanish import money
from geo.core.tenant_settings import tenant_settings
from geo.visits.mail import queue_emails

_ON_SHIFT = """
    g.active AND (:now AT TIME ZONE :zone)::time BETWEEN g.shift_start AND g.shift_end
"""

_HOLDING = text(
    """
    SELECT 'silent_agent' AS rule, 'agent:' || g.id AS subject, g.id AS agent_id,
           NULL::bigint AS case_id, g.code AS agent,
           extract(epoch FROM :now - coalesce(p.recorded_at,
                   ((:now AT TIME ZONE :zone)::date + g.shift_start) AT TIME ZONE :zone)) / 60
               AS minutes,
           NULL::float8 AS battery, NULL::text AS ref, NULL::numeric AS amount,
           NULL::text AS reason
    FROM agents g LEFT JOIN agent_positions p ON p.tenant_id = g.tenant_id AND p.agent_id = g.id
    WHERE g.tenant_id = :t AND :silent > 0 AND {on_shift}
      AND coalesce(p.recorded_at, ((:now AT TIME ZONE :zone)::date + g.shift_start)
                                  AT TIME ZONE :zone) < :now - make_interval(secs => :silent * 60)
    UNION ALL
    SELECT 'low_battery', 'agent:' || g.id, g.id, NULL, g.code, NULL, p.battery_pct, NULL,
           NULL, NULL
    FROM agents g JOIN agent_positions p ON p.tenant_id = g.tenant_id AND p.agent_id = g.id
    WHERE g.tenant_id = :t AND :battery > 0 AND {on_shift}
      AND (p.recorded_at AT TIME ZONE :zone)::date = (:now AT TIME ZONE :zone)::date
      AND p.battery_pct < :battery AND NOT coalesce(p.charging, false)
    UNION ALL
    SELECT 'rejected_checkin', 'visit:' || v.id, v.agent_id, v.case_id, g.code, NULL, NULL,
           c.external_ref, NULL, v.reasons -> 0 ->> 'message'
    FROM visits v
    JOIN agents g ON g.tenant_id = v.tenant_id AND g.id = v.agent_id
    JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
    WHERE v.tenant_id = :t AND :rejected AND v.verdict = 'rejected'
      AND v.checkin_at > :now - interval '1 day' AND v.checkin_at <= :now
      AND NOT EXISTS (
          SELECT FROM visits later
          WHERE later.tenant_id = v.tenant_id AND later.agent_id = v.agent_id
            AND later.case_id = v.case_id AND later.checkin_at > v.checkin_at
            AND later.checkin_at <= :now AND later.verdict IN ('accepted', 'review'))
    UNION ALL
    SELECT 'unpaid_promise', 'promise:' || pr.id, NULL, pr.case_id, NULL, NULL, NULL,
           c.external_ref, pr.amount_cop, NULL
    FROM promises pr
    JOIN cases c ON c.tenant_id = pr.tenant_id AND c.id = pr.case_id
    JOIN visits v ON v.tenant_id = pr.tenant_id AND v.id = pr.visit_id
    WHERE pr.tenant_id = :t AND :unpaid
      AND pr.due_date = (:now AT TIME ZONE :zone)::date + 1
      AND NOT EXISTS (
          SELECT FROM payments pay
          WHERE pay.tenant_id = pr.tenant_id AND pay.case_id = pr.case_id
            AND pay.paid_on >= (v.checkin_at AT TIME ZONE :zone)::date)
    """.replace("{on_shift}", _ON_SHIFT)
)

_RAISE = text(
    """
    INSERT INTO alerts (tenant_id, rule, subject, agent_id, case_id, message, raised_at)
    SELECT :t, a.rule, a.subject, a.agent_id, a.case_id, a.message, :now
    FROM json_to_recordset(CAST(:alerts AS json))
         AS a(rule text, subject text, agent_id bigint, case_id bigint, message text)
    ON CONFLICT (tenant_id, rule, subject) WHERE resolved_at IS NULL DO NOTHING
    RETURNING id
    """
)

_RESOLVE = text(
    """
    UPDATE alerts SET resolved_at = :now
    WHERE tenant_id = :t AND resolved_at IS NULL
      AND (rule, subject) NOT IN (
          SELECT a.rule, a.subject
          FROM json_to_recordset(CAST(:alerts AS json)) AS a(rule text, subject text))
    """
)


@dataclass(frozen=True, slots=True)
class Evaluation:
    raised: list[int]
    """Ids of the alerts raised by this evaluation (to tell supervisors)."""
    resolved: int


def _message(row: Any) -> str:
    """The alert as a supervisor reads it, in Spanish."""
    if row.rule == "silent_agent":
        return f"El gestor {row.agent} no envía posición GPS hace {row.minutes:.0f} min"
    if row.rule == "low_battery":
        return f"La batería del gestor {row.agent} está al {row.battery:.0f} %"
    if row.rule == "rejected_checkin":
        why = f": {row.reason}" if row.reason else ""
        return f"Marcación rechazada del gestor {row.agent} en el caso {row.ref}{why}"
    return (
        f"La promesa de pago de {money(float(row.amount))} del caso {row.ref} vence mañana "
        "y no hay pago registrado"
    )


def evaluate_alerts(session: Session, *, tenant_id: int, now: datetime) -> Evaluation:
    """Raise what holds at ``now`` and is not open yet; resolve what no longer holds."""
    settings = tenant_settings(session, tenant_id)
    holding = session.execute(
        _HOLDING,
        {
            "t": tenant_id,
            "now": now,
            "zone": settings.timezone,
            "silent": settings.alert_silent_min,
            "battery": settings.alert_battery_pct,
            "rejected": settings.alert_rejected_checkin,
            "unpaid": settings.alert_unpaid_promise,
        },
    ).all()
    alerts = json.dumps(
        [
            {
                "rule": row.rule,
                "subject": row.subject,
                "agent_id": row.agent_id,
                "case_id": row.case_id,
                "message": _message(row),
            }
            for row in holding
        ]
    )
    params = {"t": tenant_id, "now": now, "alerts": alerts}
    raised = [int(i) for i in session.scalars(_RAISE, params)]
    resolved = session.execute(_RESOLVE, params).rowcount  # type: ignore[attr-defined]
    if raised and settings.alert_emails:  # sent by the e-mail job, with the outbox's retries
        queue_emails(
            session,
            tenant_id=tenant_id,
            kind="alert",
            recipients=[str(e) for e in settings.alert_emails],
            alert_ids=raised,
        )
    return Evaluation(raised=raised, resolved=int(resolved))


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    rule: str
    subject: str
    agent_id: int | None
    case_id: int | None
    message: str
    raised_at: datetime
    resolved_at: datetime | None


def list_alerts(
    session: Session, *, tenant_id: int, open_only: bool, since: datetime | None = None
) -> list[AlertView]:
    """The tenant's alerts, newest first: the open ones, or all raised since ``since``."""
    rows = session.execute(
        text(
            "SELECT id, rule, subject, agent_id, case_id, message, raised_at, resolved_at "
            "FROM alerts WHERE tenant_id = :t AND (NOT :open OR resolved_at IS NULL) "
            "AND raised_at >= :since ORDER BY raised_at DESC, id DESC LIMIT 500"
        ),
        {"t": tenant_id, "open": open_only, "since": since or datetime(2000, 1, 1, tzinfo=UTC)},
    )
    return [AlertView(*row) for row in rows]
