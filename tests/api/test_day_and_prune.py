"""The day bundle's tracking settings, and dropping GPS history a month at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from geo.cli.commands import app
from geo.core.db import owner_session, tenant_session
from geo.tracking.partitions import gps_partitions
from tests.conftest import World
from tests.gps import app_fix, on_shift, stored_fixes

pytestmark = pytest.mark.clock


def test_day_bundle_sets_tracking_from_the_server(client: TestClient, world: World) -> None:
    answer = client.get("/v1/me/day", headers=world.auth("agent"))
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    assert bundle["tracking"]["interval_s"] == 30
    assert bundle["tracking"]["shift_start"] == "08:00:00"
    assert [c["id"] for c in bundle["cases"]] == [world.case_ids[0]]  # assigned and open
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text(
                'UPDATE tenants SET settings = \'{"gps_interval_s": 15, "gps_low_battery_pct": 30,'
                ' "gps_low_battery_interval_s": 300, "gps_shift_only": false}\''
            )
        )
    tracking = client.get(
        "/v1/me/day", params={"date": "2026-11-20"}, headers=world.auth("agent")
    ).json()["tracking"]
    assert (tracking["interval_s"], tracking["low_battery_pct"]) == (15, 30)
    assert (tracking["low_battery_interval_s"], tracking["shift_only"]) == (300, False)
    assert client.get("/v1/me/day", headers=world.auth("dispatcher")).status_code == 403
    bad = client.get("/v1/me/day", params={"date": "mañana"}, headers=world.auth("agent"))
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "date"


def test_prune_drops_whole_old_months_only(client: TestClient, world: World) -> None:
    client.post("/v1/me/sync", json={"fixes": [app_fix(on_shift())]}, headers=world.auth("agent"))
    with owner_session() as session:
        session.execute(
            text(
                "SELECT campo_ensure_gps_partitions(now() - interval '3 years', "
                "now() - interval '2 years')"
            )
        )
        session.execute(
            text(
                "INSERT INTO gps_fixes (tenant_id, agent_id, id, recorded_at, point) VALUES "
                "(:t, :a, gen_random_uuid(), now() - interval '30 months', "
                "ST_SetSRID(ST_MakePoint(-74.1, 4.6), 4326))"
            ),
            {"t": world.tenant_id, "a": world.agent_id},
        )
        before = gps_partitions(session)
    old = [p for p in before if p.ends < datetime(datetime.now(UTC).year - 1, 1, 1, tzinfo=UTC)]
    assert len(old) >= 12
    assert len(stored_fixes(world.tenant_id)) == 2
    dry = CliRunner().invoke(app, ["gps", "prune", "--keep-days", "400", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would drop {old[0].name}" in dry.output
    with owner_session() as session:
        assert len(gps_partitions(session)) == len(before)
    done = CliRunner().invoke(app, ["gps", "prune", "--keep-days", "400"])
    assert done.exit_code == 0, done.output
    with owner_session() as session:
        after = gps_partitions(session)
    assert {p.name for p in old}.isdisjoint(p.name for p in after)
    assert min(p.ends for p in after).timestamp() > datetime.now(UTC).timestamp() - 401 * 86400
    assert len(stored_fixes(world.tenant_id)) == 1  # the recent fix is kept
    refused = CliRunner().invoke(app, ["gps", "prune", "--keep-days", "5"])
    assert refused.exit_code != 0  # under a month would cut into the upload horizon
