"""The cases map as vector tiles: what a tile holds, for whom, and when the map switches to
tiles rather than one GeoJSON."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.core.errors import InvalidInput
from geo.maps.cases import cases_map
from geo.portfolio.cases import CaseFilter, cases_tile
from tests.conftest import World

LON, LAT = -74.0589, 4.6565  # ALFA-1's address


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_a_tile_holds_this_tenants_matching_cases_only(world: World, other_world: World) -> None:
    with tenant_session(other_world.tenant_id) as session:  # beta's case at the same door
        session.execute(
            text(
                "UPDATE addresses SET point = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) "
                "WHERE id = (SELECT address_id FROM cases ORDER BY id LIMIT 1)"
            ),
            {"lon": LON, "lat": LAT},
        )
    x, y = _tile(LON, LAT, 16)
    with tenant_session(world.tenant_id) as session:
        tile = cases_tile(session, tenant_id=world.tenant_id, where=CaseFilter(), z=16, x=x, y=y)
        unassigned = cases_tile(
            session, tenant_id=world.tenant_id, where=CaseFilter(unassigned=True), z=16, x=x, y=y
        )
        far = cases_tile(session, tenant_id=world.tenant_id, where=CaseFilter(), z=16, x=0, y=0)
        with pytest.raises(InvalidInput):
            cases_tile(session, tenant_id=world.tenant_id, where=CaseFilter(), z=3, x=8, y=0)
    features = mapbox_vector_tile.decode(tile)["cases"]["features"]
    assert [f["properties"]["external_ref"] for f in features] == ["ALFA-1"]
    assert features[0]["properties"]["assigned"] is True
    px, py = features[0]["geometry"]["coordinates"]
    assert 0 <= px <= 4096  # in the tile's own grid
    assert 0 <= py <= 4096
    assert mapbox_vector_tile.decode(unassigned) == {}  # ALFA-1 is assigned
    assert far == b""


def test_the_map_takes_tiles_when_the_cases_are_too_many_for_one_layer(world: World) -> None:
    url = "/casos/teselas/{z}/{x}/{y}.pbf?estado=open"
    with tenant_session(world.tenant_id) as session:
        few = cases_map(session, tenant_id=world.tenant_id, where=CaseFilter(), tiles_url=url)
        many = cases_map(
            session, tenant_id=world.tenant_id, where=CaseFilter(), tiles_url=url, limit=0
        )
    few_html, many_html = few.get_root().render(), many.get_root().render()
    assert "L.vectorGrid.protobuf" not in few_html
    assert "ALFA-1" in few_html
    assert "L.vectorGrid.protobuf" in many_html
    assert url in many_html
    assert "ALFA-1" not in many_html  # the cases come with the tiles, not the page


def test_zoomed_out_the_cases_in_one_pixel_are_one_dot_with_their_count(world: World) -> None:
    with tenant_session(world.tenant_id) as session:  # ALFA-2 a metre from ALFA-1
        session.execute(
            text(
                "UPDATE addresses SET point = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) "
                "WHERE id = (SELECT address_id FROM cases WHERE external_ref = 'ALFA-2')"
            ),
            {"lon": LON + 0.00001, "lat": LAT},
        )
        tiles = {
            z: cases_tile(session, tenant_id=world.tenant_id, where=CaseFilter(), z=z, x=x, y=y)
            for z in (12, 18)
            for x, y in [_tile(LON, LAT, z)]
        }
    coarse = mapbox_vector_tile.decode(tiles[12])["cases"]["features"]
    fine = mapbox_vector_tile.decode(tiles[18])["cases"]["features"]
    assert [(f["properties"]["n"], f["properties"].get("external_ref")) for f in coarse] == [
        (2, None)
    ]
    assert coarse[0]["properties"]["assigned"] is False  # ALFA-2 is not assigned
    assert sorted(f["properties"]["external_ref"] for f in fine) == ["ALFA-1", "ALFA-2"]
