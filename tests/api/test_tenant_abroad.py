"""A tenant abroad whose clocks change: Santiago de Chile (America/Santiago, Chile's public
holidays). Its local days are its own, and 23 or 25 hours long where clocks move.

Chile's clocks went back at 24:00 on Saturday 2027-04-03 (UTC-3 to UTC-4): the hour from
23:00 to 24:00 happened twice, and that Saturday lasted 25 hours. They went forward at 24:00
on Saturday 2026-09-05: Sunday 2026-09-06 lasted 23 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.contacts.ledger import local_day
from geo.core.db import tenant_session
from geo.dispatch.board import agents_today, feed
from geo.provisioning.tenants import update_tenant_settings
from tests.conftest import World
from tests.gps import app_fix
from tests.visits import check_in, fix_at, sync

pytestmark = pytest.mark.clock

SANTIAGO = ZoneInfo("America/Santiago")
DOOR = (-70.6506, -33.4372)  # Plaza de Armas
FIRST_PASS = datetime(2027, 4, 4, 2, 30, tzinfo=UTC)  # 23:30 UTC-3, Saturday
SECOND_PASS = datetime(2027, 4, 4, 3, 30, tzinfo=UTC)  # 23:30 UTC-4, the same Saturday again


@pytest.fixture
def santiago(world: World) -> World:
    """The world's tenant in Santiago, its located case and its agent's base there."""
    with tenant_session(world.tenant_id) as session:
        update_tenant_settings(
            session,
            tenant_id=world.tenant_id,
            changes={"timezone": "America/Santiago", "contact_holidays": "CL"},
        )
        session.execute(
            text(
                "UPDATE addresses SET point = ST_SetSRID(ST_MakePoint(:x, :y), 4326), "
                "city = 'Santiago' WHERE id = (SELECT address_id FROM cases WHERE id = :c)"
            ),
            {"x": DOOR[0], "y": DOOR[1], "c": world.case_ids[0]},
        )
        session.execute(
            text("UPDATE agents SET base_point = ST_SetSRID(ST_MakePoint(:x, :y), 4326)"),
            {"x": DOOR[0] + 0.02, "y": DOOR[1]},
        )
    return world


def test_a_day_where_clocks_move_is_as_long_as_it_is() -> None:
    # (In UTC: Python never finds a local time in a repeated or skipped hour equal to an
    # instant of another zone, even the same instant.)
    start, end = (at.astimezone(UTC) for at in local_day(date(2027, 4, 3), SANTIAGO))
    assert (start, end) == (
        datetime(2027, 4, 3, 3, tzinfo=UTC),
        datetime(2027, 4, 4, 4, tzinfo=UTC),
    )
    start, end = (at.astimezone(UTC) for at in local_day(date(2026, 9, 6), SANTIAGO))
    assert start == datetime(2026, 9, 6, 4, tzinfo=UTC)  # 00:00 never happened: 01:00 UTC-3
    assert end == datetime(2026, 9, 7, 3, tzinfo=UTC)  # 23 hours


def _at(now: datetime, today: str) -> Any:
    return pytest.param(today, marks=pytest.mark.time_machine(now), id=now.isoformat())


@pytest.mark.parametrize(
    "today",
    [
        _at(SECOND_PASS, "2027-04-03"),  # UTC's Sunday, still Saturday in Santiago
        _at(datetime(2027, 4, 4, 4, 0, 30, tzinfo=UTC), "2027-04-04"),  # Sunday 00:00:30 UTC-4
        _at(datetime(2026, 12, 10, 0, 0, 30, tzinfo=UTC), "2026-12-09"),  # 21:00 UTC-3, summer
    ],
)
def test_the_agents_day_is_the_tenants_own_today(
    client: TestClient, santiago: World, today: str
) -> None:
    day = client.get("/v1/me/day", headers=santiago.auth("agent"))
    assert day.status_code == 200, day.text
    assert day.json()["date"] == today
    assert day.json()["tracking"]["timezone"] == "America/Santiago"


def test_the_agents_day_today_is_the_tenants_whatever_the_clock(
    client: TestClient, santiago: World
) -> None:
    """Under scripts/test-clocks: the run's own clock, not a chosen one."""
    day = client.get("/v1/me/day", headers=santiago.auth("agent")).json()
    assert day["date"] == datetime.now(SANTIAGO).date().isoformat()


@pytest.mark.time_machine(SECOND_PASS + timedelta(minutes=5))
def test_the_repeated_hour_belongs_to_saturday(client: TestClient, santiago: World) -> None:
    """At 23:35 on the second pass it is still Saturday: the afternoon's visit is today's on the
    board and in the feed, and a check-in in either 23:30 is judged at 23:30, outside the
    law's hours (Saturday 08:00-15:00)."""
    for late in (FIRST_PASS, SECOND_PASS):
        answer = check_in(client, santiago, fix_at(late, 5, home=DOOR)).json()
        assert answer["verdict"] == "rejected", answer
        hours = next(r for r in answer["reasons"] if r["code"] == "outside_contact_hours")
        assert "23:30" in hours["message"], hours
    afternoon = datetime(2027, 4, 3, 14, 30, tzinfo=SANTIAGO)  # UTC-3 then
    accepted = check_in(client, santiago, fix_at(afternoon, 5, home=DOOR)).json()
    assert accepted["verdict"] == "accepted", accepted
    with tenant_session(santiago.tenant_id) as session:
        (agent,) = agents_today(session, tenant_id=santiago.tenant_id)
        today = feed(session, tenant_id=santiago.tenant_id)
    assert agent.done == 1  # the rejected two are not done
    assert [item.at.isoformat() for item in today] == [
        "2027-04-03T23:30:20-04:00",
        "2027-04-03T23:30:20-03:00",
        "2027-04-03T14:30:20-03:00",
    ]


@pytest.mark.time_machine(datetime(2027, 4, 4, 16, 0, tzinfo=SANTIAGO))
def test_a_trail_of_the_long_saturday_holds_both_passes_of_the_hour(
    client: TestClient, santiago: World
) -> None:
    with tenant_session(santiago.tenant_id) as session:
        update_tenant_settings(
            session, tenant_id=santiago.tenant_id, changes={"gps_shift_only": False}
        )
    fixes = [
        app_fix(at, lon=DOOR[0], lat=DOOR[1], accuracy_m=10)
        for at in (
            datetime(2027, 4, 3, 3, 30, tzinfo=UTC),  # 00:30 Saturday, UTC-3
            FIRST_PASS,
            SECOND_PASS,
            datetime(2027, 4, 4, 4, 30, tzinfo=UTC),  # 00:30 Sunday, UTC-4
        )
    ]
    stored = sync(client, santiago, fixes=fixes)["fixes"]
    assert [r["status"] for r in stored] == ["stored"] * 4
    trail = client.get(
        f"/v1/agents/{santiago.agent_id}/trail",
        params={"date": "2027-04-03"},
        headers=santiago.auth("dispatcher"),
    )
    assert trail.status_code == 200, trail.text
    summary = trail.json()["summary"]
    assert summary["fixes"] == 3  # Sunday's fix belongs to Sunday
    start, end = (datetime.fromisoformat(summary[k]) for k in ("start", "end"))
    assert end - start == timedelta(hours=25)


@pytest.mark.time_machine(SECOND_PASS + timedelta(minutes=5))
def test_an_agent_heard_last_in_the_first_pass_is_stale_in_the_second(
    client: TestClient, santiago: World
) -> None:
    """23:35 on the second pass; the agent's last fix was 23:50 on the first, 45 minutes ago
    (the wall clocks say 15 minutes in the future)."""
    with tenant_session(santiago.tenant_id) as session:
        update_tenant_settings(
            session, tenant_id=santiago.tenant_id, changes={"gps_shift_only": False}
        )
    last = FIRST_PASS + timedelta(minutes=20)
    sync(client, santiago, fixes=[app_fix(last, lon=DOOR[0], lat=DOOR[1], accuracy_m=10)])
    with tenant_session(santiago.tenant_id) as session:
        (agent,) = agents_today(session, tenant_id=santiago.tenant_id)
    assert agent.last_seen is not None
    assert agent.last_seen.astimezone(UTC) == last
    assert agent.stale  # live_stale_min is 15
