"""Weeks of past fieldwork for the demo tenant, so its KPIs, contact hours and notebooks have
something to show on the first day.

This is demo data and says so: visits are written directly (not through the check-in path,
which ``campo demo simulate`` exercises for one day), from a stated model. Each agent works
the cases nearest its base, eight a day, inside its shift and the hours Ley 2300 de 2023
allows (Monday to Saturday, no holidays), debtors who authorised visits only. Whether
someone opens the door depends on the hour and the part of town. In the north (above
latitude 4.68, offices and flats) evenings after 15:00 are best. In the south
(households) mornings before 10:00 are. Saturdays are better everywhere. The contact-hours
report should find exactly this pattern.
Promises, payments and closed cases follow from the outcomes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scipy.spatial import cKDTree
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.contact_law import day_hours
from geo.core.tenant_settings import tenant_settings
from geo.portfolio.zones import hexagon_areas

NORTH_OF = 4.68
_NON_CONTACT = ("no_one_home", "no_one_home", "no_one_home", "wrong_address", "moved")


def contact_probability(hour: int, lat: float, weekday: int) -> float:
    """The model the history is drawn from (``weekday``: ISO, 6 is Saturday)."""
    north, evening, morning = lat >= NORTH_OF, hour >= 15, hour < 10
    p = (0.62 if evening else 0.22) if north else (0.60 if morning else 0.25)
    return min(0.9, p + (0.12 if weekday == 6 else 0.0))


@dataclass(frozen=True, slots=True)
class HistoryReport:
    visits: int
    promises: int
    payments: int
    closed: int
    zones: int


def seed_history(
    session: Session, *, tenant_id: int, weeks: int = 8, until: date, seed: int = 7
) -> HistoryReport:
    """Write ``weeks`` of completed visits ending the day before ``until`` (owner session)."""
    rng = random.Random(seed)
    settings = tenant_settings(session, tenant_id)
    zone = settings.zone
    agents = session.execute(
        text(
            "SELECT id, ST_X(base_point) AS lon, ST_Y(base_point) AS lat, shift_start, shift_end "
            "FROM agents WHERE tenant_id = :t AND active ORDER BY id"
        ),
        {"t": tenant_id},
    ).all()
    cases = session.execute(
        text(
            "SELECT c.id, ST_X(a.point) AS lon, ST_Y(a.point) AS lat FROM cases c JOIN addresses a "
            "ON a.tenant_id = c.tenant_id AND a.id = c.address_id JOIN debtors d "
            "ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id WHERE c.tenant_id = :t "
            "AND c.status = 'open' AND a.point IS NOT NULL "
            "AND 'visit' = ANY(d.authorised_channels) AND d.agreed_hours IS NULL ORDER BY c.id"
        ),
        {"t": tenant_id},
    ).all()
    nearest = cKDTree([(a.lon, a.lat) for a in agents]).query([(c.lon, c.lat) for c in cases])[1]
    mine = {
        i: [c for c, n in zip(cases, nearest, strict=True) if n == i] for i in range(len(agents))
    }
    rows = []
    for offset in range(weeks * 7, 0, -1):
        day = until - timedelta(days=offset)
        legal = day_hours(day, weekly=settings.contact_hours, country=settings.contact_holidays)
        if legal.hours is None:
            continue  # Sundays and holidays: no collection visits
        for i, agent in enumerate(agents):
            pool = mine[i]
            start = datetime.combine(day, max(agent.shift_start, legal.hours[0]), zone)
            end = datetime.combine(day, min(agent.shift_end, legal.hours[1]), zone)
            span = (end - start).total_seconds() - 1800
            for case in rng.sample(pool, min(8, len(pool))):
                at = start + timedelta(seconds=rng.uniform(0, span))
                local = at.astimezone(zone)
                reached = rng.random() < contact_probability(local.hour, case.lat, day.isoweekday())
                outcome = (
                    rng.choices(
                        ("promise_to_pay", "paid", "refused", "contact"), (0.40, 0.10, 0.15, 0.35)
                    )[0]
                    if reached
                    else rng.choice(_NON_CONTACT)
                )
                lon, lat = case.lon + rng.gauss(0, 0.0001), case.lat + rng.gauss(0, 0.0001)
                out = at + timedelta(minutes=rng.uniform(4, 25))
                rows.append(
                    {
                        "c": case.id,
                        "a": agent.id,
                        "at": at.isoformat(),
                        "lon": lon,
                        "lat": lat,
                        "o": outcome,
                        "out": out.isoformat(),
                    }
                )
    visits = _count(session, _VISITS, {"t": tenant_id, "rows": json.dumps(rows)})
    promises = _count(session, _PROMISES, {"t": tenant_id})
    payments = _count(session, _PAYMENTS, {"t": tenant_id, "today": until})
    session.execute(text(_ASSIGN), {"t": tenant_id})
    loaded = _noon(until - timedelta(days=weeks * 7 + 7), zone)
    session.execute(
        text("UPDATE cases SET created_at = :d WHERE tenant_id = :t"), {"t": tenant_id, "d": loaded}
    )  # the portfolio arrived before the work
    closed = _count(session, _CLOSE, {"t": tenant_id, "now": _noon(until, zone)})
    zones = hexagon_areas(session, tenant_id=tenant_id, size_m=4000)
    return HistoryReport(visits, promises, payments, closed, zones)


def _count(session: Session, sql: str, params: dict[str, object]) -> int:
    """Rows a data-changing statement touched."""
    return int(getattr(session.execute(text(sql), params), "rowcount", 0))


def _noon(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(12), zone)


_VISITS = """
    INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at, checkin_point,
                        checkin_accuracy_m, distance_m, radius_m, verdict, status, outcome,
                        checkout_at, completed_at)
    SELECT :t, gen_random_uuid(), r.c, r.a, r.at, ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326),
           8, ST_Distance(ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326)::geography,
                          ad.point::geography), 75, 'accepted', 'completed', r.o, r.out, r.out
    FROM json_to_recordset(CAST(:rows AS json))
         AS r(c bigint, a bigint, at timestamptz, lon float8, lat float8, o text,
              out timestamptz)
    JOIN cases c ON c.tenant_id = :t AND c.id = r.c
    JOIN addresses ad ON ad.tenant_id = c.tenant_id AND ad.id = c.address_id
"""
# A fifth of the outstanding balance, due a week later.
_PROMISES = """
    INSERT INTO promises (tenant_id, visit_id, case_id, amount_cop, due_date, created_at)
    SELECT v.tenant_id, v.id, v.case_id, greatest(50000, round(c.outstanding_cop / 5, -3)),
           (v.checkin_at AT TIME ZONE 'America/Bogota')::date + 7, v.checkout_at
    FROM visits v JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
    WHERE v.tenant_id = :t AND v.outcome = 'promise_to_pay'
    ON CONFLICT DO NOTHING
"""
# Three promises in five are kept, paid some day up to two after the due date; a visit that
# collected on the spot ("paid") is a payment that day of a third of the balance.
_PAYMENTS = """
    INSERT INTO payments (tenant_id, case_id, paid_on, amount_cop, reference)
    SELECT * FROM (
        SELECT p.tenant_id, p.case_id,
               (p.created_at AT TIME ZONE 'America/Bogota')::date + abs(hashtext(p.id::text)) % 10,
               p.amount_cop, 'demo-promise-' || p.id
        FROM promises p WHERE p.tenant_id = :t AND abs(hashtext('k' || p.id)) % 5 < 3
        UNION ALL
        SELECT v.tenant_id, v.case_id, (v.checkin_at AT TIME ZONE 'America/Bogota')::date,
               greatest(50000, round(c.outstanding_cop / 3, -3)), 'demo-visit-' || v.id
        FROM visits v JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
        WHERE v.tenant_id = :t AND v.outcome = 'paid'
    ) s (tenant_id, case_id, paid_on, amount_cop, reference)
    WHERE paid_on < :today
    ON CONFLICT DO NOTHING
"""
# Each visited case was assigned to its agent one to five days before the first visit.
_ASSIGN = """
    UPDATE cases c SET assigned_agent_id = f.agent_id,
                       assigned_at = f.first_at - make_interval(days => 1 + c.id::int % 5)
    FROM (SELECT DISTINCT ON (case_id) case_id, agent_id, checkin_at AS first_at
          FROM visits WHERE tenant_id = :t ORDER BY case_id, checkin_at) f
    WHERE c.tenant_id = :t AND c.id = f.case_id
"""
# Closed, three days after the last visit: half the cases that paid on the spot (paid), a
# quarter of those that kept a promise (agreement), and one visited case in twenty written
# off, another withdrawn.
_CLOSE = """
    UPDATE cases c SET status = s.status, closed_at = least(s.last_at + interval '3 days', :now)
    FROM (
        SELECT v.case_id, max(v.checkin_at) AS last_at,
               CASE WHEN bool_or(v.outcome = 'paid') AND v.case_id % 2 = 0 THEN 'paid'
                    WHEN bool_or(y.case_id IS NOT NULL) AND v.case_id % 4 = 1 THEN 'agreement'
                    WHEN v.case_id % 20 = 2 THEN 'written_off'
                    WHEN v.case_id % 20 = 3 THEN 'withdrawn' END AS status
        FROM visits v
        LEFT JOIN payments y ON y.tenant_id = v.tenant_id AND y.case_id = v.case_id
                            AND y.reference LIKE 'demo-promise-%'
        WHERE v.tenant_id = :t GROUP BY v.case_id
    ) s
    WHERE c.tenant_id = :t AND c.id = s.case_id AND s.status IS NOT NULL
"""
