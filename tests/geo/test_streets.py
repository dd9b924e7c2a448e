"""Street networks from two real extracts (Aguascalientes, Helsinki): modes, snapping,
matrices, one-ways, leg geometry; each checked against an independent computation."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from geo.routing.matrix import leg_paths, snap, travel_matrix
from geo.routing.streets import StreetNetwork, as_networkx, grid_network, load_network

DATA = Path(__file__).resolve().parents[1] / "data"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module", params=["aguascalientes", "helsinki"])
def extract(request: pytest.FixtureRequest) -> Path:
    """A Latin-American grid, and a northern city cut from a larger map (clipped ways)."""
    return DATA / f"{request.param}.osm.pbf"


@pytest.fixture(scope="module")
def networks(extract: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, StreetNetwork]:
    cache = tmp_path_factory.mktemp("streets")
    return {
        mode: load_network(extract, mode=mode, cache_dir=cache)
        for mode in ("walk", "motorbike", "car")
    }


def _points(network: StreetNetwork, count: int, seed: int = 3) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    west, east = np.percentile(network.lon, [10, 90])
    south, north = np.percentile(network.lat, [10, 90])
    return [
        (float(rng.uniform(west, east)), float(rng.uniform(south, north))) for _ in range(count)
    ]


def test_modes_keep_their_own_streets(networks: dict[str, StreetNetwork]) -> None:
    walk, car, bike = networks["walk"], networks["car"], networks["motorbike"]
    assert walk.nodes > 300
    assert walk.time_s.nnz > car.time_s.nnz  # pedestrian streets and both directions of one-ways
    assert bike.time_s.sum() < car.time_s.sum()  # same streets, a little faster
    points = _points(car, 6)
    assert (
        travel_matrix(walk, points).seconds[0, 1:] > travel_matrix(car, points).seconds[0, 1:]
    ).all()


def test_matrix_equals_an_independent_search(networks: dict[str, StreetNetwork]) -> None:
    network = networks["car"]
    points = _points(network, 12)
    matrix = travel_matrix(network, points)
    graph = as_networkx(matrix.network)  # the streets with the points joined to them
    for i in (0, 5):
        reach = nx.single_source_dijkstra_path_length(graph, int(matrix.nodes[i]), weight="time_s")
        for j in range(len(points)):
            if i == j:
                continue
            expected = reach.get(int(matrix.nodes[j]), np.inf)
            walk = (matrix.snap_m[i] + matrix.snap_m[j]) / 1.25
            assert matrix.seconds[i, j] == pytest.approx(expected + walk)
    finite = np.isfinite(matrix.seconds)
    assert finite.mean() > 0.9  # a connected extract, bar a few one-way corners
    assert (matrix.metres[finite] >= 0).all()


def _near_streets(network: StreetNetwork, count: int, seed: int = 9) -> list[tuple[float, float]]:
    """Points up to 30 m off the network's streets, as cases lie beside them."""
    rng = np.random.default_rng(seed)
    coo = network.time_s.tocoo()
    picks = rng.choice(len(coo.row), size=count)
    points = []
    for k in picks:
        u, v = int(coo.row[k]), int(coo.col[k])
        share = rng.uniform(0, 1)
        lon = network.lon[u] + share * (network.lon[v] - network.lon[u])
        lat = network.lat[u] + share * (network.lat[v] - network.lat[u])
        lon, lat, _ = GEOD.fwd(lon, lat, rng.uniform(0, 360), rng.uniform(0, 30))
        points.append((float(lon), float(lat)))
    return points


def test_points_join_the_nearest_street_not_the_nearest_node(
    networks: dict[str, StreetNetwork],
) -> None:
    network = networks["walk"]
    points = _near_streets(network, 200)
    snapped = snap(network, points)
    zone = int((np.mean(network.lon) + 180) // 6) + 1  # the UTM zone, by its definition
    utm = Transformer.from_crs(4326, 32600 + zone, always_xy=True)
    coo = network.time_s.tocoo()
    lines = []
    for u, v in zip(coo.row.tolist(), coo.col.tolist(), strict=True):
        drawn = network.shapes.get((u, v)) or [
            (network.lon[u], network.lat[u]),
            (network.lon[v], network.lat[v]),
        ]
        lines.append(shapely.LineString([utm.transform(a, b) for a, b in drawn]))
    streets = shapely.union_all(lines)
    true = [streets.distance(shapely.Point(utm.transform(lon, lat))) for lon, lat in points]
    assert np.abs(snapped.metres - np.array(true)).max() <= 1.0
    to_node = np.array(
        [
            min(GEOD.inv([lon] * network.nodes, [lat] * network.nodes, network.lon, network.lat)[2])
            for lon, lat in points[:40]
        ]
    )
    assert np.median(to_node) > 3 * np.median(snapped.metres[:40])  # what node snapping cost


def test_a_one_way_street_stays_one_way_where_a_case_joins_it(
    networks: dict[str, StreetNetwork],
) -> None:
    network = networks["car"]
    coo = network.time_s.tocoo()
    both = set(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    u, v = next((a, b) for a, b in both if (b, a) not in both and a not in network.shapes)
    middle = ((network.lon[u] + network.lon[v]) / 2, (network.lat[u] + network.lat[v]) / 2)
    joined = snap(network, [middle])
    node = int(joined.node[0])
    graph = as_networkx(joined.network)
    assert graph.has_edge(u, node)
    assert graph.has_edge(node, v)
    assert not graph.has_edge(v, node)
    assert not graph.has_edge(node, u)
    assert joined.metres[0] < 1.0
    halves = graph[u][node]["time_s"] + graph[node][v]["time_s"]
    assert halves == pytest.approx(network.time_s[u, v], rel=1e-3)


def test_leg_geometry_follows_the_streets(networks: dict[str, StreetNetwork]) -> None:
    network = networks["walk"]
    points = _points(network, 4)
    matrix = travel_matrix(network, points)
    (path,) = leg_paths(matrix.network, [(int(matrix.nodes[0]), int(matrix.nodes[1]))])
    lons, lats = zip(*path, strict=True)
    along = GEOD.line_length(lons, lats)
    street_part = matrix.metres[0, 1] - matrix.snap_m[0] - matrix.snap_m[1]
    # Walking, the fastest path is the shortest: its drawn length is the matrix distance.
    assert along == pytest.approx(street_part, rel=0.01)


def test_grid_network_has_the_same_interface() -> None:
    grid = grid_network(lon=-74.08, lat=4.65, rows=20, cols=30, spacing_m=100, mode="car")
    assert grid.nodes == 600
    matrix = travel_matrix(grid, [(-74.08, 4.65), (-74.07, 4.655)])
    assert np.isfinite(matrix.seconds).all()
    assert 1000 < matrix.metres[0, 1] < 2000  # Manhattan distance of ~1.1 km + 0.55 km


def test_a_mode_network_is_what_that_mode_may_use(
    networks: dict[str, StreetNetwork], extract: Path, tmp_path: Path
) -> None:
    """Every node of the car network is reached and left on car streets, and no edge is a
    way cars may not take; checked against the extract read independently with osmnx."""
    import osmnx as ox

    from geo.routing.streets import edge_speed_kph, highways_xml

    raw = ox.graph_from_xml(highways_xml(extract, tmp_path), simplify=True, retain_all=True)
    car_ways = {(u, v) for u, v, data in raw.edges(data=True) if edge_speed_kph(data, "car")}
    car = networks["car"]
    graph = as_networkx(car)
    assert nx.is_strongly_connected(graph)
    position = {
        (round(a, 7), round(b, 7)): n for n, (a, b) in enumerate(zip(car.lon, car.lat, strict=True))
    }
    osm_node = {
        position[(round(data["x"], 7), round(data["y"], 7))]: node
        for node, data in raw.nodes(data=True)
        if (round(data["x"], 7), round(data["y"], 7)) in position
    }
    assert len(osm_node) == car.nodes
    for a, b in graph.edges:
        assert (osm_node[a], osm_node[b]) in car_ways, "a car edge that is not a car way"
    walk_only = {
        n
        for n in raw.nodes
        if all((u, v) not in car_ways for u, v in [*raw.in_edges(n), *raw.out_edges(n)])
    }
    assert not walk_only & set(osm_node.values())


def test_the_two_searches_agree(networks: dict[str, StreetNetwork]) -> None:
    """From the streets' ends or from the points on the grown graph: one answer, including
    points sharing a one-way street in either order."""
    from geo.routing.matrix import _between, _grown, _streets, _via_ends

    network = networks["car"]
    points = _near_streets(network, 60, seed=4)
    coo = network.time_s.tocoo()
    one_way = next(
        (int(a), int(b))
        for a, b in zip(coo.row, coo.col, strict=True)
        if network.time_s[b, a] == 0 and (int(a), int(b)) not in network.shapes
    )
    for share in (0.2, 0.5, 0.8):  # three cases along one one-way street
        a, b = one_way
        points.append(
            (
                float(network.lon[a] + share * (network.lon[b] - network.lon[a])),
                float(network.lat[a] + share * (network.lat[b] - network.lat[a])),
            )
        )
    snapped = snap(network, points)
    streets = _streets(network)
    ends = _via_ends(network.time_s, streets, snapped, column=0)
    grown = _between(_grown(network, streets, snapped, column=0), snapped.node)
    np.fill_diagonal(ends, 0)
    np.fill_diagonal(grown, 0)
    assert np.allclose(ends, grown, atol=1e-4, equal_nan=True)
    a, b = one_way
    assert ends[-3, -1] == pytest.approx(0.6 * network.time_s[a, b], rel=1e-3)  # along it
    assert ends[-1, -3] > ends[-3, -1]  # against the one-way: around the block


def test_a_clipped_way_is_cut_at_its_missing_nodes_not_joined_across_them(
    tmp_path: Path,
) -> None:
    """Ways crossing an extract's edge lose their outside nodes; the gap must not become a
    straight street between the nodes either side of it."""
    from geo.routing.streets import highways_xml

    nodes = "".join(
        f'<node id="{n}" lat="{4.6 + n / 1000}" lon="-74.08" version="1"/>' for n in (1, 2, 4, 5)
    )
    way = "".join(f'<nd ref="{n}"/>' for n in (1, 2, 3, 4, 5, 6))
    source = tmp_path / "clipped.osm"
    source.write_text(
        f'<osm version="0.6">{nodes}<way id="7">{way}<tag k="highway" v="residential"/></way></osm>'
    )
    import osmnx as ox

    graph = ox.graph_from_xml(
        highways_xml(source, tmp_path / "cache"), simplify=False, retain_all=True
    )
    assert {(u, v) for u, v, _ in graph.edges} == {(1, 2), (2, 1), (4, 5), (5, 4)}


def test_every_case_beside_a_strongly_connected_network_is_reachable(
    networks: dict[str, StreetNetwork],
) -> None:
    """The car network is strongly connected, so a case joined to any of its streets, a loop
    (a street from a node back to itself) included, reaches and is reached from every other."""
    network = networks["car"]
    points = _near_streets(network, 300, seed=12)
    for (u, v), shape in network.shapes.items():
        if u == v:  # a loop: a point halfway round it
            points.append(tuple(map(float, shape[len(shape) // 2])))
    matrix = travel_matrix(network, points, distances=False)
    assert np.isfinite(matrix.seconds).all()
