"""Drawing on a map that sits inside a console page: leaflet.draw's polygon and rectangle
tools (through folium's ``Draw``), the drawn shape handed to the page around the map.

A map is its own document (an iframe of the page), so the shape crosses over as a message
to the parent window of the same origin; the page puts it in a form field and the server
validates it like any other input. What that message looks like is written here by hand
because folium's plugin only offers a download of the shapes, not a hand-over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
from branca.element import MacroElement
from folium.plugins import Draw
from jinja2 import Template


class ShapeHandOver(MacroElement):
    """Posts each drawn (or edited) shape to the parent page as ``{campo: "shape", geometry}``:
    the last shape drawn replaces the earlier ones, so the page holds exactly one."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var drawn = {{ this.group }};
          function handOver(layer) {
            if (window.parent === window) { return; }
            window.parent.postMessage(
              {campo: "shape", geometry: layer ? layer.toGeoJSON().geometry : null},
              window.location.origin);
          }
          map.on("draw:created", function (e) {
            drawn.eachLayer(function (l) { if (l !== e.layer) { drawn.removeLayer(l); } });
            handOver(e.layer);
          });
          map.on("draw:edited", function (e) { e.layers.eachLayer(handOver); });
          map.on("draw:deleted", function () { handOver(null); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, group: str) -> None:
        super().__init__()
        self.group = group


def drawing_tools(
    m: folium.Map,
    *,
    assets: Mapping[str, str],
    existing: dict[str, Any] | None = None,
) -> None:
    """Add polygon and rectangle tools to ``m``; ``existing`` (a GeoJSON polygon) is drawn in
    their layer, so it can be edited or deleted rather than only replaced."""
    group = folium.FeatureGroup(name="Dibujo", control=False).add_to(m)
    if existing is not None and existing.get("type") == "Polygon":
        # A plain polygon (not a GeoJSON layer) so that the edit tool can take hold of it.
        rings = [[[lat, lon] for lon, lat in ring] for ring in existing["coordinates"]]
        folium.Polygon(rings, color="#163b5c", weight=2, fill_opacity=0.15).add_to(group)
    tools = Draw(
        feature_group=group,
        show_geometry_on_click=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "polygon": {"allowIntersection": False, "showArea": True, "metric": True},
            "rectangle": {"showArea": True, "metric": True},
        },
        edit_options={"poly": {"allowIntersection": False}},
    )
    tools.default_js = [("leaflet_draw_js", f"{assets['draw']}/leaflet.draw.js")]
    tools.default_css = [("leaflet_draw_css", f"{assets['draw']}/leaflet.draw.css")]
    tools.add_to(m)
    ShapeHandOver(group.get_name()).add_to(m)
