"""Maps for dispatchers and analysts, as ``folium.Map`` objects (notebooks use them as they
are; the API serves their HTML).

Every map has Spanish labels, a legend, a layer control and is fitted to its data. Leaflet is
loaded from ``assets`` (the API serves a vendored copy, so the data layers draw with no
internet; only the background tiles need it). Each drawn thing carries a ``campo-*`` class so
tests and stylesheets can find it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import folium
import shapely
from branca.element import Element, Figure
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.live import live_positions
from geo.plans import plan_geojson

CDN_ASSETS = {
    "leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist",
    "jquery": "https://cdn.jsdelivr.net/npm/jquery@3.7.1/dist",
}
"""Where Leaflet and jQuery (folium builds its popups with it) come from, for notebooks."""
TILES = "OpenStreetMap"
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
]
STALE_GREY = "#9e9e9e"


def battery_colour(pct: float | None) -> str:
    """Green, amber or red by battery level; grey when unknown."""
    if pct is None:
        return STALE_GREY
    return "#2e7d32" if pct >= 50 else "#f9a825" if pct >= 20 else "#c62828"


def _map(bounds: list[list[float]], assets: Mapping[str, str]) -> folium.Map:
    m = folium.Map(tiles=TILES, control_scale=True, prefer_canvas=False)
    m.default_js = [
        ("jquery", f"{assets['jquery']}/jquery.min.js"),
        ("leaflet", f"{assets['leaflet']}/leaflet.js"),
    ]
    m.default_css = [("leaflet_css", f"{assets['leaflet']}/leaflet.css")]
    _page(m).header.add_child(Element('<link rel="icon" href="data:,">'))  # no favicon request
    if bounds:
        lats, lons = [b[0] for b in bounds], [b[1] for b in bounds]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))
    else:
        m.location, m.options["zoom"] = [4.65, -74.08], 11
    return m


def _page(m: folium.Map) -> Figure:
    root = m.get_root()
    assert isinstance(root, Figure)
    return root


def _legend(m: folium.Map, title: str, items: list[tuple[str, str]]) -> None:
    rows = "".join(
        f"<div><span style='display:inline-block;width:12px;height:12px;border-radius:6px;"
        f"background:{colour};margin-right:6px'></span>{html.escape(label)}</div>"
        for colour, label in items
    )
    box = (
        f"<div class='campo-legend' style='position:fixed;bottom:24px;left:12px;z-index:9999;"
        f"background:white;padding:8px 10px;border-radius:6px;font:12px sans-serif;"
        f"box-shadow:0 1px 4px rgba(0,0,0,.3)'><b>{html.escape(title)}</b>{rows}</div>"
    )
    _page(m).html.add_child(Element(box))


def _popup(rows: dict[str, Any]) -> folium.Popup:
    body = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows.items()
        if v is not None
    )
    return folium.Popup(f"<table>{body}</table>", max_width=320)


def live_map(
    session: Session, *, tenant_id: int, assets: Mapping[str, str] = CDN_ASSETS, refresh_s: int = 30
) -> folium.Map:
    """Every agent at its last position: accuracy circle, battery by colour and percentage,
    charging, speed, last seen; stale agents in grey. The page reloads every ``refresh_s``."""
    collection = live_positions(session, tenant_id=tenant_id)
    features = collection["features"]
    m = _map(
        [[f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]] for f in features],
        assets,
    )
    agents = folium.FeatureGroup(name="Gestores").add_to(m)
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        p = feature["properties"]
        colour = STALE_GREY if p["stale"] else battery_colour(p["battery_pct"])
        if p["accuracy_m"]:
            folium.Circle(
                [lat, lon],
                radius=p["accuracy_m"],
                color=colour,
                weight=1,
                fill=True,
                fill_opacity=0.1,
                class_name="campo-accuracy",
            ).add_to(agents)
        battery = "?" if p["battery_pct"] is None else f"{p['battery_pct']:.0f} %"
        charging = " ⚡" if p["charging"] else ""
        folium.CircleMarker(
            [lat, lon],
            radius=9,
            color="#333",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.95,
            class_name="campo-agent" + (" campo-stale" if p["stale"] else ""),
            tooltip=f"{p['code']} · {battery}{charging}",
            popup=_popup(
                {
                    "Gestor": f"{p['name']} ({p['code']})",
                    "Batería": battery + charging,
                    "Velocidad": None
                    if p["speed_mps"] is None
                    else f"{p['speed_mps'] * 3.6:.0f} km/h",
                    "Precisión": None if p["accuracy_m"] is None else f"{p['accuracy_m']:.0f} m",
                    "Última señal": p["last_seen"][:16].replace("T", " "),
                    "Sin señal": "sí" if p["stale"] else "no",
                }
            ),
        ).add_to(agents)
    _legend(
        m,
        "Batería",
        [
            ("#2e7d32", "50 % o más"),
            ("#f9a825", "20 – 49 %"),
            ("#c62828", "menos de 20 %"),
            (STALE_GREY, "sin señal reciente"),
        ],
    )
    _page(m).header.add_child(Element(f'<meta http-equiv="refresh" content="{refresh_s}">'))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def plan_map(
    session: Session, *, tenant_id: int, plan_id: int, assets: Mapping[str, str] = CDN_ASSETS
) -> folium.Map:
    """A plan: each agent's territory and route in its colour, numbered stops (debtor, amount,
    bucket, window, ETA), agents' bases, and the cases left out."""
    collection = plan_geojson(session, tenant_id=tenant_id, plan_id=plan_id)
    features = collection["features"]
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
    m = _map(points, assets)
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
                tooltip=f"{p['agent']}: {p['stops']} visitas, {p['distance_m'] / 1000:.1f} km",
            ).add_to(layers["route"])
        elif kind == "stop":
            lon, lat = f["geometry"]["coordinates"]
            stops_by_agent.setdefault(p["agent_id"], []).append((lon, lat))
            folium.Marker(
                [lat, lon],
                icon=folium.DivIcon(
                    html=f"<div class='campo-stop' style='background:{colour.get(p['agent_id'])};"
                    f"color:white;border-radius:10px;width:20px;height:20px;text-align:center;"
                    f"font:bold 11px/20px sans-serif;border:1px solid white'>{p['seq']}</div>",
                    icon_size=(20, 20),
                    icon_anchor=(10, 10),
                ),
                popup=_popup(
                    {
                        "Deudor": p["debtor"],
                        "Saldo": f"${p['outstanding_cop']:,.0f} COP",
                        "Mora": p["bucket"],
                        "Llegada": p["eta"][11:16],
                        "Salida": p["etd"][11:16],
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
                tooltip=f"Sin planear: {p['reason']}",
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
            tooltip=f"Base de {b.full_name} ({b.code})",
        ).add_to(layers["base"])
    _legend(
        m,
        f"Plan {collection['plan']['day']}",
        [(colour[b.id], b.code) for b in bases if b.id in stops_by_agent]
        + [(STALE_GREY, "sin planear")],
    )
    folium.LayerControl(collapsed=False).add_to(m)
    return m
