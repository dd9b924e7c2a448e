"""Area zones: the tenant's own map of its city, which analytics groups by.

A tenant may draw its own (comunas, localidades, sales regions) or start from a hexagonal
grid over its located addresses, built by PostGIS in the metric CRS so every cell has the same
area on the ground.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.crs import tenant_srid
from geo.core.errors import InvalidInput

_HEXAGONS = text(
    """
    WITH located AS (
        SELECT ST_Transform(a.point, :srid) AS p FROM addresses a
        WHERE a.tenant_id = :t AND a.point IS NOT NULL
    ), cells AS (
        SELECT h.geom
        FROM ST_HexagonGrid(:size, (SELECT ST_SetSRID(ST_Extent(p)::geometry, :srid)
                                    FROM located)) h
        WHERE EXISTS (SELECT 1 FROM located WHERE ST_Intersects(h.geom, located.p))
    ), named AS (
        SELECT geom, row_number() OVER (ORDER BY ST_YMax(geom) DESC, ST_XMin(geom)) AS n
        FROM cells
    )
    INSERT INTO zones (tenant_id, name, kind, geom)
    SELECT :t, :prefix || lpad(n::text, 3, '0'), 'area', ST_Multi(ST_Transform(geom, 4326))
    FROM named
    """
)


def hexagon_areas(
    session: Session, *, tenant_id: int, size_m: float = 2000, prefix: str = "H"
) -> int:
    """Replace the tenant's area zones by hexagons of ``size_m`` (edge length) covering its
    located addresses, named north to south; returns how many. The grid is laid in the
    tenant's metric CRS (:func:`geo.core.crs.tenant_srid`), so every cell has its area on the
    ground."""
    srid = tenant_srid(session, tenant_id)
    if not 200 <= size_m <= 50_000:
        raise InvalidInput("must be between 200 and 50000 metres", field="size_m")
    session.execute(
        text("DELETE FROM zones WHERE tenant_id = :t AND kind = 'area'"), {"t": tenant_id}
    )
    made = session.execute(
        _HEXAGONS, {"t": tenant_id, "size": size_m, "srid": srid, "prefix": prefix}
    )
    return int(getattr(made, "rowcount", 0))


def area_zones(session: Session, *, tenant_id: int) -> list[tuple[int, str]]:
    """The tenant's area zones (id, name), by name: what a filter by zone offers."""
    rows = session.execute(
        text("SELECT id, name FROM zones WHERE tenant_id = :t AND kind = 'area' ORDER BY name"),
        {"t": tenant_id},
    )
    return [(int(i), str(n)) for i, n in rows]
