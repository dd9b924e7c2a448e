"""What every campo map shares: the base map with vendored or CDN assets, colours, legends,
popups and tooltips that are safe for any text.

Text from data (debtor names, agent codes) reaches the page inside HTML *and* inside the
JavaScript template literals folium writes popups and tooltips into, so :func:`safe` escapes
both: HTML's special characters and the ``$``, backtick and backslash a template literal
would act on. Every popup and tooltip goes through it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

CDN_ASSETS = {
    "leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist",
    "jquery": "https://cdn.jsdelivr.net/npm/jquery@3.7.1/dist",
    "heat": "https://cdn.jsdelivr.net/npm/leaflet.heat@0.2.0/dist",
    "realtime": "https://cdn.jsdelivr.net/npm/leaflet-realtime@2.2.0/dist",
    "draw": "https://cdn.jsdelivr.net/npm/leaflet-draw@1.0.4/dist",
    "vectorgrid": "https://cdn.jsdelivr.net/npm/leaflet.vectorgrid@1.3.0/dist",
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
VERDICT_COLOURS = {"accepted": "#2e7d32", "review": "#f9a825", "rejected": "#c62828"}
VERDICT_LABEL = {"accepted": "aceptada", "review": "en revisión", "rejected": "rechazada"}
BATTERY_LEGEND = [
    ("#2e7d32", "batería ≥ 50 %"),
    ("#f9a825", "batería 20–49 %"),
    ("#c62828", "batería < 20 %"),
]
_TEMPLATE_LITERAL = str.maketrans({"$": "&#36;", "`": "&#96;", "\\": "&#92;"})


def safe(value: Any) -> str:
    """Text for a popup, tooltip or legend: inert in HTML and in a JS template literal."""
    return html.escape(str(value)).translate(_TEMPLATE_LITERAL)


def battery_colour(pct: float | None) -> str:
    """Green, amber or red by battery level; grey when unknown."""
    if pct is None:
        return STALE_GREY
    return "#2e7d32" if pct >= 50 else "#f9a825" if pct >= 20 else "#c62828"


class MetricScale(MacroElement):
    """A scale bar in metres and kilometres only (folium's also shows feet and miles)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def base_map(bounds: list[list[float]], assets: Mapping[str, str]) -> folium.Map:
    m = folium.Map(tiles=TILES, control_scale=False, prefer_canvas=False)
    MetricScale().add_to(m)
    m.default_js = [
        ("jquery", f"{assets['jquery']}/jquery.min.js"),
        ("leaflet", f"{assets['leaflet']}/leaflet.js"),
    ]
    m.default_css = [("leaflet_css", f"{assets['leaflet']}/leaflet.css")]
    page(m).header.add_child(Element('<link rel="icon" href="data:,">'))  # no favicon request
    if bounds:
        lats, lons = [b[0] for b in bounds], [b[1] for b in bounds]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))
    else:
        m.location, m.options["zoom"] = [4.65, -74.08], 11
    return m


def page(m: folium.Map) -> Figure:
    root = m.get_root()
    assert isinstance(root, Figure)
    return root


def legend(m: folium.Map, title: str, items: list[tuple[str, str]]) -> None:
    rows = "".join(
        f"<div><span style='display:inline-block;width:12px;height:12px;border-radius:6px;"
        f"background:{colour};margin-right:6px'></span>{safe(label)}</div>"
        for colour, label in items
    )
    box = (
        f"<div class='campo-legend' style='position:fixed;bottom:24px;left:12px;z-index:9999;"
        f"background:white;padding:8px 10px;border-radius:6px;font:12px sans-serif;"
        f"box-shadow:0 1px 4px rgba(0,0,0,.3)'><b>{safe(title)}</b>{rows}</div>"
    )
    page(m).html.add_child(Element(box))


def popup(rows: dict[str, Any]) -> folium.Popup:
    body = "".join(
        f"<tr><th align='left'>{safe(k)}</th><td>{safe(v)}</td></tr>"
        for k, v in rows.items()
        if v is not None
    )
    return folium.Popup(f"<table>{body}</table>", max_width=320)


def tooltip(text: str) -> folium.Tooltip:
    return folium.Tooltip(safe(text))


def area(
    location: list[float], *, radius_m: float, colour: str, opacity: float, class_name: str
) -> folium.Circle:
    """A circle of ``radius_m`` metres on the ground: an accuracy radius or a geofence."""
    return folium.Circle(
        location,
        radius=radius_m,
        color=colour,
        weight=1,
        fill=True,
        fill_opacity=opacity,
        class_name=class_name,
    )
