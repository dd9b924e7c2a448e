"""The nightly jobs: when they are due, and what each does when it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from croniter import croniter
from sqlalchemy import text

from geo.core.db import owner_session
from geo.jobs.queue import alerts, app, gps_partitions, gps_prune, plan_tomorrow
from geo.tracking.partitions import ensure_gps_partitions
from geo.tracking.partitions import gps_partitions as partitions

pytestmark = pytest.mark.clock


def test_each_schedule_is_due_when_the_docstring_says() -> None:
    crons = {p.periodic_id: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    clock = datetime(2026, 11, 29, 12, 0, 30, tzinfo=UTC)
    due = {name: croniter(cron, clock).get_next(datetime) for name, cron in crons.items()}
    assert due == {
        "alerts": datetime(2026, 11, 29, 12, 1, tzinfo=UTC),
        "deliver_mail": datetime(2026, 11, 29, 12, 1, tzinfo=UTC),
        "gps_partitions": datetime(2026, 11, 30, 3, 17, tzinfo=UTC),
        "gps_prune": datetime(2026, 11, 30, 3, 37, tzinfo=UTC),
        "plan_tomorrow": datetime(2026, 11, 29, 12, 5, tzinfo=UTC),
        "retry_stalled": datetime(2026, 11, 29, 12, 1, tzinfo=UTC),
    }


def test_the_nightly_gps_jobs_keep_months_ahead_and_drop_months_past_retention() -> None:
    with owner_session() as session:
        ensure_gps_partitions(session, months_back=30, months_ahead=0)  # an old history
        oldest = partitions(session)[0].starts
    assert (datetime.now(UTC) - oldest).days > 800
    dropped = gps_prune(timestamp=0)
    with owner_session() as session:
        left = partitions(session)
    assert dropped
    assert all(name.startswith("gps_fixes_y") for name in dropped)
    assert (datetime.now(UTC) - left[0].ends).days < 400  # CAMPO_GPS_RETENTION_DAYS
    gps_partitions(timestamp=0)
    with owner_session() as session:
        ahead = partitions(session)[-1].starts
    assert (ahead - datetime.now(UTC)).days > 60


def test_the_minute_job_evaluates_every_tenant_at_its_minute() -> None:
    """The ``alerts`` job at a given tick: each tenant's agents, at that instant."""
    from tests.conftest import build_world

    world = build_world("gamma")
    ten = datetime.fromisoformat("2026-11-24T10:00:00-05:00")  # two hours into the shift
    assert alerts(timestamp=int(ten.timestamp())) == 1  # the agent, silent since 08:00
    assert alerts(timestamp=int(ten.timestamp()) + 60) == 0  # still open, not raised again
    with owner_session() as session:
        opened = session.scalars(
            text("SELECT rule FROM alerts WHERE tenant_id = :t"), {"t": world.tenant_id}
        ).all()
    assert opened == ["silent_agent"]


def test_tomorrow_is_planned_at_the_tenants_hour_once() -> None:
    from geo.core.db import tenant_session
    from geo.provisioning.tenants import update_tenant_settings
    from tests.conftest import build_world

    world = build_world("delta")
    with tenant_session(world.tenant_id) as session:
        update_tenant_settings(
            session, tenant_id=world.tenant_id, changes={"plan_tomorrow_hour": 18}
        )
    six = datetime.fromisoformat("2026-11-24T18:05:00-05:00")  # Bogotá, the tenant's zone
    assert plan_tomorrow(timestamp=int((six - timedelta(hours=1)).timestamp())) == 0
    assert plan_tomorrow(timestamp=int(six.timestamp())) == 1
    assert plan_tomorrow(timestamp=int(six.timestamp()) + 60) == 0  # already on its way
    with owner_session() as session:
        days = session.execute(
            text(
                "SELECT p.day, j.status FROM plans p JOIN procrastinate_jobs j "
                "ON (j.args->>'plan_id')::bigint = p.id WHERE p.tenant_id = :t"
            ),
            {"t": world.tenant_id},
        ).all()
    assert [(str(day), str(status)) for day, status in days] == [("2026-11-25", "todo")]
