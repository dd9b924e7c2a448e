"""The review queue: check-ins the rules sent to review, each with what a supervisor needs to
decide (the fix, its accuracy, the fence, the trail before it, the reasons), and the decision,
kept on the visit and in the audit log.

A decision does not rewrite the rules' verdict: the visit keeps ``verdict = 'review'`` and
gains ``review_decision`` (approved or rejected), who made it, when and why, so the record
shows both what the rules saw and what a person decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.audit import record
from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.core.tenant_settings import tenant_settings

Decision = Literal["approved", "rejected"]
MAX_COMMENT = 1000

_QUEUE = text(
    """
    SELECT v.id, v.checkin_at, v.distance_m, v.checkin_accuracy_m, v.reasons, v.outcome,
           g.code AS agent, d.full_name AS debtor, c.external_ref, a.raw_text AS address
    FROM visits v
    JOIN agents g ON g.tenant_id = v.tenant_id AND g.id = v.agent_id
    JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
    JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id
    LEFT JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    WHERE v.tenant_id = :t AND v.verdict = 'review' AND v.review_decision IS NULL
      AND (CAST(:id AS bigint) IS NULL OR v.id = :id)
    ORDER BY v.checkin_at, v.id
    LIMIT 500
    """
)


@dataclass(frozen=True, slots=True)
class ReviewItem:
    visit_id: int
    checkin_at: datetime
    """Local time in the tenant's zone."""
    agent: str
    debtor: str
    case_ref: str
    address: str | None
    distance_m: float
    accuracy_m: float | None
    reasons: list[dict[str, str]]
    outcome: str | None


def review_queue(session: Session, *, tenant_id: int) -> list[ReviewItem]:
    """Check-ins waiting for a decision, oldest first (at most 500)."""
    return _items(session, tenant_id, None)


def waiting(session: Session, *, tenant_id: int, visit_id: int) -> ReviewItem:
    """One check-in waiting for a decision; NotFound if it is not (another tenant's, decided,
    or never in review)."""
    found = _items(session, tenant_id, visit_id)
    if not found:
        raise NotFound("no check-in waiting for review with this id", "visit_id")
    return found[0]


def _items(session: Session, tenant_id: int, visit_id: int | None) -> list[ReviewItem]:
    zone = tenant_settings(session, tenant_id).zone
    return [
        ReviewItem(
            visit_id=r.id,
            checkin_at=r.checkin_at.astimezone(zone),
            agent=r.agent,
            debtor=r.debtor,
            case_ref=r.external_ref,
            address=r.address,
            distance_m=r.distance_m,
            accuracy_m=r.checkin_accuracy_m,
            reasons=list(r.reasons or []),
            outcome=r.outcome,
        )
        for r in session.execute(_QUEUE, {"t": tenant_id, "id": visit_id})
    ]


_EVIDENCE = text(
    """
    WITH v AS (
        SELECT v.tenant_id, v.agent_id, v.checkin_at, v.checkin_point, v.checkin_accuracy_m,
               v.distance_m, a.point AS home, a.geofence,
               coalesce(a.geofence_radius_m, :radius) AS radius
        FROM visits v
        JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
        JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
        WHERE v.tenant_id = :t AND v.id = :v
    ), features AS (
        SELECT 0 AS o, v.checkin_at AS at, json_build_object('type', 'Feature',
            'geometry', ST_AsGeoJSON(v.checkin_point)::json,
            'properties', json_build_object('kind', 'fix', 'accuracy_m', v.checkin_accuracy_m,
                                            'distance_m', v.distance_m)) AS f
        FROM v
        UNION ALL
        SELECT 1, NULL, json_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(v.home)::json,
            'properties', json_build_object('kind', 'address', 'radius_m', v.radius,
                                            'polygon', v.geofence IS NOT NULL))
        FROM v
        UNION ALL
        SELECT 2, NULL, json_build_object('type', 'Feature',
            'geometry', ST_AsGeoJSON(v.geofence)::json,
            'properties', json_build_object('kind', 'geofence'))
        FROM v WHERE v.geofence IS NOT NULL
        UNION ALL
        SELECT 3, f.recorded_at, json_build_object('type', 'Feature',
            'geometry', ST_AsGeoJSON(f.point)::json,
            'properties', json_build_object('kind', 'trail', 'recorded_at', f.recorded_at,
                                            'accuracy_m', f.accuracy_m))
        FROM v JOIN gps_fixes f ON f.tenant_id = v.tenant_id AND f.agent_id = v.agent_id
            AND f.recorded_at >= v.checkin_at - CAST(:lookback AS interval)
            AND f.recorded_at <= v.checkin_at
    )
    SELECT json_build_object('type', 'FeatureCollection',
                             'features', json_agg(f ORDER BY o, at))
    FROM features HAVING count(*) > 0
    """
)
"""The check-in's evidence as GeoJSON ([lon, lat]): its fix, the address with its fence, the
polygon fence if there is one, and the agent's fixes in the look-back before it."""


def evidence(session: Session, *, tenant_id: int, visit_id: int) -> dict[str, Any]:
    """What a reviewer looks at, as an RFC 7946 FeatureCollection."""
    settings = tenant_settings(session, tenant_id)
    lookback = timedelta(minutes=max(settings.checkin_approach_window_min, 10))
    found = session.execute(
        _EVIDENCE,
        {"t": tenant_id, "v": visit_id, "radius": settings.geofence_radius_m, "lookback": lookback},
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("visit not found", "visit_id")
    collection: dict[str, Any] = found
    return collection


def decide(
    session: Session,
    *,
    tenant_id: int,
    user_id: int,
    visit_id: int,
    decision: str,
    comment: str,
    now: datetime | None = None,
) -> None:
    """Approve or reject a check-in in review, with a comment, and audit it. Conflict when it
    was decided meanwhile (the first decision stands)."""
    if decision not in ("approved", "rejected"):
        raise InvalidInput("decision must be approved or rejected", "decision")
    comment = comment.strip()
    if not comment:
        raise InvalidInput("explain the decision in a comment", "comment")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"a comment has at most {MAX_COMMENT} characters", "comment")
    at = now or datetime.now(UTC)
    row = session.execute(
        text(
            "UPDATE visits SET review_decision = :d, reviewed_by = :u, reviewed_at = :at, "
            "review_comment = :c WHERE tenant_id = :t AND id = :v AND verdict = 'review' "
            "AND review_decision IS NULL RETURNING id"
        ),
        {"d": decision, "u": user_id, "at": at, "c": comment, "t": tenant_id, "v": visit_id},
    ).one_or_none()
    if row is None:
        exists = session.execute(
            text("SELECT verdict, review_decision FROM visits WHERE tenant_id = :t AND id = :v"),
            {"t": tenant_id, "v": visit_id},
        ).one_or_none()
        if exists is None or exists.verdict != "review":
            raise NotFound("no check-in in review with this id", "visit_id")
        raise Conflict("esta marcación ya fue revisada", "visit_id")
    record(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        action="review",
        subject=f"visit:{visit_id}",
        before={"review_decision": None},
        after={"review_decision": decision, "review_comment": comment},
        at=at,
    )
