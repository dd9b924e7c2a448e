from __future__ import annotations

from fastapi.testclient import TestClient

from geo.analytics.frames import agents_frame, cases_frame
from geo.core.db import tenant_session
from tests.conftest import World


def test_frames_are_wgs84_and_only_the_tenants_rows(
    client: TestClient, world: World, other_world: World
) -> None:
    with tenant_session(world.tenant_id) as session:
        cases = cases_frame(session, tenant_id=world.tenant_id)
        agents = agents_frame(session, tenant_id=world.tenant_id)
        # Asking for another tenant's id inside this tenant's session finds nothing (RLS).
        foreign = cases_frame(session, tenant_id=other_world.tenant_id)
    assert cases.crs.to_epsg() == 4326
    assert sorted(cases.index) == world.case_ids[:2]  # the third case has no location
    assert (cases.geometry.x.round(4) == -74.0589).any()
    assert list(agents.index) == [world.agent_id]
    assert foreign.empty
    # Metres in the Colombian national CRS, as an analyst would measure them.
    metric = cases.to_crs(9377)
    assert 2_500 < metric.geometry.iloc[0].distance(metric.geometry.iloc[1]) < 5_000
