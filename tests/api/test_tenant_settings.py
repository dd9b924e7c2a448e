"""Tenant settings over HTTP and the CLI: admins change them, bad values change nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geo.cli.commands import app
from tests.conftest import World


def test_admins_read_and_change_settings(client: TestClient, world: World) -> None:
    url = "/v1/tenant/settings"
    shown = client.get(url, headers=world.auth("dispatcher"))
    assert shown.status_code == 200
    assert shown.json()["timezone"] == "America/Bogota"
    assert shown.json()["agent_daily_capacity"] == 20
    change = {"notify_emails": ["jefe@alfa.co"], "geofence_radius_m": 60}
    assert client.patch(url, json=change, headers=world.auth("dispatcher")).status_code == 403
    changed = client.patch(url, json=change, headers=world.auth("admin"))
    assert changed.status_code == 200
    assert changed.json()["geofence_radius_m"] == 60
    assert client.get(url, headers=world.auth("admin")).json()["notify_emails"] == ["jefe@alfa.co"]
    geofence = client.get(
        f"/v1/cases/{world.case_ids[0]}/geofence", headers=world.auth("dispatcher")
    )
    assert geofence.json()["radius_m"] == 60
    reset = client.patch(url, json={"geofence_radius_m": None}, headers=world.auth("admin"))
    assert reset.json()["geofence_radius_m"] == 75
    assert reset.json()["notify_emails"] == ["jefe@alfa.co"]


def test_a_bad_value_is_a_422_naming_it_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    url = "/v1/tenant/settings"
    before = client.get(url, headers=world.auth("admin")).json()
    for body, field in [
        ({"timezone": "America/Bogota", "geofence_radius_m": 0}, "geofence_radius_m"),
        ({"colour": "red"}, "colour"),
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"street_network": "/no/such/extract.osm.pbf"}, "street_network"),
    ]:
        answer = client.patch(url, json=body, headers=world.auth("admin"))
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["fields"][0]["field"] == field
    assert client.patch(url, json=[1, 2], headers=world.auth("admin")).status_code == 422
    assert client.get(url, headers=world.auth("admin")).json() == before


def test_settings_are_per_tenant(client: TestClient, world: World, other_world: World) -> None:
    url = "/v1/tenant/settings"
    client.patch(url, json={"timezone": "America/Lima"}, headers=world.auth("admin"))
    assert client.get(url, headers=other_world.auth("admin")).json()["timezone"] == "America/Bogota"


def test_new_agents_take_the_tenants_defaults(client: TestClient, world: World) -> None:
    client.patch(
        "/v1/tenant/settings",
        json={"agent_daily_capacity": 9, "agent_shift_start": "07:00"},
        headers=world.auth("admin"),
    )
    user = client.post(
        "/v1/users",
        json={"email": "g2@alfa.co", "full_name": "G2", "role": "agent", "password": "x" * 10},
        headers=world.auth("admin"),
    ).json()
    agent = client.post(
        "/v1/agents",
        json={"user_id": user["id"], "code": "G2", "base": [-74.1, 4.6], "travel_mode": "walk"},
        headers=world.auth("admin"),
    )
    assert agent.status_code == 201, agent.text
    assert agent.json()["daily_capacity"] == 9
    assert agent.json()["shift_start"] == "07:00:00"
    assert agent.json()["shift_end"] == "17:00:00"


def test_the_cli_shows_and_sets_settings(world: World) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["tenant", "settings", "set", "-t", "alfa", "visit_hours=[8,18]"])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["tenant", "settings", "show", "-t", "alfa"])
    assert shown.exit_code == 0
    assert "visit_hours" in shown.output
    assert "[8, 18]" in shown.output
    refused = runner.invoke(app, ["tenant", "settings", "set", "-t", "alfa", "timezone=Mars"])
    assert refused.exit_code == 1
    assert "timezone" in refused.output
    malformed = runner.invoke(app, ["tenant", "settings", "set", "-t", "alfa", "timezone"])
    assert malformed.exit_code == 2
