"""Territories on the demo's Bogotá points, beside PostGIS ST_ClusterKMeans on the same points:
about as compact, and far better balanced in hours of work."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer
from sqlalchemy import text

from geo.core.db import owner_session, tenant_session
from geo.demo.portfolio import sample_points
from geo.routing.territories import balanced_kmeans, case_territories, workload_hours
from tests.conftest import World

K = 20


def _spread(xy: np.ndarray, labels: np.ndarray) -> float:
    """Mean distance (m) from each point to its cluster's centre."""
    return float(
        np.mean(
            [
                np.linalg.norm(xy[labels == c] - xy[labels == c].mean(axis=0), axis=1).mean()
                for c in np.unique(labels)
            ]
        )
    )


def _balance(hours: np.ndarray, labels: np.ndarray) -> float:
    loads = np.array([hours[labels == c].sum() for c in np.unique(labels)])
    return float(loads.max() / loads.min())


@pytest.fixture(scope="module")
def bogota() -> tuple[np.ndarray, np.ndarray]:
    lonlat = sample_points(np.random.default_rng(7), 2000)
    x, y = Transformer.from_crs(4326, 9377, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
    xy = np.column_stack([x, y])
    return xy, workload_hours(xy, service_min=20)


def test_balanced_beside_st_clusterkmeans(bogota: tuple[np.ndarray, np.ndarray]) -> None:
    xy, hours = bogota
    ours = balanced_kmeans(xy, hours, K)
    with owner_session() as session:
        theirs = np.array(
            session.scalars(
                text(
                    "SELECT ST_ClusterKMeans(ST_MakePoint(x, y), :k) OVER (ORDER BY n) FROM "
                    "unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS p(x, y, n) "
                    "ORDER BY n"
                ),
                {"k": K, "xs": xy[:, 0].tolist(), "ys": xy[:, 1].tolist()},
            ).all()
        )
    assert len(np.unique(ours)) == len(np.unique(theirs)) == K
    assert _balance(hours, ours) <= 1.05  # equal work, but for the last few cases placed
    assert _balance(hours, theirs) > 1.5  # what plain k-means does to a city
    assert _spread(xy, ours) <= 1.35 * _spread(xy, theirs)  # at a modest cost in compactness


def test_case_territories_for_a_tenant(world: World) -> None:
    with tenant_session(world.tenant_id) as session:
        found = case_territories(session, tenant_id=world.tenant_id)
    (only,) = found  # one agent
    assert only.agent_id == world.agent_id
    assert len(only.case_ids) == 2  # the two located open cases
    assert only.hours > 0
