from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geo.portfolio.nomenclature import BOGOTA, geocode, parse

GEOD = Geod(ellps="WGS84")


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


@pytest.mark.parametrize(
    ("text", "on_calle", "street", "cross", "metres", "south", "east"),
    [
        ("Calle 72 # 10-34, Bogotá", True, 72, 10, 34, False, False),
        ("CL 72 No. 10 - 34 Apto 301", True, 72, 10, 34, False, False),
        ("Cra. 15 # 100-20", False, 15, 100, 20, False, False),
        ("Calle 45 Sur # 78-12", True, 45, 78, 12, True, False),
        ("Carrera 78 # 45-12 Sur", False, 78, 45, 12, True, False),
        ("Kr 7 # 26-05", False, 7, 26, 5, False, False),
        ("Diagonal 2B Bis # 3-10 Este", True, 2.5, 3, 10, False, True),
        ("Transversal 93 Nº 129C-40", False, 93, 129.6, 40, False, False),
    ],
)
def test_parse_colombian_addresses(
    text: str, on_calle: bool, street: float, cross: float, metres: int, south: bool, east: bool
) -> None:
    parsed = parse(text)
    assert parsed is not None
    assert (parsed.on_calle, parsed.metres, parsed.south, parsed.east) == (
        on_calle,
        metres,
        south,
        east,
    )
    assert parsed.street == pytest.approx(street)
    assert parsed.cross == pytest.approx(cross)


@pytest.mark.parametrize("text", ["Vereda El Hato", "Km 5 vía La Calera", "", "Calle 72"])
def test_non_grid_addresses_do_not_parse(text: str) -> None:
    assert parse(text) is None


def test_plate_number_is_metres_from_the_cross_street() -> None:
    """ "Calle 72 # 10-34" lies on Calle 72, 34 m from Carrera 10."""
    corner = BOGOTA.to_lonlat(72, 10)
    point = BOGOTA.geocode("Calle 72 # 10-34")
    assert point is not None
    assert _metres(corner, point) == pytest.approx(34, abs=0.5)
    calle, carrera = BOGOTA.to_grid(*point)
    assert calle == pytest.approx(72)
    assert 10 < carrera < 11


def test_calles_grow_north_and_carreras_grow_west() -> None:
    lon72, lat72 = BOGOTA.to_lonlat(72, 10)
    _lon100, lat100 = BOGOTA.to_lonlat(100, 10)
    lon30, _lat30 = BOGOTA.to_lonlat(72, 30)
    assert lat100 > lat72
    assert lon30 < lon72
    assert 80 < BOGOTA.calle_block_m < 120
    assert 80 < BOGOTA.carrera_block_m < 120


def test_address_of_a_point_geocodes_back_near_it() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):
        lon, lat = rng.uniform(-74.17, -74.06), rng.uniform(4.55, 4.75)
        if abs(BOGOTA.to_grid(lon, lat)[0]) < 1:
            continue  # the Calle 1 / 1 Sur strip: see the next test
        for on_calle in (True, False):
            address = BOGOTA.address_of(lon, lat, on_calle=on_calle)
            back = geocode(address, "Bogotá D.C.")
            assert back is not None, address
            # Snapping to the nearest street moves a point at most half a block sideways.
            assert _metres((lon, lat), back) < 60, address


def test_a_point_between_calle_1_and_calle_1_sur_has_no_address() -> None:
    lon, lat = BOGOTA.to_lonlat(0.3, 48)
    with pytest.raises(ValueError, match="axis"):
        BOGOTA.address_of(lon, lat, on_calle=True)


def test_only_cities_with_a_grid_model_are_geocoded() -> None:
    assert geocode("Calle 72 # 10-34", "Medellín") is None
    assert geocode("Calle 72 # 10-34", "BOGOTA") is not None
