"""The demo's simulated day goes through the phone's own paths: its fixes, check-ins and
outcomes are stored and verified like real ones."""

from __future__ import annotations

import time
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import owner_session, tenant_session
from geo.demo.portfolio import delete_tenant
from geo.demo.simulation import simulate_plan
from tests.conftest import World
from tests.gps import on_shift

pytestmark = [
    pytest.mark.clock,
    pytest.mark.usefixtures("worker"),  # plans are computed by a job worker
]


def _planned(client: TestClient, world: World) -> tuple[dict[str, Any], date]:
    """A finished plan of the last lawful day before today in Aguascalientes."""
    # The last day before today the law allows visits on in Aguascalientes (the tenant's
    # calendar is Mexico's): on a Monday or after a holiday, that is not yesterday.
    day = on_shift(1, zone=ZoneInfo("America/Mexico_City"), holidays="MX").date()
    made = client.post(
        "/v1/plans",
        json={"date": day.isoformat(), "budget_s": 2},
        headers=world.auth("dispatcher"),
    ).json()
    deadline = time.monotonic() + 60
    while (plan := client.get(f"/v1/plans/{made['id']}", headers=world.auth("dispatcher")).json())[
        "status"
    ] != "done":
        assert plan["status"] != "failed", plan["message"]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return dict(plan), day


def test_a_planned_day_is_worked(client: TestClient, aguascalientes: World) -> None:
    world = aguascalientes
    plan, day = _planned(client, world)
    report = simulate_plan(tenant_id=world.tenant_id, plan_id=plan["id"])
    assert sum(report.checkins.values()) == plan["stats"]["planned"]
    assert report.fixes > 100
    with tenant_session(world.tenant_id) as session:
        stored = session.execute(text("SELECT count(*) FROM gps_fixes")).scalar_one()
        visits = session.execute(
            text("SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FROM visits")
        ).one()
        assigned = session.execute(
            text(
                "SELECT count(*) FROM plan_stops s JOIN cases c ON c.id = s.case_id "
                "WHERE s.plan_id = :p AND c.assigned_agent_id = s.agent_id"
            ),
            {"p": plan["id"]},
        ).scalar_one()
    assert stored >= report.fixes  # check-in fixes are stored too
    assert visits == (report.outcomes, plan["stats"]["planned"])
    assert assigned == plan["stats"]["planned"]  # planning assigned the cases
    trail = client.get(
        f"/v1/agents/{world.agent_id}/trail",
        params={"date": day.isoformat()},
        headers=world.auth("dispatcher"),
    ).json()
    assert trail["summary"]["stops"] >= plan["stats"]["planned"] // 2
    with owner_session() as session:  # and a worked tenant can be removed whole
        assert delete_tenant(session, world.slug)
    with owner_session() as session:
        left = session.execute(
            text("SELECT count(*) FROM visits WHERE tenant_id = :t"), {"t": world.tenant_id}
        ).scalar_one()
    assert left == 0


def test_an_honest_day_played_through_the_browser_path_is_not_sent_to_review(
    client: TestClient, aguascalientes: World
) -> None:
    """No fix of a browser says whether it is simulated; the phone's own walk to each door
    backs the honest check-ins, so at most one in ten goes to review (issue 31's target)."""
    plan, _day = _planned(client, aguascalientes)
    report = simulate_plan(tenant_id=aguascalientes.tenant_id, plan_id=plan["id"], browser=True)
    honest = sum(report.honest.values())
    assert honest >= plan["stats"]["planned"] // 2
    doubted = report.honest.get("review", 0) + report.honest.get("rejected", 0)
    assert doubted <= honest // 10, report.honest
    with tenant_session(aguascalientes.tenant_id) as session:
        codes = (
            session.execute(
                text("SELECT DISTINCT r->>'code' FROM visits, jsonb_array_elements(reasons) r")
            )
            .scalars()
            .all()
        )
    assert "mock_unknown" in codes  # said on every browser check-in, whatever the verdict
