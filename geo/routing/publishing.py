"""The plan in force: publishing one plan per day, its route sheets and GPX, and keeping it
true when cases change hands.

A day may have several plans (planned again with other settings, or after changes); the
dispatcher publishes one, which replaces the one published before (kept, as history). A
published stop whose case is given to another agent (or taken from its agent) leaves the
route and is listed unplanned with the reason ``reassigned``, so the sheet an agent follows
never shows a visit that is no longer theirs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import gpxpy
import gpxpy.gpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.audit import record
from geo.core.errors import Conflict, NotFound
from geo.core.tenant_settings import tenant_settings
from geo.routing.jobs import PlanView, create_plan, get_plan


def publish_plan(session: Session, *, tenant_id: int, plan_id: int, user_id: int) -> PlanView:
    """Make a finished plan the day's plan in force; the one published before is withdrawn
    (it stays, unpublished). Audited."""
    plan = get_plan(session, tenant_id=tenant_id, plan_id=plan_id)
    if plan.status != "done":
        raise Conflict("solo un plan terminado se puede publicar", "plan_id")
    before = session.execute(
        text(
            "UPDATE plans SET published_at = NULL, published_by = NULL "
            "WHERE tenant_id = :t AND day = :d AND published_at IS NOT NULL AND id <> :p "
            "RETURNING id"
        ),
        {"t": tenant_id, "d": plan.day, "p": plan_id},
    ).scalar_one_or_none()
    session.execute(
        text(
            "UPDATE plans SET published_at = coalesce(published_at, now()), published_by = "
            "coalesce(published_by, :u) WHERE tenant_id = :t AND id = :p"
        ),
        {"t": tenant_id, "p": plan_id, "u": user_id},
    )
    record(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        action="publish",
        subject=f"plan_day:{plan.day.isoformat()}",
        before={"published_plan_id": before},
        after={"published_plan_id": plan_id},
    )
    return get_plan(session, tenant_id=tenant_id, plan_id=plan_id)


def published_plan_id(session: Session, *, tenant_id: int, day: date) -> int | None:
    found: int | None = session.execute(
        text("SELECT id FROM plans WHERE tenant_id = :t AND day = :d AND published_at IS NOT NULL"),
        {"t": tenant_id, "d": day},
    ).scalar_one_or_none()
    return found


def release_reassigned(session: Session, *, tenant_id: int, case_ids: Sequence[int]) -> int:
    """Stops of today's and later published plans whose case now belongs to another agent
    (or to none) leave their route and are listed unplanned as ``reassigned``; returns how
    many. Earlier days stay as they were worked."""
    zone = tenant_settings(session, tenant_id).zone
    moved = session.execute(
        text(
            """
            WITH gone AS (
                DELETE FROM plan_stops s
                USING plans p, cases c
                WHERE s.tenant_id = :t AND s.case_id = ANY(:ids)
                  AND p.tenant_id = s.tenant_id AND p.id = s.plan_id
                  AND p.published_at IS NOT NULL AND p.day >= :today
                  AND c.tenant_id = s.tenant_id AND c.id = s.case_id
                  AND c.assigned_agent_id IS DISTINCT FROM s.agent_id
                RETURNING s.plan_id, s.case_id
            )
            INSERT INTO plan_unplanned (tenant_id, plan_id, case_id, reason)
            SELECT :t, plan_id, case_id, 'reassigned' FROM gone
            ON CONFLICT DO NOTHING
            """
        ),
        {"t": tenant_id, "ids": list(case_ids), "today": datetime.now(zone).date()},
    )
    return int(moved.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SheetStop:
    seq: int
    case_id: int
    case_ref: str
    debtor: str
    address: str | None
    outstanding_cop: float
    eta: datetime
    """Local time."""
    etd: datetime
    window: tuple[time, time] | None
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class RouteSheet:
    """One agent's day in a plan, as printed and as the phone's map app follows it."""

    plan_id: int
    day: date
    agent_code: str
    agent_name: str
    base: tuple[float, float]
    """(lon, lat) where the day starts and ends."""
    stops: list[SheetStop]
    distance_m: float
    path: list[tuple[float, float]]
    """The route's street geometry, (lon, lat)."""


def route_sheet(session: Session, *, tenant_id: int, plan_id: int, agent_id: int) -> RouteSheet:
    """An agent's route in a plan, in visiting order with local times."""
    zone = tenant_settings(session, tenant_id).zone
    route = session.execute(
        text(
            "SELECT p.day, g.code, u.full_name, ST_X(g.base_point) AS lon, "
            "ST_Y(g.base_point) AS lat, r.distance_m, ST_AsGeoJSON(r.geometry) AS path "
            "FROM plan_routes r JOIN plans p ON p.tenant_id = r.tenant_id AND p.id = r.plan_id "
            "JOIN agents g ON g.tenant_id = r.tenant_id AND g.id = r.agent_id "
            "JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id "
            "WHERE r.tenant_id = :t AND r.plan_id = :p AND r.agent_id = :a"
        ),
        {"t": tenant_id, "p": plan_id, "a": agent_id},
    ).one_or_none()
    if route is None:
        raise NotFound("no route of this agent in this plan", "agent_id")
    stops = session.execute(
        text(
            "SELECT s.seq, s.case_id, c.external_ref, d.full_name, a.raw_text, "
            "c.outstanding_cop::float8 AS amount, s.eta, s.etd, c.visit_from, c.visit_until, "
            "ST_X(a.point) AS lon, ST_Y(a.point) AS lat FROM plan_stops s "
            "JOIN cases c ON c.tenant_id = s.tenant_id AND c.id = s.case_id "
            "JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id "
            "JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id "
            "WHERE s.tenant_id = :t AND s.plan_id = :p AND s.agent_id = :a ORDER BY s.seq"
        ),
        {"t": tenant_id, "p": plan_id, "a": agent_id},
    )
    path: Any = json.loads(route.path)["coordinates"]
    return RouteSheet(
        plan_id=plan_id,
        day=route.day,
        agent_code=route.code,
        agent_name=route.full_name,
        base=(route.lon, route.lat),
        stops=[
            SheetStop(
                seq=r.seq,
                case_id=r.case_id,
                case_ref=r.external_ref,
                debtor=r.full_name,
                address=r.raw_text,
                outstanding_cop=r.amount,
                eta=r.eta.astimezone(zone),
                etd=r.etd.astimezone(zone),
                window=(r.visit_from, r.visit_until) if r.visit_from and r.visit_until else None,
                lon=r.lon,
                lat=r.lat,
            )
            for r in stops
        ],
        distance_m=route.distance_m,
        path=[(float(x), float(y)) for x, y, *_ in path],
    )


def replan_with_pin(
    session: Session, *, tenant_id: int, plan_id: int, case_id: int, agent_id: int, user_id: int
) -> PlanView:
    """Fix a stop of a plan to an agent (moving it, or keeping it where it is) and queue a new
    plan of the same day with the same search time, in which every case pinned so far stays
    with its agent and the rest is routed around them. The new plan is published like any
    other, replacing this one; audited."""
    plan = get_plan(session, tenant_id=tenant_id, plan_id=plan_id)
    if plan.status != "done":
        raise Conflict("solo se puede replanificar a partir de un plan terminado", "plan_id")
    pins = {int(c): int(a) for c, a in plan.options.get("pins", {}).items()}
    was = pins.get(case_id)
    pins[case_id] = agent_id
    new = create_plan(session, tenant_id=tenant_id, day=plan.day, budget_s=plan.budget_s, pins=pins)
    record(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        action="pin",
        subject=f"case:{case_id}",
        before={"plan_id": plan_id, "pinned_agent_id": was},
        after={"plan_id": new.id, "pinned_agent_id": agent_id},
    )
    return new


def directions_url(origin: tuple[float, float], destination: tuple[float, float]) -> str:
    """A link the phone opens in its map app for turn-by-turn directions (Google Maps' URL
    scheme, which Android and iOS hand to the installed app)."""
    return (
        "https://www.google.com/maps/dir/?api=1"
        f"&origin={origin[1]:.6f},{origin[0]:.6f}"
        f"&destination={destination[1]:.6f},{destination[0]:.6f}"
    )


def waze_url(destination: tuple[float, float]) -> str:
    """The same leg for Waze, which routes from wherever the phone is."""
    return f"https://waze.com/ul?ll={destination[1]:.6f},{destination[0]:.6f}&navigate=yes"


def sheet_gpx(sheet: RouteSheet) -> str:
    """The route as GPX 1.1: the street path as a track, the stops as numbered waypoints."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "campo"
    track = gpxpy.gpx.GPXTrack(name=f"{sheet.agent_code} {sheet.day.isoformat()}")
    segment = gpxpy.gpx.GPXTrackSegment()
    segment.points = [gpxpy.gpx.GPXTrackPoint(latitude=y, longitude=x) for x, y in sheet.path]
    track.segments.append(segment)
    gpx.tracks.append(track)
    for stop in sheet.stops:
        gpx.waypoints.append(
            gpxpy.gpx.GPXWaypoint(
                latitude=stop.lat,
                longitude=stop.lon,
                name=f"{stop.seq}. {stop.case_ref}",
                description=f"{stop.debtor} · {stop.address or ''} · {stop.eta:%H:%M}",
                time=stop.eta,
            )
        )
    xml: str = gpx.to_xml(version="1.1")
    return xml


def plan_agents(session: Session, *, tenant_id: int, plan_id: int) -> list[tuple[int, str]]:
    """The agents with a route in a plan, as (id, code), by code."""
    rows = session.execute(
        text(
            "SELECT g.id, g.code FROM plan_routes r "
            "JOIN agents g ON g.tenant_id = r.tenant_id AND g.id = r.agent_id "
            "WHERE r.tenant_id = :t AND r.plan_id = :p ORDER BY g.code"
        ),
        {"t": tenant_id, "p": plan_id},
    )
    return [(r.id, r.code) for r in rows]
