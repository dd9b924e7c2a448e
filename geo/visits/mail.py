"""E-mails to people: the visit completion and alerts, rendered here, sent from the outbox.

A message is an outbox row written in the transaction that causes it, together with a
``send_email`` job for it (:func:`queue_emails`), so neither can be lost by a crash between the
two and any number of job workers share the sending. :func:`deliver_message` sends one row,
locking it (``FOR UPDATE SKIP LOCKED``) so two workers never take the same message; a failure
leaves it pending with exponential back-off, and :func:`deliver_due` (every minute) retries what
is due again. Each message carries a Message-ID derived from its row, so the rare resend after a
crash between the SMTP answer and the commit is recognisable by mail clients as the same message.
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.db import owner_session
from geo.core.settings import Settings, get_settings
from geo.core.spanish import money
from geo.core.tenant_settings import tenant_settings

OUTCOME_LABELS = {
    "contact": "Contacto",
    "no_one_home": "Nadie en casa",
    "wrong_address": "Dirección errada",
    "moved": "Se mudó",
    "refused": "Se negó",
    "promise_to_pay": "Promesa de pago",
    "paid": "Pagó",
}
VERDICT_LABELS = {"accepted": "aceptada", "review": "en revisión", "rejected": "rechazada"}
MAX_BACKOFF = timedelta(hours=1)
log = logging.getLogger(__name__)

_VISIT = text(
    """
    SELECT v.id, v.tenant_id, v.checkin_at, v.checkout_at, v.verdict, v.distance_m, v.radius_m,
           v.reasons, v.outcome, v.answers, ST_X(v.checkin_point) AS lon,
           ST_Y(v.checkin_point) AS lat, t.name AS tenant,
           g.code AS agent_code, u.full_name AS agent_name, d.full_name AS debtor,
           d.document_type, d.document_number, a.raw_text AS address, a.city,
           c.external_ref, c.outstanding_cop, q.definition,
           (SELECT array_agg(m.filename ORDER BY m.filename) FROM visit_media m
            WHERE m.tenant_id = v.tenant_id AND m.visit_id = v.id) AS files
    FROM visits v
    JOIN tenants t ON t.id = v.tenant_id
    JOIN agents g ON g.tenant_id = v.tenant_id AND g.id = v.agent_id
    JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id
    JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
    JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id
    LEFT JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    LEFT JOIN questionnaires q ON q.tenant_id = v.tenant_id AND q.id = v.questionnaire_id
    WHERE v.tenant_id = :tenant_id AND v.id = :visit_id
    """
)


def _one_line(text: str) -> str:
    """Header text from data: line breaks and other control characters become spaces, so a
    name from a creditor's file can neither break the header nor add one."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _answer_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def render_visit_email(
    session: Session, *, tenant_id: int, visit_id: int, recipients: list[str], settings: Settings
) -> EmailMessage:
    """The completion e-mail of one visit, in Spanish, as plain text and HTML."""
    v = session.execute(_VISIT, {"tenant_id": tenant_id, "visit_id": visit_id}).one()
    zone = tenant_settings(session, tenant_id).zone
    minutes = (v.checkout_at - v.checkin_at).total_seconds() / 60
    labels = {
        q["name"]: q.get("label", q["name"]) for q in (v.definition or {}).get("questions", [])
    }
    map_url = f"https://www.openstreetmap.org/?mlat={v.lat:.6f}&mlon={v.lon:.6f}#map=18/{v.lat:.6f}/{v.lon:.6f}"
    api_url = f"{settings.public_base_url.rstrip('/')}/v1/visits/{v.id}"
    verdict = f"{VERDICT_LABELS[v.verdict]}, a {v.distance_m:.0f} m"
    if v.radius_m:
        verdict += f" (geocerca de {v.radius_m:.0f} m)"
    rows = [
        ("Gestor", f"{v.agent_name} ({v.agent_code})"),
        ("Deudor", f"{v.debtor} — {v.document_type} {v.document_number}"),
        ("Caso", f"{v.external_ref}, saldo {money(v.outstanding_cop)}"),
        ("Dirección", f"{v.address or 'sin dirección'}, {v.city or ''}".rstrip(", ")),
        ("Resultado", OUTCOME_LABELS.get(v.outcome, v.outcome)),
        ("Marcación", verdict),
        ("Llegada", v.checkin_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")),
        ("Salida", v.checkout_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")),
        ("Tiempo en sitio", f"{minutes:.0f} min"),
    ]
    reasons = [r["message"] for r in v.reasons or []]
    answers = [(labels.get(k, k), _answer_text(val)) for k, val in (v.answers or {}).items()]
    # Links to the photos: staff open them signed in, nobody else can.
    photos = [f"{api_url}/media/{quote(name)}" for name in v.files or []]
    message = EmailMessage()
    outcome = OUTCOME_LABELS.get(v.outcome, v.outcome).lower()
    message["Subject"] = _one_line(f"Visita {outcome}: {v.debtor} ({v.external_ref})")
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<visit-{v.tenant_id}-{v.id}@campo>"
    lines = [f"{label}: {value}" for label, value in rows]
    lines += [f"Observación de la marcación: {r}" for r in reasons]
    lines += ["", "Respuestas:"] + [f"- {q}: {a}" for q, a in answers]
    lines += [f"Foto: {url}" for url in photos]
    lines += ["", f"Ver en el mapa: {map_url}", f"Detalle: {api_url}"]
    message.set_content("\n".join(lines))
    esc = html.escape
    table = "".join(
        f"<tr><th align='left'>{esc(k)}</th><td>{esc(str(val))}</td></tr>" for k, val in rows
    )
    notes = "".join(f"<li>{esc(r)}</li>" for r in reasons)
    given = "".join(f"<li><b>{esc(q)}:</b> {esc(a)}</li>" for q, a in answers)
    message.add_alternative(
        f"<html><body><h2>Visita de {esc(v.tenant)}</h2><table>{table}</table>"
        + (f"<p>Observaciones de la marcación:</p><ul>{notes}</ul>" if notes else "")
        + f"<h3>Respuestas</h3><ul>{given}</ul>"
        + "".join(f"<p><a href='{esc(url)}'>Ver la foto</a></p>" for url in photos)
        + f"<p><a href='{esc(map_url)}'>Ver la visita en el mapa</a> · "
        f"<a href='{esc(api_url)}'>Detalle</a></p></body></html>",
        subtype="html",
    )
    return message


_ALERT = text(
    "SELECT a.id, a.rule, a.message, a.raised_at, t.name AS tenant FROM alerts a "
    "JOIN tenants t ON t.id = a.tenant_id WHERE a.tenant_id = :t AND a.id = :id"
)
ALERT_LABELS = {
    "silent_agent": "Gestor sin señal",
    "low_battery": "Batería baja",
    "rejected_checkin": "Marcación rechazada",
    "unpaid_promise": "Promesa sin pago",
}


def render_alert_email(
    session: Session, *, tenant_id: int, alert_id: int, recipients: list[str], settings: Settings
) -> EmailMessage:
    """An alert for supervisors, in Spanish, as plain text and HTML."""
    a = session.execute(_ALERT, {"t": tenant_id, "id": alert_id}).one()
    zone = tenant_settings(session, tenant_id).zone
    since = a.raised_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    link = f"{settings.public_base_url.rstrip('/')}/v1/alerts"
    message = EmailMessage()
    message["Subject"] = _one_line(f"campo · {ALERT_LABELS[a.rule]}: {a.message}")
    message["Message-ID"] = f"<alert-{tenant_id}-{a.id}@campo>"
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message.set_content(
        f"{a.message}\n\nDesde: {since}\nCartera: {a.tenant}\nAlertas abiertas: {link}\n"
    )
    message.add_alternative(
        f"<p><strong>{html.escape(a.message)}</strong></p>"
        f"<p>Desde: {since}<br>Cartera: {html.escape(a.tenant)}<br>"
        f'<a href="{html.escape(link)}">Alertas abiertas</a></p>',
        subtype="html",
    )
    return message


def _send(message: EmailMessage, settings: Settings) -> None:
    smtp_class = smtplib.SMTP_SSL if settings.smtp_security == "ssl" else smtplib.SMTP
    with smtp_class(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s
    ) as smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


MAIL_QUEUE = "mail"
MAIL_TASK = "send_email"

# The messages and their jobs in one statement: procrastinate's defer function, as its own
# ``App.defer`` calls it, over the rows just inserted.
_QUEUE = text(
    """
    WITH m AS (
        INSERT INTO outbox (tenant_id, kind, visit_id, alert_id, recipients)
        SELECT :t, :kind, s.visit_id, s.alert_id, :to
        FROM unnest(CAST(:visits AS bigint[]), CAST(:alerts AS bigint[])) AS s(visit_id, alert_id)
        RETURNING tenant_id, id)
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(:queue, :task, 0, NULL, NULL,
                   jsonb_build_object('tenant_id', tenant_id, 'message_id', id),
                   NULL)::procrastinate_job_to_defer_v1
        FROM m))
    """
)


def queue_emails(
    session: Session,
    *,
    tenant_id: int,
    kind: str,
    recipients: Sequence[str],
    visit_ids: Sequence[int] = (),
    alert_ids: Sequence[int] = (),
) -> None:
    """Write one outbox message per visit or alert, each with its job, in the caller's
    transaction: they commit or vanish with the change that causes them."""
    subjects = max(len(visit_ids), len(alert_ids))
    if not subjects:
        return
    none: list[int | None] = [None] * subjects
    session.execute(
        _QUEUE,
        {
            "t": tenant_id,
            "kind": kind,
            "to": list(recipients),
            "visits": list(visit_ids) or none,
            "alerts": list(alert_ids) or none,
            "queue": MAIL_QUEUE,
            "task": MAIL_TASK,
        },
    )


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int
    failed: int


_COLUMNS = "tenant_id, id, kind, visit_id, alert_id, recipients, attempts FROM outbox"
_DUE = text(
    f"SELECT {_COLUMNS} WHERE status = 'pending' AND next_attempt_at <= :now "
    "ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_ONE = text(
    f"SELECT {_COLUMNS} WHERE tenant_id = :t AND id = :id AND status = 'pending' "
    "AND next_attempt_at <= :now FOR UPDATE SKIP LOCKED"
)
_SENT = text(
    "UPDATE outbox SET status = 'sent', sent_at = :at, attempts = attempts + 1, "
    "last_error = NULL WHERE tenant_id = :t AND id = :id"
)
_FAILED = text(
    "UPDATE outbox SET attempts = attempts + 1, last_error = :error, "
    "next_attempt_at = :next WHERE tenant_id = :t AND id = :id"
)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver_message(
    *,
    tenant_id: int,
    message_id: int,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> bool | None:
    """Send one message if it is still pending and due: True once sent, False if it failed
    (it waits with back-off), None if there was nothing to do (sent already, not due, or
    another worker has it). Runs as the schema owner, like :func:`deliver_due`."""
    settings = settings or get_settings()
    with owner_session() as session:
        at = now or datetime.now(UTC)
        row = session.execute(_ONE, {"t": tenant_id, "id": message_id, "now": at}).one_or_none()
        return None if row is None else _attempt(session, row, at, settings)


def deliver_due(
    *, now: datetime | None = None, limit: int = 100, settings: Settings | None = None
) -> DeliveryReport:
    """Send up to ``limit`` due messages, each in its own transaction: the ones whose job
    failed and whose back-off is over, and any whose job has not run yet."""
    settings = settings or get_settings()
    sent = failed = 0
    for _ in range(limit):
        with owner_session() as session:
            at = now or datetime.now(UTC)
            row = session.execute(_DUE, {"now": at}).one_or_none()
            if row is None:
                break
            if _attempt(session, row, at, settings):
                sent += 1
            else:
                failed += 1
    return DeliveryReport(sent, failed)


def _attempt(session: Session, row: Any, at: datetime, settings: Settings) -> bool:
    """Render and send the locked row; its outcome is recorded on it. The message content is
    read with the row's tenant."""
    key = {"t": row.tenant_id, "id": row.id}
    try:
        with session.begin_nested():
            message = (
                render_alert_email(
                    session,
                    tenant_id=row.tenant_id,
                    alert_id=row.alert_id,
                    recipients=row.recipients,
                    settings=settings,
                )
                if row.alert_id is not None
                else render_visit_email(
                    session,
                    tenant_id=row.tenant_id,
                    visit_id=row.visit_id,
                    recipients=row.recipients,
                    settings=settings,
                )
            )
        _send(message, settings)
    except Exception as exc:
        # The server being down and one unsendable message alike: this row waits and is
        # retried with back-off, and the others go on.
        server = isinstance(exc, OSError | smtplib.SMTPException)
        (log.warning if server else log.exception)(
            "e-mail %s not sent (attempt %s): %s",
            row.id,
            row.attempts + 1,
            exc,
            extra={"tenant": row.tenant_id},
        )
        error = f"{type(exc).__name__}: {exc}"[:500]
        session.execute(_FAILED, {**key, "error": error, "next": at + backoff(row.attempts + 1)})
        return False
    session.execute(_SENT, {**key, "at": at})
    return True
