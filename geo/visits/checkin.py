"""Recording check-ins: one, or a whole offline batch, in a fixed number of statements.

Whatever the batch size, a check-in costs four statements: (1) for every check-in, an earlier
visit with the same id (a resend), its case and fence with the fix's distance from it, and the
agent's shift; (2) the fixes of those that may go on join the trail, in one insert; (3) for
every check-in, the agent's fixes before its own within the look-back, each with its distance
outside that fence, and how often its exact coordinates repeat; (4) the visits,
in one insert. The rules themselves are :mod:`geo.visits.checkin_rules`, in Python, between
(3) and (4).

A check-in's trail is what is stored up to its fix's time. An offline batch stores its fixes
first, so a check-in gives the same verdict whether it arrives online or later in a batch.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.contacts.ledger import STANDING, local_day, week_start
from geo.contacts.rules import breaches, standing_of
from geo.core.db import plan_once
from geo.core.errors import CampoError, Conflict, InvalidInput, NotFound
from geo.core.models import Visit
from geo.core.tenant_settings import TenantSettings, tenant_settings
from geo.tracking.telemetry import (
    FUTURE_TOLERANCE,
    UNAUTHENTICATED_SOURCES,
    Fix,
    FixRejected,
    aware_time,
    check_fix,
    on_shift,
    parse_app_fix,
    store_fixes,
)
from geo.visits.checkin_rules import (
    FIX_NAMES,
    Reason,
    Trail,
    TrailFix,
    approach_start,
    checkin_reasons,
    lookback,
    verdict_of,
)


@dataclass(frozen=True, slots=True)
class CheckinResult:
    visit_id: int
    verdict: str
    distance_m: float
    radius_m: float | None
    accuracy_m: float | None
    reasons: list[dict[str, str]] = field(default_factory=list)
    dwell_s: float | None = None


Answer = CheckinResult | CampoError
"""Per check-in of a batch: its result, or the error that refused it (raised for one alone)."""

_FIX = "ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)"
"""Each check-in's fix as a point (the statements below name it ``{fix}``)."""

_TARGETS = text(
    """
    SELECT q.k, v.id AS earlier, c.status, c.assigned_agent_id, a.point IS NOT NULL AS located,
           a.geofence IS NOT NULL AS polygon, coalesce(a.geofence_radius_m, :radius) AS radius,
           CASE WHEN a.geofence IS NOT NULL
                THEN ST_Distance({fix}::geography, a.geofence::geography)
                ELSE greatest(0, campo_door_distance(a.point, {fix})
                                 - coalesce(a.geofence_radius_m, :radius))
           END AS outside_m,
           CASE WHEN a.geofence IS NOT NULL
                THEN ST_Distance({fix}::geography, a.geofence::geography)
                ELSE campo_door_distance(a.point, {fix}) END AS distance_m,
           g.shift_start, g.shift_end, c.debtor_id, d.authorised_channels, d.agreed_hours,
           -- LIMIT keeps this a per-case index probe: as an EXISTS the planner may hash every
           -- open visit of the tenant instead.
           (SELECT true FROM visits o WHERE o.tenant_id = :t AND o.case_id = q.case_id
            AND o.status = 'open' LIMIT 1) IS NOT NULL AS open_visit,
           {standing}
    FROM json_to_recordset(CAST(:items AS json))
         AS q(k int, client uuid, case_id bigint, lon float8, lat float8, at timestamptz,
              day_from timestamptz, week_from timestamptz)
    CROSS JOIN (SELECT shift_start, shift_end FROM agents WHERE tenant_id = :t AND id = :a) g
    LEFT JOIN visits v ON v.tenant_id = :t AND v.agent_id = :a AND v.client_id = q.client
    LEFT JOIN cases c ON c.tenant_id = :t AND c.id = q.case_id
    LEFT JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id
    LEFT JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    """.replace("{fix}", _FIX).replace(
        "{standing}",
        STANDING.format(
            debtor="c.debtor_id", day_from="q.day_from", until="q.at", week_from="q.week_from"
        ),
    )
)

_OUTSIDE = """CASE WHEN a.geofence IS NOT NULL
                THEN ST_Distance(f.point::geography, a.geofence::geography)
                ELSE greatest(0, ST_Distance(f.point::geography, a.point::geography)
                                 - coalesce(a.geofence_radius_m, :radius)) END"""
"""A trail fix's metres outside the check-in's fence (``f`` the fix, ``a`` the address)."""

# Per check-in, one scan of the agent's fixes in the look-back summarises the trail as the
# rules read it (:class:`~geo.visits.checkin_rules.Trail`); a backwards one finds the newest
# fix; another counts the fixes at exactly its coordinates (the repeats). Whether the approach
# came near is an EXISTS over ST_DWithin behind a bounding-box test, which stops at the first
# fix near enough, rather than a distance measured for every fix; full distances are measured
# only for a dwell.
_TRAILS = text(
    """
    SELECT q.k, last.recorded_at AS last_at, last.lon AS last_lon, last.lat AS last_lat,
           last.accuracy_m AS last_accuracy_m, last.source AS last_source, t.*, r.repeats,
           EXISTS (
               SELECT FROM gps_fixes f
               WHERE f.tenant_id = :t AND f.agent_id = :a
                 AND f.recorded_at >= q.recent_since AND f.recorded_at < q.until
                 AND f.point && near.box
                 AND CASE WHEN a.geofence IS NOT NULL
                          THEN ST_DWithin(f.point::geography, a.geofence::geography, :approach)
                          ELSE ST_DWithin(f.point::geography, a.point::geography,
                                          coalesce(a.geofence_radius_m, :radius) + :approach)
                     END
           ) AS approached
    FROM json_to_recordset(CAST(:items AS json))
         AS q(k int, case_id bigint, fix_id uuid, lon float8, lat float8, until timestamptz,
              since timestamptz, recent_since timestamptz, repeat_since timestamptz,
              dwell boolean)
    JOIN cases c ON c.tenant_id = :t AND c.id = q.case_id
    JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    CROSS JOIN LATERAL (SELECT {fix} AS here) fx
    CROSS JOIN LATERAL (SELECT coalesce(a.geofence, a.point) AS shape,
                               CASE WHEN a.geofence IS NOT NULL THEN :approach
                                    ELSE coalesce(a.geofence_radius_m, :radius) + :approach
                               END / 110000.0 AS dlat) reach
    -- A box in degrees that holds every point within the approach distance of the fence (a
    -- degree is at least 110 km of latitude, and of longitude as much times the cosine of the
    -- latitude): a bounding-box test skips, for a few nanoseconds each, the fixes whose
    -- distance on the spheroid would cost microseconds and could never be near enough.
    CROSS JOIN LATERAL (
        SELECT ST_Expand(reach.shape,
                         reach.dlat / greatest(cos(radians(least(89.9, reach.dlat + greatest(
                             abs(ST_YMin(reach.shape)), abs(ST_YMax(reach.shape)))))), 1e-6),
                         reach.dlat) AS box
        OFFSET 0  -- computed once per check-in, not inlined into the test of every fix
    ) near
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE f.recorded_at >= q.recent_since
                                AND f.recorded_at < q.until) AS recent,

               count(*) FILTER (WHERE f.recorded_at >= q.recent_since AND f.recorded_at < q.until
                                AND f.source <> ALL(:unauthenticated)) AS authenticated,
               json_agg(json_build_array(f.recorded_at, ST_X(f.point), ST_Y(f.point),
                                         f.accuracy_m, {outside}, f.source)
                        ORDER BY f.recorded_at, f.id)
                   FILTER (WHERE q.dwell AND f.recorded_at >= q.since
                           AND f.recorded_at < q.until) AS dwell
        FROM gps_fixes f
        WHERE f.tenant_id = :t AND f.agent_id = :a
          AND f.recorded_at >= q.since AND f.recorded_at < q.until
    ) t
    CROSS JOIN LATERAL (
        -- Fixes at exactly the same point, among the agent's day by its primary key. Not through
        -- the spatial index: under row-level security PostgreSQL uses an index only for
        -- leakproof operators, and PostGIS's ~= is not one.
        SELECT count(*) AS repeats FROM gps_fixes f
        WHERE f.tenant_id = :t AND f.agent_id = :a
          AND f.recorded_at >= q.repeat_since AND f.recorded_at <= q.until
          AND f.point ~= fx.here AND f.id <> q.fix_id
    ) r
    LEFT JOIN LATERAL (
        SELECT f.recorded_at, ST_X(f.point) AS lon, ST_Y(f.point) AS lat, f.accuracy_m, f.source
        FROM gps_fixes f
        WHERE f.tenant_id = :t AND f.agent_id = :a
          AND f.recorded_at >= q.since AND f.recorded_at < q.until
        ORDER BY f.recorded_at DESC, f.id DESC LIMIT 1
    ) last ON true
    """.replace("{fix}", _FIX).replace("{outside}", _OUTSIDE)
)

_VISITS = text(
    """
    INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at, checkin_fix_id,
                        checkin_fix_at, checkin_point, checkin_accuracy_m, distance_m, radius_m,
                        checkin_dwell_s, verdict, reasons, status)
    SELECT :t, q.client, q.case_id, :a, q.at, q.fix_id, q.fix_at, {fix}, q.accuracy_m,
           q.distance_m, q.radius_m, q.dwell_s, q.verdict, q.reasons, q.status
    FROM json_to_recordset(CAST(:rows AS json))
         AS q(k int, client uuid, case_id bigint, at timestamptz, fix_id uuid,
              fix_at timestamptz, lon float8, lat float8, accuracy_m float8, distance_m float8,
              radius_m float8, dwell_s float8, verdict text, reasons jsonb, status text)
    ORDER BY q.k
    ON CONFLICT DO NOTHING
    RETURNING client_id, id
    """.replace("{fix}", _FIX)
)


_OPEN_VISIT = "ya hay una visita abierta a este caso: registre su resultado antes de marcar otra"


@dataclass(slots=True)
class _Item:
    """A check-in as parsed; ``error`` is raised only if it turns out not to be a resend."""

    k: int
    client: uuid.UUID
    case_id: int | None = None
    fix: Fix | None = None
    at: datetime | None = None
    error: CampoError | None = None


@dataclass(frozen=True, slots=True)
class _Going:
    """A check-in past its case's checks, on its way to the rules."""

    k: int
    client: uuid.UUID
    case_id: int
    fix: Fix
    at: datetime
    target: Any


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
    item = {"id": client_id, "case_id": case_id, "fix": raw_fix, "checked_in_at": checked_in_at}
    (answer,) = check_in_batch(
        session, tenant_id=tenant_id, agent_id=agent_id, items=[item], now=now
    )
    if isinstance(answer, CampoError):
        raise answer
    return answer


def check_in_batch(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    items: Sequence[Mapping[str, Any]],
    now: datetime | None = None,
) -> list[Answer]:
    """Verify and record check-ins (``id``, ``case_id``, ``fix``, ``checked_in_at`` each);
    one answer per item, in order."""
    now = now or datetime.now(UTC)
    settings = tenant_settings(session, tenant_id)
    plan_once(session)
    answers: list[Answer | None] = [None] * len(items)
    parsed: list[_Item] = []
    for k, raw in enumerate(items):
        try:
            client = uuid.UUID(str(raw.get("id")))
        except ValueError:
            answers[k] = InvalidInput("id must be the check-in's UUID", "id")
            continue
        parsed.append(_parse(k, client, raw, now, settings))
    if not parsed:
        return [a for a in answers if a is not None]
    going = _targets(session, tenant_id, agent_id, parsed, settings, answers)
    if going:
        _verify_and_record(session, tenant_id, agent_id, going, settings, answers)
    return [a for a in answers if a is not None]


def _parse(
    k: int, client: uuid.UUID, raw: Mapping[str, Any], now: datetime, settings: TenantSettings
) -> _Item:
    item = _Item(k, client)
    case_id, raw_fix = raw.get("case_id"), raw.get("fix")
    if type(case_id) is not int or not 0 < case_id < 2**63:
        item.error = InvalidInput("case_id must be a case id", "case_id")
        return item
    item.case_id = case_id
    if isinstance(raw_fix, Mapping) and raw_fix.get("accuracy_m") == 0:
        raw_fix = {**raw_fix, "accuracy_m": None}  # tracker-style 0: unknown, never perfect
    try:
        item.fix = parse_app_fix(raw_fix)
        check_fix(item.fix, now=now, settings=settings, names=FIX_NAMES)
        given = raw.get("checked_in_at")
        item.at = now if given is None else _checked_in_at(given, now)
    except FixRejected as exc:
        field_name = (
            exc.field if exc.field.startswith(("fix", "checked_in_at")) else f"fix.{exc.field}"
        )
        item.error = InvalidInput(exc.message, field_name)
    return item


def _targets(
    session: Session,
    tenant_id: int,
    agent_id: int,
    parsed: list[_Item],
    settings: TenantSettings,
    answers: list[Answer | None],
) -> list[_Going]:
    """Statement 1: answers resends and refusals; returns the check-ins that go on."""
    payload = []
    for it in parsed:
        item: dict[str, Any] = {"k": it.k, "client": str(it.client), "case_id": it.case_id}
        if it.fix is not None and it.at is not None:
            day = it.at.astimezone(settings.zone).date()
            item.update(
                lon=it.fix.lon,
                lat=it.fix.lat,
                at=it.at.isoformat(),
                day_from=local_day(day, settings.zone)[0].isoformat(),
                week_from=week_start(day, settings.zone).isoformat(),
            )
        payload.append(item)
    rows = {
        row.k: row
        for row in session.execute(
            _TARGETS,
            {
                "items": json.dumps(payload),
                "t": tenant_id,
                "a": agent_id,
                "radius": settings.geofence_radius_m,
            },
        )
    }
    earlier_ids = [row.earlier for row in rows.values() if row.earlier is not None]
    earlier = _visits_by(session, tenant_id, Visit.id.in_(earlier_ids)) if earlier_ids else {}
    going = []
    for it in parsed:
        row = rows.get(it.k)
        if row is not None and row.earlier is not None:
            answers[it.k] = _result(earlier[row.earlier])
        elif it.error is not None:
            answers[it.k] = it.error
        elif row is None or row.status is None:
            answers[it.k] = NotFound("case not found", "case_id")
        elif row.assigned_agent_id != agent_id:
            answers[it.k] = Conflict("este caso no está asignado a usted", "case_id")
        elif row.status != "open":
            answers[it.k] = Conflict("este caso ya está cerrado", "case_id")
        elif row.open_visit:
            answers[it.k] = Conflict(_OPEN_VISIT, "case_id")
        elif not row.located:
            answers[it.k] = Conflict(
                "la dirección del caso no tiene ubicación: no se puede verificar", "case_id"
            )
        elif it.case_id is not None and it.fix is not None and it.at is not None:
            going.append(_Going(it.k, it.client, it.case_id, it.fix, it.at, row))
    return going


def _verify_and_record(
    session: Session,
    tenant_id: int,
    agent_id: int,
    going: list[_Going],
    settings: TenantSettings,
    answers: list[Answer | None],
) -> None:
    """Statements 2-4: the fixes join the trail, the trails are read, the visits written."""
    shift = (going[0].target.shift_start, going[0].target.shift_end)
    fixes = {
        (it.fix.id, it.fix.recorded_at): it.fix
        for it in going
        if not settings.gps_shift_only or on_shift(it.fix.recorded_at, *shift, settings)
    }
    store_fixes(session, tenant_id=tenant_id, agent_id=agent_id, fixes=list(fixes.values()))
    trails = _trails(session, tenant_id, agent_id, going, settings)
    rows, results = [], {}
    earlier: Counter[tuple[int, date]] = Counter()  # this batch's contacts, by debtor and day
    for it in sorted(going, key=lambda g: g.at):
        trail, repeats = trails[it.k]
        reasons, dwell = checkin_reasons(
            fix=it.fix,
            checked_in_at=it.at,
            outside_m=float(it.target.outside_m),
            trail=trail,
            repeats=repeats,
            settings=settings,
        )
        local = it.at.astimezone(settings.zone)
        standing = standing_of(it.target)
        before = earlier[(it.target.debtor_id, local.date())]
        if before:
            standing = replace(
                standing,
                contacts_today=standing.contacts_today + before,
                week_channels={*standing.week_channels, "visit"},
            )
        reasons += [
            Reason(b.code, b.message, settings.contact_breach)
            for b in breaches(at=local, channel="visit", standing=standing, settings=settings)
        ]
        verdict = verdict_of(reasons)
        if verdict != "rejected":
            earlier[(it.target.debtor_id, local.date())] += 1
        radius = None if it.target.polygon else float(it.target.radius)
        reason_list = [{"code": r.code, "message": r.message} for r in reasons]
        rows.append(
            {
                "k": it.k,
                "client": str(it.client),
                "case_id": it.case_id,
                "at": it.at.isoformat(),
                "fix_id": str(it.fix.id),
                "fix_at": it.fix.recorded_at.isoformat(),
                "lon": it.fix.lon,
                "lat": it.fix.lat,
                "accuracy_m": it.fix.accuracy_m,
                "distance_m": float(it.target.distance_m),
                "radius_m": radius,
                "dwell_s": dwell,
                "verdict": verdict,
                "reasons": reason_list,
                "status": "rejected" if verdict == "rejected" else "open",
            }
        )
        results[it.k] = (
            it.client,
            CheckinResult(
                visit_id=0,  # known once written
                verdict=verdict,
                distance_m=round(float(it.target.distance_m), 1),
                radius_m=radius,
                accuracy_m=it.fix.accuracy_m,
                reasons=reason_list,
                dwell_s=dwell,
            ),
        )
    inserted = {
        row.client_id: row.id
        for row in session.execute(
            _VISITS, {"rows": json.dumps(rows), "t": tenant_id, "a": agent_id}
        )
    }
    refused = []
    for k, (client, result) in sorted(results.items()):
        visit_id = inserted.pop(client, None)  # the first check-in with this id wrote it
        if visit_id is None:
            refused.append((k, client))
        else:
            answers[k] = replace(result, visit_id=visit_id)
    if refused:
        # The database said no: the same check-in was written meanwhile (a resend racing
        # this one, or twice in this batch), or the case already has an open visit.
        found = _visits_by(
            session,
            tenant_id,
            (Visit.agent_id == agent_id) & Visit.client_id.in_([c for _, c in refused]),
            key=lambda v: v.client_id,
        )
        for k, client in refused:
            answers[k] = (
                _result(found[client]) if client in found else Conflict(_OPEN_VISIT, "case_id")
            )


def _trails(
    session: Session,
    tenant_id: int,
    agent_id: int,
    going: list[_Going],
    settings: TenantSettings,
) -> dict[int, tuple[Trail, int]]:
    """Statement 3: per check-in, its trail before the fix and its coordinates' repeats."""
    back, repeat_window = lookback(settings), timedelta(minutes=settings.checkin_repeat_window_min)
    payload = [
        {
            "k": it.k,
            "case_id": it.case_id,
            "fix_id": str(it.fix.id),
            "lon": it.fix.lon,
            "lat": it.fix.lat,
            "until": it.fix.recorded_at.isoformat(),
            "since": (it.fix.recorded_at - back).isoformat(),
            "recent_since": approach_start(it.fix.recorded_at, settings).isoformat(),
            "repeat_since": (it.fix.recorded_at - repeat_window).isoformat(),
            "dwell": settings.checkin_dwell_min > 0,
        }
        for it in going
    ]
    rows = session.execute(
        _TRAILS,
        {
            "items": json.dumps(payload),
            "t": tenant_id,
            "a": agent_id,
            "radius": settings.geofence_radius_m,
            "approach": settings.checkin_approach_m,
            "unauthenticated": sorted(UNAUTHENTICATED_SOURCES),
        },
    )
    return {row.k: (_trail(row), int(row.repeats)) for row in rows}


def _trail(row: Any) -> Trail:
    last = None
    if row.last_at is not None:
        last = TrailFix(
            row.last_at, row.last_lon, row.last_lat, row.last_accuracy_m, None, row.last_source
        )
    return Trail(
        last=last,
        recent=int(row.recent),
        approached=row.approached,
        authenticated=int(row.authenticated),
        dwell=[
            TrailFix(datetime.fromisoformat(at), lon, lat, accuracy, outside, source)
            for at, lon, lat, accuracy, outside, source in row.dwell or ()
        ],
    )


def _visits_by(
    session: Session, tenant_id: int, where: Any, key: Any = lambda v: v.id
) -> dict[Any, Visit]:
    found = session.scalars(select(Visit).where(Visit.tenant_id == tenant_id, where))
    return {key(v): v for v in found}


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


def _checked_in_at(raw: Any, now: datetime) -> datetime:
    if not isinstance(raw, str):
        raise FixRejected("invalid_value", "checked_in_at", "checked_in_at must be ISO 8601")
    at = aware_time(raw, name="checked_in_at")
    if at > now + FUTURE_TOLERANCE:
        raise FixRejected("in_future", "checked_in_at", "checked_in_at is in the future")
    return at


def add_reason(
    session: Session, *, tenant_id: int, visit_id: int, code: str, message: str, review: bool
) -> None:
    """A reason found after the check-in was judged (a phone's clock far ahead): kept with
    the others, once; ``review`` sends an accepted check-in to review."""
    visit = session.scalar(
        select(Visit).where(Visit.tenant_id == tenant_id, Visit.id == visit_id).with_for_update()
    )
    if visit is None or any(r.get("code") == code for r in visit.reasons):
        return
    visit.reasons = [*visit.reasons, {"code": code, "message": message}]
    if review and visit.verdict == "accepted":
        visit.verdict = "review"
    session.flush()
