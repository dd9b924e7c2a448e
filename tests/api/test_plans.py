"""Plans end to end on the real Aguascalientes streets: queued, computed in the background,
stored with street geometry, and feasible when checked here, apart from the solver."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Geod, Transformer
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.routing.matrix import travel_matrix
from geo.routing.streets import load_network
from tests.conftest import World

pytestmark = [
    pytest.mark.clock,
    pytest.mark.usefixtures("worker"),  # plans are computed by a job worker
]

EXTRACT = Path(__file__).resolve().parents[1] / "data" / "aguascalientes.osm.pbf"
GEOD = Geod(ellps="WGS84")


def _wait(client: TestClient, world: World, plan_id: int) -> Any:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        plan = client.get(f"/v1/plans/{plan_id}", headers=world.auth("dispatcher")).json()
        if plan["status"] in {"done", "failed"}:
            return plan
        time.sleep(0.2)
    raise AssertionError("the plan did not finish")


def test_a_plan_is_computed_stored_and_feasible(
    client: TestClient, aguascalientes: World, tmp_path: Path
) -> None:
    world = aguascalientes
    answer = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 3}, headers=world.auth("dispatcher")
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "queued"
    plan = _wait(client, world, answer.json()["id"])
    assert plan["status"] == "done", plan["message"]
    stats = plan["stats"]
    assert (stats["cases"], stats["agents"]) == (40, 1)
    assert stats["planned"] == 12  # capacity
    assert stats["planned"] + stats["unplanned"] == 40
    collection = client.get(
        f"/v1/plans/{plan['id']}/geojson", headers=world.auth("dispatcher")
    ).json()
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds.count("route") == 1
    assert kinds.count("stop") == 12
    assert kinds.count("unplanned") == 28
    stops = sorted(
        (f for f in collection["features"] if f["properties"]["kind"] == "stop"),
        key=lambda f: f["properties"]["seq"],
    )
    # Feasibility checked here, from our own matrix, not the solver's word.
    network = load_network(EXTRACT, mode="motorbike", cache_dir=tmp_path)
    base = (-102.2739, 21.8704)
    points = [base] + [tuple(f["geometry"]["coordinates"]) for f in stops]
    matrix = travel_matrix(network, points)
    mexico = ZoneInfo("America/Mexico_City")
    first_eta = datetime.fromisoformat(stops[0]["properties"]["eta"]).astimezone(mexico)
    zone_day = first_eta.replace(hour=9, minute=0, second=0, microsecond=0)
    clock, here = zone_day, 0
    for k, stop in enumerate(stops, start=1):
        clock = clock + timedelta(seconds=float(matrix.seconds[here, k]))
        eta = datetime.fromisoformat(stop["properties"]["eta"])
        assert eta >= clock - timedelta(seconds=2)
        clock = max(clock, eta) + timedelta(minutes=15)
        etd = datetime.fromisoformat(stop["properties"]["etd"])
        assert abs((etd - clock).total_seconds()) <= 2
        here = k
    back = clock + timedelta(seconds=float(matrix.seconds[here, 0]))
    assert back <= zone_day.replace(hour=13)
    priorities = {f["properties"]["priority"] for f in stops}
    left = [
        f["properties"]["priority"]
        for f in collection["features"]
        if f["properties"]["kind"] == "unplanned"
    ]
    assert np.mean(sorted(priorities)) > np.mean(left)  # the important ones went first
    route = next(f for f in collection["features"] if f["properties"]["kind"] == "route")
    coords = route["geometry"]["coordinates"]
    assert len(coords) > 2 * len(stops)  # along the streets, not stop to stop
    along = GEOD.line_length(*zip(*coords, strict=True))
    assert along == pytest.approx(route["properties"]["distance_m"], rel=0.35)
    # Ridden and walked apart: riding is the drawn line; walking the doors and back.
    ride, walk = route["properties"]["ride_m"], route["properties"]["walk_m"]
    assert ride == pytest.approx(along, abs=1)
    assert ride + walk == pytest.approx(route["properties"]["distance_m"], abs=0.2)
    assert 0 < walk < 2 * len(stops) * 100  # max_snap_m


def test_plans_are_staff_only_and_tenant_private(
    client: TestClient, world: World, other_world: World
) -> None:
    assert (
        client.post(
            "/v1/plans", json={"date": "2026-11-24"}, headers=world.auth("agent")
        ).status_code
        == 403
    )
    made = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=world.auth("admin")
    ).json()
    assert (
        client.get(f"/v1/plans/{made['id']}", headers=other_world.auth("admin")).status_code == 404
    )
    assert (
        client.post(
            "/v1/plans", json={"date": "2026-11-24", "budget_s": 0}, headers=world.auth("admin")
        ).status_code
        == 422
    )
    _wait(client, world, made["id"])


def test_territories_are_served(client: TestClient, world: World, other_world: World) -> None:
    answer = client.get("/v1/territories", headers=world.auth("dispatcher"))
    assert answer.status_code == 200, answer.text
    (territory,) = answer.json()["features"]
    assert territory["properties"]["agent_id"] == world.agent_id
    assert territory["properties"]["cases"] == 2
    assert client.get("/v1/territories", headers=world.auth("agent")).status_code == 403


def test_replanning_from_where_the_agent_is(client: TestClient, aguascalientes: World) -> None:
    world = aguascalientes
    # A time zone where it is about 10:00 now, so the rest of the day has room for every visit.
    offset = (10 - datetime.now(UTC).hour + 12) % 24 - 12
    zone_name = f"Etc/GMT{'-' if offset >= 0 else '+'}{abs(offset)}"
    mexico = ZoneInfo(zone_name)
    today = datetime.now(mexico).date()
    live = (-102.2690, 21.8660)
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE tenants SET settings = settings || CAST(:s AS jsonb)"),
            {
                "s": json.dumps(
                    {
                        "timezone": zone_name,
                        # Replanning works on any day here, Sundays too: the tenant's policy.
                        "contact_hours": {
                            day: ["00:00", "23:59"]
                            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                        },
                        "contact_holidays": None,
                    }
                )
            },
        )
        session.execute(text("UPDATE agents SET shift_start = '00:00', shift_end = '23:59'"))
        session.execute(
            text(
                "INSERT INTO agent_positions (tenant_id, agent_id, fix_id, recorded_at, point, source) "
                "VALUES (:t, :a, gen_random_uuid(), now() - interval '2 minutes', "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'app')"
            ),
            {"t": world.tenant_id, "a": world.agent_id, "x": live[0], "y": live[1]},
        )
        visited = session.execute(
            text("SELECT min(id) FROM cases WHERE status = 'open'")
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at, checkin_point, "
                "distance_m, verdict, status, outcome, checkout_at) VALUES (:t, gen_random_uuid(), :c, "
                ":a, now() - interval '1 hour', ST_SetSRID(ST_MakePoint(-102.27, 21.87), 4326), 5, "
                "'accepted', 'completed', 'contact', now() - interval '50 minutes')"
            ),
            {"t": world.tenant_id, "c": visited, "a": world.agent_id},
        )
    answer = client.post(
        "/v1/plans",
        json={"date": today.isoformat(), "budget_s": 2, "replan": True},
        headers=world.auth("dispatcher"),
    )
    plan = _wait(client, world, answer.json()["id"])
    assert plan["status"] == "done", plan["message"]
    assert plan["stats"]["planned"] == 11  # one of the 12 visits of the day is already done
    collection = client.get(f"/v1/plans/{plan['id']}/geojson", headers=world.auth("admin")).json()
    cases = {f["properties"].get("case_id") for f in collection["features"]}
    assert visited not in cases
    route = next(f for f in collection["features"] if f["properties"]["kind"] == "route")
    start = route["geometry"]["coordinates"][0]
    assert GEOD.inv(start[0], start[1], *live)[2] < 150  # from where the agent is, not its base
    first_eta = min(
        datetime.fromisoformat(f["properties"]["eta"])
        for f in collection["features"]
        if f["properties"]["kind"] == "stop"
    )
    assert first_eta >= datetime.now(mexico) - timedelta(minutes=5)
    absent = client.post(
        "/v1/plans",
        json={
            "date": today.isoformat(),
            "budget_s": 1,
            "replan": True,
            "absent_agent_ids": [world.agent_id],
        },
        headers=world.auth("dispatcher"),
    )
    failed = _wait(client, world, absent.json()["id"])
    assert failed["status"] == "failed"
    assert "agents" in failed["message"]


def test_segments_can_require_a_skill(client: TestClient, aguascalientes: World) -> None:
    world = aguascalientes
    rule = '{"segment_skills": [{"skill": "juridico", "products": ["libranza"]}]}'
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE tenants SET settings = settings || CAST(:s AS jsonb)"), {"s": rule}
        )
        session.execute(
            text(
                "UPDATE cases SET outstanding_cop = 50000000 "
                "WHERE external_ref IN ('AGS-1', 'AGS-2')"
            )
        )
    answer = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=world.auth("dispatcher")
    )
    plan = _wait(client, world, answer.json()["id"])
    assert plan["stats"]["planned"] == 0  # the only agent lacks the skill
    collection = client.get(f"/v1/plans/{plan['id']}/geojson", headers=world.auth("admin")).json()
    reasons = {f["properties"]["reason"] for f in collection["features"]}
    assert reasons == {"no_agent_with_skills"}
    big = '{"segment_skills": [{"skill": "legal", "min_outstanding_cop": 20000000}]}'
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE tenants SET settings = settings || CAST(:s AS jsonb)"), {"s": big}
        )
    answer = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=world.auth("dispatcher")
    )
    assert _wait(client, world, answer.json()["id"])["stats"]["planned"] > 0  # the agent has it


def test_a_stored_plan_is_audited_from_its_tables(
    client: TestClient, aguascalientes: World
) -> None:
    from typer.testing import CliRunner

    from geo.cli.commands import app

    world = aguascalientes
    user = client.post(
        "/v1/users",
        json={"email": "g2@alfa.co", "full_name": "G2", "role": "agent", "password": "x" * 10},
        headers=world.auth("admin"),
    ).json()
    client.post(
        "/v1/agents",
        json={
            "user_id": user["id"],
            "code": "G2",
            "base": [-102.27, 21.87],
            "travel_mode": "car",
            "shift_start": "09:00",
            "shift_end": "13:00",
            "daily_capacity": 12,
        },
        headers=world.auth("admin"),
    )
    made = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=world.auth("dispatcher")
    ).json()
    plan = _wait(client, world, made["id"])
    url = f"/v1/plans/{plan['id']}/check"
    sound = client.get(url, headers=world.auth("dispatcher")).json()
    assert sound["ok"] is True, sound["problems"]
    collection = client.get(
        f"/v1/plans/{plan['id']}/geojson", headers=world.auth("dispatcher")
    ).json()
    utm = Transformer.from_crs(4326, 32613, always_xy=True)  # Aguascalientes' UTM zone
    hulls = []
    stops = [f for f in collection["features"] if f["properties"]["kind"] == "stop"]
    for agent in {f["properties"]["agent_id"] for f in stops}:
        points = [
            utm.transform(*f["geometry"]["coordinates"])
            for f in stops
            if f["properties"]["agent_id"] == agent
        ]
        if len(points) >= 3:
            hulls.append(shapely.MultiPoint(points).convex_hull)
    pairs = [a.intersection(b) for k, a in enumerate(hulls) for b in hulls[k + 1 :]]
    shared = shapely.union_all(pairs).area if pairs else 0
    union = shapely.union_all(hulls).area if hulls else 0
    assert sound["route_overlap"] == pytest.approx(shared / union if union else 0, abs=1e-3)
    assert sound["planned"] == plan["stats"]["planned"]
    assert sum(sound["unplanned_by_reason"].values()) == plan["stats"]["unplanned"]
    with tenant_session(world.tenant_id) as session:  # the third stop, teleported
        session.execute(
            text(
                "UPDATE plan_stops SET eta = eta - interval '2 hours', "
                "starts_at = starts_at - interval '2 hours', etd = etd - interval '2 hours' "
                "WHERE plan_id = :p AND seq = 3"
            ),
            {"p": plan["id"]},
        )
        session.execute(text("UPDATE agents SET daily_capacity = 2"))
    broken = client.get(url, headers=world.auth("dispatcher")).json()
    rules = {p["rule"] for p in broken["problems"]}
    assert {"capacity", "order"} <= rules
    result = CliRunner().invoke(app, ["check-plan", "-t", world.slug, "--plan", str(plan["id"])])
    assert result.exit_code == 3
    assert "capacity" in result.output
    assert client.get("/v1/plans/999999/check", headers=world.auth("dispatcher")).status_code == 404


def test_a_case_far_from_any_street_is_left_out_saying_so(
    client: TestClient, aguascalientes: World
) -> None:
    world = aguascalientes
    with tenant_session(world.tenant_id) as session:  # 3 km west of the extract's streets
        far = session.execute(
            text(
                "UPDATE addresses SET point = ST_SetSRID(ST_MakePoint(-102.31, 21.87), 4326) "
                "WHERE id = (SELECT address_id FROM cases WHERE external_ref = 'AGS-39') "
                "RETURNING (SELECT id FROM cases WHERE external_ref = 'AGS-39')"
            )
        ).scalar_one()
    made = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=world.auth("dispatcher")
    ).json()
    plan = _wait(client, world, made["id"])
    collection = client.get(
        f"/v1/plans/{plan['id']}/geojson", headers=world.auth("dispatcher")
    ).json()
    reasons = {
        f["properties"]["case_id"]: f["properties"]["reason"]
        for f in collection["features"]
        if f["properties"]["kind"] == "unplanned"
    }
    assert reasons[far] == "far_from_street"
    assert plan["stats"]["walk_m"] > 0
    assert plan["stats"]["ride_m"] > plan["stats"]["walk_m"]


def test_a_pinned_case_stays_with_its_agent_and_pins_are_checked(
    client: TestClient, aguascalientes: World, other_world: World
) -> None:
    world = aguascalientes
    staff = world.auth("dispatcher")
    answer = client.post("/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=staff)
    first = _wait(client, world, answer.json()["id"])
    with tenant_session(world.tenant_id) as session:
        case_id = session.execute(
            text("SELECT case_id FROM plan_stops WHERE plan_id = :p ORDER BY seq DESC LIMIT 1"),
            {"p": first["id"]},
        ).scalar_one()
    queued = client.post(
        f"/v1/plans/{first['id']}/pins",
        json={"case_id": case_id, "agent_id": world.agent_id},
        headers=staff,
    )
    assert queued.status_code == 202, queued.text
    again = _wait(client, world, queued.json()["id"])
    assert again["options"]["pins"] == {str(case_id): world.agent_id}
    with tenant_session(world.tenant_id) as session:
        on_route = session.execute(
            text("SELECT agent_id FROM plan_stops WHERE plan_id = :p AND case_id = :c"),
            {"p": again["id"], "c": case_id},
        ).scalar_one()
    assert on_route == world.agent_id
    # Another tenant's case or agent, guessed by id, is refused by name; nothing is queued.
    with tenant_session(other_world.tenant_id) as session:
        theirs = session.execute(text("SELECT id FROM cases ORDER BY id LIMIT 1")).scalar_one()
    for pin in (
        {"case_id": theirs, "agent_id": world.agent_id},
        {"case_id": case_id, "agent_id": other_world.agent_id},
    ):
        refused = client.post(
            "/v1/plans", json={"date": "2026-11-24", "budget_s": 1, "pins": [pin]}, headers=staff
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["fields"][0]["field"] == "pins"
    not_done = client.post(
        "/v1/plans", json={"date": "2026-11-25", "budget_s": 1}, headers=staff
    ).json()
    early = client.post(
        f"/v1/plans/{not_done['id']}/pins",
        json={"case_id": case_id, "agent_id": world.agent_id},
        headers=staff,
    )
    assert early.status_code in (202, 409)  # 409 unless the worker finished it meanwhile
