"""Outcomes: answers checked against the questionnaire version used, promises, idempotency."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import tenant_session
from tests.conftest import World
from tests.gps import on_shift
from tests.visits import check_in, fix_at, sync

pytestmark = pytest.mark.clock

V1 = {"key": "cobranza", "version": 1}


def _open_visit(client: TestClient, world: World, minute: int = 0) -> int:
    answer = check_in(client, world, fix_at(on_shift(minute=minute), 10))
    assert answer.json()["verdict"] == "accepted", answer.text
    return int(answer.json()["visit_id"])


def _outcome(client: TestClient, world: World, visit_id: int, **body: Any) -> Any:
    payload = {
        "id": str(uuid.uuid4()),
        "questionnaire": V1,
        "checkout_at": on_shift(minute=25).isoformat(),
        **body,
    }
    return client.post(f"/v1/visits/{visit_id}/outcome", json=payload, headers=world.auth("agent"))


def _fields(answer: Any) -> list[str]:
    return [f["field"] for f in answer.json()["error"]["fields"]]


def test_a_promise_to_pay(client: TestClient, world: World) -> None:
    visit_id = _open_visit(client, world)
    due = (on_shift(minute=25).date() + timedelta(days=10)).isoformat()
    answers = {
        "contact_made": "si",
        "who_answered": "titular",
        "promise_amount": 350000,
        "promise_date": due,
        "payment_amount": 5,
        "comments": "Paga el día 10",
    }
    answer = _outcome(client, world, visit_id, outcome="promise_to_pay", answers=answers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["promise_id"] is not None
    visit = client.get(f"/v1/visits/{visit_id}", headers=world.auth("dispatcher")).json()
    assert visit["status"] == "completed"
    assert visit["promise_amount_cop"] == 350000
    assert visit["promise_due_date"] == due
    assert "payment_amount" not in visit["answers"]  # not relevant to a promise: dropped
    with tenant_session(world.tenant_id) as session:
        assert session.scalar(text("SELECT count(*) FROM promises")) == 1


def test_each_question_at_fault_is_listed(client: TestClient, world: World) -> None:
    visit_id = _open_visit(client, world)
    answer = _outcome(
        client,
        world,
        visit_id,
        outcome="promise_to_pay",
        answers={"contact_made": "quizás", "new_phone": "12", "color": "azul"},
    )
    assert answer.status_code == 422
    assert sorted(_fields(answer)) == sorted(
        [
            "answers.color",
            "answers.contact_made",
            "answers.promise_amount",
            "answers.promise_date",
            "answers.new_phone",
        ]
    )
    past = _outcome(
        client,
        world,
        visit_id,
        outcome="promise_to_pay",
        answers={"contact_made": "no", "promise_amount": 1000, "promise_date": "2020-01-01"},
    )
    assert _fields(past) == ["answers.promise_date"]
    assert "90 días" in past.json()["error"]["fields"][0]["message"]
    unknown = _outcome(client, world, visit_id, outcome="bribed", answers={})
    assert unknown.status_code == 422
    assert _fields(unknown) == ["outcome"]
    visit = client.get(f"/v1/visits/{visit_id}", headers=world.auth("agent")).json()
    assert visit["status"] == "open"  # nothing stored by the refused attempts


def test_resent_outcome_returns_the_first_answer(client: TestClient, world: World) -> None:
    visit_id = _open_visit(client, world)
    body = {
        "id": str(uuid.uuid4()),
        "outcome": "no_one_home",
        "questionnaire": V1,
        "answers": {"contact_made": "no"},
        "checkout_at": on_shift(minute=5).isoformat(),
    }
    url = f"/v1/visits/{visit_id}/outcome"
    first = client.post(url, json=body, headers=world.auth("agent"))
    again = client.post(url, json=body, headers=world.auth("agent"))
    assert first.status_code == again.status_code == 200
    assert first.json() == {**again.json(), "notified": first.json()["notified"]}
    other = client.post(url, json={**body, "id": str(uuid.uuid4())}, headers=world.auth("agent"))
    assert other.status_code == 409


def test_outcome_rules_and_tenancy(client: TestClient, world: World, other_world: World) -> None:
    rejected = check_in(client, world, fix_at(on_shift(), 900)).json()["visit_id"]
    assert (
        _outcome(
            client, world, rejected, outcome="contact", answers={"contact_made": "no"}
        ).status_code
        == 409
    )
    visit_id = _open_visit(client, world, minute=2)
    assert (
        _outcome(
            client, other_world, visit_id, outcome="contact", answers={"contact_made": "no"}
        ).status_code
        == 404
    )
    early = _outcome(
        client,
        world,
        visit_id,
        outcome="contact",
        answers={"contact_made": "no"},
        checkout_at=on_shift(minute=-30).isoformat(),
    )
    assert _fields(early) == ["checkout_at"]
    wrong_version = _outcome(
        client,
        world,
        visit_id,
        outcome="contact",
        answers={"contact_made": "no"},
        questionnaire={"key": "cobranza", "version": 9},
    )
    assert wrong_version.status_code == 404


def test_versions_are_kept_and_validated_as_used(client: TestClient, world: World) -> None:
    definition = {
        "title": "v2",
        "questions": [
            {
                "name": "contact_made",
                "type": "select_one",
                "required": True,
                "choices": [{"name": "si"}, {"name": "no"}],
            },
            {
                "name": "visited_floor",
                "type": "integer",
                "required": True,
                "constraint": ". >= 1 and . <= 40",
            },
        ],
    }
    made = client.post(
        "/v1/questionnaires",
        json={"key": "cobranza", "definition": definition},
        headers=world.auth("admin"),
    )
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 2
    visit_id = _open_visit(client, world)
    v1 = _outcome(
        client,
        world,
        visit_id,
        outcome="contact",
        answers={"contact_made": "si", "who_answered": "familiar"},
    )
    assert v1.status_code == 200, v1.text
    other = _open_visit_on_second_case(client, world)
    v2 = _outcome(
        client,
        world,
        other,
        outcome="contact",
        answers={"contact_made": "si"},
        questionnaire={"key": "cobranza", "version": 2},
        checkout_at=on_shift(minute=55).isoformat(),
    )
    assert _fields(v2) == ["answers.visited_floor"]
    broken = {
        "questions": [
            {"name": "a", "type": "text", "relevant": "${b} = 1"},
            {"name": "b", "type": "integer"},
        ]
    }
    refused = client.post(
        "/v1/questionnaires",
        json={"key": "roto", "definition": broken},
        headers=world.auth("admin"),
    )
    assert refused.status_code == 422
    assert _fields(refused) == ["definition.questions.0.relevant"]
    keys = {
        (q["key"], q["version"])
        for q in client.get("/v1/questionnaires", headers=world.auth("agent")).json()
    }
    assert keys == {("cobranza", 1), ("cobranza", 2)}


def _open_visit_on_second_case(client: TestClient, world: World) -> int:
    client.patch(
        f"/v1/cases/{world.case_ids[1]}",
        json={"assigned_agent_id": world.agent_id},
        headers=world.auth("dispatcher"),
    )
    with tenant_session(world.tenant_id) as session:  # move its address next to the first
        session.execute(
            text(
                "UPDATE addresses SET point = ST_SetSRID(ST_MakePoint(-74.0589, 4.6565), 4326), "
                "geocode_quality = 'manual' WHERE id = (SELECT address_id FROM cases "
                "WHERE id = :id)"
            ),
            {"id": world.case_ids[1]},
        )
    answer = check_in(client, world, fix_at(on_shift(minute=40), 12), case=1)
    assert answer.json()["verdict"] == "accepted", answer.text
    return int(answer.json()["visit_id"])


def test_offline_outcome_names_its_check_in(client: TestClient, world: World) -> None:
    checkin_id = str(uuid.uuid4())
    fix = fix_at(on_shift(), 10)
    batch = sync(
        client,
        world,
        fixes=[fix_at(on_shift(minute=-1), 40)],
        checkins=[
            {
                "id": checkin_id,
                "case_id": world.case_ids[0],
                "fix": fix,
                "checked_in_at": on_shift(minute=1).isoformat(),
            }
        ],
        outcomes=[
            {
                "id": str(uuid.uuid4()),
                "checkin_id": checkin_id,
                "outcome": "paid",
                "questionnaire": V1,
                "answers": {
                    "contact_made": "si",
                    "who_answered": "titular",
                    "payment_amount": 120000.5,
                },
                "checkout_at": on_shift(minute=12).isoformat(),
            },
            {
                "id": str(uuid.uuid4()),
                "checkin_id": str(uuid.uuid4()),
                "outcome": "paid",
                "questionnaire": V1,
                "answers": {},
            },
        ],
    )
    assert [f["status"] for f in batch["fixes"]] == ["stored"]
    assert batch["checkins"][0]["verdict"] == "accepted"
    done, missing = batch["outcomes"]
    assert (done["status"], done["visit_status"]) == ("done", "completed")
    assert done["visit_id"] == batch["checkins"][0]["visit_id"]
    assert (missing["status"], missing["field"]) == ("rejected", "checkin_id")
    visit = client.get(f"/v1/visits/{done['visit_id']}", headers=world.auth("analyst")).json()
    assert visit["answers"]["payment_amount"] == 120000.5
    assert date.fromisoformat(visit["checkout_at"][:10]) == on_shift(minute=12).date()
