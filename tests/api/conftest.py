"""Fixtures shared by the API tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from geo.core.db import tenant_session
from tests.conftest import World

EXTRACT = Path(__file__).resolve().parents[1] / "data" / "aguascalientes.osm.pbf"


@pytest.fixture
def aguascalientes(world: World, tmp_path: Path) -> World:
    """The world's tenant moved onto the extract: 40 cases and two agents on its streets."""
    rng = np.random.default_rng(5)
    with tenant_session(world.tenant_id) as session:
        settings = {
            "street_network": str(EXTRACT),
            "visit_service_min": 15,
            "timezone": "America/Mexico_City",
        }
        session.execute(
            text("UPDATE tenants SET settings = settings || CAST(:s AS jsonb)"),
            {"s": json.dumps(settings)},
        )
        session.execute(
            text(
                "UPDATE agents SET base_point = ST_SetSRID(ST_MakePoint(-102.2739, 21.8704), 4326), "
                "daily_capacity = 12, shift_start = '09:00', shift_end = '13:00', "
                "skills = ARRAY['legal']"
            )
        )
        debtor = session.execute(text("SELECT min(id) FROM debtors")).scalar_one()
        for k in range(40):
            lon, lat = -102.2739 + rng.uniform(-0.005, 0.005), 21.8704 + rng.uniform(-0.005, 0.005)
            address = session.execute(
                text(
                    "INSERT INTO addresses (tenant_id, debtor_id, raw_text, city, point, "
                    "geocode_quality) VALUES (:t, :d, :r, 'Aguascalientes', "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'provided') RETURNING id"
                ),
                {"t": world.tenant_id, "d": debtor, "r": f"Calle {k}", "x": lon, "y": lat},
            ).scalar_one()
            session.execute(
                text(
                    "INSERT INTO cases (tenant_id, external_ref, debtor_id, address_id, product, "
                    "outstanding_cop, days_past_due, priority) VALUES (:t, :r, :d, :a, 'libranza', "
                    "1000000, 40, :p)"
                ),
                {"t": world.tenant_id, "r": f"AGS-{k}", "d": debtor, "a": address, "p": k * 2},
            )
        session.execute(
            text(
                "UPDATE cases SET status = 'paid', closed_at = now() "
                "WHERE external_ref NOT LIKE 'AGS-%'"
            )
        )
    return world
