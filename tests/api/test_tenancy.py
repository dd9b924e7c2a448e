"""Tenant A can neither read, list, change nor infer tenant B's rows, by API or in SQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from geo.core.db import app_engine, tenant_session
from tests.conftest import World


def test_guessed_case_ids_of_another_tenant_are_404(
    client: TestClient, world: World, other_world: World
) -> None:
    for case_id in other_world.case_ids:
        answer = client.get(f"/v1/cases/{case_id}", headers=world.auth("dispatcher"))
        assert answer.status_code == 404
        assert (
            answer.json()
            == client.get("/v1/cases/999999999", headers=world.auth("dispatcher")).json()
        )


def test_cannot_change_another_tenants_case(
    client: TestClient, world: World, other_world: World
) -> None:
    target = other_world.case_ids[1]
    answer = client.patch(
        f"/v1/cases/{target}",
        json={"priority": 99, "status": "written_off"},
        headers=world.auth("admin"),
    )
    assert answer.status_code == 404
    mine = client.get(f"/v1/cases/{target}", headers=other_world.auth("dispatcher")).json()
    assert (mine["priority"], mine["status"]) != (99, "written_off")


def test_lists_and_maps_show_only_own_rows(
    client: TestClient, world: World, other_world: World
) -> None:
    listed = client.get("/v1/cases", headers=world.auth("dispatcher")).json()["items"]
    assert sorted(c["id"] for c in listed) == world.case_ids
    assert all(c["external_ref"].startswith("ALFA-") for c in listed)
    features = client.get("/v1/cases/geojson", headers=world.auth("dispatcher")).json()["features"]
    assert {f["id"] for f in features} <= set(world.case_ids)
    agents = client.get("/v1/agents", headers=world.auth("dispatcher")).json()
    assert [a["id"] for a in agents] == [world.agent_id]
    users = client.get("/v1/users", headers=world.auth("admin")).json()
    assert all(u["email"].endswith("@alfa.co") for u in users)


def test_cannot_infer_other_tenants_agents_through_assignment(
    client: TestClient, world: World, other_world: World
) -> None:
    """Assigning to B's agent and to a non-existent agent give the very same answer."""
    case = world.case_ids[1]
    foreign = client.patch(
        f"/v1/cases/{case}",
        json={"assigned_agent_id": other_world.agent_id},
        headers=world.auth("dispatcher"),
    )
    missing = client.patch(
        f"/v1/cases/{case}",
        json={"assigned_agent_id": 987654321},
        headers=world.auth("dispatcher"),
    )
    assert foreign.status_code == missing.status_code == 422
    assert foreign.json() == missing.json()
    assert foreign.json()["error"]["fields"][0]["field"] == "assigned_agent_id"
    answer = client.get(f"/v1/agents/{other_world.agent_id}", headers=world.auth("dispatcher"))
    assert answer.status_code == 404


def test_same_external_ref_and_email_may_exist_in_two_tenants(
    world: World, other_world: World
) -> None:
    """Keys are per tenant: B's refs and e-mails reveal nothing to A and do not collide."""
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE cases SET external_ref = 'SHARED-1' WHERE id = :id"),
            {"id": world.case_ids[0]},
        )
    with tenant_session(other_world.tenant_id) as session:
        session.execute(
            text("UPDATE cases SET external_ref = 'SHARED-1' WHERE id = :id"),
            {"id": other_world.case_ids[0]},
        )


def test_row_level_security_holds_without_the_application_filter(
    world: World, other_world: World
) -> None:
    """Raw SQL as the application role: the database itself keeps tenants apart."""
    with tenant_session(world.tenant_id) as session:
        tenants = session.execute(text("SELECT DISTINCT tenant_id FROM cases")).scalars().all()
        visible_tenants = session.execute(text("SELECT id FROM tenants")).scalars().all()
        updated = session.execute(
            text("UPDATE cases SET priority = 0 WHERE tenant_id = :b"), {"b": other_world.tenant_id}
        ).rowcount
    assert tenants == [world.tenant_id]
    assert visible_tenants == [world.tenant_id]
    assert updated == 0
    with tenant_session(None) as session:
        assert session.execute(text("SELECT count(*) FROM cases")).scalar() == 0
    with (
        pytest.raises(ProgrammingError, match="row-level security"),
        tenant_session(world.tenant_id) as session,
    ):
        session.execute(
            text(
                "INSERT INTO debtors (tenant_id, document_type, document_number, full_name) "
                "VALUES (:b, 'CC', '1', 'Intruso')"
            ),
            {"b": other_world.tenant_id},
        )
    with (
        pytest.raises(ProgrammingError, match="row-level security policy"),
        app_engine().begin() as conn,
    ):
        conn.execute(text("SET LOCAL row_security = off; SELECT count(*) FROM cases"))
