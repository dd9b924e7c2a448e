"""POST /v1/me/sync: per-item verdicts, and the same stored result however items arrive."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.db import tenant_session
from tests.conftest import World

BOGOTA = ZoneInfo("America/Bogota")


def _on_shift(days_ago: int = 1, minute: int = 0) -> datetime:
    """10:00 Bogotá time ``days_ago`` days back: inside the 08:00-17:00 shift, never future."""
    day = datetime.now(BOGOTA).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=BOGOTA) + timedelta(minutes=minute)


def _fix(at: datetime, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "recorded_at": at.isoformat(), "lat": 4.6486,
            "lon": -74.0628, **extra}  # fmt: skip


def _stored(world: World) -> int:
    with tenant_session(world.tenant_id) as session:
        return int(session.scalar(text("SELECT count(*) FROM gps_fixes")) or 0)


def test_each_rule_rejects_only_its_item_and_names_the_field(
    client: TestClient, world: World
) -> None:
    at = _on_shift()
    now = datetime.now(BOGOTA)
    items = [
        _fix(at, accuracy_m=8.5, speed_mps=1.2, heading_deg=270, altitude_m=2600,
             battery_pct=63, charging=False, mock=False),
        _fix(at, lat=91.0),
        _fix(at, lon=-180.5),
        _fix(at, accuracy_m=0),
        _fix(at, battery_pct=101),
        {**_fix(at), "recorded_at": at.replace(tzinfo=None).isoformat()},
        _fix(now + timedelta(minutes=10)),
        _fix(now - timedelta(days=31)),
        {**_fix(at), "id": "not-a-uuid"},
        {k: v for k, v in _fix(at).items() if k != "lat"},
        _fix(at, lat="4.6"),
        _fix(at, minute=1),
    ]  # fmt: skip
    answer = client.post("/v1/me/sync", json={"fixes": items}, headers=world.auth("agent"))
    assert answer.status_code == 200, answer.text
    verdicts = [(r["status"], r.get("code"), r.get("field")) for r in answer.json()["fixes"]]
    assert verdicts == [
        ("stored", None, None),
        ("rejected", "invalid_coordinates", "lat"),
        ("rejected", "invalid_coordinates", "lon"),
        ("rejected", "invalid_accuracy", "accuracy_m"),
        ("rejected", "invalid_battery", "battery_pct"),
        ("rejected", "missing_offset", "recorded_at"),
        ("rejected", "in_future", "recorded_at"),
        ("rejected", "too_old", "recorded_at"),
        ("rejected", "invalid_value", "id"),
        ("rejected", "missing_field", "lat"),
        ("rejected", "invalid_value", "lat"),
        ("stored", None, None),
    ]
    assert _stored(world) == 2


def test_resent_shuffled_and_split_batches_are_stored_once(
    client: TestClient, world: World
) -> None:
    items = [_fix(_on_shift(days_ago=1 + i % 3, minute=i % 400)) for i in range(300)]
    first = client.post("/v1/me/sync", json={"fixes": items}, headers=world.auth("agent")).json()
    assert {r["status"] for r in first["fixes"]} == {"stored"}
    shuffled = random.Random(4).sample(items, len(items))
    for part in (shuffled[:120], shuffled[120:], items[:10] + items[:10]):
        again = client.post("/v1/me/sync", json={"fixes": part}, headers=world.auth("agent"))
        assert {r["status"] for r in again.json()["fixes"]} == {"duplicate"}
    assert _stored(world) == 300


def test_a_repeated_item_inside_one_batch_is_stored_once(client: TestClient, world: World) -> None:
    fix = _fix(_on_shift())
    answer = client.post("/v1/me/sync", json={"fixes": [fix, fix]}, headers=world.auth("agent"))
    assert [r["status"] for r in answer.json()["fixes"]] == ["stored", "duplicate"]
    assert _stored(world) == 1


def test_fixes_outside_the_shift_are_not_kept_unless_the_tenant_says_so(
    client: TestClient, world: World
) -> None:
    night = _on_shift() + timedelta(hours=12)  # 22:00 Bogotá
    answer = client.post("/v1/me/sync", json={"fixes": [_fix(night)]}, headers=world.auth("agent"))
    assert answer.json()["fixes"][0]["code"] == "outside_shift"
    assert _stored(world) == 0
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE tenants SET settings = settings || '{\"gps_shift_only\": false}'")
        )
    answer = client.post("/v1/me/sync", json={"fixes": [_fix(night)]}, headers=world.auth("agent"))
    assert answer.json()["fixes"][0]["status"] == "stored"


def test_late_fixes_land_in_their_own_month(client: TestClient, world: World) -> None:
    late = [_fix(_on_shift(days_ago=d)) for d in (1, 12, 25)]
    answer = client.post("/v1/me/sync", json={"fixes": late}, headers=world.auth("agent"))
    assert [r["status"] for r in answer.json()["fixes"]] == ["stored"] * 3
    with tenant_session(world.tenant_id) as session:
        stored = session.execute(text("SELECT count(*) FROM gps_fixes")).scalar()
    assert stored == 3


def test_only_agents_sync_and_batches_are_bounded(client: TestClient, world: World) -> None:
    one = {"fixes": [_fix(_on_shift())]}
    assert client.post("/v1/me/sync", json=one, headers=world.auth("dispatcher")).status_code == 403
    too_many = {"fixes": [_fix(_on_shift())] * 5001}
    answer = client.post("/v1/me/sync", json=too_many, headers=world.auth("agent"))
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "fixes"
    assert _stored(world) == 0
