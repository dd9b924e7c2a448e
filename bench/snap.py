"""Joining cases to the street network where they meet their street, beside joining them to
their nearest node, for 2,000 cases on a real extract, matrix included.

Street snapping finds the nearest point of the nearest street (an STRtree of segments),
splits the street there and runs the matrix on the grown graph; the baseline, what campo
did before, is a k-d tree query for the nearest node and the same matrix between nodes.

Run: ``.venv/bin/python -m bench.snap --cases 2000 [--extract helsinki]`` (and ``--grid 115``:
the demo's 13,000-node city grid, where the search, not the joining, is what costs)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod, Transformer
from scipy.spatial import cKDTree

from geo.routing.matrix import Matrix, _between, snap, travel_matrix
from geo.routing.streets import WALK_MPS, grid_network, load_network

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--mode", default="car")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--extract", default="aguascalientes", choices=["aguascalientes", "helsinki"]
    )
    parser.add_argument(
        "--grid", type=int, default=0, help="instead of the extract, a city-sized N x N grid"
    )
    args = parser.parse_args()
    if args.grid:
        network = grid_network(
            lon=-74.08, lat=4.65, rows=args.grid, cols=args.grid, spacing_m=150, mode=args.mode
        )
        place = f"a {args.grid} x {args.grid} street grid"
    else:
        source = DATA / f"{args.extract}.osm.pbf"
        network = load_network(source, mode=args.mode, cache_dir=Path(tempfile.mkdtemp()))
        place = f"the {args.extract.title()} extract"
    rng = np.random.default_rng(4)
    coo = network.time_s.tocoo()
    geod, points = Geod(ellps="WGS84"), []
    for k in rng.choice(len(coo.row), args.cases):
        u, v, share = int(coo.row[k]), int(coo.col[k]), rng.uniform()
        lon = network.lon[u] + share * (network.lon[v] - network.lon[u])
        lat = network.lat[u] + share * (network.lat[v] - network.lat[u])
        lon, lat, _ = geod.fwd(lon, lat, rng.uniform(0, 360), rng.uniform(0, 30))
        points.append((float(lon), float(lat)))
    snap(network, points[:2])  # the segment index, built once per network as a server would
    to_metric = Transformer.from_crs(4326, network.metric_crs, always_xy=True)

    def street() -> tuple[float, float, Matrix]:
        began = time.perf_counter()
        snap(network, points)
        snapped = time.perf_counter() - began
        matrix = travel_matrix(network, points, distances=False)
        return snapped, time.perf_counter() - began, matrix

    def node() -> tuple[float, float, NDArray[np.float64], NDArray[np.float64]]:
        began = time.perf_counter()
        tree = cKDTree(np.column_stack([network.x, network.y]))
        x, y = to_metric.transform(*np.asarray(points).T)
        metres, nodes = tree.query(np.column_stack([x, y]))
        snapped = time.perf_counter() - began
        unique, inverse = np.unique(nodes, return_inverse=True)
        seconds = _between(network.time_s, unique)[np.ix_(inverse, inverse)]
        seconds += np.add.outer(metres, metres) / WALK_MPS
        return snapped, time.perf_counter() - began, seconds, metres

    # Alternate the two, so neither pays alone for a cold start or a busy moment; medians.
    runs = [(street(), node()) for _ in range(args.repeat)]
    street_snap_s, street_s = (float(np.median([s[k] for s, _ in runs])) for k in (0, 1))
    node_snap_s, node_s = (float(np.median([n[k] for _, n in runs])) for k in (0, 1))
    matrix, (_, _, seconds, metres) = runs[-1][0][2], runs[-1][1]
    joined = matrix.snapped

    print(f"{args.cases} cases on {place} ({network.nodes} nodes, {args.mode})")
    print(f"  street snap {street_snap_s:6.2f} s, with the matrix {street_s:6.2f} s")
    print(f"  node snap   {node_snap_s:6.2f} s, with the matrix {node_s:6.2f} s")
    print(
        f"  ratio with the matrix, medians of {args.repeat}: {street_s / node_s:.2f}x"
        " (target <= 2x)"
    )
    print(
        f"  access leg median {np.median(joined.metres):.1f} m (street) vs "
        f"{np.median(metres):.1f} m (node); unreachable pairs {int(np.isinf(matrix.seconds).sum())}"
        f" vs {int(np.isinf(seconds).sum())}"
    )


if __name__ == "__main__":
    main()
