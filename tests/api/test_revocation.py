"""Revocation reaches every channel within one request: a user deactivated or an agent taken
off the field stops their API token, console session, ODK Collect and web-app keys, Traccar
Client and OwnTracks at once; a device switched off stops that phone and nothing else."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.collect import agent_user_id, phone
from tests.conftest import World
from tests.gps import on_shift

pytestmark = pytest.mark.clock


@dataclass(frozen=True)
class Channels:
    """Every way the field agent of a world reaches campo, with each phone's device id."""

    devices: dict[str, int]
    works: dict[str, Callable[[], bool]]


def _channels(client: TestClient, world: World) -> Channels:
    admin = world.auth("admin")
    collect = phone(client, world)
    web = client.post("/v1/me/web-app", headers=world.auth("agent")).json()["key"]
    made = {
        protocol: client.post(
            "/v1/devices", json={"agent_id": world.agent_id, "protocol": protocol}, headers=admin
        ).json()
        for protocol in ("osmand", "owntracks")
    }
    listed = client.get("/v1/devices", params={"agent_id": world.agent_id}, headers=admin).json()
    ids = {d["identifier"]: d["id"] for d in listed}
    user, device = made["owntracks"]["identifier"].split("/")
    secret = base64.b64encode(f"{user}:{made['owntracks']['secret']}".encode()).decode()
    basic = {"Authorization": f"Basic {secret}", "X-Limit-D": device}
    minute = iter(range(60))

    def osmand() -> bool:
        at = int(on_shift(minute=next(minute)).timestamp())
        fix = {"id": made["osmand"]["identifier"], "timestamp": str(at), "lat": "4.6486"}
        return client.get("/osmand", params={**fix, "lon": "-74.06"}).status_code == 200

    def owntracks() -> bool:
        at = int(on_shift(minute=next(minute)).timestamp())
        fix = {"_type": "location", "lat": 4.6486, "lon": -74.06, "tst": at, "acc": 10}
        return client.post("/owntracks", json=fix, headers=basic).status_code == 200

    def console() -> bool:
        client.cookies.set("campo_token", world.tokens["agent"])
        try:
            return client.get("/agente", follow_redirects=False).status_code == 200
        finally:
            client.cookies.clear()

    return Channels(
        devices={
            "collect": ids[collect],
            "web": ids[web],
            "osmand": ids[made["osmand"]["identifier"]],
            "owntracks": ids[made["owntracks"]["identifier"]],
        },
        works={
            "api": lambda: client.get("/v1/me/day", headers=world.auth("agent")).status_code == 200,
            "console": console,
            "collect": lambda: client.get(f"/openrosa/key/{collect}/formList").status_code == 200,
            "web": lambda: client.get(f"/openrosa/key/{web}/formList").status_code == 200,
            "osmand": osmand,
            "owntracks": owntracks,
        },
    )


def _working(channels: Channels) -> set[str]:
    return {name for name, works in channels.works.items() if works()}


@pytest.mark.parametrize("who", ["user", "agent"])
def test_a_person_who_leaves_loses_every_channel_at_once(
    client: TestClient, world: World, who: str
) -> None:
    channels = _channels(client, world)
    assert _working(channels) == set(channels.works)
    path = f"/v1/users/{agent_user_id(world)}" if who == "user" else f"/v1/agents/{world.agent_id}"
    off = client.patch(path, json={"active": False}, headers=world.auth("admin"))
    assert off.status_code == 200, off.text
    assert _working(channels) == set()
    back = client.patch(path, json={"active": True}, headers=world.auth("admin"))
    assert back.status_code == 200, back.text
    assert _working(channels) == set(channels.works)


def test_a_phone_switched_off_stops_that_phone_only(client: TestClient, world: World) -> None:
    channels = _channels(client, world)
    for name, device_id in channels.devices.items():
        off = client.patch(
            f"/v1/devices/{device_id}", json={"active": False}, headers=world.auth("admin")
        )
        assert off.status_code == 200, off.text
        assert _working(channels) == set(channels.works) - {name}, name
        client.patch(f"/v1/devices/{device_id}", json={"active": True}, headers=world.auth("admin"))
    assert _working(channels) == set(channels.works)
