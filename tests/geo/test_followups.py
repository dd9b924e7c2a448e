"""Follow-ups: a broken promise and a visit that found no one home come back in the next plan,
higher in priority, the latter in the other half of the day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.db import tenant_session
from geo.routing.matrix import Matrix, Snapped
from geo.routing.planner import NOON, build_problem, followup_window, plan_inputs
from geo.routing.streets import grid_network
from tests.conftest import World

pytestmark = pytest.mark.clock

GRID = grid_network(lon=-74.08, lat=4.65, rows=2, cols=2, spacing_m=100, mode="motorbike")
"""A network the matrices below never route on (the windows are what is tested)."""


def _at_nodes(n: int) -> Snapped:
    return Snapped(GRID, np.arange(n), np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n))


BOGOTA = ZoneInfo("America/Bogota")


def _visit(session: Session, world: World, case: int, outcome: str, at: datetime) -> int:
    return int(
        session.execute(
            text(
                "INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at, checkin_point, "
                "distance_m, verdict, status, outcome, checkout_at) VALUES (:t, gen_random_uuid(), :c, "
                ":a, :at, ST_SetSRID(ST_MakePoint(-74.06, 4.65), 4326), 5, 'accepted', 'completed', "
                ":o, :at) RETURNING id"
            ),
            {"t": world.tenant_id, "c": case, "a": world.agent_id, "at": at, "o": outcome},
        ).scalar_one()
    )


def test_broken_promises_and_no_one_home_come_back(world: World) -> None:
    first, second = world.case_ids[0], world.case_ids[1]
    with tenant_session(world.tenant_id) as session:
        promised = _visit(
            session, world, first, "promise_to_pay", datetime(2026, 11, 2, 10, tzinfo=BOGOTA)
        )
        session.execute(
            text(
                "INSERT INTO promises (tenant_id, visit_id, case_id, amount_cop, due_date) "
                "VALUES (:t, :v, :c, 500000, '2026-11-10')"
            ),
            {"t": world.tenant_id, "v": promised, "c": first},
        )
        _visit(session, world, second, "no_one_home", datetime(2026, 11, 20, 9, 30, tzinfo=BOGOTA))
        base = dict(session.execute(text("SELECT id, priority FROM cases")).all())
        before = {c.id: c for c in plan_inputs(session, world.tenant_id, date(2026, 11, 9)).cases}
        after = plan_inputs(session, world.tenant_id, date(2026, 11, 24))
    cases = {c.id: c for c in after.cases}
    assert before[first].priority == base[first]  # the promise was not yet due
    assert cases[first].priority == min(100, base[first] + 30)
    assert cases[first].broken_promise
    assert cases[second].priority == min(100, base[second] + 15)
    assert cases[second].missed_hour == 9
    n = len(after.agents) * 2 + len(after.cases)
    square = np.zeros((n, n))
    matrix = Matrix(square, square, _at_nodes(n))
    stops = {s.key: s for s in build_problem(after, {"motorbike": matrix}).stops}
    # Inside the law's 7:00-19:00 of a Tuesday, so that a 20-minute visit ends by 19:00.
    last_start = 19 * 3600 - 20 * 60
    assert stops[second].window == (NOON, last_start)  # morning missed: try the afternoon
    assert stops[first].window == (7 * 3600, last_start)
    assert followup_window(15) == (0, NOON)


def test_an_imported_payment_keeps_a_promise_from_coming_back(world: World) -> None:
    case = world.case_ids[0]
    with tenant_session(world.tenant_id) as session:
        promised = _visit(
            session, world, case, "promise_to_pay", datetime(2026, 11, 2, 10, tzinfo=BOGOTA)
        )
        session.execute(
            text(
                "INSERT INTO promises (tenant_id, visit_id, case_id, amount_cop, due_date, "
                "created_at) VALUES (:t, :v, :c, 500000, '2026-11-10', '2026-11-02 10:00-05')"
            ),
            {"t": world.tenant_id, "v": promised, "c": case},
        )
        session.execute(
            text(
                "INSERT INTO payments (tenant_id, case_id, paid_on, amount_cop) "
                "VALUES (:t, :c, '2026-11-09', 500000)"
            ),
            {"t": world.tenant_id, "c": case},
        )
        cases = {c.id: c for c in plan_inputs(session, world.tenant_id, date(2026, 11, 24)).cases}
    assert not cases[case].broken_promise


def test_explicit_visit_windows(client: TestClient, world: World) -> None:
    case = world.case_ids[1]
    url = f"/v1/cases/{case}"
    answer = client.patch(
        url, json={"visit_window": ["14:00", "18:00"]}, headers=world.auth("dispatcher")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["visit_window"] == ["14:00:00", "18:00:00"]
    backwards = client.patch(
        url, json={"visit_window": ["18:00", "14:00"]}, headers=world.auth("dispatcher")
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["fields"][0]["field"] == "visit_window"
    with tenant_session(world.tenant_id) as session:
        _visit(session, world, case, "no_one_home", datetime(2026, 11, 20, 9, 30, tzinfo=BOGOTA))
        inputs = plan_inputs(session, world.tenant_id, date(2026, 11, 24))
    n = len(inputs.agents) * 2 + len(inputs.cases)
    square = np.zeros((n, n))
    stops = {
        s.key: s
        for s in build_problem(inputs, {"motorbike": Matrix(square, square, _at_nodes(n))}).stops
    }
    assert stops[case].window == (14 * 3600, 18 * 3600)  # its own hours, also the afternoon
    cleared = client.patch(url, json={"visit_window": None}, headers=world.auth("dispatcher"))
    assert cleared.json()["visit_window"] is None
