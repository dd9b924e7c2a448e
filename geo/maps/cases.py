"""The cases map: the filtered cases as one GeoJSON layer (not an object per marker), coloured
by assignment, with the debtor, reference and balance on click."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import folium
from branca.element import MacroElement
from folium.features import GeoJsonPopup
from folium.plugins import VectorGridProtobuf
from jinja2 import Template
from sqlalchemy.orm import Session

from geo.core.spanish import money
from geo.maps.base import CDN_ASSETS, STALE_GREY, area, base_map, legend, safe, tooltip
from geo.maps.drawing import drawing_tools
from geo.portfolio.cases import CaseFilter, cases_geojson, get_case, located_extent
from geo.visits.geofences import get_geofence

ASSIGNED, UNASSIGNED = "#1f77b4", STALE_GREY
GEOJSON_LIMIT = 2_500
"""More located cases than this go to the map as vector tiles: one GeoJSON of them would
weigh megabytes and take seconds to draw."""


def cases_map(
    session: Session,
    *,
    tenant_id: int,
    where: CaseFilter,
    assets: Mapping[str, str] = CDN_ASSETS,
    limit: int = GEOJSON_LIMIT,
    tiles_url: str | None = None,
    draw: bool = False,
) -> folium.Map:
    """The located cases matching ``where``: up to ``limit`` as one FeatureCollection with a
    popup each; more than that, as vector tiles from ``tiles_url`` (a ``{z}/{x}/{y}`` URL of
    :func:`~geo.portfolio.cases.cases_tile`), if given. With ``draw``, tools to draw an area
    (the filter's area, if any, drawn in them)."""
    count, box = located_extent(session, tenant_id=tenant_id, where=where)
    points: list[list[float]] = []
    if box is not None:
        points = [[box[1], box[0]], [box[3], box[2]]]
    if where.area is not None:
        points += [[lat, lon] for lon, lat in where.area["coordinates"][0]]
    m = base_map(points, assets)
    if count > limit and tiles_url is not None:
        _tiles(m, tiles_url, assets)
    elif count:
        _geojson(m, cases_geojson(session, tenant_id=tenant_id, where=where, limit=limit))
    if draw:
        drawing_tools(m, assets=assets, existing=where.area)
    legend(m, "Casos", [(ASSIGNED, "asignado"), (UNASSIGNED, "sin asignar")])
    return m


def _geojson(m: folium.Map, collection: dict[str, Any]) -> None:
    for feature in collection["features"]:
        props = feature["properties"]
        # Only what the popup and the colour read; popups write values as HTML: names are data.
        feature["properties"] = {
            key: safe(props[key]) if props.get(key) is not None else ""
            for key in ("external_ref", "debtor", "address", "bucket")
        } | {
            "outstanding_cop": money(float(props["outstanding_cop"])),
            "assigned_agent_id": props["assigned_agent_id"],
        }
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


def _tiles(m: folium.Map, url: str, assets: Mapping[str, str]) -> None:
    """The cases as vector tiles, a dot each coloured by assignment; the reference on click."""
    colour = f"p.assigned ? {json.dumps(ASSIGNED)} : {json.dumps(UNASSIGNED)}"
    options = (
        "{rendererFactory: L.canvas.tile, interactive: true, maxNativeZoom: 22, "
        "vectorTileLayerStyles: {cases: function (p) { var c = " + colour + "; return "
        "{radius: 3, weight: 1, color: c, fillColor: c, fill: true, fillOpacity: 0.8}; }}}"
    )
    layer = VectorGridProtobuf(url, "Casos", options)
    layer.default_js = [("vectorGrid", f"{assets['vectorgrid']}/Leaflet.VectorGrid.bundled.min.js")]
    layer.add_to(m)
    _TileReference(layer.get_name()).add_to(m)


class _TileReference(MacroElement):
    """A click on a tiled case names it, or says how many share the dot (as text: a
    reference is data, never markup)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.layer }}.on("click", function (e) {
          var name = document.createElement("strong");
          var p = e.layer.properties;
          name.textContent = p.n > 1 ? p.n + " casos aquí: acerque el mapa" : p.external_ref;
          L.popup().setLatLng(e.latlng).setContent(name).openOn({{ this._parent.get_name() }});
        });
        {% endmacro %}
        """
    )

    def __init__(self, layer: str) -> None:
        super().__init__()
        self.layer = layer


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
