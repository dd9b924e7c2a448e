"""Trails on a scripted day whose true answer is known: stops, jitter, spikes, gaps, battery."""

from __future__ import annotations

import csv
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyproj import Geod, Transformer
from sqlalchemy import text

from geo.analytics.frames import battery_frame, fixes_frame, stops_frame
from geo.core.db import tenant_session
from geo.tracking.telemetry import sync_fixes
from geo.tracking.trails import TrailOptions, agent_trail
from tests.conftest import World
from tests.gps import on_shift

pytestmark = pytest.mark.clock

TO_WGS84 = Transformer.from_crs(9377, 4326, always_xy=True)
FROM_WGS84 = Transformer.from_crs(4326, 9377, always_xy=True)
STEP_S = 10


def _scripted_day(start: datetime) -> list[dict[str, Any]]:
    """A at rest 20 min (4 m jitter); walk 1 km east; B at rest 15 min; walk 2 km north with
    a 12-minute silence halfway; one 2 km spike and one 300 m-accuracy fix on the way; the
    battery falls 0.25 %/min from 30 % and charges for the last 5 minutes."""
    rng = random.Random(7)
    ax, ay = FROM_WGS84.transform(-74.0628, 4.6486)
    plan: list[tuple[float, float, float, float]] = []  # (second, x, y, jitter)
    plan += [(s, ax, ay, 4.0) for s in range(0, 1200, STEP_S)]
    plan += [(1200 + s, ax + 1000 * s / 720, ay, 2.0) for s in range(0, 720, STEP_S)]
    bx, by = ax + 1000, ay
    plan += [(1920 + s, bx, by, 4.0) for s in range(0, 900, STEP_S)]
    walk = [(2820 + s, bx, by + 2000 * s / 1440, 2.0) for s in range(0, 1441, STEP_S)]
    plan += [w for w in walk if not 2820 + 360 < w[0] < 2820 + 1080]
    fixes = []
    for second, x, y, jitter in plan:
        minute = second / 60
        charging = second >= plan[-1][0] - 300
        pct = 30 - 0.25 * minute if not charging else 30 - 0.25 * (plan[-1][0] - 300) / 60
        fixes.append(
            _fix(
                start,
                second,
                x + rng.gauss(0, jitter),
                y + rng.gauss(0, jitter),
                accuracy=8.0,
                battery=round(pct, 2),
                charging=charging,
            )
        )
    fixes.append(_fix(start, 2825, bx + 2000, by + 50, accuracy=8.0))  # a spike
    fixes.append(_fix(start, 2835, bx - 200, by + 60, accuracy=300.0))  # a poor fix
    return fixes


def _fix(start: datetime, second: float, x: float, y: float, **kw: Any) -> dict[str, Any]:
    lon, lat = TO_WGS84.transform(x, y)
    return {
        "id": str(uuid.uuid4()),
        "recorded_at": (start + timedelta(seconds=second)).isoformat(),
        "lon": lon,
        "lat": lat,
        "accuracy_m": kw["accuracy"],
        "battery_pct": kw.get("battery"),
        "charging": kw.get("charging"),
    }


@pytest.fixture
def day(world: World) -> tuple[World, datetime, list[dict[str, Any]]]:
    start = on_shift(minute=-60)  # 09:00 yesterday, Bogotá
    items = _scripted_day(start)
    with tenant_session(world.tenant_id) as session:
        results = sync_fixes(
            session, tenant_id=world.tenant_id, agent_id=world.agent_id, items=items
        )
    assert {r.status for r in results} == {"stored"}
    return world, start, items


def test_distance_ignores_jitter_spikes_and_poor_fixes(
    day: tuple[World, datetime, list[dict[str, Any]]],
) -> None:
    world, start, items = day
    with tenant_session(world.tenant_id) as session:
        trail = agent_trail(
            session,
            tenant_id=world.tenant_id,
            agent_id=world.agent_id,
            start=start,
            end=start + timedelta(hours=3),
        )
    assert trail.fixes == len(items)
    assert trail.used_fixes == len(items) - 2  # the spike and the poor fix
    # 1 km east, then 2 km north of which 1 km fell in a 12-minute silence: not travel seen.
    assert trail.distance_m == pytest.approx(2000, rel=0.03)
    assert trail.gap_distance_m == pytest.approx(1000, rel=0.03)
    naive = Geod(ellps="WGS84").line_length(
        [i["lon"] for i in sorted(items, key=lambda i: i["recorded_at"])],
        [i["lat"] for i in sorted(items, key=lambda i: i["recorded_at"])],
    )
    assert naive > trail.distance_m + 1500  # what summing every fix would have claimed
    assert trail.path is not None
    assert trail.path["type"] == "LineString"
    assert len(trail.path["coordinates"]) < trail.used_fixes / 10  # simplified
    lon, lat = trail.path["coordinates"][0]
    assert -74.07 < lon < -74.05  # GeoJSON order: lon, lat
    assert 4.64 < lat < 4.66


def test_stops_gaps_and_battery(day: tuple[World, datetime, list[dict[str, Any]]]) -> None:
    world, start, _items = day
    with tenant_session(world.tenant_id) as session:
        trail = agent_trail(
            session,
            tenant_id=world.tenant_id,
            agent_id=world.agent_id,
            start=start,
            end=start + timedelta(hours=3),
        )
        frame = fixes_frame(
            session,
            tenant_id=world.tenant_id,
            agent_id=world.agent_id,
            start=start,
            end=start + timedelta(hours=3),
        )
    assert len(trail.stops) == 2
    assert abs(trail.stops[0].duration_s - 1200) <= 60
    assert abs(trail.stops[1].duration_s - 900) <= 90
    assert trail.stops[0].start == start
    assert abs((trail.stops[1].start - start).total_seconds() - 1920) <= 60
    a, b = trail.stops
    distance = Geod(ellps="WGS84").inv(a.lon, a.lat, b.lon, b.lat)[2]
    assert distance == pytest.approx(1000, abs=10)
    assert len(trail.gaps) == 1
    assert trail.gaps[0].duration_s == pytest.approx(720, abs=1)
    battery = trail.battery
    assert battery.drain_pct_per_hour == pytest.approx(15, rel=0.01)
    assert len(battery.low_moments) == 1
    assert abs((battery.low_moments[0] - start).total_seconds() - 2410) <= 10
    assert battery.timeline[-1].charging is True
    assert len(frame) == trail.fixes
    assert frame.crs.to_epsg() == 4326
    assert list(stops_frame(trail)["fixes"]) == [s.fixes for s in trail.stops]
    assert battery_frame(trail)["pct"].min() == battery.min_pct


def test_thresholds_are_parameters(day: tuple[World, datetime, list[dict[str, Any]]]) -> None:
    world, start, _ = day
    with tenant_session(world.tenant_id) as session:
        strict = agent_trail(
            session,
            tenant_id=world.tenant_id,
            agent_id=world.agent_id,
            start=start,
            end=start + timedelta(hours=3),
            options=TrailOptions(stop_min_s=18 * 60, tolerance_m=0, gap_s=3600),
        )
    assert len(strict.stops) == 1  # only the 20-minute stop lasts 18 minutes
    assert strict.gaps == []
    assert strict.path is not None
    assert len(strict.path["coordinates"]) > 100  # tolerance 0: every counted point


GEOLIFE = Path(__file__).resolve().parents[1] / "data" / "geolife_small.csv"


@pytest.mark.parametrize("place", ["beijing", "bogota"])
@pytest.mark.parametrize("trajectory", [2, 3])
def test_real_traces_measure_metres_on_the_ground_wherever_they_are(
    world: World, place: str, trajectory: int
) -> None:
    """GeoLife traces where they were recorded (Beijing) and moved to Bogotá, with default
    settings: the distance is the geodesic length of the cleaned sequence, and stays keep
    their radius on the ground."""
    with GEOLIFE.open() as source:
        rows = [
            r
            for r in csv.DictReader(source, delimiter=";")
            if r["trajectory_id"] == str(trajectory)
        ]
    first = datetime.fromisoformat(rows[0]["t"])
    start = on_shift(minute=-120)
    shift = (
        (-74.08 - float(rows[0]["X"]), 4.65 - float(rows[0]["Y"])) if place == "bogota" else (0, 0)
    )
    items = [
        {
            "id": str(uuid.uuid4()),
            "recorded_at": (start + (datetime.fromisoformat(r["t"]) - first)).isoformat(),
            "lon": float(r["X"]) + shift[0],
            "lat": float(r["Y"]) + shift[1],
        }
        for r in rows
    ]
    with tenant_session(world.tenant_id) as session:
        session.execute(text("UPDATE tenants SET settings = '{\"gps_shift_only\": false}'"))
    with tenant_session(world.tenant_id) as session:
        stored = sync_fixes(
            session, tenant_id=world.tenant_id, agent_id=world.agent_id, items=items
        )
        assert {r.status for r in stored} == {"stored"}
        trail = agent_trail(
            session,
            tenant_id=world.tenant_id,
            agent_id=world.agent_id,
            start=start,
            end=start + timedelta(hours=12),
        )
        days = session.execute(
            text("SELECT distance_m, ST_AsGeoJSON(geom)::json FROM analytics.agent_days")
        ).all()
    for distance_m, path in days:  # the analysts' view measures on the ground too
        lon, lat = zip(*path["coordinates"], strict=True)
        assert distance_m == pytest.approx(Geod(ellps="WGS84").line_length(lon, lat), rel=0.005)
    geodesic = sum(
        Geod(ellps="WGS84").line_length([p[0] for p in part], [p[1] for p in part])
        for part in trail.segments
    )
    assert trail.distance_m == pytest.approx(geodesic, rel=0.005)
    assert trail.stops, "a real trace of a working day has stays"
    for stop in trail.stops:
        assert stop.duration_s >= 300
        inside = [
            i for i in items if stop.start <= datetime.fromisoformat(i["recorded_at"]) <= stop.end
        ]
        _, _, metres = Geod(ellps="WGS84").inv(
            [stop.lon] * len(inside),
            [stop.lat] * len(inside),
            [i["lon"] for i in inside],
            [i["lat"] for i in inside],
        )
        assert max(metres) <= 2 * trail.options.stop_radius_m
