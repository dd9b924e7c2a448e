"""Traccar Client / OsmAnd and OwnTracks, with payloads shaped as those apps send them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World
from tests.gps import on_shift, stored_fixes

pytestmark = pytest.mark.clock

KNOT = 1852 / 3600


def _register(client: TestClient, world: World, protocol: str) -> Any:
    body = {"agent_id": world.agent_id, "protocol": protocol}
    answer = client.post("/v1/devices", json=body, headers=world.auth("admin"))
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture
def osmand(client: TestClient, world: World) -> str:
    return str(_register(client, world, "osmand")["identifier"])


def test_osmand_query_string_as_traccar_client_sends_it(
    client: TestClient, world: World, osmand: str
) -> None:
    at = int(on_shift().timestamp())
    params = {
        "id": osmand,
        "timestamp": str(at),
        "lat": "4.6486",
        "lon": "-74.0628",
        "speed": "10.0",
        "bearing": "271.5",
        "altitude": "2601.0",
        "accuracy": "0.0",
        "batt": "63.0",
        "charge": "false",
        "hdop": "0.9",
        "valid": "true",
    }
    first = client.get("/osmand", params=params)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "stored"
    again = client.post("/osmand", params=params)  # the client retrying after a lost answer
    assert again.json()["status"] == "duplicate"
    (fix,) = stored_fixes(world.tenant_id)
    assert fix["recorded_at"].timestamp() == at
    assert (fix["lon"], fix["lat"]) == (-74.0628, 4.6486)
    assert fix["speed_mps"] == pytest.approx(10 * KNOT)
    assert fix["accuracy_m"] is None  # 0 from an older client means unknown, not perfect
    assert (fix["heading_deg"], fix["altitude_m"], fix["battery_pct"]) == (271.5, 2601.0, 63.0)
    assert fix["charging"] is False
    assert fix["source"] == "osmand"
    assert fix["attributes"] == {"hdop": "0.9", "valid": "true"}
    assert fix["device_id"] is not None


def test_osmand_timestamps_in_milliseconds_and_iso_location_form(
    client: TestClient, world: World, osmand: str
) -> None:
    at = on_shift()
    millis = {
        "deviceid": osmand,
        "timestamp": str(int(at.timestamp() * 1000)),
        "location": "4.65,-74.06",
    }
    assert client.get("/osmand", params=millis).json()["status"] == "stored"
    iso = {
        "id": osmand,
        "timestamp": at.replace(minute=5).isoformat(),
        "lat": "4.66",
        "lon": "-74.05",
    }
    assert client.post("/osmand", data=iso).json()["status"] == "stored"  # form POST
    fixes = stored_fixes(world.tenant_id)
    assert [f["recorded_at"] for f in fixes] == [at, at.replace(minute=5)]
    assert (fixes[0]["lat"], fixes[0]["lon"]) == (4.65, -74.06)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "0001-01-01T00:00:00+14:00"}, "timestamp"),
        ({"lat": "95"}, "lat"),
        ({"lon": "abc"}, "lon"),
    ],
)
def test_osmand_bad_positions_are_refused_naming_the_parameter(
    client: TestClient, world: World, osmand: str, change: dict[str, str], field: str
) -> None:
    params = {
        "id": osmand,
        "timestamp": str(int(on_shift().timestamp())),
        "lat": "4.6",
        "lon": "-74.1",
        **change,
    }
    answer = client.get("/osmand", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"][0]["field"] == field
    assert stored_fixes(world.tenant_id) == []


def test_unknown_or_disabled_devices_store_nothing(
    client: TestClient, world: World, osmand: str
) -> None:
    params = {
        "id": "99999999",
        "timestamp": str(int(on_shift().timestamp())),
        "lat": "4.6",
        "lon": "-74.1",
    }
    answer = client.get("/osmand", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"][0]["field"] == "id"
    assert client.get("/osmand", params={"lat": "4.6"}).status_code == 400
    device_id = client.get("/v1/devices", headers=world.auth("admin")).json()[0]["id"]
    client.patch(f"/v1/devices/{device_id}", json={"active": False}, headers=world.auth("admin"))
    disabled = client.get("/osmand", params={**params, "id": osmand})
    assert disabled.status_code == 400
    assert disabled.content == answer.content  # unknown and disabled cannot be told apart
    assert stored_fixes(world.tenant_id) == []


def _traccar_json(identifier: str, at: str, **coords: Any) -> dict[str, Any]:
    """The body Traccar Client 9+ posts (its documented background-geolocation shape)."""
    return {
        "location": {
            "timestamp": at,
            "coords": {
                "latitude": 4.6486,
                "longitude": -74.0628,
                "accuracy": 8.5,
                "speed": 1.4,
                "heading": 90.0,
                "altitude": 2600.0,
                **coords,
            },
            "is_moving": True,
            "odometer": 1520.4,
            "event": "motionchange",
            "battery": {"level": 0.63, "is_charging": True},
            "activity": {"type": "walking"},
            "extras": {},
        },
        "device_id": identifier,
    }


def test_traccar_client_9_json(client: TestClient, world: World, osmand: str) -> None:
    at = on_shift().astimezone().isoformat().replace("+00:00", "Z")
    answer = client.post("/osmand", json=_traccar_json(osmand, at))
    assert answer.status_code == 200, answer.text
    assert answer.json()["positions"][0]["status"] == "stored"
    unknown = client.post("/osmand", json=_traccar_json(osmand, at, speed=-1, heading=-1))
    assert unknown.json()["positions"][0]["status"] == "duplicate"  # same device, same time
    (fix,) = stored_fixes(world.tenant_id)
    assert (fix["battery_pct"], fix["charging"], fix["speed_mps"]) == (63.0, True, 1.4)
    assert fix["attributes"]["is_moving"] is True
    assert fix["attributes"]["activity"] == {"type": "walking"}
    later = _traccar_json(osmand, on_shift(minute=1).isoformat(), speed=-1, accuracy=0)
    client.post("/osmand", json=later)
    newest = stored_fixes(world.tenant_id)[-1]
    assert newest["speed_mps"] is None
    assert newest["accuracy_m"] is None
    bad = _traccar_json(osmand, on_shift(minute=2).isoformat(), latitude="4.6")
    refused = client.post("/osmand", json=bad)
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"][0]["field"] == "location.coords.latitude"
    broken = client.post("/osmand", content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 400


@pytest.fixture
def owntracks(client: TestClient, world: World) -> tuple[str, str, str]:
    """(user, device, password) as campo issued them."""
    device = _register(client, world, "owntracks")
    user, phone = device["identifier"].split("/")
    return user, phone, device["secret"]


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _owntracks_location(tst: int) -> dict[str, Any]:
    """A location message as the OwnTracks Android app posts it in HTTP mode."""
    return {
        "_type": "location",
        "acc": 14,
        "alt": 2598,
        "batt": 81,
        "bs": 1,
        "conn": "m",
        "created_at": tst + 3,
        "lat": 4.6486,
        "lon": -74.0628,
        "m": 1,
        "tid": "ap",
        "tst": tst,
        "vac": 3,
        "vel": 18,
        "cog": 45,
        "topic": "owntracks/ana/phone",
    }


def test_owntracks_http_mode(
    client: TestClient, world: World, owntracks: tuple[str, str, str]
) -> None:
    ana, phone, secret = owntracks
    tst = int(on_shift().timestamp())
    headers = {**_basic(ana, secret), "X-Limit-U": ana, "X-Limit-D": phone}
    answer = client.post("/owntracks", json=_owntracks_location(tst), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == []
    (fix,) = stored_fixes(world.tenant_id)
    assert fix["speed_mps"] == pytest.approx(5.0)  # 18 km/h
    assert (fix["accuracy_m"], fix["battery_pct"], fix["charging"]) == (14, 81, False)
    assert (fix["heading_deg"], fix["altitude_m"], fix["source"]) == (45, 2598, "owntracks")
    assert fix["attributes"]["tid"] == "ap"
    assert fix["attributes"]["conn"] == "m"
    # The same message again, with user and device in the query string instead.
    again = client.post(
        f"/owntracks?u={ana}&d={phone}", json=_owntracks_location(tst), headers=_basic(ana, secret)
    )
    assert again.status_code == 200
    assert len(stored_fixes(world.tenant_id)) == 1
    # Other message types are acknowledged and ignored; so is an empty body.
    card = {"_type": "transition", "event": "enter", "tst": tst, "lat": 4.6, "lon": -74.0}
    assert client.post("/owntracks", json=card, headers=headers).json() == []
    assert client.post("/owntracks", content=b"", headers=headers).json() == []
    assert len(stored_fixes(world.tenant_id)) == 1


def test_owntracks_needs_its_password(
    client: TestClient, world: World, owntracks: tuple[str, str, str]
) -> None:
    ana, phone, secret = owntracks
    tst = int(on_shift().timestamp())
    body = _owntracks_location(tst)
    wrong = client.post(
        "/owntracks", json=body, headers={**_basic(ana, "guess"), "X-Limit-D": phone}
    )
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic")
    assert client.post("/owntracks", json=body, headers={"X-Limit-D": phone}).status_code == 401
    mismatch = {**_basic(ana, secret), "X-Limit-U": "bob", "X-Limit-D": phone}
    assert client.post("/owntracks", json=body, headers=mismatch).status_code == 401
    no_device = client.post("/owntracks", json=body, headers=_basic(ana, secret))
    assert no_device.status_code == 400
    assert stored_fixes(world.tenant_id) == []


def test_devices_are_tenant_private_and_identifiers_unique(
    client: TestClient, world: World, other_world: World
) -> None:
    mine = _register(client, world, "osmand")
    assert len(mine["identifier"]) == 32  # 128 random bits: the OsmAnd protocol's only secret
    assert "secret" not in mine
    chosen = {
        "agent_id": other_world.agent_id,
        "protocol": "osmand",
        "identifier": mine["identifier"],
    }
    answer = client.post("/v1/devices", json=chosen, headers=other_world.auth("admin"))
    assert answer.status_code == 422  # campo issues identifiers: no oracle of who holds one
    assert answer.json()["error"]["fields"][0]["field"] == "identifier"
    assert client.get("/v1/devices", headers=other_world.auth("admin")).json() == []
    guessed = client.patch(
        f"/v1/devices/{mine['id']}", json={"active": False}, headers=other_world.auth("admin")
    )
    assert guessed.status_code == 404
    foreign_agent = {"agent_id": world.agent_id, "protocol": "osmand"}
    answer = client.post("/v1/devices", json=foreign_agent, headers=other_world.auth("admin"))
    assert answer.status_code == 404
    assert (
        client.post("/v1/devices", json=foreign_agent, headers=world.auth("dispatcher")).status_code
        == 403
    )


def test_what_real_clients_send_is_stored_with_what_was_assumed(
    client: TestClient, world: World, osmand: str
) -> None:
    """Sample requests of the OsmAnd protocol and the Traccar SDK's 'unknown' values."""
    client.patch(  # a fix timed on receipt may fall outside yesterday's shift
        "/v1/tenant/settings", json={"gps_shift_only": False}, headers=world.auth("admin")
    )
    local = on_shift(minute=3).astimezone(UTC).replace(tzinfo=None)
    base = {"id": osmand, "lat": "4.6486", "lon": "-74.0628"}
    no_offset = client.get(
        "/osmand", params={**base, "timestamp": local.strftime("%Y-%m-%d %H:%M:%S")}
    )
    assert no_offset.status_code == 200, no_offset.text
    no_time = client.get("/osmand", params={**base, "batt": "-1"})
    assert no_time.status_code == 200, no_time.text
    sdk = _traccar_json(osmand, on_shift(minute=4).isoformat())
    sdk["location"]["battery"] = {"level": -1, "is_charging": False}
    sdk["location"]["mock"] = True
    assert client.post("/osmand", json=sdk).status_code == 200
    fixes = {f["recorded_at"]: f for f in stored_fixes(world.tenant_id)}
    utc = fixes[local.replace(tzinfo=UTC)]
    assert utc["attributes"]["time_assumed"] == "utc"
    received = next(
        f for f in fixes.values() if (f["attributes"] or {}).get("time_assumed") == "received"
    )
    assert abs((received["recorded_at"] - datetime.now(UTC)).total_seconds()) < 60
    assert received["battery_pct"] is None
    mocked = next(f for f in fixes.values() if f["mock"])
    assert mocked["battery_pct"] is None


def test_owntracks_may_post_a_queue_of_messages(
    client: TestClient, world: World, owntracks: tuple[str, str, str]
) -> None:
    ana, phone, secret = owntracks
    headers = {**_basic(ana, secret), "X-Limit-D": phone}
    first, second = int(on_shift().timestamp()), int(on_shift(minute=1).timestamp())
    card = {"_type": "transition", "event": "enter", "tst": first}
    queue = [_owntracks_location(first), card, _owntracks_location(second)]
    assert client.post("/owntracks", json=queue, headers=headers).status_code == 200
    assert len(stored_fixes(world.tenant_id)) == 2
