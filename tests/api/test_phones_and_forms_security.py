"""A person who left takes their phones with them, and no questionnaire can break the form list
of a tenant's phones."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import owner_session, tenant_session
from tests.collect import agent_user_id, audit_csv, instance_xml, phone, send
from tests.conftest import World
from tests.gps import on_shift

pytestmark = pytest.mark.clock


def test_a_deactivated_users_phones_stop_at_once(client: TestClient, world: World) -> None:
    collect = phone(client, world)
    web = client.post("/v1/me/web-app", headers=world.auth("agent")).json()["key"]
    tracker = client.post(
        "/v1/devices",
        json={"agent_id": world.agent_id, "protocol": "osmand"},
        headers=world.auth("admin"),
    ).json()["identifier"]
    at = on_shift()
    fix = {"id": tracker, "timestamp": str(int(at.timestamp())), "lat": "4.6486", "lon": "-74.06"}
    assert client.get(f"/openrosa/key/{collect}/formList").status_code == 200
    assert client.get("/osmand", params=fix).status_code == 200
    left = client.patch(
        f"/v1/users/{agent_user_id(world)}", json={"active": False}, headers=world.auth("admin")
    )
    assert left.status_code == 200, left.text
    for key in (collect, web):
        assert client.get(f"/openrosa/key/{key}/formList").status_code == 404
        sent = send(
            client,
            key,
            instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}"),
            audit_csv(at, 8),
        )
        assert sent.status_code == 404
    later = {**fix, "timestamp": str(int(at.timestamp()) + 60)}
    assert client.get("/osmand", params=later).status_code >= 400
    with tenant_session(world.tenant_id) as session:
        assert session.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM gps_fixes")).scalar_one() == 1
    back = client.patch(
        f"/v1/users/{agent_user_id(world)}", json={"active": True}, headers=world.auth("admin")
    )
    assert back.status_code == 200
    assert client.get(f"/openrosa/key/{collect}/formList").status_code == 200


@pytest.mark.parametrize(
    "definition",
    [
        {"title": "Visita ${x}", "questions": [{"name": "nota", "type": "text"}]},
        {"questions": [{"name": "nota", "type": "text", "label": "Diga ${nadie}"}]},
    ],
)
def test_a_questionnaire_that_cannot_become_a_form_is_refused(
    client: TestClient, world: World, definition: dict[str, object]
) -> None:
    key = phone(client, world)
    made = client.post(
        "/v1/questionnaires",
        json={"key": "corta", "definition": definition},
        headers=world.auth("admin"),
    )
    assert made.status_code == 422, made.text
    assert made.json()["error"]["fields"][0]["field"] == "definition"
    listed = client.get(f"/openrosa/key/{key}/formList")
    assert listed.status_code == 200
    assert "campo-corta" not in listed.text


def test_a_broken_version_stored_earlier_leaves_the_other_forms_listed(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    assert client.get(f"/openrosa/key/{key}/formList").status_code == 200  # the default form
    with owner_session() as session:  # as a version stored before campo checked them
        session.execute(
            text(
                "INSERT INTO questionnaires (tenant_id, key, version, title, definition) "
                "VALUES (:t, 'rota', 1, 'Rota ${x}', CAST(:d AS jsonb))"
            ),
            {
                "t": world.tenant_id,
                "d": '{"title": "Rota ${x}", "questions": [{"name": "n", "type": "text"}]}',
            },
        )
    listed = client.get(f"/openrosa/key/{key}/formList")
    assert listed.status_code == 200
    assert "campo-cobranza" in listed.text
    assert "campo-rota" not in listed.text
    # The admins are told, on the console's questionnaires page; and the version can be retired.
    token = world.tokens["admin"]
    client.cookies.set("campo_token", token)
    try:
        page = client.get("/cuestionarios")
        assert 'data-state="broken"' in page.text
        assert "no se puede servir" in page.text
    finally:
        client.cookies.clear()
    broken = next(
        q
        for q in client.get("/v1/questionnaires", headers=world.auth("admin")).json()
        if q["key"] == "rota"
    )
    retired = client.patch(
        f"/v1/questionnaires/{broken['id']}", json={"retired": True}, headers=world.auth("admin")
    )
    assert retired.status_code == 200, retired.text
    assert retired.json()["retired"] is True


def _version(client: TestClient, world: World, title: str) -> dict[str, object]:
    made = client.post(
        "/v1/questionnaires",
        json={
            "key": "cobranza",
            "definition": {"title": title, "questions": [{"name": "nota", "type": "text"}]},
        },
        headers=world.auth("admin"),
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_an_admin_retires_a_version_and_phones_get_the_one_before(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    admin = world.auth("admin")
    first = _version(client, world, "Primera")
    second = _version(client, world, "Segunda")
    assert "Segunda" in client.get(f"/openrosa/key/{key}/formList").text
    assert (
        client.patch(
            f"/v1/questionnaires/{second['id']}",
            json={"retired": True},
            headers=world.auth("agent"),
        ).status_code
        == 403
    )
    off = client.patch(f"/v1/questionnaires/{second['id']}", json={"retired": True}, headers=admin)
    assert off.status_code == 200, off.text
    listed = client.get(f"/openrosa/key/{key}/formList").text
    assert "Primera" in listed
    assert "Segunda" not in listed
    with tenant_session(world.tenant_id) as session:
        audited = session.execute(
            text("SELECT after FROM audit_log WHERE subject = :s"),
            {"s": f"questionnaire:{second['id']}"},
        ).scalar_one()
    assert audited == {"retired": True}
    # The default questionnaire keeps one version in use.
    versions = client.get("/v1/questionnaires", headers=admin).json()
    for version in versions:
        if version["id"] != first["id"] and not version["retired"]:
            answer = client.patch(
                f"/v1/questionnaires/{version['id']}", json={"retired": True}, headers=admin
            )
            assert answer.status_code == 200, answer.text
    last = client.patch(f"/v1/questionnaires/{first['id']}", json={"retired": True}, headers=admin)
    assert last.status_code == 409, last.text
    assert last.json()["error"]["fields"][0]["field"] == "retired"
    assert "Primera" in client.get(f"/openrosa/key/{key}/formList").text
    # Brought back, the newest is served again; another tenant's version is not found.
    back = client.patch(
        f"/v1/questionnaires/{second['id']}", json={"retired": False}, headers=admin
    )
    assert back.json()["retired"] is False
    assert "Segunda" in client.get(f"/openrosa/key/{key}/formList").text


def test_a_version_of_another_tenant_cannot_be_retired(
    client: TestClient, world: World, other_world: World
) -> None:
    theirs = _version(client, other_world, "Ajena")
    guessed = client.patch(
        f"/v1/questionnaires/{theirs['id']}", json={"retired": True}, headers=world.auth("admin")
    )
    assert guessed.status_code == 404
    assert (
        client.get("/v1/questionnaires", headers=other_world.auth("admin")).json()[-1]["retired"]
        is False
    )
