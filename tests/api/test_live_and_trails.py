"""Live positions and trails through the API, with real GeoLife traces moved to Bogotá."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy import text

from geo.core.db import tenant_session
from tests.conftest import World
from tests.gps import BOGOTA, app_fix, on_shift

pytestmark = pytest.mark.clock

GEOLIFE = Path(__file__).resolve().parents[1] / "data" / "geolife_small.csv"
GEOD = Geod(ellps="WGS84")


def _sync(client: TestClient, world: World, fixes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = client.post("/v1/me/sync", json={"fixes": fixes}, headers=world.auth("agent"))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["fixes"])


def _live(client: TestClient, world: World) -> list[dict[str, Any]]:
    answer = client.get("/v1/agents/live", headers=world.auth("dispatcher"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "FeatureCollection"
    return list(answer.json()["features"])


def test_live_position_only_moves_forward_in_time(client: TestClient, world: World) -> None:
    assert _live(client, world) == []
    newer = app_fix(
        on_shift(minute=30),
        lat=4.70,
        lon=-74.05,
        battery_pct=55,
        charging=True,
        accuracy_m=6,
        speed_mps=1.5,
    )
    older = app_fix(on_shift(minute=10), lat=4.60, lon=-74.10, battery_pct=70)
    _sync(client, world, [newer])
    _sync(client, world, [older])  # a late upload of an earlier fix
    _sync(client, world, [newer])  # and a duplicate
    (feature,) = _live(client, world)
    assert feature["geometry"] == {"type": "Point", "coordinates": [-74.05, 4.7]}
    props = feature["properties"]
    assert props["agent_id"] == world.agent_id
    assert (props["battery_pct"], props["charging"], props["accuracy_m"]) == (55, True, 6)
    assert props["speed_mps"] == 1.5
    assert props["stale"] is True  # yesterday
    assert datetime.fromisoformat(props["last_seen"]) == on_shift(minute=30)


def test_a_recent_fix_is_not_stale(client: TestClient, world: World) -> None:
    now = datetime.now(BOGOTA)
    with tenant_session(world.tenant_id) as session:  # "now" may be off shift: track all day
        session.execute(text("UPDATE tenants SET settings = '{\"gps_shift_only\": false}'"))
    _sync(client, world, [app_fix(now - timedelta(minutes=2))])
    (feature,) = _live(client, world)
    assert feature["properties"]["stale"] is False
    assert 100 <= feature["properties"]["age_s"] <= 200


def test_live_positions_are_tenant_private_and_for_staff(
    client: TestClient, world: World, other_world: World
) -> None:
    _sync(client, world, [app_fix(on_shift())])
    assert len(_live(client, world)) == 1
    assert _live(client, other_world) == []
    assert client.get("/v1/agents/live", headers=world.auth("agent")).status_code == 403
    assert client.get("/v1/agents/live", headers=world.auth("analyst")).status_code == 200


def _geolife(trajectory: int, start: datetime) -> pd.DataFrame:
    """One GeoLife trajectory, translated to Bogotá and moved to start at ``start``."""
    data = pd.read_csv(GEOLIFE, sep=";", parse_dates=["t"])
    one = data[data.trajectory_id == trajectory].sort_values("t").reset_index(drop=True)
    one["lon"] = one.X - one.X.iloc[0] - 74.08
    one["lat"] = one.Y - one.Y.iloc[0] + 4.65
    one["when"] = [start + (t - one.t.iloc[0]).to_pytimedelta() for t in one.t]
    return one


@pytest.mark.parametrize(("trajectory", "days_ago"), [(2, 1), (3, 2)])
def test_geolife_trace_comes_back_as_a_checked_trail(
    client: TestClient, world: World, trajectory: int, days_ago: int
) -> None:
    start = on_shift(days_ago=days_ago, minute=-75)  # 08:45 Bogotá
    trace = _geolife(trajectory, start)
    fixes = [
        {"id": str(uuid.uuid4()), "recorded_at": r.when.isoformat(), "lon": r.lon, "lat": r.lat}
        for r in trace.itertuples()
    ]
    random.Random(trajectory).shuffle(fixes)  # the phone uploads out of order
    for k in range(0, len(fixes), 500):
        assert {r["status"] for r in _sync(client, world, fixes[k : k + 500])} == {"stored"}
    end = trace["when"].iloc[-1] + timedelta(seconds=1)
    answer = client.get(
        f"/v1/agents/{world.agent_id}/trail",
        params={"start": start.isoformat(), "end": end.isoformat()},
        headers=world.auth("dispatcher"),
    )
    assert answer.status_code == 200, answer.text
    trail = answer.json()
    summary = trail["summary"]
    assert summary["fixes"] == len(trace)
    # Distance: never more than the geodesic sum over every raw fix, and close to it: these
    # traces move most of the time, so jitter filtering only trims a few per cent.
    raw = GEOD.line_length(trace.lon.to_numpy(), trace.lat.to_numpy())
    assert 0.9 * raw <= summary["distance_m"] <= 1.001 * raw
    # Gaps: the same silences a plain look at the timestamps finds.
    seconds = np.array([(a - start).total_seconds() for a in trace["when"]])
    assert summary["gaps"] == int((np.diff(seconds) > 600).sum())
    # Stops: each lasts the minimum, and every raw fix inside it lies near its centre.
    stops = [f for f in trail["features"] if f["properties"]["kind"] == "stop"]
    assert summary["stops"] == len(stops) >= 1
    for stop in stops:
        lon, lat = stop["geometry"]["coordinates"]
        since = datetime.fromisoformat(stop["properties"]["start"])
        until = datetime.fromisoformat(stop["properties"]["end"])
        assert (until - since).total_seconds() >= 300
        inside = trace[(trace["when"] >= since) & (trace["when"] <= until)]
        _, _, metres = GEOD.inv(
            np.full(len(inside), lon),
            np.full(len(inside), lat),
            inside.lon.to_numpy(),
            inside.lat.to_numpy(),
        )
        assert metres.max() <= 100  # twice the stop radius
    path = trail["features"][0]
    assert path["geometry"]["type"] == "LineString"
    first = path["geometry"]["coordinates"][0]
    assert first == pytest.approx([-74.08, 4.65], abs=0.001)  # lon, lat


def test_trail_access_and_bad_parameters(
    client: TestClient, world: World, other_world: World
) -> None:
    url = f"/v1/agents/{world.agent_id}/trail"
    day = on_shift().date().isoformat()
    assert client.get(url, params={"date": day}, headers=world.auth("agent")).status_code == 200
    assert client.get(url, params={"date": day}, headers=world.auth("analyst")).status_code == 200
    guessed = client.get(url, params={"date": day}, headers=other_world.auth("dispatcher"))
    assert guessed.status_code == 404
    other = f"/v1/agents/{other_world.agent_id}/trail"
    assert client.get(other, params={"date": day}, headers=world.auth("agent")).status_code == 403
    for params, field in [
        ({}, "date"),
        ({"date": "21/11/2026"}, "date"),
        ({"start": "2026-11-20T10:00:00", "end": "2026-11-20T12:00:00"}, "start"),
        ({"start": "2026-11-20T10:00:00Z", "end": "2026-11-29T12:00:00Z"}, "end"),
        ({"date": day, "stop_radius_m": "-5"}, "stop_radius_m"),
    ]:
        answer = client.get(url, params=params, headers=world.auth("dispatcher"))
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["fields"][0]["field"] == field
    empty = client.get(url, params={"date": day}, headers=world.auth("dispatcher")).json()
    assert empty["features"] == []
    assert empty["summary"]["distance_m"] == 0
    assert datetime.fromisoformat(empty["summary"]["start"]).astimezone(UTC).hour == 5
