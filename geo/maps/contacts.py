"""The contact heat map: where visits reached someone (``analytics.contacts``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import folium
from folium.plugins import HeatMap
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.maps.base import CDN_ASSETS, base_map, legend


def contact_heat_map(
    session: Session,
    *,
    tenant_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    assets: Mapping[str, str] = CDN_ASSETS,
) -> folium.Map:
    """Where visits reached someone: a heat map of the check-ins in ``analytics.contacts``
    (the same definition of contact as the KPIs and contact hours)."""
    rows = session.execute(
        text(
            "SELECT ST_Y(geom) AS lat, ST_X(geom) AS lon FROM analytics.contacts "
            "WHERE (SELECT analytics.tenant()) = :t "
            "AND (CAST(:s AS timestamptz) IS NULL OR checkin_at >= :s) "
            "AND (CAST(:u AS timestamptz) IS NULL OR checkin_at < :u)"
        ),
        {"t": tenant_id, "s": since, "u": until},
    ).all()
    points = [[r.lat, r.lon] for r in rows]
    m = base_map(points, assets)
    heat = HeatMap(points, name="Visitas con contacto", radius=18, blur=14, min_opacity=0.3)
    heat.default_js = [("leaflet-heat.js", f"{assets['heat']}/leaflet-heat.js")]
    heat.add_to(m)
    legend(m, f"Contactos: {len(points)}", [("#f03b20", "más contactos"), ("#2c7fb8", "menos")])
    folium.LayerControl(collapsed=False).add_to(m)
    return m
