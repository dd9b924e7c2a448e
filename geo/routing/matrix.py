"""Travel-time and distance matrices over a street network, and the streets of each leg.

Points are snapped to their nearest street node (a k-d tree in the network's metric CRS) and
the stretch to it is walked and added; the matrix itself is one multi-source Dijkstra in C
(``scipy.sparse.csgraph``) over the distinct snapped nodes, not one Python search per pair.
Distances are those of the shortest path; times those of the fastest.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.routing.streets import WALK_MPS, StreetNetwork

_TREES: weakref.WeakKeyDictionary[StreetNetwork, cKDTree] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Snapped:
    node: NDArray[np.int64]
    metres: NDArray[np.float64]


@dataclass(frozen=True)
class Matrix:
    """``seconds[i, j]`` and ``metres[i, j]`` from point i to point j (inf: unreachable)."""

    seconds: NDArray[np.float64]
    metres: NDArray[np.float64]
    snap_m: NDArray[np.float64]
    nodes: NDArray[np.int64]


def snap(network: StreetNetwork, points: Sequence[tuple[float, float]]) -> Snapped:
    """The nearest street node of each (lon, lat) point and the distance to it."""
    tree = _TREES.get(network)
    if tree is None:
        tree = _TREES[network] = cKDTree(np.column_stack([network.x, network.y]))
    lon, lat = np.asarray(points, dtype=float).reshape(-1, 2).T
    x, y = Transformer.from_crs(4326, network.metric_crs, always_xy=True).transform(lon, lat)
    metres, node = tree.query(np.column_stack([x, y]))
    return Snapped(np.asarray(node, dtype=np.int64), np.asarray(metres, dtype=float))


CHUNK = 200
"""Sources per Dijkstra call: a full (sources x nodes) float array per call would be
gigabytes on a city; chunks keep it in cache and cut the time by half."""


def _between(weights: Any, nodes: NDArray[np.int64]) -> NDArray[np.float64]:
    """Shortest-path costs between the given nodes, by chunks of sources."""
    out = np.empty((len(nodes), len(nodes)))
    for start in range(0, len(nodes), CHUNK):
        out[start : start + CHUNK] = dijkstra(weights, indices=nodes[start : start + CHUNK])[
            :, nodes
        ]
    return out


def travel_matrix(
    network: StreetNetwork, points: Sequence[tuple[float, float]], *, distances: bool = True
) -> Matrix:
    """All-pairs travel time and distance between points (lon, lat), snap legs included.

    ``distances=False`` skips the second search (the metres matrix is then NaN): a planner
    that optimises time measures its routes' lengths along the legs it draws.
    """
    snapped = snap(network, points)
    unique, inverse = np.unique(snapped.node, return_inverse=True)
    seconds = _between(network.time_s, unique)[np.ix_(inverse, inverse)]
    walk = snapped.metres[:, None] + snapped.metres[None, :]
    seconds = seconds + walk / WALK_MPS
    if distances:
        metres = _between(network.length_m, unique)[np.ix_(inverse, inverse)] + walk
    else:
        metres = np.full_like(seconds, np.nan)
    np.fill_diagonal(seconds, 0.0)
    np.fill_diagonal(metres, 0.0)
    return Matrix(seconds, metres, snapped.metres, snapped.node)


def leg_paths(
    network: StreetNetwork, legs: Sequence[tuple[int, int]]
) -> list[list[tuple[float, float]]]:
    """The streets of each leg (from node, to node) as (lon, lat) lists, fastest path, with
    curved edges drawn as they are. One Dijkstra per distinct origin."""
    origins = sorted({a for a, _ in legs})
    if not origins:
        return []
    _, predecessors = dijkstra(network.time_s, indices=origins, return_predecessors=True)
    row = {origin: k for k, origin in enumerate(origins)}
    paths = []
    for start, end in legs:
        chain = [end]
        while chain[-1] != start and chain[-1] >= 0:
            chain.append(int(predecessors[row[start], chain[-1]]))
        if chain[-1] != start:  # unreachable: a straight line says so honestly
            paths.append(
                [
                    (float(network.lon[start]), float(network.lat[start])),
                    (float(network.lon[end]), float(network.lat[end])),
                ]
            )
            continue
        chain.reverse()
        coords = [(float(network.lon[chain[0]]), float(network.lat[chain[0]]))]
        for a, b in itertools.pairwise(chain):
            shape = network.shapes.get((a, b))
            coords += shape[1:] if shape else [(float(network.lon[b]), float(network.lat[b]))]
        paths.append(coords)
    return paths
