"""The live map: every agent at its last position, with accuracy, battery and last seen."""

from __future__ import annotations

from collections.abc import Mapping

import folium
from branca.element import Element
from folium.plugins import Realtime
from folium.utilities import JsCode
from sqlalchemy.orm import Session

from geo.core.spanish import local_moment
from geo.core.tenant_settings import tenant_settings
from geo.maps.base import (
    BATTERY_LEGEND,
    CDN_ASSETS,
    STALE_GREY,
    area,
    base_map,
    battery_colour,
    legend,
    page,
    popup,
    tooltip,
)
from geo.tracking.live import live_positions


def live_map(
    session: Session, *, tenant_id: int, assets: Mapping[str, str] = CDN_ASSETS, refresh_s: int = 30
) -> folium.Map:
    """Every agent at its last position: accuracy circle, battery by colour and percentage,
    charging, speed, last seen; stale agents in grey. The page reloads every ``refresh_s``."""
    collection = live_positions(session, tenant_id=tenant_id)
    features = collection["features"]
    zone = tenant_settings(session, tenant_id).zone
    m = base_map(
        [[f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]] for f in features],
        assets,
    )
    agents = folium.FeatureGroup(name="Gestores").add_to(m)
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        p = feature["properties"]
        colour = STALE_GREY if p["stale"] else battery_colour(p["battery_pct"])
        if p["accuracy_m"]:
            area(
                [lat, lon],
                radius_m=p["accuracy_m"],
                colour=colour,
                opacity=0.1,
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
            tooltip=tooltip(f"{p['code']} · {battery}{charging}"),
            popup=popup(
                {
                    "Gestor": f"{p['name']} ({p['code']})",
                    "Batería": battery + charging,
                    "Velocidad": None
                    if p["speed_mps"] is None
                    else f"{p['speed_mps'] * 3.6:.0f} km/h",
                    "Precisión": None if p["accuracy_m"] is None else f"{p['accuracy_m']:.0f} m",
                    "Última señal": local_moment(p["last_seen"], zone),
                    "Sin señal": "sí" if p["stale"] else "no",
                }
            ),
        ).add_to(agents)
    legend(
        m,
        "Batería",
        [*BATTERY_LEGEND, (STALE_GREY, "sin señal reciente")],
    )
    page(m).header.add_child(Element(f'<meta http-equiv="refresh" content="{refresh_s}">'))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


_STYLE = """function campoStyle(f) {
    var p = f.properties, b = p.battery_pct;
    var colour = p.stale || b === null ? "STALE_GREY"
        : b >= 50 ? "#2e7d32" : b >= 20 ? "#f9a825" : "#c62828";
    return {radius: 9, color: "#333", weight: 1, fillColor: colour, fillOpacity: 0.95,
            className: "campo-agent" + (p.stale ? " campo-stale" : "")};
}
function campoLabel(f) {
    var p = f.properties, b = p.battery_pct === null ? "?" : Math.round(p.battery_pct) + " %";
    var span = document.createElement("span");
    span.textContent = p.code + " · " + b + (p.charging ? " ⚡" : "");
    return span.outerHTML;
}"""


def realtime_map(
    session: Session,
    *,
    tenant_id: int,
    source_url: str,
    assets: Mapping[str, str] = CDN_ASSETS,
    interval_s: int = 15,
) -> folium.Map:
    """The agents' positions updated in place every ``interval_s`` from ``source_url`` (the
    GeoJSON of :func:`~geo.tracking.live.live_positions`): no reload, the zoom is kept."""
    features = live_positions(session, tenant_id=tenant_id)["features"]
    m = base_map(
        [[f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]] for f in features],
        assets,
    )
    page(m).header.add_child(
        Element(f"<script>{_STYLE.replace('STALE_GREY', STALE_GREY)}</script>")
    )
    live = Realtime(
        source_url,
        interval=interval_s * 1000,
        get_feature_id=JsCode("function(f) { return f.properties.agent_id; }"),
        point_to_layer=JsCode(
            "function(f, latlng) {"
            " return L.circleMarker(latlng, campoStyle(f)).bindTooltip(campoLabel(f)); }"
        ),
        update_feature=JsCode(
            "function(f, old) { if (!old) { return; }"
            " var c = f.geometry.coordinates; old.setLatLng([c[1], c[0]]);"
            " old.setStyle(campoStyle(f)); old.setTooltipContent(campoLabel(f)); return old; }"
        ),
        remove_missing=True,
    )
    live.default_js = [("Leaflet_Realtime_js", f"{assets['realtime']}/leaflet-realtime.js")]
    live.add_to(m)
    legend(m, "Batería", [*BATTERY_LEGEND, (STALE_GREY, "sin señal reciente")])
    return m
