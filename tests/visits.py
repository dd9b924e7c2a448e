"""Helpers for the visit tests: points at known distances from a case's address."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from pyproj import Geod

from tests.conftest import World
from tests.gps import app_fix

GEOD = Geod(ellps="WGS84")
HOME = (-74.0589, 4.6565)  # the address of world.case_ids[0] (Calle 72 # 10-34)


def near(
    metres: float, azimuth: float = 90.0, *, home: tuple[float, float] = HOME
) -> tuple[float, float]:
    """(lon, lat) ``metres`` from ``home`` towards ``azimuth`` degrees, on the spheroid."""
    lon, lat, _ = GEOD.fwd(home[0], home[1], azimuth, metres)
    return float(lon), float(lat)


def fix_at(
    at: datetime,
    metres: float = 0.0,
    azimuth: float = 90.0,
    *,
    home: tuple[float, float] = HOME,
    **extra: Any,
) -> dict[str, Any]:
    lon, lat = near(metres, azimuth, home=home)
    return app_fix(at, lon=lon, lat=lat, **{"accuracy_m": 8.0, **extra})


def approach(client: TestClient, world: World, fix: dict[str, Any]) -> None:
    """The background trail a field app records on the way to the door: 400, 250 and 100 m
    west of ``fix``, 9, 6 and 3 minutes before it. Nothing for a fix too broken to place."""
    try:
        at = datetime.fromisoformat(fix["recorded_at"])
        lon, lat = float(fix["lon"]), float(fix["lat"])
    except (KeyError, TypeError, ValueError):
        return
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return
    trail = []
    for minutes, metres in ((9, 400), (6, 250), (3, 100)):
        west, south, _ = GEOD.fwd(lon, lat, 270.0, metres)
        trail.append(app_fix(at - timedelta(minutes=minutes), lon=west, lat=south, accuracy_m=10.0))
    sync(client, world, fixes=trail)


def check_in(
    client: TestClient,
    world: World,
    fix: dict[str, Any],
    *,
    after_s: float = 20,
    case: int = 0,
    checkin_id: str | None = None,
    with_trail: bool = True,
) -> Any:
    """Check in as the field app does: its background trail first (``with_trail``), then the
    check-in with its fix."""
    if with_trail:
        approach(client, world, fix)
    at = datetime.fromisoformat(fix["recorded_at"]) + timedelta(seconds=after_s)
    body = {
        "id": checkin_id or str(uuid.uuid4()),
        "case_id": world.case_ids[case],
        "fix": fix,
        "checked_in_at": at.isoformat(),
    }
    return client.post("/v1/visits/check-in", json=body, headers=world.auth("agent"))


def sync(client: TestClient, world: World, **batch: Any) -> Any:
    answer = client.post("/v1/me/sync", json=batch, headers=world.auth("agent"))
    assert answer.status_code == 200, answer.text
    return answer.json()
