"""An audit of a stored plan, from what is stored and nothing the solver computed.

:mod:`geo.routing.feasibility` re-checks a plan against the matrices before it is stored;
this reads a plan back from the tables, as a dispatcher or an auditor would meet it, and
checks what must hold whatever the solver believed: each case in one place, routes in
order, within the agent's shift and capacity, visits within a case's own visiting hours,
skills a case's segment requires, and no leg faster than the straight line between its ends
at the mode's top speed (a leg that fast means broken travel times, whatever they were).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.crs import tenant_srid
from geo.core.errors import NotFound
from geo.core.tenant_settings import tenant_settings
from geo.routing.streets import WALK_MPS, mode_speed_kph

_GEOD = Geod(ellps="WGS84")
TOP_SPEED_MPS = {
    "walk": WALK_MPS,
    "motorbike": (mode_speed_kph("motorway", "motorbike") or 0) / 3.6,
    "car": (mode_speed_kph("motorway", "car") or 0) / 3.6,
}
"""The fastest a mode goes anywhere (its motorway speed; walking pace on foot)."""


@dataclass(frozen=True, slots=True)
class Problem:
    rule: str
    message: str
    agent_id: int | None = None
    case_id: int | None = None


@dataclass(frozen=True, slots=True)
class Audit:
    plan_id: int
    planned: int
    unplanned_by_reason: dict[str, int]
    problems: list[Problem]
    route_overlap: float
    """Share of the area the routes cover (convex hulls of each agent's stops) that two or
    more routes cover: 0 when every agent works its own patch, 1 when all share one.
    Dispatchers read overlap as waste."""

    @property
    def ok(self) -> bool:
        return not self.problems


_STOPS = text(
    """
    SELECT s.agent_id, s.case_id, s.seq, s.eta, s.starts_at, s.etd,
           ST_X(a.point) AS lon, ST_Y(a.point) AS lat, c.visit_from, c.visit_until,
           c.outstanding_cop, c.bucket, c.product, g.travel_mode, g.shift_start, g.shift_end,
           g.daily_capacity, g.skills, ST_X(g.base_point) AS base_lon,
           ST_Y(g.base_point) AS base_lat, r.starts_at AS route_start, r.ends_at AS route_end
    FROM plan_stops s
    JOIN cases c ON c.tenant_id = s.tenant_id AND c.id = s.case_id
    LEFT JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    JOIN agents g ON g.tenant_id = s.tenant_id AND g.id = s.agent_id
    LEFT JOIN plan_routes r ON r.tenant_id = s.tenant_id AND r.plan_id = s.plan_id
         AND r.agent_id = s.agent_id
    WHERE s.tenant_id = :t AND s.plan_id = :p
    ORDER BY s.agent_id, s.seq
    """
)


def audit_plan(session: Session, *, tenant_id: int, plan_id: int) -> Audit:
    """Every rule a stored plan breaks; an empty list when it is sound."""
    plan = session.execute(
        text("SELECT options FROM plans WHERE tenant_id = :t AND id = :p"),
        {"t": tenant_id, "p": plan_id},
    ).one_or_none()
    if plan is None:
        raise NotFound("plan not found", "plan_id")
    # A re-plan starts each agent where it was, not at its base: its first leg is not known.
    from_base = not (plan.options or {}).get("replan")
    settings = tenant_settings(session, tenant_id)
    rows = session.execute(_STOPS, {"t": tenant_id, "p": plan_id}).all()
    unplanned = session.execute(
        text("SELECT case_id, reason FROM plan_unplanned WHERE tenant_id = :t AND plan_id = :p"),
        {"t": tenant_id, "p": plan_id},
    ).all()
    problems: list[Problem] = []
    counted = Counter(r.case_id for r in rows) + Counter(u.case_id for u in unplanned)
    problems += [
        Problem("case_twice", f"case {case} appears {n} times in the plan", case_id=case)
        for case, n in counted.items()
        if n > 1
    ]
    by_agent: dict[int, list[Any]] = {}
    for row in rows:
        by_agent.setdefault(row.agent_id, []).append(row)
    for agent_id, stops in by_agent.items():
        problems += _route_problems(
            agent_id, stops, settings.zone, settings.segment_skills, from_base=from_base
        )
    return Audit(
        plan_id=plan_id,
        planned=len(rows),
        unplanned_by_reason=dict(Counter(u.reason for u in unplanned).most_common()),
        problems=problems,
        route_overlap=route_overlap(session, tenant_id=tenant_id, plan_id=plan_id),
    )


_OVERLAP = text(
    """
    WITH hulls AS (
        SELECT s.agent_id, ST_Transform(ST_ConvexHull(ST_Collect(a.point)), :srid) AS h
        FROM plan_stops s
        JOIN cases c ON c.tenant_id = s.tenant_id AND c.id = s.case_id
        JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
        WHERE s.tenant_id = :t AND s.plan_id = :p AND a.point IS NOT NULL
        GROUP BY s.agent_id HAVING count(*) >= 3
    )
    SELECT (SELECT coalesce(ST_Area(ST_Union(ST_Intersection(x.h, y.h))), 0)
            FROM hulls x JOIN hulls y ON x.agent_id < y.agent_id),
           (SELECT ST_Area(ST_Union(h)) FROM hulls)
    """
)


def route_overlap(session: Session, *, tenant_id: int, plan_id: int) -> float:
    """The area two or more routes' hulls cover, over the area of their union, in the
    tenant's metric CRS (so areas are on the ground)."""
    srid = tenant_srid(session, tenant_id)
    shared, union = session.execute(_OVERLAP, {"t": tenant_id, "p": plan_id, "srid": srid}).one()
    return float(shared) / float(union) if union else 0.0


def _route_problems(
    agent_id: int, stops: list[Any], zone: Any, rules: list[Any], *, from_base: bool
) -> list[Problem]:
    first = stops[0]
    found: list[Problem] = []

    def flag(rule: str, message: str, case_id: int | None = None) -> None:
        found.append(Problem(rule, message, agent_id, case_id))

    if len(stops) > first.daily_capacity:
        flag("capacity", f"{len(stops)} visits for a capacity of {first.daily_capacity}")
    if [s.seq for s in stops] != list(range(1, len(stops) + 1)):
        flag("sequence", "stops are not numbered 1, 2, 3, ... in order")
    top = TOP_SPEED_MPS[first.travel_mode]
    start = first.route_start if from_base else None
    here: tuple[float, float, datetime | None] = (first.base_lon, first.base_lat, start)
    for stop in stops:
        local = stop.starts_at.astimezone(zone).time()
        if not (stop.eta <= stop.starts_at < stop.etd):
            flag("order", "arrival, start and departure are out of order", stop.case_id)
        if not first.shift_start <= local <= stop.etd.astimezone(zone).time() <= first.shift_end:
            flag("shift", f"visit at {local:%H:%M} outside the shift", stop.case_id)
        if stop.visit_from is not None and not stop.visit_from <= local < stop.visit_until:
            flag("window", f"visit at {local:%H:%M} outside the case's hours", stop.case_id)
        needed = {
            r.skill
            for r in rules
            if r.matches(
                outstanding_cop=float(stop.outstanding_cop),
                bucket=stop.bucket,
                product=stop.product,
            )
        }
        if not needed <= set(stop.skills or ()):
            flag("skills", f"needs {sorted(needed)}", stop.case_id)
        lon, lat, left = here
        if left is not None and stop.lon is not None:
            if stop.eta < left:
                flag("order", "arrives before leaving the previous stop", stop.case_id)
            metres = _GEOD.inv(lon, lat, stop.lon, stop.lat)[2]
            seconds = (stop.eta - left).total_seconds()
            if metres > 1 and metres > top * seconds + 1:
                speed = metres / max(seconds, 1) * 3.6
                flag(
                    "too_fast",
                    f"{metres:.0f} m in {seconds:.0f} s ({speed:.0f} km/h): faster than a straight "
                    f"line at {top * 3.6:.0f} km/h",
                    stop.case_id,
                )
        here = (stop.lon, stop.lat, stop.etd) if stop.lon is not None else (lon, lat, stop.etd)
    return found
