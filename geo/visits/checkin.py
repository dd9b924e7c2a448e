"""Check-in verification: is the agent really at the debtor's address?

The answer weighs the fix against the address's geofence (a circle of the tenant's radius,
or a drawn polygon), measured in metres on the spheroid (PostGIS geography), and against the
agent's own recent trail: a mock location, an impossible jump, a stale fix, a trail that never
came near, coordinates repeated to the last decimal, and, when the tenant asks for it, a
minimum dwell inside the fence. Every rule adds a reason with its own code and a message in
Spanish; any rejecting reason rejects, otherwise any doubtful one sends the visit to review.

The trail is read from what is stored up to the check-in's fix time, so the same check-in
gives the same verdict whether it arrives online or later inside an offline batch (whose fixes
are stored first).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyproj import Geod
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.core.models import Visit
from geo.core.tenant_settings import TenantSettings, tenant_settings
from geo.tracking.telemetry import (
    FUTURE_TOLERANCE,
    Fix,
    FixRejected,
    aware_time,
    check_fix,
    ingest,
    parse_app_fix,
)

_GEOD = Geod(ellps="WGS84")
FIX_NAMES = {k: f"fix.{k}" for k in ("recorded_at", "lat", "lon", "accuracy_m", "battery_pct")}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    severity: str  # "review" or "rejected"


@dataclass(frozen=True, slots=True)
class CheckinResult:
    visit_id: int
    verdict: str
    distance_m: float
    radius_m: float | None
    accuracy_m: float | None
    reasons: list[dict[str, str]] = field(default_factory=list)
    dwell_s: float | None = None


_TARGET = text(
    """
    SELECT c.status, c.assigned_agent_id, a.point IS NOT NULL AS located,
           a.geofence IS NOT NULL AS polygon, coalesce(a.geofence_radius_m, :radius) AS radius,
           CASE WHEN a.geofence IS NOT NULL
                THEN ST_Distance(:fix::geography, a.geofence::geography)
                ELSE greatest(0, ST_Distance(:fix::geography, a.point::geography)
                                 - coalesce(a.geofence_radius_m, :radius)) END AS outside_m,
           CASE WHEN a.geofence IS NOT NULL
                THEN ST_Distance(:fix::geography, a.geofence::geography)
                ELSE ST_Distance(:fix::geography, a.point::geography) END AS distance_m
    FROM cases c LEFT JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    WHERE c.tenant_id = :tenant_id AND c.id = :case_id
    """.replace(":fix", "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)")
)

# The agent's fixes before the check-in fix, each with its distance outside the fence and the
# speed from the fix before it, newest last.
_TRAIL = text(
    """
    WITH fence AS (
        SELECT a.geofence::geography AS polygon, a.point::geography AS center,
               coalesce(a.geofence_radius_m, :radius) AS radius
        FROM cases c JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
        WHERE c.tenant_id = :tenant_id AND c.id = :case_id
    )
    SELECT f.recorded_at, ST_X(f.point) AS lon, ST_Y(f.point) AS lat, f.accuracy_m,
           CASE WHEN fence.polygon IS NOT NULL THEN ST_Distance(f.point::geography, fence.polygon)
                ELSE greatest(0, ST_Distance(f.point::geography, fence.center) - fence.radius)
           END AS outside_m
    FROM gps_fixes f, fence
    WHERE f.tenant_id = :tenant_id AND f.agent_id = :agent_id
      AND f.recorded_at >= :since AND f.recorded_at < :until
    ORDER BY f.recorded_at, f.id
    """
)


@dataclass(frozen=True, slots=True)
class TrailFix:
    """A stored fix of the agent before the check-in, with its distance outside the fence."""

    recorded_at: datetime
    lon: float
    lat: float
    accuracy_m: float | None
    outside_m: float


def _previous_jump_mps(trail: Sequence[TrailFix], fix: Fix) -> float | None:
    """Speed from the last fix before this one (geodesic metres over seconds)."""
    if not trail:
        return None
    last = trail[-1]
    seconds = (fix.recorded_at - last.recorded_at).total_seconds()
    if seconds <= 0:
        return None
    metres = _GEOD.inv(last.lon, last.lat, fix.lon, fix.lat)[2]
    return float(metres / seconds)


def _dwell_s(
    trail: Sequence[TrailFix], fix: Fix, outside_m: float, settings: TenantSettings
) -> float:
    """Seconds the agent has been inside the fence at the fix's time.

    Leaving needs ``leave_grace_s`` of fixes outside in a row, so one jittery fix at the edge
    does not restart the clock.
    """
    inside_since: datetime | None = None
    outside_since: datetime | None = None
    points = [(t.recorded_at, t.outside_m) for t in trail] + [(fix.recorded_at, outside_m)]
    for at, outside in points:
        if outside == 0:
            inside_since = inside_since or at
            outside_since = None
        elif inside_since is not None:
            outside_since = outside_since or at
            if (at - outside_since).total_seconds() >= settings.checkin_leave_grace_s:
                inside_since = outside_since = None
    if inside_since is None or outside_since is not None:
        return 0.0
    return (fix.recorded_at - inside_since).total_seconds()


def checkin_reasons(
    *,
    fix: Fix,
    checked_in_at: datetime,
    outside_m: float,
    trail: Sequence[TrailFix],
    repeats: int,
    settings: TenantSettings,
) -> tuple[list[Reason], float | None]:
    """Every rule the check-in breaks, and the dwell when it is required: a pure function of
    the fix, its distance outside the fence, the trail before it and the tenant's settings."""
    reasons: list[Reason] = []
    accuracy = fix.accuracy_m  # None: unknown (0 from tracker apps is stored as None)
    if outside_m > 0:
        if accuracy is not None and outside_m <= accuracy:
            reasons.append(
                Reason(
                    "accuracy_overlaps_geofence",
                    (
                        f"El punto está a {outside_m:.0f} m fuera de la geocerca, "
                        f"dentro de la precisión del GPS ({accuracy:.0f} m): requiere revisión"
                    ),
                    "review",
                )
            )
        else:
            reasons.append(
                Reason(
                    "outside_geofence",
                    (f"El punto está a {outside_m:.0f} m fuera de la geocerca de la dirección"),
                    "rejected",
                )
            )
    if accuracy is None:
        reasons.append(
            Reason(
                "unknown_accuracy", "El GPS no informó su precisión: requiere revisión", "review"
            )
        )
    elif accuracy > settings.checkin_max_accuracy_m:
        reasons.append(
            Reason(
                "poor_accuracy",
                (
                    f"Precisión del GPS de {accuracy:.0f} m, peor que el máximo de "
                    f"{settings.checkin_max_accuracy_m:.0f} m"
                ),
                "review",
            )
        )
    if fix.mock:
        reasons.append(
            Reason("mock_location", "El teléfono reportó una ubicación simulada", "rejected")
        )
    speed = _previous_jump_mps(trail, fix)
    if speed is not None and speed > settings.checkin_max_speed_mps:
        message = f"Salto imposible desde el punto anterior ({speed * 3.6:.0f} km/h)"
        reasons.append(Reason("impossible_jump", message, "review"))
    age = (checked_in_at - fix.recorded_at).total_seconds()
    if age > settings.checkin_max_fix_age_s:
        reasons.append(
            Reason(
                "stale_fix",
                (f"El punto GPS es {age / 60:.0f} min anterior a la marcación"),
                "review",
            )
        )
    window_start = fix.recorded_at - timedelta(seconds=settings.checkin_approach_window_min * 60)
    recent = [t for t in trail if t.recorded_at >= window_start]
    if len(recent) >= 2 and min(t.outside_m for t in recent) > settings.checkin_approach_m:
        reasons.append(
            Reason(
                "no_approach",
                (
                    f"El recorrido de los {settings.checkin_approach_window_min:.0f} min previos "
                    f"nunca se acercó a menos de {settings.checkin_approach_m:.0f} m "
                    "de la dirección"
                ),
                "review",
            )
        )
    if repeats >= settings.checkin_repeat_count - 1:
        reasons.append(
            Reason(
                "repeated_coordinates",
                (
                    "Las mismas coordenadas exactas se repiten en varios puntos: posible ubicación "
                    "falsa"
                ),
                "review",
            )
        )
    dwell = None
    if settings.checkin_dwell_min * 60 > 0 and outside_m == 0:
        dwell = _dwell_s(trail, fix, outside_m, settings)
        if dwell < settings.checkin_dwell_min * 60:
            reasons.append(
                Reason(
                    "dwell_too_short",
                    (
                        f"Lleva {dwell / 60:.1f} min dentro de la geocerca; se requieren "
                        f"{settings.checkin_dwell_min * 60 / 60:.0f} min"
                    ),
                    "rejected",
                )
            )
    return reasons, dwell


def _existing(
    session: Session, tenant_id: int, agent_id: int, client_id: uuid.UUID
) -> Visit | None:
    return session.scalar(
        select(Visit).where(
            Visit.tenant_id == tenant_id, Visit.agent_id == agent_id, Visit.client_id == client_id
        )
    )


def _result(visit: Visit) -> CheckinResult:
    return CheckinResult(
        visit_id=visit.id,
        verdict=visit.verdict,
        distance_m=round(visit.distance_m, 1),
        radius_m=visit.radius_m,
        accuracy_m=visit.checkin_accuracy_m,
        reasons=list(visit.reasons),
        dwell_s=visit.checkin_dwell_s,
    )


def check_in(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    client_id: Any,
    case_id: Any,
    raw_fix: Any,
    checked_in_at: Any = None,
    now: datetime | None = None,
) -> CheckinResult:
    """Verify one check-in and record it as a visit; the same ``client_id`` again returns the
    first answer. Raises NotFound for a case not of this tenant, Conflict when the case is not
    this agent's open case or a visit to it is already open, InvalidInput naming bad fields."""
    now = now or datetime.now(UTC)
    try:
        client = uuid.UUID(str(client_id))
    except ValueError:
        raise InvalidInput("id must be the check-in's UUID", "id") from None
    earlier = _existing(session, tenant_id, agent_id, client)
    if earlier is not None:
        return _result(earlier)
    if type(case_id) is not int or not 0 < case_id < 2**63:
        raise InvalidInput("case_id must be a case id", "case_id")
    settings = tenant_settings(session, tenant_id)
    if isinstance(raw_fix, Mapping) and raw_fix.get("accuracy_m") == 0:
        raw_fix = {**raw_fix, "accuracy_m": None}  # tracker-style 0: unknown, never perfect
    try:
        fix = parse_app_fix(raw_fix)
        check_fix(fix, now=now, settings=settings, names=FIX_NAMES)
        at = now if checked_in_at is None else _checked_in_at(checked_in_at, now)
    except FixRejected as exc:
        field_name = (
            exc.field if exc.field.startswith(("fix", "checked_in_at")) else f"fix.{exc.field}"
        )
        raise InvalidInput(exc.message, field_name) from None
    target = session.execute(
        _TARGET,
        {
            "tenant_id": tenant_id,
            "case_id": case_id,
            "lon": fix.lon,
            "lat": fix.lat,
            "radius": settings.geofence_radius_m,
        },
    ).one_or_none()
    if target is None:
        raise NotFound("case not found", "case_id")
    if target.assigned_agent_id != agent_id:
        raise Conflict("este caso no está asignado a usted", "case_id")
    if target.status != "open":
        raise Conflict("este caso ya está cerrado", "case_id")
    if not target.located:
        raise Conflict("la dirección del caso no tiene ubicación: no se puede verificar", "case_id")
    # The fix is part of the trail as well.
    ingest(session, tenant_id=tenant_id, agent_id=agent_id, items=[raw_fix], now=now)
    lookback = max(
        settings.checkin_approach_window_min * 60,
        settings.checkin_dwell_min * 60 + settings.checkin_leave_grace_s,
        600,
    )
    trail = [
        TrailFix(r.recorded_at, r.lon, r.lat, r.accuracy_m, r.outside_m)
        for r in session.execute(
            _TRAIL,
            {
                "tenant_id": tenant_id,
                "agent_id": agent_id,
                "case_id": case_id,
                "radius": settings.geofence_radius_m,
                "until": fix.recorded_at,
                "since": fix.recorded_at - timedelta(seconds=lookback),
            },
        )
    ]
    repeats = session.scalar(
        text(
            "SELECT count(*) FROM gps_fixes WHERE tenant_id = :t AND agent_id = :a "
            "AND recorded_at >= :since AND recorded_at <= :until AND id <> :id "
            "AND point ~= ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
        ),
        {
            "t": tenant_id,
            "a": agent_id,
            "id": fix.id,
            "lon": fix.lon,
            "lat": fix.lat,
            "since": fix.recorded_at - timedelta(seconds=settings.checkin_repeat_window_min * 60),
            "until": fix.recorded_at,
        },
    )
    reasons, dwell = checkin_reasons(
        fix=fix,
        checked_in_at=at,
        outside_m=float(target.outside_m),
        trail=trail,
        repeats=int(repeats or 0),
        settings=settings,
    )
    severities = {r.severity for r in reasons}
    verdict = "rejected" if "rejected" in severities else "review" if reasons else "accepted"
    radius = None if target.polygon else float(target.radius)
    visit = Visit(
        tenant_id=tenant_id,
        client_id=client,
        case_id=case_id,
        agent_id=agent_id,
        checkin_at=at,
        checkin_fix_id=fix.id,
        checkin_fix_at=fix.recorded_at,
        checkin_point=f"SRID=4326;POINT({fix.lon} {fix.lat})",
        checkin_accuracy_m=fix.accuracy_m,
        distance_m=float(target.distance_m),
        radius_m=radius,
        checkin_dwell_s=dwell,
        verdict=verdict,
        reasons=[{"code": r.code, "message": r.message} for r in reasons],
        status="rejected" if verdict == "rejected" else "open",
    )
    try:
        with session.begin_nested():
            session.add(visit)
            session.flush()
    except IntegrityError:
        again = _existing(session, tenant_id, agent_id, client)
        if again is not None:  # the same check-in, sent twice at once
            return _result(again)
        raise Conflict(
            "ya hay una visita abierta a este caso: registre su resultado antes de marcar otra",
            "case_id",
        ) from None
    return _result(visit)


def _checked_in_at(raw: Any, now: datetime) -> datetime:
    if not isinstance(raw, str):
        raise FixRejected("invalid_value", "checked_in_at", "checked_in_at must be ISO 8601")
    at = aware_time(raw, name="checked_in_at")
    if at > now + FUTURE_TOLERANCE:
        raise FixRejected("in_future", "checked_in_at", "checked_in_at is in the future")
    return at
