"""Roles per endpoint, and agents that act only as themselves."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/v1/users", {"admin"}),
        ("get", "/v1/agents", {"admin", "dispatcher"}),
        ("get", "/v1/cases", {"admin", "dispatcher", "analyst", "agent"}),
    ],
)
def test_read_permissions(
    client: TestClient, world: World, method: str, path: str, allowed: set[str]
) -> None:
    for role in ("admin", "dispatcher", "analyst", "agent"):
        answer = client.request(method, path, headers=world.auth(role))
        assert answer.status_code == (200 if role in allowed else 403), (role, answer.text)


def test_only_staff_change_cases(client: TestClient, world: World) -> None:
    case = world.case_ids[1]
    for role, status in (("agent", 403), ("analyst", 403), ("dispatcher", 200), ("admin", 200)):
        answer = client.patch(f"/v1/cases/{case}", json={"priority": 77}, headers=world.auth(role))
        assert answer.status_code == status, role


def test_only_admins_create_users(client: TestClient, world: World) -> None:
    body = {
        "email": "nuevo@alfa.co",
        "full_name": "Nuevo",
        "role": "dispatcher",
        "password": "una clave larga",
    }
    assert client.post("/v1/users", json=body, headers=world.auth("dispatcher")).status_code == 403
    created = client.post("/v1/users", json=body, headers=world.auth("admin"))
    assert created.status_code == 201
    again = client.post("/v1/users", json=body, headers=world.auth("admin"))
    assert again.status_code == 409
    assert again.json()["error"]["fields"][0]["field"] == "email"


def test_agent_sees_only_own_cases_whatever_it_asks(client: TestClient, world: World) -> None:
    mine = world.case_ids[0]  # assigned to the agent by build_world
    listed = client.get("/v1/cases?unassigned=true", headers=world.auth("agent")).json()["items"]
    assert [c["id"] for c in listed] == [mine]
    assert client.get(f"/v1/cases/{mine}", headers=world.auth("agent")).status_code == 200
    assert (
        client.get(f"/v1/cases/{world.case_ids[1]}", headers=world.auth("agent")).status_code == 404
    )
    me = client.get("/v1/me", headers=world.auth("agent")).json()
    assert me["agent_id"] == world.agent_id
    assert me["role"] == "agent"


def test_admin_creates_an_agent_and_bad_input_names_the_field(
    client: TestClient, world: World
) -> None:
    user = client.post(
        "/v1/users",
        headers=world.auth("admin"),
        json={
            "email": "g2@alfa.co",
            "full_name": "Gestor Dos",
            "role": "agent",
            "password": "una clave larga",
        },
    ).json()
    body = {"user_id": user["id"], "code": "G2", "base": [-74.1, 4.6], "travel_mode": "walk"}
    bad = client.post(
        "/v1/agents", headers=world.auth("admin"), json={**body, "base": [4.6, -174.1]}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"].startswith("base")
    created = client.post("/v1/agents", headers=world.auth("admin"), json=body)
    assert created.status_code == 201, created.text
    assert created.json()["base"] == {"type": "Point", "coordinates": [-74.1, 4.6]}
    not_agent = client.post(
        "/v1/agents",
        headers=world.auth("admin"),
        json={
            **body,
            "user_id": client.get("/v1/me", headers=world.auth("dispatcher")).json()["user_id"],
            "code": "X",
        },
    )
    assert not_agent.status_code == 422
    assert not_agent.json()["error"]["fields"][0]["field"] == "user_id"
