"""Joining cases to the street network where they meet their street, beside joining them to
their nearest node, for 2,000 cases on a real extract, matrix included.

Street snapping finds the nearest point of the nearest street (an STRtree of segments),
splits the street there and runs the matrix on the grown graph; the baseline, what campo
did before, is a k-d tree query for the nearest node and the same matrix between nodes.

Run: ``.venv/bin/python -m bench.snap --cases 2000`` (and ``--grid 115``: the demo's
13,000-node city grid, where the search, not the joining, is what costs)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from pyproj import Geod, Transformer
from scipy.spatial import cKDTree

from geo.routing.matrix import _between, snap, travel_matrix
from geo.routing.streets import WALK_MPS, grid_network, load_network

EXTRACT = Path(__file__).resolve().parents[1] / "tests" / "data" / "aguascalientes.osm.pbf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--mode", default="car")
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
        network = load_network(EXTRACT, mode=args.mode, cache_dir=Path(tempfile.mkdtemp()))
        place = "the Aguascalientes extract"
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

    began = time.perf_counter()
    joined = snap(network, points)
    street_snap_s = time.perf_counter() - began
    matrix = travel_matrix(network, points, distances=False)
    street_s = time.perf_counter() - began

    began = time.perf_counter()
    tree = cKDTree(np.column_stack([network.x, network.y]))
    x, y = Transformer.from_crs(4326, network.metric_crs, always_xy=True).transform(
        *np.asarray(points).T
    )
    metres, nodes = tree.query(np.column_stack([x, y]))
    node_snap_s = time.perf_counter() - began
    unique, inverse = np.unique(nodes, return_inverse=True)
    seconds = _between(network.time_s, unique)[np.ix_(inverse, inverse)]
    seconds = seconds + (metres[:, None] + metres[None, :]) / WALK_MPS
    node_s = time.perf_counter() - began

    print(f"{args.cases} cases on {place} ({network.nodes} nodes, {args.mode})")
    print(f"  street snap {street_snap_s:6.2f} s, with the matrix {street_s:6.2f} s")
    print(f"  node snap   {node_snap_s:6.2f} s, with the matrix {node_s:6.2f} s")
    print(f"  ratio with the matrix {street_s / node_s:.2f}x (target <= 2x)")
    print(
        f"  access leg median {np.median(joined.metres):.1f} m (street) vs "
        f"{np.median(metres):.1f} m (node); unreachable pairs {int(np.isinf(matrix.seconds).sum())}"
        f" vs {int(np.isinf(seconds).sum())}"
    )


if __name__ == "__main__":
    main()
