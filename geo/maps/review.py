"""The map a reviewer decides on: the check-in's fix with its accuracy circle, the address
with its fence, and the agent's trail in the minutes before, times in the tenant's zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import folium
from sqlalchemy.orm import Session

from geo.core.spanish import clock
from geo.core.tenant_settings import tenant_settings
from geo.dispatch.review import evidence
from geo.maps.base import CDN_ASSETS, area, base_map, legend, tooltip

FIX, FENCE, TRAIL = "#d62728", "#1f77b4", "#555555"


def review_map(
    session: Session, *, tenant_id: int, visit_id: int, assets: Mapping[str, str] = CDN_ASSETS
) -> folium.Map:
    """One check-in's evidence, drawn from its GeoJSON (:func:`geo.dispatch.review.evidence`)."""
    zone = tenant_settings(session, tenant_id).zone
    features = evidence(session, tenant_id=tenant_id, visit_id=visit_id)["features"]
    points = [
        [f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]]
        for f in features
        if f["geometry"]["type"] == "Point"
    ]
    m = base_map(points, assets)
    trail = [f for f in features if f["properties"]["kind"] == "trail"]
    if len(trail) >= 2:
        folium.PolyLine(
            [[f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]] for f in trail],
            color=TRAIL,
            weight=2,
            dash_array="4 4",
            class_name="campo-trail",
        ).add_to(m)
    for f in features:
        lon, lat = f["geometry"]["coordinates"][:2] if f["geometry"]["type"] == "Point" else (0, 0)
        p = f["properties"]
        if p["kind"] == "trail":
            at = clock(datetime.fromisoformat(p["recorded_at"]), zone)
            folium.CircleMarker(
                [lat, lon],
                radius=3,
                color=TRAIL,
                fill=True,
                class_name="campo-trail-fix",
                tooltip=tooltip(f"Posición {at}"),
            ).add_to(m)
        elif p["kind"] == "address":
            if not p["polygon"]:
                area(
                    [lat, lon],
                    radius_m=p["radius_m"],
                    colour=FENCE,
                    opacity=0.08,
                    class_name="campo-geofence",
                ).add_to(m)
            folium.CircleMarker(
                [lat, lon],
                radius=5,
                color=FENCE,
                fill=True,
                class_name="campo-address",
                tooltip=tooltip("Dirección del caso"),
            ).add_to(m)
        elif p["kind"] == "geofence":
            folium.GeoJson(
                f,
                style_function=lambda _f: {"color": FENCE, "weight": 1, "fillOpacity": 0.08},
            ).add_to(m)
        elif p["kind"] == "fix":
            if p["accuracy_m"]:
                area(
                    [lat, lon],
                    radius_m=p["accuracy_m"],
                    colour=FIX,
                    opacity=0.12,
                    class_name="campo-accuracy",
                ).add_to(m)
            folium.CircleMarker(
                [lat, lon],
                radius=7,
                color="white",
                weight=2,
                fill=True,
                fill_color=FIX,
                fill_opacity=1,
                class_name="campo-checkin",
                tooltip=tooltip(f"Marcación a {p['distance_m']:.0f} m de la geocerca"),
            ).add_to(m)
    legend(
        m,
        "Marcación en revisión",
        [
            (FIX, "punto y precisión del GPS"),
            (FENCE, "dirección y geocerca"),
            (TRAIL, "recorrido previo"),
        ],
    )
    return m
