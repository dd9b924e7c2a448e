"""Travel-time and distance matrices over a street network, and the streets of each leg.

A point (a case's door, an agent's base) joins the network where it meets its nearest street:
the nearest point of the nearest street segment, found with a shapely STRtree in the
network's metric CRS, not the nearest node, which on a city block can be hundreds of metres
away along no street at all. The street is split there (travel pro rata on each side, one-way
streets kept one-way), and the access leg from the door to the street is its real short
length at walking pace. The matrix itself is one multi-source Dijkstra in C
(``scipy.sparse.csgraph``) over the network with those points added, not one Python search per
pair. Distances are those of the shortest path; times those of the fastest.

Writing the split by hand: osmnx can add nodes to a NetworkX graph, but the matrix runs on the
frozen sparse arrays, where a split is a few rows of a sparse matrix.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import shapely
import shapely.ops
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely import STRtree

from geo.routing.streets import WALK_MPS, StreetNetwork

_EPSILON = 1e-6
"""Seconds (or metres) on a split of zero length: sparse graphs drop zero-weight edges."""


@dataclass(frozen=True)
class _Streets:
    """A network's streets (each pair of nodes once, drawn from ``a`` to ``b``) as segments."""

    tree: STRtree
    segments: NDArray[Any]
    street: NDArray[np.int64]
    offset: NDArray[np.float64]
    a: NDArray[np.int64]
    b: NDArray[np.int64]
    length: NDArray[np.float64]
    lines: list[NDArray[np.float64]]
    forward: NDArray[np.float64]
    """(seconds, metres) from a to b on the street, NaN where it is one-way the other way."""
    backward: NDArray[np.float64]


_INDEX: weakref.WeakKeyDictionary[StreetNetwork, _Streets] = weakref.WeakKeyDictionary()


def _to_metric(network: StreetNetwork) -> Transformer:
    return Transformer.from_crs(4326, network.metric_crs, always_xy=True)


def _streets(network: StreetNetwork) -> _Streets:
    index = _INDEX.get(network)
    if index is not None:
        return index
    time = network.time_s.tocoo()
    length = np.asarray(network.length_m.tocsr()[time.row, time.col]).ravel()
    u, v = time.row.astype(np.int64), time.col.astype(np.int64)
    keys, pair = np.unique(np.minimum(u, v) * network.nodes + np.maximum(u, v), return_inverse=True)
    a, b = keys // network.nodes, keys % network.nodes
    costs = np.column_stack([time.data, length])
    forward = np.full((len(keys), 2), np.nan)
    backward = np.full((len(keys), 2), np.nan)
    forward[pair[u <= v]] = costs[u <= v]  # a loop (u == v) goes both ways round itself
    backward[pair[u >= v]] = costs[u >= v]
    lines = _lines(network, a, b)
    starts = np.concatenate([line[:-1] for line in lines])
    ends = np.concatenate([line[1:] for line in lines])
    counts = np.array([len(line) - 1 for line in lines])
    street = np.repeat(np.arange(len(lines)), counts)
    steps = np.hypot(*(ends - starts).T)
    before = np.cumsum(steps) - steps  # each segment's start along all streets laid end to end
    offset = before - np.repeat(before[np.cumsum(counts) - counts], counts)
    segments = shapely.linestrings(np.stack([starts, ends], axis=1))
    index = _Streets(
        tree=STRtree(segments),
        segments=segments,
        street=street,
        offset=offset,
        a=a,
        b=b,
        length=np.bincount(street, weights=steps, minlength=len(lines)).astype(float),
        lines=lines,
        forward=forward,
        backward=backward,
    )
    _INDEX[network] = index
    return index


def _lines(
    network: StreetNetwork, a: NDArray[np.int64], b: NDArray[np.int64]
) -> list[NDArray[np.float64]]:
    """Each street from ``a`` to ``b`` in metric coordinates: its drawn shape where it has
    one, else the straight line between its ends."""
    straight = np.stack(
        [
            np.column_stack([network.x[a], network.y[a]]),
            np.column_stack([network.x[b], network.y[b]]),
        ],
        axis=1,
    )
    lines: list[NDArray[np.float64]] = list(straight)
    if not network.shapes:
        return lines
    to_metric = _to_metric(network)
    for k, (p, q) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        shape = network.shapes.get((p, q))
        if shape is None and (q, p) in network.shapes:
            shape = network.shapes[(q, p)][::-1]
        if shape is not None:
            xs, ys = to_metric.transform(*np.asarray(shape, dtype=float).T)
            lines[k] = np.column_stack([xs, ys])
    return lines


@dataclass(frozen=True)
class Snapped:
    """Points joined to the streets: ``metres[i]`` the access from point i, ``street[i]`` its
    street (in the network's street index) and ``fraction[i]`` how far along it, 0 to 1.

    ``network`` is the given one with a node added where each point meets its street
    (``node[i]``); it is built when first asked for, since only drawing routes needs it."""

    base: StreetNetwork
    node: NDArray[np.int64]
    metres: NDArray[np.float64]
    street: NDArray[np.int64]
    fraction: NDArray[np.float64]

    @cached_property
    def network(self) -> StreetNetwork:
        return _split(self.base, _streets(self.base), self)


@dataclass(frozen=True)
class Matrix:
    """``seconds[i, j]`` and ``metres[i, j]`` (None unless asked for) from point i to point j,
    access legs included (inf: unreachable); ``network`` and ``nodes`` are where the points
    joined the streets."""

    seconds: NDArray[np.float64]
    metres: NDArray[np.float64] | None
    snapped: Snapped

    @property
    def snap_m(self) -> NDArray[np.float64]:
        return self.snapped.metres

    @property
    def nodes(self) -> NDArray[np.int64]:
        return self.snapped.node

    @property
    def network(self) -> StreetNetwork:
        return self.snapped.network


def snap(network: StreetNetwork, points: Sequence[tuple[float, float]]) -> Snapped:
    """Join each (lon, lat) point to the nearest point of its nearest street."""
    streets = _streets(network)
    lon, lat = np.asarray(points, dtype=float).reshape(-1, 2).T
    x, y = _to_metric(network).transform(lon, lat)
    where = shapely.points(np.asarray(x), np.asarray(y))
    found, metres = streets.tree.query_nearest(where, return_distance=True, all_matches=False)
    order = np.argsort(found[0], kind="stable")
    segment, metres = found[1][order], np.asarray(metres, dtype=float)[order]
    along = shapely.line_locate_point(streets.segments[segment], where)
    street = streets.street[segment]
    fraction = np.clip((streets.offset[segment] + along) / streets.length[street], 0.0, 1.0)
    return Snapped(network, network.nodes + np.arange(len(x)), metres, street, fraction)


def _split(network: StreetNetwork, streets: _Streets, snapped: Snapped) -> StreetNetwork:
    """The network with one node per point on its street (costs from :func:`_grown`), and
    the shape of every piece of a split street, for drawing routes along it."""
    street, fraction = snapped.street, snapped.fraction
    first = network.nodes
    shapes = dict(network.shapes)
    placed: list[tuple[int, float, float]] = []
    to_wgs84 = Transformer.from_crs(network.metric_crs, 4326, always_xy=True)
    for s in np.unique(street):
        members = np.flatnonzero(street == s)
        members = members[np.argsort(fraction[members], kind="stable")]
        line = shapely.LineString(streets.lines[s])
        chain = [int(streets.a[s]), *(first + int(i) for i in members), int(streets.b[s])]
        at = [0.0, *(float(fraction[i]) for i in members), 1.0]
        for i in members:
            point = line.interpolate(float(fraction[i]), normalized=True)
            placed.append((int(i), point.x, point.y))
        for (p, q), (fp, fq) in zip(itertools.pairwise(chain), itertools.pairwise(at), strict=True):
            piece = shapely.ops.substring(line, fp, fq, normalized=True)
            lon, lat = to_wgs84.transform(*np.asarray(piece.coords).T)
            drawn = list(zip(np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(), strict=True))
            if not np.isnan(streets.forward[s, 0]):
                shapes[(p, q)] = drawn
            if not np.isnan(streets.backward[s, 0]):
                shapes[(q, p)] = drawn[::-1]
    placed.sort()
    x = np.concatenate([network.x, [px for _, px, _ in placed]])
    y = np.concatenate([network.y, [py for _, _, py in placed]])
    lon, lat = to_wgs84.transform(x[first:], y[first:])
    return replace(
        network,
        lon=np.concatenate([network.lon, np.atleast_1d(lon)]),
        lat=np.concatenate([network.lat, np.atleast_1d(lat)]),
        x=x,
        y=y,
        time_s=_grown(network, streets, snapped, column=0),
        length_m=_grown(network, streets, snapped, column=1),
        shapes=shapes,
    )


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
    """All-pairs travel time and distance between points (lon, lat), access legs included.

    ``distances=False`` skips the second search (``metres`` is then None): a planner
    that optimises time measures its routes' lengths along the legs it draws.
    """
    return matrix_between(snap(network, points), distances=distances)


def matrix_between(snapped: Snapped, *, distances: bool = True) -> Matrix:
    """:func:`travel_matrix` for points already joined to the streets."""
    network = snapped.base
    streets = _streets(network)
    ends = len(np.unique(np.concatenate([streets.a[snapped.street], streets.b[snapped.street]])))

    def cost(column: int) -> NDArray[np.float64]:
        """Search from whichever is fewer: the streets' ends, or the points (grown graph)."""
        weights = network.time_s if column == 0 else network.length_m
        if ends <= len(snapped.node):
            return _via_ends(weights, streets, snapped, column=column)
        return _between(_grown(network, streets, snapped, column=column), snapped.node)

    seconds = cost(0)
    seconds += np.add.outer(snapped.metres / WALK_MPS, snapped.metres / WALK_MPS)
    np.fill_diagonal(seconds, 0.0)
    metres = None
    if distances:
        metres = cost(1)
        metres += np.add.outer(snapped.metres, snapped.metres)
        np.fill_diagonal(metres, 0.0)
    return Matrix(seconds, metres, snapped)


def _grown(
    network: StreetNetwork, streets: _Streets, snapped: Snapped, *, column: int
) -> csr_matrix:
    """The network's costs (time or length) with the points' nodes spliced into their
    streets, pro rata and one-way where the street is; :func:`_split` adds the drawing."""
    order = np.lexsort((snapped.fraction, snapped.street))
    street, f = snapped.street[order], snapped.fraction[order]
    node = snapped.node[order]
    first = np.r_[True, street[1:] != street[:-1]]
    last = np.r_[street[1:] != street[:-1], True]
    p = np.concatenate([streets.a[street[first]], node[~last], node[last]])
    q = np.concatenate([node[first], node[1:][~last[:-1]], streets.b[street[last]]])
    share = np.concatenate([f[first], np.diff(f)[~last[:-1]], 1 - f[last]])
    on = np.concatenate([street[first], street[~last], street[last]])
    ahead, back = streets.forward[on, column], streets.backward[on, column]
    rows = np.concatenate([p[~np.isnan(ahead)], q[~np.isnan(back)]])
    cols = np.concatenate([q[~np.isnan(ahead)], p[~np.isnan(back)]])
    added = np.concatenate([ahead * share, back * share])
    added = added[~np.isnan(added)] + _EPSILON
    old = (network.time_s if column == 0 else network.length_m).tocoo()
    size = network.nodes + len(node)
    return csr_matrix(
        (
            np.concatenate([old.data, added]),
            (np.concatenate([old.row, rows]), np.concatenate([old.col, cols])),
        ),
        shape=(size, size),
    )


def _via_ends(
    weights: Any, streets: _Streets, snapped: Snapped, *, column: int
) -> NDArray[np.float64]:
    """Costs between the joined points, from searches between their streets' ends only.

    A point on a street leaves it at one end or the other (whichever directions the street
    allows) and is reached from one end or the other, so point-to-point costs are the best
    of four end-to-end costs plus the part of each street travelled, or the direct way along
    a street they share. The same answer as a search over the grown graph (the tests check
    it), from as many sources as there are distinct ends instead of one per point.
    """
    street, f = snapped.street, snapped.fraction
    forward, backward = streets.forward[street, column], streets.backward[street, column]
    a, b = streets.a[street], streets.b[street]
    ends = np.unique(np.concatenate([a, b]))
    between = _between(weights, ends)
    row_a, row_b = np.searchsorted(ends, a), np.searchsorted(ends, b)
    ahead_ok, back_ok = ~np.isnan(forward), ~np.isnan(backward)
    out_b = np.where(ahead_ok, forward * (1 - f), np.inf)  # leave by b, driving a to b
    out_a = np.where(back_ok, backward * f, np.inf)
    in_a = np.where(ahead_ok, forward * f, np.inf)  # arrive from a, driving a to b
    in_b = np.where(back_ok, backward * (1 - f), np.inf)
    # Each point to every end first (points x ends, small), then to every point, in place:
    # at 2,000 points the passes over the (points x points) array are what costs.
    to_end = np.minimum(out_b[:, None] + between[row_b], out_a[:, None] + between[row_a])
    best = np.take(to_end, row_a, axis=1)
    best += in_a[None, :]
    other = np.take(to_end, row_b, axis=1)
    other += in_b[None, :]
    np.minimum(best, other, out=best)
    # The direct way along a street two points share, in the directions it allows.
    i, j = _same_street_pairs(street)
    ahead = f[j] - f[i]
    along = np.where(ahead >= 0, forward[i] * ahead, backward[i] * -ahead)
    best[i, j] = np.fmin(best[i, j], along)  # fmin: NaN (no such direction) loses
    return best


def _same_street_pairs(street: NDArray[np.int64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Every ordered pair (i, j), i != j, of points on the same street."""
    order = np.argsort(street, kind="stable")
    starts = np.flatnonzero(np.r_[True, street[order][1:] != street[order][:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    squared = sizes**2
    group = np.repeat(np.arange(len(sizes)), squared)
    k = np.arange(squared.sum()) - np.repeat(np.cumsum(squared) - squared, squared)
    i = order[starts[group] + k // sizes[group]]
    j = order[starts[group] + k % sizes[group]]
    keep = i != j
    return i[keep], j[keep]


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
