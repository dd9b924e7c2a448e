"""Check-in verification: one test per rule, each able to fail."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import tenant_session
from tests.conftest import World
from tests.gps import on_shift
from tests.visits import check_in, fix_at, near, sync

pytestmark = pytest.mark.clock


def _codes(answer: Any) -> list[str]:
    return [r["code"] for r in answer.json()["reasons"]]


def _settings(world: World, **values: Any) -> None:
    import json

    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE tenants SET settings = settings || CAST(:s AS jsonb)"),
            {"s": json.dumps(values)},
        )


def test_at_the_door_is_accepted(client: TestClient, world: World) -> None:
    answer = check_in(client, world, fix_at(on_shift(), 10))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["verdict"], body["radius_m"], body["accuracy_m"]) == ("accepted", 75, 8)
    assert body["distance_m"] == pytest.approx(10, abs=0.5)
    assert body["reasons"] == []


@pytest.mark.parametrize(
    ("metres", "extra", "verdict", "code"),
    [
        (90, {"accuracy_m": 30}, "review", "accuracy_overlaps_geofence"),  # 15 m out, ±30 m
        (500, {"accuracy_m": 10}, "rejected", "outside_geofence"),
        (20, {"accuracy_m": 80}, "review", "poor_accuracy"),
        (20, {"accuracy_m": None}, "review", "unknown_accuracy"),
        (20, {"accuracy_m": 0}, "review", "unknown_accuracy"),  # 0 is unknown, not perfect
        (20, {"mock": True}, "rejected", "mock_location"),
    ],
)
def test_each_position_rule(
    client: TestClient,
    world: World,
    metres: float,
    extra: dict[str, Any],
    verdict: str,
    code: str,
) -> None:
    fix = fix_at(on_shift(), metres, **extra)
    if extra.get("accuracy_m", 1) is None:
        del fix["accuracy_m"]
    answer = check_in(client, world, fix)
    assert answer.status_code == 201, answer.text
    assert answer.json()["verdict"] == verdict
    assert code in _codes(answer)
    assert all(r["message"] for r in answer.json()["reasons"])


def test_impossible_jump_stale_fix_and_no_approach(client: TestClient, world: World) -> None:
    at = on_shift()
    sync(client, world, fixes=[fix_at(at - timedelta(seconds=30), 5000)])  # 5 km in 30 s
    jump = check_in(client, world, fix_at(at, 10))
    assert _codes(jump) == ["impossible_jump"]
    assert jump.json()["verdict"] == "review"


def test_a_stale_fix_is_reviewed(client: TestClient, world: World) -> None:
    answer = check_in(client, world, fix_at(on_shift(), 10), after_s=600)
    assert _codes(answer) == ["stale_fix"]


def test_a_trail_that_never_came_near_is_reviewed(client: TestClient, world: World) -> None:
    at = on_shift()
    far = [fix_at(at - timedelta(minutes=m), 2500 + 20 * m) for m in (9, 8, 7, 6, 5)]
    sync(client, world, fixes=far)
    answer = check_in(client, world, fix_at(at, 10), with_trail=False)
    assert _codes(answer) == ["no_approach"]


def test_identical_coordinates_repeated_are_reviewed(client: TestClient, world: World) -> None:
    at = on_shift()
    same = fix_at(at, 12)
    copies = [
        {**same, "id": str(uuid.uuid4()), "recorded_at": (at - timedelta(minutes=m)).isoformat()}
        for m in (3, 2)
    ]
    sync(client, world, fixes=copies)
    assert _codes(check_in(client, world, same)) == ["repeated_coordinates"]


def test_case_rules_and_tenancy(client: TestClient, world: World, other_world: World) -> None:
    fix = fix_at(on_shift(), 10)
    not_mine = check_in(client, world, fix, case=1)  # unassigned
    assert not_mine.status_code == 409
    assert not_mine.json()["error"]["fields"][0]["field"] == "case_id"
    foreign = {"id": str(uuid.uuid4()), "case_id": other_world.case_ids[0], "fix": fix}
    guessed = client.post("/v1/visits/check-in", json=foreign, headers=world.auth("agent"))
    assert guessed.status_code == 404
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE cases SET status = 'paid', closed_at = now() WHERE id = :id"),
            {"id": world.case_ids[0]},
        )
    assert check_in(client, world, fix).status_code == 409
    bad = check_in(client, world, {**fix, "lat": 95})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "fix.lat"
    staff = client.post("/v1/visits/check-in", json=foreign, headers=world.auth("dispatcher"))
    assert staff.status_code == 403


def test_twice_returns_the_first_answer_and_a_second_visit_is_refused(
    client: TestClient, world: World
) -> None:
    fix = fix_at(on_shift(), 10)
    first = check_in(client, world, fix, checkin_id="6f1f4a0e-8a44-4c1e-9a57-1d0b7e0e0a01")
    again = check_in(
        client,
        world,
        fix_at(on_shift(minute=5), 900),
        checkin_id="6f1f4a0e-8a44-4c1e-9a57-1d0b7e0e0a01",
    )
    assert again.json() == first.json()
    other = check_in(client, world, fix_at(on_shift(minute=6), 5))
    assert other.status_code == 409
    assert "abierta" in other.json()["error"]["message"]


def test_a_rejected_check_in_can_be_tried_again(client: TestClient, world: World) -> None:
    assert check_in(client, world, fix_at(on_shift(), 800)).json()["verdict"] == "rejected"
    assert check_in(client, world, fix_at(on_shift(minute=3), 5)).json()["verdict"] == "accepted"


def _dwell_trail(minutes: int, start_minute: int = 0, azimuth: float = 90) -> list[dict[str, Any]]:
    """Fixes inside the fence every 30 s for ``minutes``, with one jittery fix 20 m outside."""
    at = on_shift(minute=start_minute)
    fixes = [
        fix_at(at + timedelta(seconds=30 * k), 30 + k * 0.37, azimuth) for k in range(minutes * 2)
    ]
    if len(fixes) > 4:
        fixes[3] = fix_at(datetime_of(fixes[3]), 95, azimuth)  # 20 m outside, for one fix only
    return fixes


def datetime_of(fix: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(fix["recorded_at"])


def test_dwell_needs_the_minimum_time_inside_and_ignores_edge_jitter(
    client: TestClient, world: World
) -> None:
    _settings(world, checkin_dwell_min=5)
    short = _dwell_trail(2)
    sync(client, world, fixes=short[:-1])
    early = check_in(client, world, short[-1])
    assert early.json()["verdict"] == "rejected"
    assert _codes(early) == ["dwell_too_short"]
    long = _dwell_trail(7, start_minute=3, azimuth=200)
    sync(client, world, fixes=list(reversed(long[:-1])))  # late and out of order
    later = check_in(client, world, long[-1])
    assert later.json()["verdict"] == "accepted", later.json()["reasons"]
    assert later.json()["dwell_s"] >= 5 * 60


def test_offline_check_in_in_a_batch_matches_online(
    client: TestClient, world: World, other_world: World
) -> None:
    for w in (world, other_world):
        _settings(w, checkin_dwell_min=5)
    trail = _dwell_trail(7)
    sync(client, world, fixes=trail[:-1])
    online = check_in(client, world, trail[-1], with_trail=False).json()
    offline_id = str(uuid.uuid4())
    last = trail[-1]
    batch = sync(
        client,
        other_world,
        fixes=[{**f, "id": str(uuid.uuid4())} for f in trail[:-1]],
        checkins=[
            {
                "id": offline_id,
                "case_id": other_world.case_ids[0],
                "fix": {**last, "id": str(uuid.uuid4())},
                "checked_in_at": (datetime_of(last) + timedelta(seconds=20)).isoformat(),
            }
        ],
    )
    (offline,) = batch["checkins"]
    assert offline["status"] == "done"
    for key in ("verdict", "distance_m", "radius_m", "dwell_s"):
        assert offline[key] == pytest.approx(online[key]), key
    assert [r["code"] for r in offline["reasons"]] == [r["code"] for r in online["reasons"]]


def test_polygon_geofence(client: TestClient, world: World) -> None:
    lon0, lat0 = near(120, 0)
    corners = [near(150, a) for a in (315, 45, 135, 225)]
    ring = [list(c) for c in [*corners, corners[0]]]
    answer = client.put(
        f"/v1/cases/{world.case_ids[0]}/geofence",
        json={"polygon": {"type": "Polygon", "coordinates": [ring]}},
        headers=world.auth("dispatcher"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["radius_m"] is None
    inside = check_in(client, world, fix_at(on_shift(), 100, 0))  # 100 m north: past 75 m
    assert inside.json()["verdict"] == "accepted"
    assert (lon0, lat0) != (0, 0)
    bowtie = [list(near(100, a)) for a in (315, 135, 45, 225, 315)]
    bad = client.put(
        f"/v1/cases/{world.case_ids[0]}/geofence",
        json={"polygon": {"type": "Polygon", "coordinates": [bowtie]}},
        headers=world.auth("dispatcher"),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "polygon"
    reset = client.put(
        f"/v1/cases/{world.case_ids[0]}/geofence",
        json={"radius_m": 30},
        headers=world.auth("admin"),
    )
    assert reset.json()["radius_m"] == 30
    assert (
        client.put(
            f"/v1/cases/{world.case_ids[0]}/geofence",
            json={"radius_m": 30},
            headers=world.auth("agent"),
        ).status_code
        == 403
    )


def test_a_lone_fix_at_the_door_is_not_proof(client: TestClient, world: World) -> None:
    """A single fix, however good, with no trail before it: anyone can fabricate one."""
    lone = check_in(client, world, fix_at(on_shift(), 10), with_trail=False)
    assert lone.json()["verdict"] == "review"
    assert _codes(lone) == ["no_trail"]


def test_a_team_without_background_tracking_may_relax_the_lone_fix_rule(
    client: TestClient, world: World
) -> None:
    _settings(world, checkin_require_trail=False)
    answer = check_in(client, world, fix_at(on_shift(), 10), with_trail=False)
    assert (answer.json()["verdict"], _codes(answer)) == ("accepted", [])


def test_a_trail_only_from_an_unauthenticated_tracker_is_not_proof(
    client: TestClient, world: World
) -> None:
    """OsmAnd / Traccar positions carry only a device id: they may be anyone's."""
    body = {"agent_id": world.agent_id, "protocol": "osmand"}
    device = client.post("/v1/devices", json=body, headers=world.auth("admin")).json()
    at = on_shift()
    for minutes, metres in ((6, 250), (3, 100)):
        lon, lat = near(metres, 270)
        params = {
            "id": device["identifier"],
            "timestamp": str(int((at - timedelta(minutes=minutes)).timestamp())),
            "lat": str(lat),
            "lon": str(lon),
            "accuracy": "8",
        }
        assert client.get("/osmand", params=params).json()["status"] == "stored"
    tracked = check_in(client, world, fix_at(at, 10), with_trail=False)
    assert (tracked.json()["verdict"], _codes(tracked)) == ("review", ["unauthenticated_trail"])


def test_a_batch_of_check_ins_costs_the_statements_of_one(client: TestClient, world: World) -> None:
    """Verification is per batch: twenty check-ins in one sync run as many statements as
    one does (each here far from the door, so each is rejected and written)."""
    from sqlalchemy import event

    from geo.core.db import app_engine

    at = on_shift()
    sync(client, world, fixes=[fix_at(at - timedelta(minutes=m), 900) for m in (6, 3)])
    counted: list[str] = []

    def count(*args: Any) -> None:
        counted.append(args[2])

    def batch(size: int, minute: int) -> int:
        checkins = [
            {
                "id": str(uuid.uuid4()),
                "case_id": world.case_ids[0],
                "fix": fix_at(at + timedelta(seconds=minute * 60 + k), 800),
            }
            for k in range(size)
        ]
        counted.clear()
        event.listen(app_engine(), "before_cursor_execute", count)
        try:
            answer = sync(client, world, checkins=checkins)
        finally:
            event.remove(app_engine(), "before_cursor_execute", count)
        assert [c["verdict"] for c in answer["checkins"]] == ["rejected"] * size
        return len(counted)

    assert batch(1, 1) == batch(20, 2)
