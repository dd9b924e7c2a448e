"""Which metric CRS to measure in, chosen for where the data is.

Planar lengths and areas are only metres on the ground in a projection made for the place:
EPSG:9377 (MAGNA-SIRGAS 2018 / Origen-Nacional) in Colombia, the UTM zone of the data
elsewhere (its scale error stays within 0.1 % across a zone). A tenant may fix one in its
settings (``metric_srid``); otherwise it follows the data: the points being measured, or the
tenant's located addresses and agents' bases.
"""

from __future__ import annotations

from functools import lru_cache

from pyproj import Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.tenant_settings import tenant_settings

COLOMBIA_SRID = 9377
_COLOMBIA = (-79.1, -4.3, -66.8, 13.5)
"""west, south, east, north of Colombia's territory, where EPSG:9377 is made to be used."""


@lru_cache(maxsize=256)
def _utm(lon: float, lat: float) -> int:
    area = AreaOfInterest(lon, lat, lon, lat)
    found = query_utm_crs_info(datum_name="WGS 84", area_of_interest=area)
    return int(found[0].code)


def srid_for(lon: float, lat: float) -> int:
    """The metric CRS for data centred at (lon, lat)."""
    west, south, east, north = _COLOMBIA
    if west <= lon <= east and south <= lat <= north:
        return COLOMBIA_SRID
    # Rounded, so a tenant's whole area (and the cache) shares one zone.
    return _utm(round(max(-179.9, min(179.9, lon)), 1), round(max(-80.0, min(84.0, lat)), 1))


_CENTRE = text(
    """
    SELECT avg(ST_X(p)), avg(ST_Y(p)) FROM (
        SELECT point AS p FROM addresses WHERE tenant_id = :t AND point IS NOT NULL
        UNION ALL SELECT base_point FROM agents WHERE tenant_id = :t) located
    """
)


def tenant_srid(session: Session, tenant_id: int) -> int:
    """The tenant's own choice, or the CRS of where its addresses and agents are."""
    chosen = tenant_settings(session, tenant_id).metric_srid
    if chosen is not None:
        return chosen
    lon, lat = session.execute(_CENTRE, {"t": tenant_id}).one()
    return COLOMBIA_SRID if lon is None else srid_for(float(lon), float(lat))


@lru_cache(maxsize=32)
def to_metric(srid: int) -> Transformer:
    return Transformer.from_crs(4326, srid, always_xy=True)


@lru_cache(maxsize=32)
def to_wgs84(srid: int) -> Transformer:
    return Transformer.from_crs(srid, 4326, always_xy=True)
