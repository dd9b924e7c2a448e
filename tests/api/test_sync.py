"""POST /v1/me/sync: per-item verdicts, and the same stored result however items arrive."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import tenant_session
from tests.conftest import World
from tests.gps import BOGOTA, app_fix, on_shift, stored_fixes

pytestmark = pytest.mark.clock


def _stored(world: World) -> int:
    return len(stored_fixes(world.tenant_id))


def test_each_rule_rejects_only_its_item_and_names_the_field(
    client: TestClient, world: World
) -> None:
    at = on_shift()
    now = datetime.now(BOGOTA)
    items = [
        app_fix(
            at,
            accuracy_m=8.5,
            speed_mps=1.2,
            heading_deg=270,
            altitude_m=2600,
            battery_pct=63,
            charging=False,
            mock=False,
        ),
        app_fix(at, lat=91.0),
        app_fix(at, lon=-180.5),
        app_fix(at, accuracy_m=0),
        app_fix(at, battery_pct=101),
        {**app_fix(at), "recorded_at": at.replace(tzinfo=None).isoformat()},
        app_fix(now + timedelta(minutes=10)),
        app_fix(now - timedelta(days=31)),
        {**app_fix(at), "id": "not-a-uuid"},
        {k: v for k, v in app_fix(at).items() if k != "lat"},
        app_fix(at, lat="4.6"),
        app_fix(at, minute=1),
    ]
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
    items = [app_fix(on_shift(days_ago=1 + i % 3, minute=i % 400)) for i in range(300)]
    first = client.post("/v1/me/sync", json={"fixes": items}, headers=world.auth("agent")).json()
    assert {r["status"] for r in first["fixes"]} == {"stored"}
    shuffled = random.Random(4).sample(items, len(items))
    for part in (shuffled[:120], shuffled[120:], items[:10] + items[:10]):
        again = client.post("/v1/me/sync", json={"fixes": part}, headers=world.auth("agent"))
        assert {r["status"] for r in again.json()["fixes"]} == {"duplicate"}
    assert _stored(world) == 300


def test_a_repeated_item_inside_one_batch_is_stored_once(client: TestClient, world: World) -> None:
    fix = app_fix(on_shift())
    answer = client.post("/v1/me/sync", json={"fixes": [fix, fix]}, headers=world.auth("agent"))
    assert [r["status"] for r in answer.json()["fixes"]] == ["stored", "duplicate"]
    assert _stored(world) == 1


def test_fixes_outside_the_shift_are_not_kept_unless_the_tenant_says_so(
    client: TestClient, world: World
) -> None:
    night = on_shift() + timedelta(hours=12)  # 22:00 Bogotá
    answer = client.post(
        "/v1/me/sync", json={"fixes": [app_fix(night)]}, headers=world.auth("agent")
    )
    assert answer.json()["fixes"][0]["code"] == "outside_shift"
    assert _stored(world) == 0
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE tenants SET settings = settings || '{\"gps_shift_only\": false}'")
        )
    answer = client.post(
        "/v1/me/sync", json={"fixes": [app_fix(night)]}, headers=world.auth("agent")
    )
    assert answer.json()["fixes"][0]["status"] == "stored"


def test_late_fixes_land_in_their_own_month(client: TestClient, world: World) -> None:
    late = [app_fix(on_shift(days_ago=d)) for d in (1, 12, 22)]  # 22 working days: ~4 weeks
    answer = client.post("/v1/me/sync", json={"fixes": late}, headers=world.auth("agent"))
    assert [r["status"] for r in answer.json()["fixes"]] == ["stored"] * 3
    with tenant_session(world.tenant_id) as session:
        stored = session.execute(text("SELECT count(*) FROM gps_fixes")).scalar()
    assert stored == 3


def test_only_agents_sync_and_batches_are_bounded(client: TestClient, world: World) -> None:
    one = {"fixes": [app_fix(on_shift())]}
    assert client.post("/v1/me/sync", json=one, headers=world.auth("dispatcher")).status_code == 403
    too_many = {"fixes": [app_fix(on_shift())] * 5001}
    answer = client.post("/v1/me/sync", json=too_many, headers=world.auth("agent"))
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "fixes"
    assert _stored(world) == 0
