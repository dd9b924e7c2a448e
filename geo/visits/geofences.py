"""Geofences: where a check-in counts as "at the address".

A circle around the address point (the tenant's default radius, or one set for the address)
or a drawn polygon (a lot, a building). Polygons are stored in EPSG:4326 and must be valid
(``ST_IsValid``); distances against them are measured on the spheroid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.audit import record
from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.core.tenant_settings import tenant_settings

MAX_RADIUS_M = 2000.0
MAX_POLYGON_M2 = 1_000_000.0


@dataclass(frozen=True, slots=True)
class GeofenceView:
    case_id: int
    address_id: int
    radius_m: float | None
    polygon: dict[str, Any] | None
    tenant_default: bool


_READ = text(
    """
    SELECT c.id AS case_id, a.id AS address_id, a.geofence_radius_m,
           ST_AsGeoJSON(a.geofence, 7)::jsonb AS polygon
    FROM cases c JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    WHERE c.tenant_id = :tenant_id AND c.id = :case_id
    """
)


def get_geofence(session: Session, *, tenant_id: int, case_id: int) -> GeofenceView:
    row = session.execute(_READ, {"tenant_id": tenant_id, "case_id": case_id}).one_or_none()
    if row is None:
        raise NotFound("case not found", "case_id")
    default = tenant_settings(session, tenant_id).geofence_radius_m
    if row.polygon is not None:
        return GeofenceView(row.case_id, row.address_id, None, row.polygon, False)
    radius = row.geofence_radius_m
    return GeofenceView(row.case_id, row.address_id, radius or default, None, radius is None)


def set_geofence(
    session: Session,
    *,
    tenant_id: int,
    case_id: int,
    radius_m: float | None = None,
    polygon: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> GeofenceView:
    """Give the case's address a circle or a polygon; neither resets it to the tenant default.
    The change is audited with the fence before and after."""
    current = get_geofence(session, tenant_id=tenant_id, case_id=case_id)
    if radius_m is not None and polygon is not None:
        raise InvalidInput("give a radius or a polygon, not both", "polygon")
    if radius_m is not None and not 0 < radius_m <= MAX_RADIUS_M:
        raise InvalidInput(f"radius_m must be in (0, {MAX_RADIUS_M:.0f}]", "radius_m")
    geojson = None
    if polygon is not None:
        geojson = json.dumps(polygon)
        check = session.execute(
            text(
                "SELECT ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason, "
                "ST_Area(g::geography) AS area FROM (SELECT ST_SetSRID("
                "ST_GeomFromGeoJSON(:g), 4326) AS g) p"
            ),
            {"g": geojson},
        ).one()
        if not check.valid:
            raise InvalidInput(f"the polygon is not valid: {check.reason}", "polygon")
        if check.area > MAX_POLYGON_M2:
            raise InvalidInput("the polygon is larger than 1 km²", "polygon")
    updated = session.execute(
        text(
            "UPDATE addresses SET geofence_radius_m = :radius, geofence = CASE WHEN "
            "CAST(:g AS text) IS NULL THEN NULL "
            "ELSE ST_SetSRID(ST_GeomFromGeoJSON(CAST(:g AS text)), 4326) END "
            "WHERE tenant_id = :tenant_id AND id = :address_id"
        ),
        {
            "radius": radius_m,
            "g": geojson,
            "tenant_id": tenant_id,
            "address_id": current.address_id,
        },
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the address changed meanwhile", "case_id")
    after = get_geofence(session, tenant_id=tenant_id, case_id=case_id)
    record(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        action="geofence",
        subject=f"case:{case_id}",
        before=_fence(current),
        after=_fence(after),
    )
    return after


def _fence(view: GeofenceView) -> dict[str, Any]:
    if view.polygon is not None:
        return {"polygon": view.polygon}
    return {"radius_m": None if view.tenant_default else view.radius_m}
