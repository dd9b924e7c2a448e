"""The trail map: an agent's day by battery, its stops, its check-ins with their geofences,
and a slider that replays it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import folium
import shapely
from branca.element import MacroElement
from jinja2 import Template
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.tenant_settings import tenant_settings
from geo.maps.base import (
    BATTERY_LEGEND,
    CDN_ASSETS,
    STALE_GREY,
    VERDICT_COLOURS,
    VERDICT_LABEL,
    area,
    base_map,
    battery_colour,
    legend,
    popup,
    tooltip,
)
from geo.tracking.trails import agent_trail


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
    m = base_map([[f.lat, f.lon] for f in fixes] + [[v.lat, v.lon] for v in visits], assets)
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
            tooltip=tooltip(f"Parada {since}–{until} ({stop.duration_s / 60:.0f} min)"),
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
            area(
                [v.alat, v.alon],
                radius_m=v.radius_m,
                colour=colour,
                opacity=0.08,
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
            popup=popup(
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
    legend(
        m,
        "Batería y marcaciones",
        [
            *BATTERY_LEGEND,
            (STALE_GREY, "batería desconocida"),
            (VERDICT_COLOURS["accepted"], "marcación aceptada"),
            (VERDICT_COLOURS["review"], "marcación en revisión"),
            (VERDICT_COLOURS["rejected"], "marcación rechazada"),
        ],
    )
    folium.LayerControl(collapsed=False).add_to(m)
    return m


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
