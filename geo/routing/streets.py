"""Street networks for routing: read from an OpenStreetMap extract with osmnx, or a grid.

osmnx 2.x reads OSM XML, not PBF, so a PBF is first cut down to its ``highway`` ways with
``osmium tags-filter`` (Debian ``osmium-tool``); without that filter, building outlines would
become streets. Each travel mode keeps the ways it may use, at speeds by road class, and the
graph is frozen into arrays (a sparse matrix of travel times and one of lengths) that the
matrix and route code use directly. Built networks are cached per file and mode.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import networkx as nx
import numpy as np
import osmnx as ox
from defusedxml import ElementTree as SafeElementTree
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse import csr_matrix

MODES = ("walk", "motorbike", "car")
WALK_MPS = 1.25
"""Walking speed: on foot, and for the stretch between a point and its nearest street."""

_CAR_KPH = {
    "motorway": 80,
    "trunk": 60,
    "primary": 45,
    "secondary": 40,
    "tertiary": 35,
    "unclassified": 30,
    "residential": 25,
    "living_street": 10,
    "service": 15,
    "track": 15,
    "motorway_link": 50,
    "trunk_link": 40,
    "primary_link": 35,
    "secondary_link": 30,
    "tertiary_link": 25,
    "road": 25,
}
_FOOT_ONLY = {"footway", "pedestrian", "path", "steps", "cycleway", "corridor", "bridleway"}
_NO_FOOT = {"motorway", "motorway_link", "trunk", "trunk_link"}
CACHE_FORMAT = 5
"""Bumped whenever how a network is built changes, so old cached builds are not reused."""
MOTORBIKE_FACTOR = 1.15
"""Motorbikes filter through traffic: a little faster than cars on the same street."""


def mode_speed_kph(highway: str, mode: str) -> float | None:
    """Speed on a road class for a mode, or None where the mode may not go."""
    if mode == "walk":
        return None if highway in _NO_FOOT else WALK_MPS * 3.6
    if highway in _FOOT_ONLY:
        return None
    kph = float(_CAR_KPH.get(highway, 20))
    return kph * MOTORBIKE_FACTOR if mode == "motorbike" else kph


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A directed street graph as arrays; node ``i`` is at (``lon[i]``, ``lat[i]``).

    Compared and hashed by identity, so per-network indexes can be cached beside it.
    """

    mode: str
    metric_crs: str
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    time_s: csr_matrix
    length_m: csr_matrix
    shapes: dict[tuple[int, int], list[tuple[float, float]]] = field(default_factory=dict)
    """Curved edges' geometry (lon, lat), by (from, to) node index."""

    @property
    def nodes(self) -> int:
        return len(self.lon)


def _local_crs(lon: float, lat: float) -> str:
    """An azimuthal equidistant projection centred on the network: metres, true near it."""
    return f"+proj=aeqd +lat_0={lat:.6f} +lon_0={lon:.6f} +datum=WGS84 +units=m +no_defs"


def _freeze(
    mode: str,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    edges: dict[tuple[int, int], tuple[float, float]],
    shapes: dict[tuple[int, int], list[tuple[float, float]]],
) -> StreetNetwork:
    crs = _local_crs(float(lon.mean()), float(lat.mean()))
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    n = len(lon)
    pairs = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    values = np.array(list(edges.values()), dtype=float).reshape(-1, 2)
    time = csr_matrix((values[:, 0], (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    length = csr_matrix((values[:, 1], (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return StreetNetwork(mode, crs, lon, lat, np.asarray(x), np.asarray(y), time, length, shapes)


def from_graph(graph: nx.MultiDiGraph, *, mode: str) -> StreetNetwork:
    """Freeze an osmnx graph for ``mode``: keep usable edges, the fastest of parallel ones."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    index = {node: i for i, node in enumerate(graph.nodes)}
    lon = np.array([graph.nodes[n]["x"] for n in graph.nodes], dtype=float)
    lat = np.array([graph.nodes[n]["y"] for n in graph.nodes], dtype=float)
    edges: dict[tuple[int, int], tuple[float, float]] = {}
    shapes: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for u, v, data in graph.edges(data=True):
        kph = edge_speed_kph(data, mode)
        if kph is None:
            continue
        length = float(data["length"])
        seconds = length / (kph / 3.6)
        directions = [(index[u], index[v])]
        if mode == "walk":  # walkers ignore one-way streets
            directions.append((index[v], index[u]))
        for key in directions:
            if key not in edges or seconds < edges[key][0]:
                edges[key] = (seconds, length)
                geometry = data.get("geometry")
                if geometry is not None:
                    coords = [(float(a), float(b)) for a, b in geometry.coords]
                    shapes[key] = coords if key[0] == index[u] else coords[::-1]
                else:
                    shapes.pop(key, None)
    return _freeze(mode, lon, lat, edges, shapes)


def edge_speed_kph(data: dict[str, Any], mode: str) -> float | None:
    """Speed on an osmnx edge for a mode, or None where the mode may not go.

    A simplified edge that merged ways of several classes carries them as a list (in no fixed
    order): the mode must be allowed on every part, at the slowest part's speed. Taking the
    list's first class instead made networks differ from one build to the next."""
    highway = data.get("highway", "road")
    classes = sorted(highway) if isinstance(highway, list) else [str(highway)]
    speeds = [mode_speed_kph(str(c), mode) for c in classes]
    return None if any(s is None for s in speeds) else min(s for s in speeds if s is not None)


def mode_graph(graph: nx.MultiDiGraph, *, mode: str) -> nx.MultiDiGraph:
    """The part of an osmnx graph a mode may use: its edges, and the nodes they touch."""
    usable = [
        (u, v, k)
        for u, v, k, data in graph.edges(keys=True, data=True)
        if edge_speed_kph(data, mode) is not None
    ]
    kept: nx.MultiDiGraph = graph.edge_subgraph(usable).copy()
    return kept


def highways_xml(source: Path, cache_dir: Path) -> Path:
    """An OSM XML file of the extract's highway ways (and their nodes), each way cut to the
    stretches whose nodes the extract holds."""
    target = cache_dir / f"{source.stem}.highways.osm"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    raw = source
    if not (source.suffix == ".osm" or source.name.endswith(".osm.xml")):
        osmium = shutil.which("osmium")
        if osmium is None:
            raise RuntimeError("reading PBF needs osmium (Debian: osmium-tool; scripts/setup)")
        raw = cache_dir / f"{source.stem}.tagged.osm"
        subprocess.run(  # noqa: S603 - fixed program, paths we chose
            [osmium, "tags-filter", str(source), "w/highway", "-f", "osm", "-o", str(raw), "-O"],
            check=True,
            capture_output=True,
        )
    _whole_ways(raw, target)
    if raw != source:
        raw.unlink()
    return target


def _whole_ways(source: Path, target: Path) -> None:
    """Copy an OSM XML file, splitting each way where it refers to nodes the file lacks.

    An extract cut by a bounding box keeps the ways that cross its edge but not their nodes
    outside it, and osmnx refuses such a file. Dropping the missing references would join the
    nodes either side of a gap with a straight street that does not exist, so each run of
    present nodes becomes its own way (the first keeps the way's id, the others get unused
    negative ids). Streamed, since an extract's XML can be larger than memory; parsed with
    defusedxml, since an extract is a file an admin uploads.
    """
    present: set[str] = set()
    pieces = 0
    with target.open("wb") as out:
        out.write(b"<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n")
        for _, element in SafeElementTree.iterparse(source, events=("end",)):
            if element.tag == "node":
                present.add(element.get("id", ""))
                out.write(ElementTree.tostring(element))
            elif element.tag == "way":
                tags = element.findall("tag")
                for k, run in enumerate(_runs(element, present)):
                    pieces += k > 0
                    way = ElementTree.Element(
                        "way", id=str(-pieces) if k else element.get("id", "")
                    )
                    way.extend(ElementTree.Element("nd", ref=ref) for ref in run)
                    way.extend(tags)
                    out.write(ElementTree.tostring(way) + b"\n")
            else:
                continue  # a way's children are read with it
            element.clear()
        out.write(b"</osm>\n")


def _runs(way: ElementTree.Element, present: set[str]) -> list[list[str]]:
    """The way's stretches of two or more consecutive nodes that are present."""
    runs: list[list[str]] = [[]]
    for nd in way.iter("nd"):
        if nd.get("ref") in present:
            runs[-1].append(nd.get("ref", ""))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def load_network(source: Path, *, mode: str, cache_dir: Path) -> StreetNetwork:
    """The street network of an OSM extract (PBF or XML) for a mode, built once and cached."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    cached = cache_dir / f"{source.stem}.{mode}.{digest}.v{CACHE_FORMAT}.pickle"
    if cached.exists():
        with cached.open("rb") as handle:
            network: StreetNetwork = pickle.load(handle)  # noqa: S301 - our own cache file
        return network
    xml = highways_xml(source, cache_dir)
    graph = ox.graph_from_xml(xml, bidirectional=mode == "walk", simplify=True, retain_all=True)
    # The mode's own ways first, then only where one can both arrive and leave on them (an
    # extract's edge cuts one-way streets off). The other order would keep, in a car network,
    # nodes that only a footway reaches, and snap cases there.
    graph = mode_graph(graph, mode=mode)
    graph = ox.truncate.largest_component(graph, strongly=True)
    network = from_graph(graph, mode=mode)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with cached.open("wb") as handle:
        pickle.dump(network, handle)
    return network


def grid_network(
    *, lon: float, lat: float, rows: int, cols: int, spacing_m: float, mode: str
) -> StreetNetwork:
    """A street grid centred on (lon, lat), every fifth street an arterial: for places without
    an extract (the Bogotá demo) and for benchmarks, through the same interface."""
    crs = _local_crs(lon, lat)
    gx, gy = np.meshgrid(np.arange(cols) - (cols - 1) / 2, np.arange(rows) - (rows - 1) / 2)
    lons, lats = Transformer.from_crs(crs, 4326, always_xy=True).transform(
        gx.ravel() * spacing_m, gy.ravel() * spacing_m
    )
    edges: dict[tuple[int, int], tuple[float, float]] = {}
    for r in range(rows):
        for c in range(cols):
            here = r * cols + c
            for there, line in ((here + 1, r), (here + cols, c)):
                if (there == here + 1 and c + 1 == cols) or there >= rows * cols:
                    continue
                kph = mode_speed_kph("secondary" if line % 5 == 0 else "residential", mode)
                assert kph is not None
                seconds = spacing_m / (kph / 3.6)
                edges[(here, there)] = edges[(there, here)] = (seconds, spacing_m)
    return _freeze(mode, np.asarray(lons), np.asarray(lats), edges, {})


def as_networkx(network: StreetNetwork) -> nx.DiGraph:
    """The same network as a networkx graph (for comparisons and plotting)."""
    graph: Any = nx.DiGraph()
    coo = network.time_s.tocoo()
    graph.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True), weight="time_s"
    )
    return graph
