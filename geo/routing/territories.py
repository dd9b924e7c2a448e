"""Territories: open cases split into compact areas of equal work, one per agent.

Plain k-means (PostGIS ``ST_ClusterKMeans``) makes compact clusters of very unequal size: a
dense barrio becomes one agent's impossible week. This is k-means with a capacity: each
round, cases are handed to their nearest centre that still has room (the hardest to place,
by regret, first), the room being an equal share of the estimated hours plus a slack; then
centres move. Each territory goes to the agent whose base is nearest its centre, as one
assignment (Hungarian method) over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.crs import tenant_srid, to_wgs84
from geo.core.errors import InvalidInput
from geo.core.tenant_settings import tenant_settings

ROAD_FACTOR = 1.3
"""Streets are longer than straight lines: a usual detour factor for a street grid."""


def balanced_kmeans(
    xy: NDArray[np.float64],
    hours: NDArray[np.float64],
    k: int,
    *,
    slack: float = 0.0,
    rounds: int = 30,
    seed: int = 0,
) -> NDArray[np.int64]:
    """A label per point: k clusters, each holding at most (1 + slack) of an equal share."""
    n = len(xy)
    if not 0 < k <= n:
        raise ValueError("need 0 < k <= number of points")
    rng = np.random.default_rng(seed)
    centres = xy[rng.choice(n, size=1)]
    while len(centres) < k:  # k-means++ seeding
        nearest = np.min(((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        centres = np.vstack([centres, xy[rng.choice(n, p=nearest / nearest.sum())]])
    room_each = (1 + slack) * hours.sum() / k
    labels = np.full(n, -1)
    for _ in range(rounds):
        distance = np.sqrt(((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
        ranked = np.sort(distance, axis=1)
        regret = ranked[:, 1] - ranked[:, 0] if k > 1 else np.zeros(n)
        room = np.full(k, room_each)
        new = np.full(n, -1)
        for point in np.argsort(-regret):
            for centre in np.argsort(distance[point]):
                if room[centre] >= hours[point] or centre == np.argmax(room):
                    new[point] = centre
                    room[centre] -= hours[point]
                    break
        centres = np.array(
            [
                np.average(xy[new == c], axis=0, weights=hours[new == c])
                if (new == c).any()
                else centres[c]
                for c in range(k)
            ]
        )
        if (new == labels).all():
            break
        labels = new
    return labels


@dataclass(frozen=True)
class Territory:
    agent_id: int
    case_ids: list[int]
    hours: float
    hull: dict[str, Any] | None


def case_territories(session: Session, *, tenant_id: int, slack: float = 0.0) -> list[Territory]:
    """Territories of the tenant's open located cases over its active agents.

    A case's work is the visit (``visit_service_min``) plus the drive to it, estimated as the
    distance to its nearest neighbours at the agent's pace; both in hours.
    """
    settings = tenant_settings(session, tenant_id)
    metric = tenant_srid(session, tenant_id)
    srid = {"t": tenant_id, "srid": metric}
    cases = session.execute(
        text(
            "SELECT c.id, ST_X(ST_Transform(a.point, :srid)) AS x, "
            "ST_Y(ST_Transform(a.point, :srid)) AS y "
            "FROM cases c JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id "
            "WHERE c.tenant_id = :t AND c.status = 'open' AND a.point IS NOT NULL ORDER BY c.id"
        ),
        srid,
    ).all()
    agents = session.execute(
        text(
            "SELECT id, ST_X(ST_Transform(base_point, :srid)) AS x, "
            "ST_Y(ST_Transform(base_point, :srid)) AS y FROM agents "
            "WHERE tenant_id = :t AND active ORDER BY id"
        ),
        srid,
    ).all()
    if not agents or not cases:
        raise InvalidInput("territories need active agents and open located cases", "agents")
    k = min(len(agents), len(cases))
    xy = np.array([(c.x, c.y) for c in cases], dtype=float)
    hours = workload_hours(xy, service_min=settings.visit_service_min)
    labels = balanced_kmeans(xy, hours, k, slack=slack)
    centres = np.array([xy[labels == c].mean(axis=0) for c in range(k)])
    bases = np.array([(a.x, a.y) for a in agents], dtype=float)
    cost = np.sqrt(((centres[:, None, :] - bases[None, :, :]) ** 2).sum(axis=2))
    rows, cols = linear_sum_assignment(cost)
    to_wgs = to_wgs84(metric)
    territories = []
    for cluster, agent in zip(rows, cols, strict=True):
        members = np.flatnonzero(labels == cluster)
        ring = _hull(xy[members], to_wgs)
        ids = [int(cases[int(i)].id) for i in members]
        territories.append(
            Territory(int(agents[int(agent)].id), ids, round(float(hours[members].sum()), 2), ring)
        )
    return territories


def workload_hours(
    xy: NDArray[np.float64], *, service_min: float, kph: float = 20.0
) -> NDArray[np.float64]:
    """Hours a case costs: its visit, plus the way from its nearest neighbour."""
    if len(xy) < 2:
        return np.full(len(xy), service_min / 60)
    distance, _ = cKDTree(xy).query(xy, k=2)
    hours: NDArray[np.float64] = service_min / 60 + distance[:, 1] * ROAD_FACTOR / (kph * 1000)
    return hours


def _hull(xy: NDArray[np.float64], to_wgs: Transformer) -> dict[str, Any] | None:
    if len(xy) < 3:
        return None
    hull = shapely.MultiPoint(xy).convex_hull
    if hull.geom_type != "Polygon":
        return None
    lon, lat = to_wgs.transform(*np.asarray(hull.exterior.coords).T)
    ring = [[round(a, 7), round(b, 7)] for a, b in zip(lon, lat, strict=True)]
    return {"type": "Polygon", "coordinates": [ring]}


def territories_geojson(territories: list[Territory]) -> dict[str, Any]:
    """Territories as an RFC 7946 FeatureCollection of hulls with agent, cases and hours."""
    features = [
        {
            "type": "Feature",
            "geometry": t.hull,
            "properties": {
                "agent_id": t.agent_id,
                "cases": len(t.case_ids),
                "hours": t.hours,
                "case_ids": t.case_ids,
            },
        }
        for t in territories
    ]
    return {"type": "FeatureCollection", "features": features}
