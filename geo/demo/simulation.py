"""A simulated field day for the demo: agents follow a stored plan, and everything they would
send goes through the same code as the phone's: fixes by ``ingest``, check-ins by
``check_in``, outcomes by ``record_outcome``.

Each agent moves along its route's street geometry, leg by leg, between the plan's departure
and arrival times; it waits at each door with GPS jitter, checks in (now and then from a poor
or a far fix, so every verdict shows up), and records an outcome with answers valid for the
default questionnaire. The battery drains through the day; one agent forgets to charge.
With ``browser=True`` the day is played as campo's web app sends it: no fix says whether it
is simulated (a browser cannot), so the rules judge the trail instead.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.db import tenant_session
from geo.core.errors import CampoError
from geo.tracking.telemetry import ingest
from geo.visits.checkin import check_in
from geo.visits.outcomes import record_outcome
from geo.visits.questionnaires import DEFAULT_KEY

STEP_S = 30
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class SimulationReport:
    fixes: int
    checkins: dict[str, int]
    outcomes: int
    honest: dict[str, int]
    """Verdicts of the check-ins made at the door with a good fix (the nine in ten of an
    honest day; the others are made far away or with a poor fix on purpose)."""


def _offset(lon: float, lat: float, metres: float, rng: random.Random) -> tuple[float, float]:
    out_lon, out_lat, _ = _GEOD.fwd(lon, lat, rng.uniform(0, 360), metres)
    return float(out_lon), float(out_lat)


def _fix(at: datetime, lon: float, lat: float, battery: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "recorded_at": at.isoformat(),
        "lon": lon,
        "lat": lat,
        "accuracy_m": extra.pop("accuracy_m", 8.0),
        "battery_pct": round(battery, 1),
        "charging": False,
        **extra,
    }


def _answers(outcome: str, day: datetime, rng: random.Random) -> dict[str, Any]:
    contact = outcome in {"contact", "promise_to_pay", "paid", "refused"}
    answers: dict[str, Any] = {"contact_made": "si" if contact else "no"}
    if contact:
        # A promise or a payment is only ever agreed with the debtor (Ley 2300 de 2023).
        money = outcome in {"promise_to_pay", "paid"}
        answers["who_answered"] = (
            "titular" if money else rng.choice(["titular", "familiar", "tercero"])
        )
        if outcome != "paid" and answers["who_answered"] == "titular":
            answers["non_payment_reason"] = rng.choice(["desempleo", "enfermedad", "olvido"])
    if outcome == "promise_to_pay":
        answers["promise_amount"] = rng.randrange(100_000, 2_000_000, 50_000)
        answers["promise_date"] = (day + timedelta(days=rng.randint(3, 30))).date().isoformat()
    if outcome == "paid":
        answers["payment_amount"] = rng.randrange(50_000, 1_000_000, 10_000)
    return answers


_OUTCOMES = (
    ["contact"] * 4
    + ["no_one_home"] * 4
    + ["promise_to_pay"] * 3
    + ["paid"]
    + ["refused", "moved", "wrong_address"]
)


def simulate_plan(
    *, tenant_id: int, plan_id: int, seed: int = 7, browser: bool = False
) -> SimulationReport:
    """Play a stored plan's routes as if the agents had worked them."""
    rng = random.Random(seed)
    with tenant_session(tenant_id) as session:
        routes = session.execute(
            text(
                "SELECT agent_id, starts_at, ends_at, ST_AsText(geometry) AS wkt FROM plan_routes "
                "WHERE tenant_id = :t AND plan_id = :p ORDER BY agent_id"
            ),
            {"t": tenant_id, "p": plan_id},
        ).all()
        stops = session.execute(
            text(
                "SELECT s.agent_id, s.case_id, s.eta, s.starts_at, s.etd, ST_X(a.point) AS lon, "
                "ST_Y(a.point) AS lat FROM plan_stops s JOIN cases c ON c.tenant_id = s.tenant_id "
                "AND c.id = s.case_id JOIN addresses a ON a.tenant_id = c.tenant_id "
                "AND a.id = c.address_id WHERE s.tenant_id = :t AND s.plan_id = :p "
                "ORDER BY s.agent_id, s.seq"
            ),
            {"t": tenant_id, "p": plan_id},
        ).all()
    verdicts: dict[str, int] = {}
    honest: dict[str, int] = {}
    fixes = outcomes = 0
    unknown = {"mock": None} if browser else {}
    for index, route in enumerate(routes):
        mine = [s for s in stops if s.agent_id == route.agent_id]
        drain = 14.0 if index == 0 else rng.uniform(4, 8)  # % per hour; the first forgets to charge
        with tenant_session(tenant_id) as session:
            track = [{**f, **unknown} for f in _track(route, mine, drain, rng)]
            for k in range(0, len(track), 1000):
                ingest(
                    session, tenant_id=tenant_id, agent_id=route.agent_id, items=track[k : k + 1000]
                )
            fixes += len(track)
        for stop in mine:
            with tenant_session(tenant_id) as session:
                verdict, done, good = _visit(
                    session, tenant_id, route.agent_id, stop, route, drain, rng, unknown
                )
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            if good:
                honest[verdict] = honest.get(verdict, 0) + 1
            outcomes += done
    return SimulationReport(fixes, verdicts, outcomes, honest)


def _battery(route: Any, at: datetime, drain: float) -> float:
    return float(max(3.0, 98 - drain * (at - route.starts_at).total_seconds() / 3600))


def _track(route: Any, stops: list[Any], drain: float, rng: random.Random) -> list[dict[str, Any]]:
    """Fixes every STEP_S: along the street line between stops, jittering at each door."""
    line = shapely.from_wkt(route.wkt)
    marks = [0.0]
    for stop in stops:  # where each stop is along the line, in order
        marks.append(max(marks[-1], float(line.project(shapely.Point(stop.lon, stop.lat)))))
    marks.append(float(line.length))
    times = [route.starts_at] + [t for s in stops for t in (s.eta, s.etd)] + [route.ends_at]
    track = []
    for leg in range(len(marks) - 1):
        leave, arrive = times[2 * leg], times[2 * leg + 1]
        seconds = max((arrive - leave).total_seconds(), 1)
        at = leave
        while at < arrive:
            share = (at - leave).total_seconds() / seconds
            point = line.interpolate(marks[leg] + share * (marks[leg + 1] - marks[leg]))
            lon, lat = _offset(point.x, point.y, rng.uniform(0, 6), rng)
            track.append(
                _fix(
                    at, lon, lat, _battery(route, at, drain), speed_mps=round(rng.uniform(3, 9), 1)
                )
            )
            at += timedelta(seconds=STEP_S)
        if leg < len(stops):
            stop, at = stops[leg], arrive
            while at < stop.etd:
                lon, lat = _offset(stop.lon, stop.lat, rng.uniform(2, 12), rng)
                track.append(_fix(at, lon, lat, _battery(route, at, drain), speed_mps=0.0))
                at += timedelta(seconds=STEP_S)
    return track


def _visit(
    session: Session,
    tenant_id: int,
    agent_id: int,
    stop: Any,
    route: Any,
    drain: float,
    rng: random.Random,
    unknown: dict[str, Any],
) -> tuple[str, int, bool]:
    """The check-in and outcome at one stop: its verdict, whether an outcome was recorded,
    and whether it was made honestly at the door with a good fix."""
    at = stop.starts_at + timedelta(seconds=45)  # the visit starts when its window opens
    luck = rng.random()
    metres, accuracy = (10.0, 8.0) if luck < 0.9 else (40.0, 70.0) if luck < 0.96 else (400.0, 9.0)
    good = luck < 0.9
    lon, lat = _offset(stop.lon, stop.lat, metres, rng)
    fix = _fix(at, lon, lat, _battery(route, at, drain), accuracy_m=accuracy, **unknown)
    result = check_in(
        session,
        tenant_id=tenant_id,
        agent_id=agent_id,
        client_id=uuid.uuid4(),
        case_id=stop.case_id,
        raw_fix=fix,
        checked_in_at=(at + timedelta(seconds=10)).isoformat(),
    )
    if result.verdict == "rejected":
        return result.verdict, 0, good
    outcome = rng.choice(_OUTCOMES)
    try:
        record_outcome(
            session,
            tenant_id=tenant_id,
            agent_id=agent_id,
            visit_id=result.visit_id,
            body={
                "id": str(uuid.uuid4()),
                "outcome": outcome,
                "questionnaire": {"key": DEFAULT_KEY, "version": 1},
                "answers": _answers(outcome, stop.etd, rng),
                "checkout_at": stop.etd.isoformat(),
            },
        )
    except CampoError:
        return result.verdict, 0, good
    return result.verdict, 1, good
