"""The plan map: territories, street routes, numbered stops, bases and the cases left out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.contacts.rules import RULE_LABELS
from geo.core.spanish import clock, km, money
from geo.core.tenant_settings import tenant_settings
from geo.maps.base import CDN_ASSETS, PALETTE, STALE_GREY, base_map, legend, page, tooltip
from geo.routing.jobs import plan_geojson

UNPLANNED_LABELS = {
    "no_agent_with_skills": "ningún gestor tiene la habilidad que pide",
    "far_from_street": "lejos de una vía del modo del gestor",
    "unreachable": "inalcanzable por las vías",
    "capacity_or_shift": "no cupo en la capacidad o el turno",
    **{code: label.lower() for code, label in RULE_LABELS.items()},
}
"""Why a case was left out, as the dispatcher reads it."""


_DRAW = """
var campoLabels = ["Deudor", "Saldo", "Mora", "Ventana", "Llegada", "Salida"];
function campoText(values, seq) {
    var table = document.createElement("table");
    values.concat([seq]).forEach(function (value, i) {
        if (value === "") { return; }
        var line = table.insertRow(), th = document.createElement("th");
        th.align = "left"; th.textContent = campoLabels[i] || "Orden"; line.appendChild(th);
        line.insertCell().textContent = value;
    });
    return table;
}
function campoPoints(data, layer, kind) {
    L.geoJSON(data, {pointToLayer: function (f, at) {
        var p = f.properties;
        if (kind === "stops") {
            var dot = document.createElement("div");
            dot.className = "campo-stop"; dot.textContent = p.seq;
            dot.style.cssText = "background:" + p.colour + ";color:white;border-radius:10px;" +
                "width:20px;height:20px;text-align:center;font:bold 11px/20px sans-serif;" +
                "border:1px solid white";
            var icon = L.divIcon({html: dot, className: "", iconSize: [20, 20],
                                  iconAnchor: [10, 10]});
            return L.marker(at, {icon: icon}).bindPopup(function () {
                return campoText(p.values, p.seq); },
                                                        {maxWidth: 320});
        }
        var tip = document.createElement("span"); tip.textContent = p.label;
        return L.circleMarker(at, {radius: 3, color: "STALE_GREY", fill: true, fillOpacity: 0.6,
                                   weight: 1, className: "campo-unplanned"}).bindTooltip(tip);
    }}).addTo(layer);
}
""".replace("STALE_GREY", STALE_GREY)
"""Text from data reaches the page only through ``textContent``: never read as markup."""


class PointLayer(MacroElement):
    """Points of one kind drawn into a layer from one embedded GeoJSON."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "campoPoints({{ this.data|tojson }}, {{ this.layer.get_name() }}, {{ this.kind|tojson }});"
        "{% endmacro %}"
    )

    def __init__(self, layer: Element, features: list[dict[str, Any]], *, kind: str):
        super().__init__()
        self.layer, self.kind = layer, kind
        self.data = {"type": "FeatureCollection", "features": features}


def _point(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": properties,
    }


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
    stops: list[dict[str, Any]] = []
    unplanned: list[dict[str, Any]] = []
    for f in features:
        p, kind = f["properties"], f["properties"]["kind"]
        if kind == "route":
            # Six decimals: 0.1 m, the precision of the data, and half the page's bytes.
            coords = [[round(lat, 6), round(lon, 6)] for lon, lat in f["geometry"]["coordinates"]]
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
            values = [
                p["debtor"],
                money(p["outstanding_cop"]),
                p["bucket"],
                p.get("window") or "",
                clock(p["eta"], zone),
                clock(p["etd"], zone),
            ]
            stops.append(
                _point(
                    lon,
                    lat,
                    seq=int(p["seq"]),
                    colour=colour.get(p["agent_id"], "#333"),
                    values=values,
                )
            )
        elif kind == "unplanned":
            lon, lat = f["geometry"]["coordinates"]
            why = UNPLANNED_LABELS.get(p["reason"], p["reason"])
            unplanned.append(_point(lon, lat, label=f"Sin planear: {why}"))
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
    routed = {f["properties"]["agent_id"] for f in features if f["properties"]["kind"] == "route"}
    for b in bases:
        if b.id not in routed:
            continue  # the plan's agents only: a tenant may have hundreds
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
    # Stops and unplanned cases: one GeoJSON each, drawn by a few lines of script, instead of
    # a JavaScript object per marker (a 2,000-stop plan was megabytes of page).
    page(m).header.add_child(Element(f"<script>{_DRAW}</script>"))
    m.add_child(PointLayer(layers["stop"], stops, kind="stops"))
    m.add_child(PointLayer(layers["unplanned"], unplanned, kind="unplanned"))
    legend(
        m,
        f"Plan {collection['plan']['day']}",
        [(colour[b.id], b.code) for b in bases if b.id in stops_by_agent]
        + [(STALE_GREY, "sin planear")],
    )
    folium.LayerControl(collapsed=False).add_to(m)
    return m
