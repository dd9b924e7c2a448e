"""The cases map: the filtered cases as one GeoJSON layer (not an object per marker), coloured
by assignment, with the debtor, reference and balance on click."""

from __future__ import annotations

from collections.abc import Mapping

import folium
from folium.features import GeoJsonPopup
from sqlalchemy.orm import Session

from geo.core.spanish import money
from geo.maps.base import CDN_ASSETS, STALE_GREY, area, base_map, legend, safe, tooltip
from geo.maps.drawing import drawing_tools
from geo.portfolio.cases import CaseFilter, cases_geojson, get_case
from geo.visits.geofences import get_geofence

ASSIGNED, UNASSIGNED = "#1f77b4", STALE_GREY


def cases_map(
    session: Session,
    *,
    tenant_id: int,
    where: CaseFilter,
    assets: Mapping[str, str] = CDN_ASSETS,
    limit: int = 10_000,
    draw: bool = False,
) -> folium.Map:
    """Up to ``limit`` located cases matching ``where``, drawn from one FeatureCollection;
    with ``draw``, tools to draw an area (the filter's area, if any, drawn in them)."""
    collection = cases_geojson(session, tenant_id=tenant_id, where=where, limit=limit)
    features = collection["features"]
    for feature in features:  # the popup writes values as HTML: names and addresses are data
        props = feature["properties"]
        for key in ("external_ref", "debtor", "address", "bucket"):
            props[key] = safe(props[key]) if props.get(key) is not None else ""
        props["outstanding_cop"] = money(float(props["outstanding_cop"]))
    points = [[f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]] for f in features]
    if where.area is not None:
        points += [[lat, lon] for lon, lat in where.area["coordinates"][0]]
    m = base_map(points, assets)
    if draw:
        drawing_tools(m, assets=assets, existing=where.area)
    if features:
        folium.GeoJson(
            collection,
            name="Casos",
            marker=folium.CircleMarker(radius=4, weight=1, fill=True, fill_opacity=0.8),
            style_function=lambda f: {
                "color": ASSIGNED if f["properties"]["assigned_agent_id"] else UNASSIGNED,
                "fillColor": ASSIGNED if f["properties"]["assigned_agent_id"] else UNASSIGNED,
            },
            popup=GeoJsonPopup(
                fields=["external_ref", "debtor", "address", "outstanding_cop", "bucket"],
                aliases=["Caso", "Deudor", "Dirección", "Saldo", "Tramo"],
            ),
        ).add_to(m)
    legend(m, "Casos", [(ASSIGNED, "asignado"), (UNASSIGNED, "sin asignar")])
    return m


def case_map(
    session: Session,
    *,
    tenant_id: int,
    case_id: int,
    assets: Mapping[str, str] = CDN_ASSETS,
) -> folium.Map:
    """A case's address and its geofence (the circle of its radius, or its polygon, which the
    drawing tools can edit), for drawing a new fence."""
    case = get_case(session, tenant_id=tenant_id, case_id=case_id)
    m = base_map([], assets)
    if case.address_id is None:
        return m
    fence = get_geofence(session, tenant_id=tenant_id, case_id=case_id)
    if case.lon is not None and case.lat is not None:
        spot = [case.lat, case.lon]
        m.location, m.options["zoom"] = spot, 17
        folium.CircleMarker(
            spot,
            radius=5,
            color=ASSIGNED,
            fill=True,
            fill_opacity=1,
            tooltip=tooltip(case.address or case.external_ref),
        ).add_to(m)
        if fence.polygon is None and fence.radius_m is not None:
            area(
                spot,
                radius_m=fence.radius_m,
                colour="#163b5c",
                opacity=0.1,
                class_name="geocerca",
            ).add_to(m)
    drawing_tools(m, assets=assets, existing=fence.polygon)
    return m
