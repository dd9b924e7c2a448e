"""Street networks from the real Aguascalientes extract: modes, matrices, leg geometry."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from pyproj import Geod

from geo.routing.matrix import leg_paths, snap, travel_matrix
from geo.routing.streets import StreetNetwork, as_networkx, grid_network, load_network

EXTRACT = Path(__file__).resolve().parents[1] / "data" / "aguascalientes.osm.pbf"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def networks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StreetNetwork]:
    cache = tmp_path_factory.mktemp("streets")
    return {
        mode: load_network(EXTRACT, mode=mode, cache_dir=cache)
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
    graph = as_networkx(network)
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


def test_snapping_and_leg_geometry(networks: dict[str, StreetNetwork]) -> None:
    network = networks["walk"]
    points = _points(network, 4)
    snapped = snap(network, points)
    for (lon, lat), node, metres in zip(points, snapped.node, snapped.metres, strict=True):
        true = GEOD.inv(lon, lat, network.lon[node], network.lat[node])[2]
        assert metres == pytest.approx(true, rel=0.01, abs=0.5)
    matrix = travel_matrix(network, points)
    (path,) = leg_paths(network, [(int(snapped.node[0]), int(snapped.node[1]))])
    lons, lats = zip(*path, strict=True)
    along = GEOD.line_length(lons, lats)
    street_part = matrix.metres[0, 1] - snapped.metres[0] - snapped.metres[1]
    # Walking, the fastest path is the shortest: its drawn length is the matrix distance.
    assert along == pytest.approx(street_part, rel=0.01)
    assert path[0] == (network.lon[snapped.node[0]], network.lat[snapped.node[0]])


def test_grid_network_has_the_same_interface() -> None:
    grid = grid_network(lon=-74.08, lat=4.65, rows=20, cols=30, spacing_m=100, mode="car")
    assert grid.nodes == 600
    matrix = travel_matrix(grid, [(-74.08, 4.65), (-74.07, 4.655)])
    assert np.isfinite(matrix.seconds).all()
    assert 1000 < matrix.metres[0, 1] < 2000  # Manhattan distance of ~1.1 km + 0.55 km


def test_a_mode_network_is_what_that_mode_may_use(
    networks: dict[str, StreetNetwork], tmp_path: Path
) -> None:
    """Every node of the car network is reached and left on car streets, and no edge is a
    way cars may not take; checked against the extract read independently with osmnx."""
    import osmnx as ox

    from geo.routing.streets import highways_xml, mode_speed_kph

    raw = ox.graph_from_xml(highways_xml(EXTRACT, tmp_path), simplify=True, retain_all=True)
    car_ways = {
        (u, v)
        for u, v, data in raw.edges(data=True)
        if mode_speed_kph(
            str(data["highway"] if isinstance(data["highway"], str) else data["highway"][0]), "car"
        )
    }
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
