"""Visit outcomes: answers validated against the questionnaire version used, promises to pay,
and the completion e-mail queued in the same transaction.

An outcome carries its own id from the phone, so a resent outcome returns the first answer
instead of being refused, whether it came online or inside an offline batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.core.audit import record
from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.core.models import Promise, Visit
from geo.core.tenant_settings import TenantSettings, tenant_settings
from geo.tracking.telemetry import FUTURE_TOLERANCE, FixRejected, aware_time
from geo.visits.mail import queue_emails
from geo.visits.questionnaires import PROMISE_AMOUNT, PROMISE_DATE, check_answers, get_questionnaire

VISIT_COMPLETED = "visit_completed"


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    visit_id: int
    status: str
    outcome: str
    promise_id: int | None
    notified: bool


def _visit(session: Session, tenant_id: int, agent_id: int | None, visit_id: int) -> Visit:
    query = select(Visit).where(Visit.tenant_id == tenant_id, Visit.id == visit_id)
    if agent_id is not None:
        query = query.where(Visit.agent_id == agent_id)
    visit = session.scalar(query.with_for_update())
    if visit is None:
        raise NotFound("visit not found", "visit_id")
    return visit


def _result(session: Session, visit: Visit, notified: bool) -> OutcomeResult:
    promise_id = session.scalar(
        select(Promise.id).where(Promise.tenant_id == visit.tenant_id, Promise.visit_id == visit.id)
    )
    return OutcomeResult(visit.id, visit.status, visit.outcome or "", promise_id, notified)


def _client_id(body: Any) -> uuid.UUID:
    """The outcome's own id, from the phone."""
    if not isinstance(body, dict):
        raise InvalidInput("an outcome is a JSON object", "outcome")
    try:
        return uuid.UUID(str(body.get("id")))
    except ValueError:
        raise InvalidInput("id must be the outcome's UUID", "id") from None


def record_outcome(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    visit_id: int,
    body: Any,
    now: datetime | None = None,
) -> OutcomeResult:
    """Close an open visit with its outcome; see the module docstring for idempotency."""
    now = now or datetime.now(UTC)
    client = _client_id(body)
    visit = _visit(session, tenant_id, agent_id, visit_id)
    if visit.status == "completed":
        if visit.outcome_client_id == client:
            return _result(session, visit, notified=False)
        raise Conflict("esta visita ya tiene resultado", "visit_id")
    if visit.status == "rejected":
        raise Conflict("la marcación de esta visita fue rechazada: marque de nuevo", "visit_id")
    settings = _apply(session, tenant_id, visit, body, client, now)
    recipients = [str(r) for r in settings.notify_emails]
    if recipients:
        session.flush()  # the visit's id, for its message
        queue_emails(
            session,
            tenant_id=tenant_id,
            kind=VISIT_COMPLETED,
            recipients=recipients,
            visit_ids=[visit.id],
        )
    session.flush()
    return _result(session, visit, notified=bool(recipients))


def _checkout(raw: Any, checkin_at: datetime, now: datetime) -> datetime:
    if raw is None:
        return now
    try:
        if not isinstance(raw, str):
            raise FixRejected("invalid_value", "checkout_at", "checkout_at must be ISO 8601")
        at = aware_time(raw, name="checkout_at")
    except FixRejected as exc:
        raise InvalidInput(exc.message, "checkout_at") from None
    if at > now + FUTURE_TOLERANCE:
        raise InvalidInput("checkout_at is in the future", "checkout_at")
    if at < checkin_at:
        raise InvalidInput("checkout_at is before the check-in", "checkout_at")
    return at


@dataclass(frozen=True, slots=True)
class VisitView:
    id: int
    case_id: int
    agent_id: int
    status: str
    verdict: str
    reasons: list[dict[str, Any]]
    checkin_at: datetime
    lon: float
    lat: float
    accuracy_m: float | None
    distance_m: float
    radius_m: float | None
    dwell_s: float | None
    outcome: str | None
    answers: dict[str, Any] | None
    checkout_at: datetime | None
    promise_amount_cop: float | None
    promise_due_date: str | None


_VISITS = """
    SELECT v.id, v.case_id, v.agent_id, v.status, v.verdict, v.reasons, v.checkin_at,
           ST_X(v.checkin_point) AS lon, ST_Y(v.checkin_point) AS lat,
           v.checkin_accuracy_m AS accuracy_m, v.distance_m, v.radius_m,
           v.checkin_dwell_s AS dwell_s, v.outcome, v.answers, v.checkout_at,
           p.amount_cop::float8 AS promise_amount_cop, p.due_date::text AS promise_due_date
    FROM visits v
    LEFT JOIN promises p ON p.tenant_id = v.tenant_id AND p.visit_id = v.id
    WHERE v.tenant_id = :tenant_id
"""


def get_visit(
    session: Session, *, tenant_id: int, visit_id: int, agent_id: int | None = None
) -> VisitView:
    """One visit; with ``agent_id``, only that agent's."""
    query = (
        _VISITS
        + " AND v.id = :visit_id AND (CAST(:agent AS bigint) IS NULL OR v.agent_id = :agent)"
    )
    row = session.execute(
        text(query), {"tenant_id": tenant_id, "visit_id": visit_id, "agent": agent_id}
    ).one_or_none()
    if row is None:
        raise NotFound("visit not found", "visit_id")
    return VisitView(**row._mapping)


def list_visits(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int | None = None,
    case_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[VisitView]:
    """Visits, newest first, filtered by agent, case and check-in time."""
    query = _VISITS + (
        " AND (CAST(:agent AS bigint) IS NULL OR v.agent_id = :agent)"
        " AND (CAST(:case AS bigint) IS NULL OR v.case_id = :case)"
        " AND (CAST(:since AS timestamptz) IS NULL OR v.checkin_at >= :since)"
        " AND (CAST(:until AS timestamptz) IS NULL OR v.checkin_at < :until)"
        " ORDER BY v.checkin_at DESC, v.id DESC LIMIT :limit"
    )
    rows = session.execute(
        text(query),
        {
            "tenant_id": tenant_id,
            "agent": agent_id,
            "case": case_id,
            "since": since,
            "until": until,
            "limit": limit,
        },
    )
    return [VisitView(**row._mapping) for row in rows]


def visit_of_checkin(session: Session, *, tenant_id: int, agent_id: int, checkin_id: Any) -> int:
    """The visit a check-in (by the phone's id) opened: offline outcomes name the check-in."""
    try:
        client = uuid.UUID(str(checkin_id))
    except ValueError:
        raise InvalidInput("checkin_id must be the check-in's UUID", "checkin_id") from None
    visit_id = session.scalar(
        select(Visit.id).where(
            Visit.tenant_id == tenant_id, Visit.agent_id == agent_id, Visit.client_id == client
        )
    )
    if visit_id is None:
        raise NotFound("no check-in with that id", "checkin_id")
    return int(visit_id)


def _apply(
    session: Session,
    tenant_id: int,
    visit: Visit,
    body: dict[str, Any],
    client: uuid.UUID,
    now: datetime,
) -> TenantSettings:
    """Check an outcome against its questionnaire version and write it on the visit, its
    promise with it; the tenant's settings, for what follows."""
    checkout_at = _checkout(body.get("checkout_at"), visit.checkin_at, now)
    form = body.get("questionnaire")
    if (
        not isinstance(form, dict)
        or not isinstance(form.get("key"), str)
        or (type(form.get("version")) is not int)
    ):
        raise InvalidInput("questionnaire is {key, version}", "questionnaire")
    questionnaire = get_questionnaire(
        session, tenant_id=tenant_id, key=form["key"], version=form["version"]
    )
    settings = tenant_settings(session, tenant_id)
    local_day = checkout_at.astimezone(settings.zone)
    outcome = body.get("outcome")
    stored, typed = check_answers(
        questionnaire.definition,
        body.get("answers", {}),
        outcome=str(outcome),
        today=local_day.date(),
    )
    visit.outcome, visit.answers, visit.checkout_at = str(outcome), stored, checkout_at
    visit.status, visit.completed_at = "completed", now
    visit.questionnaire_id, visit.outcome_client_id = questionnaire.id, client
    if outcome == "promise_to_pay" and PROMISE_AMOUNT in typed and PROMISE_DATE in typed:
        amount, due = typed[PROMISE_AMOUNT], typed[PROMISE_DATE]
        session.add(
            Promise(
                tenant_id=tenant_id,
                visit_id=visit.id,
                case_id=visit.case_id,
                amount_cop=amount,
                due_date=due,
            )
        )
    return settings


def amend_outcome(
    session: Session,
    *,
    tenant_id: int,
    visit_id: int,
    body: Any,
    user_id: int,
    now: datetime | None = None,
) -> OutcomeResult:
    """An edited submission's outcome replaces the visit's (answers and promise with it), the
    earlier one kept in the audit log: an edit is never a second visit nor a second promise.
    A visit with no outcome yet simply gets this one."""
    now = now or datetime.now(UTC)
    client = _client_id(body)
    visit = _visit(session, tenant_id, None, visit_id)
    if visit.status == "rejected":
        raise Conflict("la marcación de esta visita fue rechazada: marque de nuevo", "visit_id")
    if visit.outcome_client_id == client:
        return _result(session, visit, notified=False)
    promise = session.scalar(
        select(Promise).where(Promise.tenant_id == tenant_id, Promise.visit_id == visit.id)
    )
    before = {
        "outcome": visit.outcome,
        "answers": visit.answers,
        "promise": None
        if promise is None
        else {"amount_cop": str(promise.amount_cop), "due_date": promise.due_date.isoformat()},
    }
    if promise is not None:
        session.delete(promise)
        session.flush()
    _apply(session, tenant_id, visit, body, client, now)
    session.flush()
    result = _result(session, visit, notified=False)
    record(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        action="edit",
        subject=f"visit:{visit.id}",
        before=before,
        after={"outcome": visit.outcome, "answers": visit.answers, "promise": result.promise_id},
        at=now,
    )
    return result


def close_incomplete(session: Session, *, tenant_id: int, visit_id: int, at: datetime) -> bool:
    """Close an open visit whose outcome the server could not accept, so its case is not left
    blocked; the outcome can still be recorded later (a re-derived submission). Whether it
    was open."""
    visit = _visit(session, tenant_id, None, visit_id)
    if visit.status != "open":
        return False
    visit.status, visit.checkout_at = "incomplete", max(at, visit.checkin_at)
    session.flush()
    return True
