"""The plan map: territories, street routes, numbered stops, bases and the cases left out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.contacts.rules import RULE_LABELS
from geo.core.spanish import clock, km, money
from geo.core.tenant_settings import tenant_settings
from geo.maps.base import CDN_ASSETS, PALETTE, STALE_GREY, base_map, legend, popup, safe, tooltip
from geo.routing.jobs import plan_geojson

UNPLANNED_LABELS = {
    "no_agent_with_skills": "ningún gestor tiene la habilidad que pide",
    "far_from_street": "lejos de una vía del modo del gestor",
    "unreachable": "inalcanzable por las vías",
    "capacity_or_shift": "no cupo en la capacidad o el turno",
    **{code: label.lower() for code, label in RULE_LABELS.items()},
}
"""Why a case was left out, as the dispatcher reads it."""


def _distance(route: dict[str, Any]) -> str:
    """``12,3 km (0,8 km a pie)``: walked apart when the route measured it."""
    if not route.get("walk_m"):
        return km(route["distance_m"])
    if not route.get("ride_m"):
        return f"{km(route['walk_m'])} a pie"
    return f"{km(route['distance_m'])} ({km(route['walk_m'])} a pie)"


def plan_map(
    session: Session, *, tenant_id: int, plan_id: int, assets: Mapping[str, str] = CDN_ASSETS
) -> folium.Map:
    """A plan: each agent's territory and route in its colour, numbered stops (debtor, amount,
    bucket, window, ETA), agents' bases, and the cases left out."""
    collection = plan_geojson(session, tenant_id=tenant_id, plan_id=plan_id)
    features = collection["features"]
    zone = tenant_settings(session, tenant_id).zone
    bases = session.execute(
        text(
            "SELECT g.id, g.code, ST_X(g.base_point) AS lon, ST_Y(g.base_point) AS lat, "
            "u.full_name FROM agents g "
            "JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id "
            "WHERE g.tenant_id = :t ORDER BY g.id"
        ),
        {"t": tenant_id},
    ).all()
    colour = {b.id: PALETTE[i % len(PALETTE)] for i, b in enumerate(bases)}
    points = [
        [c[1], c[0]]
        for f in features
        if f["geometry"]["type"] == "Point"
        for c in [f["geometry"]["coordinates"]]
    ]
    m = base_map(points, assets)
    layers = {
        name: folium.FeatureGroup(name=label).add_to(m)
        for name, label in (
            ("territory", "Territorios"),
            ("route", "Rutas"),
            ("stop", "Visitas"),
            ("base", "Bases"),
            ("unplanned", "Sin planear"),
        )
    }
    stops_by_agent: dict[int, list[tuple[float, float]]] = {}
    for f in features:
        p, kind = f["properties"], f["properties"]["kind"]
        if kind == "route":
            coords = [[lat, lon] for lon, lat in f["geometry"]["coordinates"]]
            folium.PolyLine(
                coords,
                color=colour.get(p["agent_id"], "#333"),
                weight=4,
                opacity=0.8,
                class_name="campo-route",
                tooltip=tooltip(f"{p['agent']}: {p['stops']} visitas, {_distance(p)}"),
            ).add_to(layers["route"])
        elif kind == "stop":
            lon, lat = f["geometry"]["coordinates"]
            stops_by_agent.setdefault(p["agent_id"], []).append((lon, lat))
            folium.Marker(
                [lat, lon],
                icon=folium.DivIcon(
                    html=f"<div class='campo-stop' style='background:{colour.get(p['agent_id'])};"
                    f"color:white;border-radius:10px;width:20px;height:20px;text-align:center;"
                    f"font:bold 11px/20px sans-serif;"
                    f"border:1px solid white'>{safe(p['seq'])}</div>",
                    icon_size=(20, 20),
                    icon_anchor=(10, 10),
                ),
                popup=popup(
                    {
                        "Deudor": p["debtor"],
                        "Saldo": money(p["outstanding_cop"]),
                        "Mora": p["bucket"],
                        "Ventana": p.get("window"),
                        "Llegada": clock(p["eta"], zone),
                        "Salida": clock(p["etd"], zone),
                        "Orden": p["seq"],
                    }
                ),
            ).add_to(layers["stop"])
        elif kind == "unplanned":
            lon, lat = f["geometry"]["coordinates"]
            folium.CircleMarker(
                [lat, lon],
                radius=3,
                color=STALE_GREY,
                fill=True,
                fill_opacity=0.6,
                weight=1,
                class_name="campo-unplanned",
                tooltip=tooltip(f"Sin planear: {UNPLANNED_LABELS.get(p['reason'], p['reason'])}"),
            ).add_to(layers["unplanned"])
    for agent_id, pts in stops_by_agent.items():
        if len(pts) >= 3:
            hull = shapely.MultiPoint(pts).convex_hull
            if hull.geom_type == "Polygon":
                ring = [[lat, lon] for lon, lat in hull.exterior.coords]
                folium.Polygon(
                    ring,
                    color=colour[agent_id],
                    weight=1,
                    fill=True,
                    fill_opacity=0.12,
                    class_name="campo-territory",
                ).add_to(layers["territory"])
    for b in bases:
        folium.CircleMarker(
            [b.lat, b.lon],
            radius=7,
            color="black",
            weight=2,
            fill=True,
            fill_color=colour[b.id],
            fill_opacity=1,
            class_name="campo-base",
            tooltip=tooltip(f"Base de {b.full_name} ({b.code})"),
        ).add_to(layers["base"])
    legend(
        m,
        f"Plan {collection['plan']['day']}",
        [(colour[b.id], b.code) for b in bases if b.id in stops_by_agent]
        + [(STALE_GREY, "sin planear")],
    )
    folium.LayerControl(collapsed=False).add_to(m)
    return m
