"""Travel-time matrix: campo's (snapping + chunked multi-source Dijkstra in scipy) beside
networkx's Dijkstra from each source, on the same 40,000-node street grid, in one run.

Target: campo at least 20x faster. Run: ``.venv/bin/python -m bench.matrix [--points 100]``.
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np

from geo.routing.matrix import travel_matrix
from geo.routing.streets import as_networkx, grid_network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--side", type=int, default=200, help="grid of side x side nodes")
    args = parser.parse_args()
    network = grid_network(
        lon=-74.1, lat=4.65, rows=args.side, cols=args.side, spacing_m=100, mode="car"
    )
    rng = np.random.default_rng(0)
    half = args.side * 100 / 2 / 111_320
    points = [
        (-74.1 + rng.uniform(-half, half), 4.65 + rng.uniform(-half, half))
        for _ in range(args.points)
    ]
    travel_matrix(network, points[:2])  # builds the snapping index once, as a server would

    started = time.perf_counter()
    ours = travel_matrix(network, points, distances=False)
    campo_s = time.perf_counter() - started

    graph = as_networkx(ours.network)  # the streets with the points joined to them
    nodes = ours.nodes.tolist()
    started = time.perf_counter()
    theirs = np.empty((len(nodes), len(nodes)))
    for i, source in enumerate(nodes):
        reach = nx.single_source_dijkstra_path_length(graph, source, weight="time_s")
        theirs[i] = [reach[target] for target in nodes]
    networkx_s = time.perf_counter() - started

    walk = (ours.snap_m[:, None] + ours.snap_m[None, :]) / 1.25
    np.fill_diagonal(walk, 0)
    same = np.allclose(ours.seconds - walk, theirs, rtol=1e-9, atol=1e-4)  # splits add 1 µs
    ratio = networkx_s / campo_s
    print(
        f"{args.points}x{args.points} travel-time matrix on a {network.nodes:,}-node grid: "
        f"campo {campo_s:.2f} s, networkx {networkx_s:.2f} s, {ratio:.0f}x faster "
        f"(target >= 20x); identical results: {same}"
    )


if __name__ == "__main__":
    main()
