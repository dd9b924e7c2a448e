"""Maps for dispatchers and analysts, as ``folium.Map`` objects (notebooks use them as they
are; the API serves their HTML).

Every map has Spanish labels, a legend, a layer control and is fitted to its data. Leaflet is
loaded from ``assets`` (the API serves a vendored copy, so the data layers draw with no
internet; only the background tiles need it). Each drawn thing carries a ``campo-*`` class so
tests and stylesheets can find it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date as date_type
from datetime import datetime
from typing import Any

import folium
import shapely
from branca.element import Element, Figure, MacroElement
from folium.plugins import HeatMap
from jinja2 import Template
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.tenant_settings import tenant_settings
from geo.routing.jobs import plan_geojson
from geo.tracking.live import live_positions
from geo.tracking.trails import agent_trail

CDN_ASSETS = {
    "leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist",
    "jquery": "https://cdn.jsdelivr.net/npm/jquery@3.7.1/dist",
    "heat": "https://cdn.jsdelivr.net/npm/leaflet.heat@0.2.0/dist",
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
                        "Ventana": p.get("window"),
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


VERDICT_COLOURS = {"accepted": "#2e7d32", "review": "#f9a825", "rejected": "#c62828"}


class TimeSlider(MacroElement):
    """A range input under the map that moves a marker along the day's positions."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="campo-slider" style="position:fixed;bottom:24px;right:12px;z-index:9999;
             background:white;padding:8px 10px;border-radius:6px;font:12px sans-serif;
             box-shadow:0 1px 4px rgba(0,0,0,.3)">
          <input type="range" min="0" max="{{ this.count - 1 }}" value="0" style="width:260px"
                 id="{{ this.get_name() }}_range">
          <span id="{{ this.get_name() }}_label"></span>
        </div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
          var points = {{ this.points | tojson }};
          var map = {{ this._parent.get_name() }};
          var marker = L.circleMarker([points[0][0], points[0][1]],
              {radius: 8, color: "#000", weight: 2, fillColor: "#fff", fillOpacity: 1,
               className: "campo-now"}).addTo(map);
          var range = document.getElementById("{{ this.get_name() }}_range");
          var label = document.getElementById("{{ this.get_name() }}_label");
          function show(i) {
            marker.setLatLng([points[i][0], points[i][1]]);
            label.textContent = points[i][2];
          }
          range.addEventListener("input", function () { show(+range.value); });
          show(0);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, points: list[tuple[float, float, str]]) -> None:
        super().__init__()
        self._name = "TimeSlider"
        self.points = [list(p) for p in points]
        self.count = len(points)


def trail_map(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    start: datetime,
    end: datetime,
    assets: Mapping[str, str] = CDN_ASSETS,
) -> folium.Map:
    """An agent's day: the path coloured by battery, stops with their durations, check-ins
    coloured by verdict with their geofence, and a slider to replay it."""
    trail = agent_trail(session, tenant_id=tenant_id, agent_id=agent_id, start=start, end=end)
    zone = tenant_settings(session, tenant_id).zone
    fixes = session.execute(
        text(
            "SELECT recorded_at, ST_X(point) AS lon, ST_Y(point) AS lat, battery_pct "
            "FROM gps_fixes "
            "WHERE tenant_id = :t AND agent_id = :a AND recorded_at >= :s AND recorded_at < :e "
            "AND (accuracy_m IS NULL OR accuracy_m <= :acc) ORDER BY recorded_at, id"
        ),
        {"t": tenant_id, "a": agent_id, "s": start, "e": end, "acc": trail.options.max_accuracy_m},
    ).all()
    visits = session.execute(
        text(
            "SELECT v.id, v.verdict, v.checkin_at, v.distance_m, v.radius_m, v.outcome, "
            "ST_X(v.checkin_point) AS lon, ST_Y(v.checkin_point) AS lat, ST_X(a.point) AS alon, "
            "ST_Y(a.point) AS alat, ST_AsGeoJSON(a.geofence)::jsonb AS polygon, d.full_name "
            "FROM visits v JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id "
            "JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id "
            "LEFT JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id "
            "WHERE v.tenant_id = :t AND v.agent_id = :a AND v.checkin_at >= :s "
            "AND v.checkin_at < :e ORDER BY v.checkin_at"
        ),
        {"t": tenant_id, "a": agent_id, "s": start, "e": end},
    ).all()
    m = _map([[f.lat, f.lon] for f in fixes] + [[v.lat, v.lon] for v in visits], assets)
    layers = {
        name: folium.FeatureGroup(name=label).add_to(m)
        for name, label in (("path", "Recorrido"), ("stop", "Paradas"), ("visit", "Marcaciones"))
    }
    for colour, run in _battery_runs(fixes):
        line = shapely.LineString([(f.lon, f.lat) for f in run]).simplify(0.00003)
        folium.PolyLine(
            [[lat, lon] for lon, lat in line.coords],
            color=colour,
            weight=4,
            class_name="campo-path",
        ).add_to(layers["path"])
    for stop in trail.stops:
        since = stop.start.astimezone(zone).strftime("%H:%M")
        until = stop.end.astimezone(zone).strftime("%H:%M")
        folium.CircleMarker(
            [stop.lat, stop.lon],
            radius=7,
            color="#37474f",
            fill=True,
            fill_opacity=0.7,
            class_name="campo-trail-stop",
            tooltip=f"Parada {since}–{until} ({stop.duration_s / 60:.0f} min)",
        ).add_to(layers["stop"])
    for v in visits:
        colour = VERDICT_COLOURS[v.verdict]
        if v.polygon is not None:
            ring = [[lat, lon] for lon, lat in v.polygon["coordinates"][0]]
            folium.Polygon(
                ring,
                color=colour,
                weight=1,
                fill=True,
                fill_opacity=0.08,
                class_name="campo-geofence",
            ).add_to(layers["visit"])
        elif v.radius_m and v.alat is not None:
            folium.Circle(
                [v.alat, v.alon],
                radius=v.radius_m,
                color=colour,
                weight=1,
                fill=True,
                fill_opacity=0.08,
                class_name="campo-geofence",
            ).add_to(layers["visit"])
        folium.CircleMarker(
            [v.lat, v.lon],
            radius=8,
            color="white",
            weight=2,
            fill=True,
            fill_color=colour,
            fill_opacity=1,
            class_name=f"campo-checkin campo-{v.verdict}",
            popup=_popup(
                {
                    "Deudor": v.full_name,
                    "Marcación": VERDICT_LABEL[v.verdict],
                    "Hora": v.checkin_at.astimezone(zone).strftime("%H:%M"),
                    "Distancia": f"{v.distance_m:.0f} m",
                    "Resultado": v.outcome,
                }
            ),
        ).add_to(layers["visit"])
    step = max(1, len(fixes) // 500)
    replay = [
        (f.lat, f.lon, f.recorded_at.astimezone(zone).strftime("%H:%M")) for f in fixes[::step]
    ]
    if replay:
        m.add_child(TimeSlider(replay))
    _legend(
        m,
        "Batería y marcaciones",
        [
            ("#2e7d32", "batería ≥ 50 %"),
            ("#f9a825", "batería 20–49 %"),
            ("#c62828", "batería < 20 %"),
            (STALE_GREY, "batería desconocida"),
            (VERDICT_COLOURS["accepted"], "marcación aceptada"),
            (VERDICT_COLOURS["review"], "marcación en revisión"),
            (VERDICT_COLOURS["rejected"], "marcación rechazada"),
        ],
    )
    folium.LayerControl(collapsed=False).add_to(m)
    return m


VERDICT_LABEL = {"accepted": "aceptada", "review": "en revisión", "rejected": "rechazada"}


def _battery_runs(fixes: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """Consecutive fixes of the same battery colour, each run sharing its first fix with the
    previous one so the line has no holes."""
    runs: list[tuple[str, list[Any]]] = []
    for fix in fixes:
        colour = battery_colour(fix.battery_pct)
        if runs and runs[-1][0] == colour:
            runs[-1][1].append(fix)
        else:
            runs.append((colour, ([runs[-1][1][-1]] if runs else []) + [fix]))
    return [(c, r) for c, r in runs if len(r) >= 2]


def dispatcher_page(session: Session, *, tenant_id: int, day: date_type) -> str:
    """A small page of links for a day: live map, the day's plans, every agent's trail."""
    plans = session.execute(
        text(
            "SELECT id, status, stats FROM plans WHERE tenant_id = :t AND day = :d ORDER BY id DESC"
        ),
        {"t": tenant_id, "d": day},
    ).all()
    agents = session.execute(
        text(
            "SELECT g.id, g.code, u.full_name FROM agents g "
            "JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id "
            "WHERE g.tenant_id = :t AND g.active ORDER BY g.code"
        ),
        {"t": tenant_id},
    ).all()
    esc = html.escape
    plan_items = (
        "".join(
            f"<li><a class='campo-plan-link' href='/maps/plans/{p.id}'>Plan {p.id}</a> "
            f"({esc(p.status)}"
            + (f", {p.stats.get('planned')} visitas" if p.stats else "")
            + ")</li>"
            for p in plans
        )
        or "<li>Sin planes para este día.</li>"
    )
    trail_items = "".join(
        f"<li><a class='campo-trail-link' href='/maps/agents/{a.id}/trail?date={day}'>"
        f"{esc(a.code)} · {esc(a.full_name)}</a></li>"
        for a in agents
    )
    return (
        "<!doctype html><html lang='es'><head><meta charset='utf-8'>"
        f"<title>campo · despacho {day}</title><link rel='icon' href='data:,'></head>"
        "<body style='font:14px sans-serif;margin:24px'>"
        f"<h1>Despacho del {day}</h1><p><a class='campo-live-link' href='/maps/live'>"
        "Mapa en vivo de los gestores</a> · <a class='campo-contacts-link' "
        "href='/maps/contacts'>Mapa de calor de contactos</a></p>"
        f"<h2>Planes</h2><ul>{plan_items}</ul><h2>Recorridos</h2><ul>{trail_items}</ul>"
        "</body></html>"
    )


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
    m = _map(points, assets)
    heat = HeatMap(points, name="Visitas con contacto", radius=18, blur=14, min_opacity=0.3)
    heat.default_js = [("leaflet-heat.js", f"{assets['heat']}/leaflet-heat.js")]
    heat.add_to(m)
    _legend(m, f"Contactos: {len(points)}", [("#f03b20", "más contactos"), ("#2c7fb8", "menos")])
    folium.LayerControl(collapsed=False).add_to(m)
    return m
