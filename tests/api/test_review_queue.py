"""The review queue and today's board from ``geo.dispatch``: decisions once, audited, never
across tenants, and the board's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.dispatch.board import agents_today, feed
from geo.dispatch.history import audit_entries
from geo.dispatch.review import decide, evidence, review_queue
from tests.conftest import World
from tests.gps import WEDNESDAY_MORNING, on_shift
from tests.visits import check_in, fix_at

pytestmark = pytest.mark.clock


def _doubtful(client: TestClient, world: World) -> int:
    answer = check_in(client, world, fix_at(on_shift(), 100, accuracy_m=45)).json()
    assert answer["verdict"] == "review", answer
    return int(answer["visit_id"])


def _user(world: World, role: str) -> int:
    with tenant_session(world.tenant_id) as session:
        return int(
            session.execute(text("SELECT id FROM users WHERE role = :r"), {"r": role}).scalar_one()
        )


def test_a_decision_is_made_once_audited_and_never_across_tenants(
    client: TestClient, world: World, other_world: World
) -> None:
    visit = _doubtful(client, world)
    dispatcher = _user(world, "dispatcher")
    as_dispatcher = {"tenant_id": world.tenant_id, "user_id": dispatcher, "visit_id": visit}
    with tenant_session(world.tenant_id) as session:
        (item,) = review_queue(session, tenant_id=world.tenant_id)
        assert item.visit_id == visit
        assert [r["code"] for r in item.reasons] == ["accuracy_overlaps_geofence"]
        kinds = [
            f["properties"]["kind"]
            for f in evidence(session, tenant_id=world.tenant_id, visit_id=visit)["features"]
        ]
        assert kinds[:2] == ["fix", "address"]
        assert kinds.count("trail") == 4  # the approach the field app recorded, and the fix
    with tenant_session(other_world.tenant_id) as session, pytest.raises(NotFound):
        decide(  # a guessed id of another tenant's visit is not there at all
            session,
            tenant_id=other_world.tenant_id,
            user_id=_user(other_world, "dispatcher"),
            visit_id=visit,
            decision="approved",
            comment="no es mío",
        )
    with tenant_session(world.tenant_id) as session:
        with pytest.raises(InvalidInput):
            decide(session, **as_dispatcher, decision="approved", comment=" ")
        with pytest.raises(InvalidInput):
            decide(session, **as_dispatcher, decision="maybe", comment="?")
        decide(
            session,
            **as_dispatcher,
            decision="rejected",
            comment="No hay recorrido que lo respalde",
        )
    with tenant_session(world.tenant_id) as session:
        with pytest.raises(Conflict):
            decide(session, **as_dispatcher, decision="approved", comment="otra vez")
        assert review_queue(session, tenant_id=world.tenant_id) == []
        logged = session.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
        (decided,) = feed(session, tenant_id=world.tenant_id, visit_ids=[visit])
    assert logged == 1
    assert (decided.verdict, decided.review_decision) == ("review", "rejected")


@pytest.mark.time_machine(WEDNESDAY_MORNING)  # "today" must be a day the agent works
def test_the_board_counts_visits_done_of_planned(client: TestClient, world: World) -> None:
    answer = check_in(client, world, fix_at(datetime.now(UTC) - timedelta(minutes=5), 10)).json()
    assert answer["verdict"] != "rejected", answer
    with tenant_session(world.tenant_id) as session:
        (agent,) = agents_today(session, tenant_id=world.tenant_id)
    assert agent.code == "G1"
    assert agent.done == 1  # today's accepted check-in
    assert agent.planned == 0  # no plan for today
    assert agent.last_seen is not None
    assert agent.on_shift  # 11:00 on a Wednesday, inside 08:00–17:00


def test_a_case_changed_through_the_api_is_audited_with_before_and_after(
    client: TestClient, world: World
) -> None:
    case = world.case_ids[1]
    answer = client.patch(
        f"/v1/cases/{case}",
        json={"priority": 90, "visit_window": ["14:00", "18:00"]},
        headers=world.auth("dispatcher"),
    )
    assert answer.status_code == 200, answer.text
    same = client.patch(f"/v1/cases/{case}", json={"priority": 90}, headers=world.auth("admin"))
    assert same.status_code == 200
    with tenant_session(world.tenant_id) as session:
        entries = audit_entries(session, tenant_id=world.tenant_id, subject=f"case:{case}")
    (entry,) = entries  # the second change changed nothing: nothing to audit
    assert (entry.action, entry.user) == ("update", "dispatcher alfa")
    assert entry.after == {"priority": 90, "visit_from": "14:00:00", "visit_until": "18:00:00"}
    assert entry.before is not None
    assert entry.before["visit_from"] is None
